"""What every clinical write shares: revision checks, client-chosen ids, access checks, the
access log and the change event, input text limits."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Model

from apps.accounts.models import User
from apps.core.errors import Conflict, Invalid, NotFound
from apps.realtime.services import event_emit

from ..audit import access_log_record
from ..models import Encounter, Person
from ..policy import CLINICAL_WRITERS, Actor, Category, categories_for, event_payload_for, user_ids_on_encounter
from ..selectors import EncounterView, encounter_for_write

_M = TypeVar("_M", bound=Model)

MAX_SECTION_CHARS = 20_000
MAX_LIST_ITEMS = 50
MAX_ITEM_CHARS = 500


class StaleRevision(Conflict):
    """The client edited an older revision. The API answers 409 with the server's current version."""

    def __init__(self, instance: Model, *, based_on: int) -> None:
        super().__init__(
            "This record changed since your copy (revision mismatch). Review the current version and re-apply.",
            errors={"revision": [f"Based on revision {based_on}; current is {instance.revision}."]},  # type: ignore[attr-defined]
        )
        self.instance = instance


def check_revision(instance: Model, based_on: int | None) -> None:
    if based_on is None:
        raise Invalid("The revision your edit is based on is required.", errors={"revision": ["Required."]})
    if based_on != instance.revision:  # type: ignore[attr-defined]
        raise StaleRevision(instance, based_on=based_on)


def insert_new(model: type[_M], **values: Any) -> _M:
    """INSERT a row whose id the client chose. The exists() checks before it give the friendly
    answer; this catches the race where another request inserts the same id in between (two
    devices, or two keys for one write), which would otherwise surface as a 500."""
    try:
        with transaction.atomic():
            return model._default_manager.create(**values)
    except IntegrityError as exc:
        raise Conflict(
            f"A {model._meta.verbose_name} with this id already exists.", current={"id": str(values.get("id"))}
        ) from exc


def require_roles(user: User, roles: frozenset[str] | set[str], what: str) -> None:
    if not user.roles & roles:
        raise NotFound(f"{what} not found.")


def clinical_write_view(user: User, encounter_id: uuid.UUID | str) -> EncounterView:
    require_roles(user, CLINICAL_WRITERS, "Encounter")
    return encounter_for_write(user=user, encounter_id=encounter_id)


def locked_encounter(encounter_id: uuid.UUID) -> Encounter:
    return Encounter.objects.select_for_update().get(pk=encounter_id)


def log_write(actor: Actor, action: str, record: Model, encounter: Encounter | None, categories: set[str]) -> None:
    access_log_record(
        actor=actor,
        action=action,
        record_type=record._meta.model_name or "record",
        record_id=record.pk,
        categories=categories,
        encounter_id=encounter.pk if encounter else None,
        person_id=encounter.person_id if encounter else (record.pk if isinstance(record, Person) else None),
    )


WHAT_CATEGORY = {
    "encounter": Category.OPERATIONAL,
    "disposition": Category.DISPOSITION,
    "officersection": Category.OFFICER_SECTION,
    "cssrsscreen": Category.RISK,
    "ivcrecord": Category.RISK,
    "clinicalnote": Category.NARRATIVE,
    "addendum": Category.NARRATIVE,
    "safetyplan": Category.NARRATIVE,
}


def notify_changed(encounter: Encounter, *, what: str, by: User) -> None:
    """Tell the people on the encounter that it changed (so a phone refetches, or shows a newer
    revision before the user's stale edit is refused). Payload from the policy: ids, the kind of
    record and, per recipient, the risk level or the officer's flag. Never text."""
    recipients = user_ids_on_encounter(encounter) - {by.pk}
    if not recipients:
        return

    needs = WHAT_CATEGORY.get(what, Category.NARRATIVE)

    def payload(user: User) -> dict[str, object] | None:
        data = event_payload_for(user, encounter, event="changed")
        if data is not None:
            # Even the kind of record can be clinical ("an IVC record changed"): name it only to
            # those who may see that category, otherwise just "encounter".
            data["what"] = what if needs in categories_for(user, encounter) else "encounter"
            data["revision"] = encounter.revision
        return data

    event_emit(type="clinical.encounter_changed", recipients=recipients, data=payload)


def text_field(errors: dict[str, list[str]], name: str, value: Any, *, limit: int = MAX_SECTION_CHARS) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.setdefault(name, []).append("Must be text.")
        return ""
    if len(value) > limit:
        errors.setdefault(name, []).append(f"At most {limit} characters (got {len(value)}).")
    return value


def string_list(errors: dict[str, list[str]], name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.setdefault(name, []).append("Must be a list of strings.")
        return []
    if len(value) > MAX_LIST_ITEMS:
        errors.setdefault(name, []).append(f"At most {MAX_LIST_ITEMS} entries.")
    if any(len(v) > MAX_ITEM_CHARS for v in value):
        errors.setdefault(name, []).append(f"Each entry at most {MAX_ITEM_CHARS} characters.")
    return [v.strip() for v in value if v.strip()]
