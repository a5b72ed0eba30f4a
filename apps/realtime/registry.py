"""Every event type, named once, with its payload schema and a one-line description.

Each app declares the events it emits in ``apps/<app>/events.py`` (an ``EVENTS`` tuple of
:class:`EventType`) and registers them in its ``AppConfig.ready()``::

    from apps.realtime import registry
    from . import events
    registry.register(*events.EVENTS)

A payload schema is a small JSON Schema (draft 2020-12) built with the helpers below (``obj``,
``nullable``, ``array`` ...), so it can be checked here (jsonschema) and turned into TypeScript
types for the PWA (``catalog()`` lists every type with its schema).

``event_emit`` refuses a type nobody registered when ``REALTIME_EVENTS_STRICT`` is on (DEBUG and the
tests), and hands every payload it stores to the installed checks (``checking``): the test suite
installs one that validates each payload against its schema, as Zulip checks its event schemas.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

Schema = dict[str, Any]
PayloadCheck = Callable[[str, Mapping[str, Any]], None]

# --- schema helpers (plain JSON Schema dicts) ------------------------------------------------------

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
UUID: Schema = {"type": "string", "format": "uuid"}
# An ISO 8601 timestamp with its offset (the database is UTC-aware; so is every event).
DATETIME: Schema = {"type": "string", "format": "date-time"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


def obj(
    required: Mapping[str, Schema] | None = None,
    optional: Mapping[str, Schema] | None = None,
    *,
    extra: bool = False,
    description: str = "",
) -> Schema:
    """An object with ``required`` and ``optional`` keys; ``extra`` allows keys not named here."""
    properties = {**(required or {}), **(optional or {})}
    schema: Schema = {
        "type": "object",
        "properties": properties,
        "required": sorted(required or {}),
        "additionalProperties": extra,
    }
    if description:
        schema["description"] = description
    return schema


# --- the registry -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventType:
    """One event type: ``name`` is ``<topic>.<what>`` (``shift.updated``), ``description`` one line."""

    name: str
    description: str
    schema: Schema = field(repr=False)

    def __post_init__(self) -> None:
        topic, dot, what = self.name.partition(".")
        if not (topic and dot and what) or len(self.name) > 64:
            raise ValueError(f"event type {self.name!r}: name it <topic>.<what>, at most 64 characters")
        if not self.description.strip() or "\n" in self.description:
            raise ValueError(f"event type {self.name!r}: give a one-line description")
        if self.schema.get("type") != "object":
            raise ValueError(f"event type {self.name!r}: the payload schema must be an object")
        Draft202012Validator.check_schema(self.schema)


def _aware_timestamp(value: object) -> bool:
    if not isinstance(value, str):
        return True  # the "type" keyword reports a non-string
    return dt.datetime.fromisoformat(value).tzinfo is not None


_formats = FormatChecker(formats=["uuid"])
_formats.checks("date-time", raises=ValueError)(_aware_timestamp)


class UnregisteredEvent(ValueError):
    """``event_emit`` was asked for a type no app declared (``REALTIME_EVENTS_STRICT``)."""


class InvalidPayload(ValueError):
    """A payload does not match its type's schema (raised by the test suite's check)."""


class EventRegistry:
    def __init__(self) -> None:
        self._types: dict[str, EventType] = {}
        self._validators: dict[str, Draft202012Validator] = {}
        self._checks: list[PayloadCheck] = []
        self._lock = threading.Lock()

    def register(self, *types: EventType) -> None:
        """Add ``types``. Registering the same definition again is a no-op (``ready()`` may run twice
        in one process); a different definition under a taken name is an error."""
        with self._lock:
            for event_type in types:
                known = self._types.get(event_type.name)
                if known is not None and known != event_type:
                    raise ValueError(f"event type {event_type.name!r} is already registered differently")
                self._types[event_type.name] = event_type
                self._validators[event_type.name] = Draft202012Validator(event_type.schema, format_checker=_formats)

    def unregister(self, *names: str) -> None:
        with self._lock:
            for name in names:
                self._types.pop(name, None)
                self._validators.pop(name, None)

    def get(self, name: str) -> EventType | None:
        return self._types.get(name)

    def types(self) -> list[EventType]:
        return sorted(self._types.values(), key=lambda t: t.name)

    def validate(self, name: str, payload: Mapping[str, Any]) -> list[str]:
        """Problems of ``payload`` as an event of type ``name`` (empty when it is valid). The payload
        is checked as it is stored: after a JSON round trip."""
        validator = self._validators.get(name)
        if validator is None:
            return [f"event type {name!r} is not registered"]
        stored = json.loads(json.dumps(dict(payload)))
        return [
            f"{'/'.join(str(p) for p in error.absolute_path) or '(payload)'}: {error.message}"
            for error in sorted(validator.iter_errors(stored), key=lambda e: list(map(str, e.absolute_path)))
        ]

    @contextmanager
    def checking(self, check: PayloadCheck) -> Iterator[None]:
        """Run ``check(type, payload)`` on every payload ``event_emit`` stores while inside."""
        with self._lock:
            self._checks.append(check)
        try:
            yield
        finally:
            with self._lock:
                self._checks.remove(check)

    def emitted(self, name: str, payload: Mapping[str, Any]) -> None:
        """Called by ``event_emit`` for each stored payload; runs the installed checks."""
        for check in list(self._checks):
            check(name, payload)


registry = EventRegistry()

register = registry.register
get = registry.get
validate = registry.validate
checking = registry.checking


def catalog() -> list[dict[str, Any]]:
    """Every registered event type for code generation: ``[{"type", "description", "schema"}]`` by name."""
    return [{"type": t.name, "description": t.description, "schema": t.schema} for t in registry.types()]


__all__ = [
    "BOOLEAN",
    "DATETIME",
    "INTEGER",
    "NUMBER",
    "STRING",
    "UUID",
    "EventRegistry",
    "EventType",
    "InvalidPayload",
    "Schema",
    "UnregisteredEvent",
    "array",
    "catalog",
    "checking",
    "enum",
    "get",
    "nullable",
    "obj",
    "register",
    "registry",
    "validate",
]
