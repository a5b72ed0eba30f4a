"""The event registry: every type named once with a schema; event_emit and the suite's check use it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from apps.realtime import registry
from apps.realtime.events import DELIVERY_ALERT
from apps.realtime.models import Event
from apps.realtime.registry import (
    DATETIME,
    INTEGER,
    STRING,
    EventRegistry,
    EventType,
    InvalidPayload,
    UnregisteredEvent,
    array,
    nullable,
    obj,
)
from apps.realtime.services import event_emit

SAMPLE = EventType(
    "sample.changed",
    "A sample for these tests.",
    obj({"id": INTEGER, "at": DATETIME}, {"note": nullable(STRING), "tags": array(STRING)}),
)


def test_a_payload_is_checked_against_its_schema() -> None:
    reg = EventRegistry()
    reg.register(SAMPLE)
    assert reg.validate("sample.changed", {"id": 1, "at": "2026-03-08T07:00:00+00:00"}) == []
    assert reg.validate("sample.changed", {"id": 1, "at": "2026-03-08T07:00:00Z", "note": None, "tags": ["a"]}) == []
    problems = reg.validate("sample.changed", {"id": "1", "at": "2026-03-08T07:00:00", "colour": "red"})
    assert any(p.startswith("id:") for p in problems)
    assert any(p.startswith("at:") for p in problems), "a naive timestamp is refused"
    assert any("colour" in p for p in problems), "keys the schema does not name are refused"
    assert reg.validate("sample.changed", {"at": "2026-03-08T07:00:00+00:00"}) == [
        "(payload): 'id' is a required property"
    ]
    assert reg.validate("nobody.declared", {}) == ["event type 'nobody.declared' is not registered"]


def test_a_name_is_registered_once() -> None:
    reg = EventRegistry()
    reg.register(SAMPLE)
    reg.register(SAMPLE)  # the same definition again (ready() twice) is fine
    with pytest.raises(ValueError, match="already registered differently"):
        reg.register(EventType("sample.changed", "Another meaning.", obj({"id": STRING})))
    assert [t.name for t in reg.types()] == ["sample.changed"]


@pytest.mark.parametrize(
    ("name", "description", "schema"),
    [
        ("nodot", "One line.", obj()),
        ("a.b", "", obj()),
        ("a.b", "Two\nlines.", obj()),
        ("a.b", "A list payload.", array(INTEGER)),
        ("a.b", "A broken schema.", {"type": "object", "properties": {"x": {"type": "no-such-type"}}}),
    ],
)
def test_a_type_must_be_named_described_and_have_an_object_schema(name: str, description: str, schema: Any) -> None:
    with pytest.raises(Exception):  # noqa: B017 - ValueError or jsonschema's SchemaError
        EventType(name, description, schema)


def test_the_catalog_lists_every_registered_type_with_its_schema() -> None:
    catalog = registry.catalog()
    names = [entry["type"] for entry in catalog]
    assert names == sorted(names)
    assert {"delivery.updated", "delivery.escalated", "delivery.alert", "delivery.reassign", "system.ping"} <= set(
        names
    )
    alert = next(entry for entry in catalog if entry["type"] == "delivery.alert")
    assert alert["description"] == DELIVERY_ALERT.description
    assert alert["schema"]["required"] == ["delivered", "fired_at", "offered_at", "stage", "subject", "team"]


@pytest.mark.django_db
def test_event_emit_refuses_an_undeclared_type_when_strict(officer_a: Any, settings: Any) -> None:
    settings.REALTIME_EVENTS_STRICT = True
    with transaction.atomic(), pytest.raises(UnregisteredEvent, match=r"nobody\.declared"):
        event_emit(type="nobody.declared", recipients=[officer_a], data={"n": 1})
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_every_stored_payload_passes_the_installed_checks(officer_a: Any, dispatcher: Any) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    with registry.checking(lambda type, payload: seen.append((type, dict(payload)))), transaction.atomic():
        event_emit(type="test.event", recipients=[officer_a, dispatcher], data=lambda user: {"for": user.pk})
    assert sorted(seen, key=lambda s: s[1]["for"]) == sorted(
        [("test.event", {"for": officer_a.pk}), ("test.event", {"for": dispatcher.pk})], key=lambda s: s[1]["for"]
    )


@pytest.mark.django_db
def test_the_suite_fails_an_emit_whose_payload_breaks_its_schema(
    officer_a: Any, event_schema_problems: list[str]
) -> None:
    """The autouse check of conftest.py, met for real: the emit raises and nothing is stored."""
    with pytest.raises(InvalidPayload, match=r"delivery\.alert"), transaction.atomic():
        event_emit(type="delivery.alert", recipients=[officer_a], data={"subject": "assignment:1"})
    assert not Event.objects.exists()
    assert len(event_schema_problems) == 1 and "'team' is a required property" in event_schema_problems[0]
    event_schema_problems.clear()  # provoked on purpose: not a failure of this test


def test_manage_py_event_types_prints_the_catalog_as_json() -> None:
    import io
    import json

    from django.core.management import call_command

    out = io.StringIO()
    call_command("event_types", stdout=out)
    assert json.loads(out.getvalue()) == registry.catalog()
