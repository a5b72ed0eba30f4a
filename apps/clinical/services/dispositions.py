"""Disposition decisions of an encounter, with their APCO codes."""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction

from apps.core.errors import Conflict, Invalid
from apps.incidents.models import DispositionCode

from .. import hooks
from ..disposition_rules import conflicts_with
from ..models import AccessLog, Disposition
from ..policy import Actor, Category
from .common import clinical_write_view, locked_encounter, log_write, notify_changed


def _apco_for(code: str) -> str:
    """The APCO code from the incidents app's admin-editable DispositionCode table when it has the
    program code, else the DOMAIN.md default."""
    row = DispositionCode.objects.filter(program_code=code, is_active=True).values_list("apco_code", flat=True).first()
    return str(row) if row is not None else Disposition.APCO.get(code, "")


@transaction.atomic
def disposition_add(*, actor: Actor, encounter_id: uuid.UUID, code: str) -> Disposition:
    view = clinical_write_view(actor.user, encounter_id)
    if code not in Disposition.Code.values:
        raise Invalid("Unknown disposition.", errors={"code": [f"One of {', '.join(Disposition.Code.values)}."]})
    # The encounter row is the lock: two conflicting outcomes sent at once cannot both pass the check.
    locked_encounter(view.encounter.pk)
    recorded = list(
        Disposition.objects.filter(encounter=view.encounter)
        .order_by("recorded_at", "id")
        .values_list("code", flat=True)
    )
    if code in recorded:
        raise Conflict("This disposition is already recorded.", current={"code": code, "dispositions": recorded})
    clashes = conflicts_with(code, recorded)
    if clashes:
        # Program rule (apps/clinical/disposition_rules.py): the recorded outcome stands; this one contradicts it.
        labels = dict(Disposition.Code.choices)
        raise Conflict(
            f"“{labels[code]}” cannot be recorded with “{labels[clashes[0][0]]}”.",
            errors={"code": [f"Not with “{labels[other]}”: {reason}." for other, reason in clashes]},
            current={"code": code, "dispositions": recorded},
        )
    try:
        with transaction.atomic():
            disposition = Disposition.objects.create(
                encounter=view.encounter, code=code, apco_code=_apco_for(code), recorded_by=actor.user
            )
    except IntegrityError as exc:
        raise Conflict("This disposition is already recorded.", current={"code": code}) from exc
    log_write(actor, AccessLog.Action.WRITE, disposition, view.encounter, {Category.DISPOSITION})
    hooks.encounter_facts_changed(view.encounter)
    notify_changed(view.encounter, what=disposition._meta.model_name or "record", by=actor.user)
    return disposition
