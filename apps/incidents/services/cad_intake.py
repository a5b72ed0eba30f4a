"""CAD intake: create the incident for a CAD number or apply the CAD's changes (idempotent)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from apps.accounts.models import User
from apps.core.errors import Conflict

from ..models import Incident, TimelineEntry
from .common import active_assignment, emit, team_member_ids
from .incidents import incident_apply_changes, incident_insert


@dataclass(frozen=True)
class CadResult:
    incident: Incident
    created: bool
    changed: list[str]
    stale: bool = False


def cad_incident_upsert(
    *,
    by: User,
    cad_source: str,
    cad_number: str,
    values: Mapping[str, Any],
    updated_at: dt.datetime | None,
) -> CadResult:
    """Create the incident for a CAD number, or apply the CAD's changes to it (idempotent).

    The same post twice changes nothing; an update lands field by field in the timeline; a post
    older than the last one applied (``lastUpdateTimeStamp``) is acknowledged and ignored.
    Two first posts racing: the unique constraint lets one create; the other retries as an update.
    """
    for _attempt in range(2):
        try:
            return _cad_upsert_once(
                by=by, cad_source=cad_source, cad_number=cad_number, values=values, updated_at=updated_at
            )
        except _CreatedConcurrently:
            continue
    raise Conflict("The incident was being created concurrently; retry.", current={"cad_number": cad_number})


class _CreatedConcurrently(Exception):
    pass


@transaction.atomic
def _cad_upsert_once(
    *,
    by: User,
    cad_source: str,
    cad_number: str,
    values: Mapping[str, Any],
    updated_at: dt.datetime | None,
) -> CadResult:
    incident = (
        Incident.objects.select_for_update(of=("self",))  # call_type is an outer join: lock the incident only
        .select_related("call_type")
        .filter(cad_source=cad_source, cad_number=cad_number)
        .first()
    )
    if incident is None:
        try:
            created = incident_insert(
                by=by,
                values=values,
                cad_source=cad_source,
                cad_number=cad_number,
                cad_updated_at=updated_at,
                strict_call_type=False,
            )
        except Conflict as exc:
            raise _CreatedConcurrently() from exc
        return CadResult(incident=created, created=True, changed=[])
    if updated_at is not None and incident.cad_updated_at is not None and updated_at < incident.cad_updated_at:
        return CadResult(incident=incident, created=False, changed=[], stale=True)
    # received_at belongs to the first post; later posts do not move it.
    updates = {k: v for k, v in values.items() if k != "received_at"}
    changed = incident_apply_changes(incident, values=updates, by=by, kind=TimelineEntry.Kind.CAD_UPDATE, strict=False)
    if updated_at is not None and updated_at != incident.cad_updated_at:
        Incident.objects.filter(pk=incident.pk).update(cad_updated_at=updated_at)
        incident.cad_updated_at = updated_at
    if changed:
        active = active_assignment(incident)
        emit(
            type="incident.updated",
            incident=incident,
            assignment=active,
            team_member_ids=team_member_ids(active) if active else None,
            extra={"changed": changed},
        )
    return CadResult(incident=incident, created=False, changed=changed)
