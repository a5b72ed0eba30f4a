"""Incidents: create, edit (each changed field one timeline entry), triage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import Conflict, Invalid

from ..models import Incident, TimelineEntry, UnassignedAlert
from .common import (
    active_assignment,
    emit,
    lock_incident,
    require_dispatcher,
    resolve_call_type,
    team_member_ids,
    timeline_log,
)
from .unassigned import unassigned_alert_clear

# Tolerated difference between the CAD's clock (or a phone's) and ours.
CLOCK_SKEW = dt.timedelta(minutes=5)

# Fields a dispatcher may edit on an incident (and the CAD may update), with their timeline names.
EDITABLE_FIELDS = (
    "received_at",
    "source",
    "call_type_code",
    "priority_local",
    "priority",
    "address",
    "latitude",
    "longitude",
    "beat",
    "district",
    "caller_name",
    "caller_phone",
    "subject_name",
    "subject_dob",
    "subject_phone",
    "subject_description",
    "weapon_present",
    "weapon_kind",
    "violence_toward_responders",
    "substances_involved",
    "premise_hazards",
    "safety_notes",
    "operational_notes",
    "behavioral_health",
)


@dataclass(frozen=True)
class IncidentData:
    """Validated incident fields (from the API, the CAD mapper or the seeder)."""

    values: Mapping[str, Any]


def incident_validate(values: Mapping[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    unknown = set(values) - set(EDITABLE_FIELDS)
    for name in sorted(unknown):
        errors[name] = ["Not an editable field."]
    priority = values.get("priority")
    if priority is not None and not (isinstance(priority, int) and 0 <= priority <= 10):
        errors["priority"] = ["Priority must be an integer 0–10."]
    lat, lon = values.get("latitude"), values.get("longitude")
    if lat is not None and not -90 <= float(lat) <= 90:
        errors["latitude"] = ["Latitude must be between -90 and 90."]
    if lon is not None and not -180 <= float(lon) <= 180:
        errors["longitude"] = ["Longitude must be between -180 and 180."]
    if "source" in values and values["source"] not in Incident.Source.values:
        errors["source"] = [f"Unknown source {values['source']!r}."]
    received = values.get("received_at")
    if received is not None and (not isinstance(received, dt.datetime) or received.tzinfo is None):
        errors["received_at"] = ["Must be a timezone-aware datetime."]
    elif received is not None and received > timezone.now() + CLOCK_SKEW:
        errors["received_at"] = ["A call cannot be received in the future."]
    dob = values.get("subject_dob")
    if dob is not None and dob > timezone.now().date():
        errors["subject_dob"] = ["Date of birth cannot be in the future."]
    if errors:
        raise Invalid("Invalid incident.", errors=errors)


@transaction.atomic
def incident_create(
    *,
    by: User,
    values: Mapping[str, Any],
    cad_source: str = "",
    cad_number: str = "",
    cad_updated_at: dt.datetime | None = None,
    strict_call_type: bool = True,
) -> Incident:
    return incident_insert(
        by=by,
        values=values,
        cad_source=cad_source,
        cad_number=cad_number,
        cad_updated_at=cad_updated_at,
        strict_call_type=strict_call_type,
    )


def incident_insert(
    *,
    by: User,
    values: Mapping[str, Any],
    cad_source: str,
    cad_number: str,
    cad_updated_at: dt.datetime | None,
    strict_call_type: bool,
) -> Incident:
    incident_validate(values)
    call_type = resolve_call_type(str(values.get("call_type_code") or ""), strict=strict_call_type)
    fields = dict(values)
    if call_type is not None:
        fields["call_type_code"] = call_type.local_code
        fields.setdefault("behavioral_health", call_type.is_behavioral_health)
    incident = Incident(
        **fields,
        call_type=call_type,
        cad_source=cad_source,
        cad_number=cad_number,
        cad_updated_at=cad_updated_at,
        created_by=by,
    )
    # Field rules only: the ranges are checked above, and the CAD-number uniqueness by the database,
    # where a concurrent creation surfaces as an IntegrityError rather than a racy pre-check.
    incident.full_clean(
        exclude=["call_type", "triaged_by", "created_by"], validate_unique=False, validate_constraints=False
    )
    try:
        with transaction.atomic():
            incident.save()
    except IntegrityError as exc:
        raise Conflict("An incident with this CAD number already exists.", current={"cad_number": cad_number}) from exc
    timeline_log(incident, kind=TimelineEntry.Kind.CREATED, actor=by, field="status", new=incident.status)
    emit(type="incident.created", incident=incident)
    return incident


def incident_apply_changes(
    incident: Incident, *, values: Mapping[str, Any], by: User, kind: str, strict: bool
) -> list[str]:
    """Set changed fields, one timeline entry each (old → new). Returns the changed field names."""
    incident_validate(values)
    changed: list[str] = []
    now = timezone.now()
    for name, new in values.items():
        old = getattr(incident, name)
        if name == "call_type_code":
            call_type = resolve_call_type(str(new or ""), strict=strict)
            if call_type is not None:
                new = call_type.local_code
            if incident.call_type_id != (call_type.pk if call_type else None):
                incident.call_type = call_type
        if old == new:
            continue
        setattr(incident, name, new)
        changed.append(name)
        timeline_log(incident, kind=kind, actor=by, field=name, old=old, new=new, at=now)
    if changed:
        incident.full_clean(
            exclude=["call_type", "triaged_by", "created_by"], validate_unique=False, validate_constraints=False
        )
        incident.save()
    return changed


@transaction.atomic
def incident_update(*, incident_id: int, by: User, values: Mapping[str, Any]) -> Incident:
    require_dispatcher(by)
    incident = lock_incident(incident_id)
    changed = incident_apply_changes(incident, values=values, by=by, kind=TimelineEntry.Kind.UPDATED, strict=True)
    if changed:
        active = active_assignment(incident)
        emit(
            type="incident.updated",
            incident=incident,
            assignment=active,
            team_member_ids=team_member_ids(active) if active else None,
            extra={"changed": changed},
        )
    return incident


@transaction.atomic
def incident_triage(
    *,
    incident_id: int,
    by: User,
    eligible: bool,
    eligibility_reason: str,
    outcome: str,
    not_served_reason: str = "",
    not_served_note: str = "",
) -> Incident:
    """Record (or re-record) triage. Re-classification keeps every old value in the timeline."""
    require_dispatcher(by)
    errors: dict[str, list[str]] = {}
    if outcome not in Incident.TriageOutcome.values:
        errors["outcome"] = [f"Unknown outcome {outcome!r}."]
    if not eligibility_reason.strip():
        errors["eligibility_reason"] = ["Give the reason for the eligibility decision."]
    served = outcome == Incident.TriageOutcome.DISPATCH_CO_RESPONSE
    if not eligible and served:
        errors["outcome"] = ["A call that is not co-response eligible cannot be dispatched to co-response."]
    if eligible and not served:
        if not not_served_reason:
            errors["not_served_reason"] = ["An eligible call that is not served needs the reason why."]
        elif not_served_reason not in Incident.NotServedReason.values:
            errors["not_served_reason"] = [f"Unknown reason {not_served_reason!r}."]
        elif not_served_reason == Incident.NotServedReason.OTHER and not not_served_note.strip():
            errors["not_served_note"] = ["Describe the reason."]
    elif not_served_reason:
        errors["not_served_reason"] = ["Only an eligible call that is not served has a not-served reason."]
    if errors:
        raise Invalid("Invalid triage.", errors=errors)

    incident = lock_incident(incident_id)
    if not incident.is_open:
        raise Conflict("The incident is closed.", current={"status": incident.status})
    now = timezone.now()
    new = {
        "coresponse_eligible": eligible,
        "eligibility_reason": eligibility_reason.strip(),
        "triage_outcome": outcome,
        "not_served_reason": not_served_reason,
        "not_served_note": not_served_note.strip(),
    }
    for name, value in new.items():
        old = getattr(incident, name)
        if old != value:
            timeline_log(incident, kind=TimelineEntry.Kind.TRIAGED, actor=by, field=name, old=old, new=value, at=now)
            setattr(incident, name, value)
    incident.triaged_at = now
    incident.triaged_by = by
    incident.save()
    if not eligible or not served:
        # Not for a co-response team after all: nobody needs telling that no team has it.
        unassigned_alert_clear(incident, reason=UnassignedAlert.Cleared.TRIAGED, now=now)
    emit(
        type="incident.triaged",
        incident=incident,
        extra={"coresponse_eligible": eligible, "triage_outcome": outcome, "not_served_reason": not_served_reason},
    )
    return incident
