"""Involuntary commitment (IVC) records: the legal time order and the custody reminders."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.errors import Conflict, Invalid

from .. import hooks
from ..models import AccessLog, IvcRecord
from ..policy import Actor, Category
from .common import check_revision, clinical_write_view, log_write, notify_changed
from .reminders import sync_custody_reminder

IVC_TIME_ORDER = (
    ("petition_at", "custody_order_at", "The custody order cannot precede the petition."),
    ("custody_order_at", "custody_taken_at", "Custody cannot be taken before the custody order."),
    ("custody_taken_at", "first_exam_at", "The first examination cannot precede custody."),
)


def ivc_time_problems(values: Mapping[str, Any], *, now: dt.datetime) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in ("petition_at", "custody_order_at", "custody_taken_at", "first_exam_at"):
        moment = values.get(name)
        if moment is not None and moment > now + dt.timedelta(minutes=5):
            errors.setdefault(name, []).append("Cannot be in the future.")
    for before, after, message in IVC_TIME_ORDER:
        a, b = values.get(before), values.get(after)
        if a is not None and b is not None and b < a:
            errors.setdefault(after, []).append(message)
    if (
        values.get("custody_taken_at") is not None
        and values.get("custody_order_at") is None
        and values.get("pathway") == IvcRecord.Pathway.PETITION
    ):
        errors.setdefault("custody_order_at", []).append("Custody under a petition needs the custody order time.")
    order, taken = values.get("custody_order_at"), values.get("custody_taken_at")
    if order is not None and taken is not None and taken - order > dt.timedelta(hours=24):
        errors.setdefault("custody_taken_at", []).append(
            "More than 24 h after the custody order: the order had expired (G.S. 122C-261(e)); record outcome instead."
        )
    return errors


IVC_FIELDS = (
    "pathway",
    "petitioner_name",
    "petitioner_relationship",
    "petition_at",
    "custody_order_at",
    "custody_taken_at",
    "first_exam_at",
    "outcome",
)


@transaction.atomic
def ivc_save(*, actor: Actor, encounter_id: uuid.UUID, revision: int | None, data: Mapping[str, Any]) -> IvcRecord:
    """Create (revision omitted) or update (revision required) the encounter's IVC record."""
    view = clinical_write_view(actor.user, encounter_id)
    existing = IvcRecord.objects.select_for_update().filter(encounter=view.encounter).first()
    if existing is not None:
        check_revision(existing, revision)
        values = {name: getattr(existing, name) for name in IVC_FIELDS}
    else:
        if revision is not None:
            raise Conflict("There is no IVC record yet; create it without a revision.", current=None)
        values = {"outcome": IvcRecord.Outcome.PENDING}
    values.update({k: v for k, v in data.items() if k in IVC_FIELDS})
    errors: dict[str, list[str]] = {}
    if values.get("pathway") not in IvcRecord.Pathway.values:
        errors["pathway"] = [f"One of {', '.join(IvcRecord.Pathway.values)}."]
    if values.get("outcome") not in IvcRecord.Outcome.values:
        errors["outcome"] = [f"One of {', '.join(IvcRecord.Outcome.values)}."]
    errors.update(ivc_time_problems(values, now=timezone.now()))
    if errors:
        raise Invalid("The IVC record is not valid.", errors=errors)
    record = existing or IvcRecord(encounter=view.encounter)
    for name, value in values.items():
        setattr(record, name, value)
    record.updated_by = actor.user
    record.updated_at = timezone.now()
    if existing is not None:
        record.revision += 1
    record.save()
    sync_custody_reminder(record)
    log_write(actor, AccessLog.Action.WRITE, record, view.encounter, {Category.RISK})
    hooks.encounter_facts_changed(view.encounter)
    notify_changed(view.encounter, what=record._meta.model_name or "record", by=actor.user)
    return record
