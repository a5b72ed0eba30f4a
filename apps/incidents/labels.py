"""The words people read for the codes of incidents and assignments, in one place.

The API and the events carry codes (``en_route``, ``dispatch_co_response``, ``ResourcesOnscene``);
people read these labels: the timeline's ``text`` (built here), the error messages of the services,
the board, and the PWA, which imports them from ``frontend/src/generated/incidents.ts`` (``make
contracts``) instead of retyping them. The model choices keep the standards' names (EIDO "Offered
(Assigned)"), which the admin shows; these are the field words.
"""

from __future__ import annotations

from .models import Assignment, Incident, TimelineEntry
from .selectors import TeamStatus

S = Assignment.Status
IS = Incident.Status

ASSIGNMENT_STATUS_LABELS: dict[str, str] = {
    S.OFFERED: "Offered",
    S.ACKNOWLEDGED: "Seen by team",
    S.ACCEPTED: "Accepted",
    S.EN_ROUTE: "En route",
    S.ON_SCENE: "On scene",
    S.TRANSPORTING: "Transporting",
    S.AT_FACILITY: "At facility",
    S.CLEARED: "Cleared",
    S.DECLINED: "Declined",
    S.EXPIRED: "Expired",
    S.CANCELLED: "Cancelled",
}

# The buttons a team taps to set a field status (a verb where the status reads as a state).
ASSIGNMENT_ACTION_LABELS: dict[str, str] = {
    S.EN_ROUTE: "En route",
    S.ON_SCENE: "On scene",
    S.TRANSPORTING: "Transporting",
    S.AT_FACILITY: "At facility",
    S.CLEARED: "Clear",
}

INCIDENT_STATUS_LABELS: dict[str, str] = {
    IS.ACTIVE: "Active",
    IS.RESOURCES_ASSIGNED: "Team assigned",
    IS.RESOURCES_ENROUTE: "Team en route",
    IS.RESOURCES_ONSCENE: "Team on scene",
    IS.CLOSED: "Closed",
    IS.CANCELLED: "Cancelled",
    IS.REOPENED: "Re-opened",
}

TEAM_STATUS_LABELS: dict[str, str] = {
    TeamStatus.AVAILABLE: "Available",
    TeamStatus.CONDITIONALLY_AVAILABLE: "Conditionally available",
    TeamStatus.NOT_AVAILABLE: "Not available",
    TeamStatus.OFF_DUTY: "Off duty",
}

TIMELINE_KIND_LABELS: dict[str, str] = {
    TimelineEntry.Kind.CREATED: "Created",
    TimelineEntry.Kind.UPDATED: "Changed",
    TimelineEntry.Kind.CAD_UPDATE: "Changed by the CAD",
    TimelineEntry.Kind.TRIAGED: "Triage",
    TimelineEntry.Kind.ASSIGNMENT: "Assignment",
    TimelineEntry.Kind.STATUS: "Call status",
}

# An incident field's name as people read it (the timeline names fields by their model name).
FIELD_LABELS: dict[str, str] = {
    "received_at": "Received",
    "source": "Source",
    "call_type_code": "Call type",
    "priority_local": "Local priority",
    "priority": "Priority",
    "address": "Address",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "beat": "Beat",
    "district": "District",
    "caller_name": "Caller",
    "caller_phone": "Caller's phone",
    "subject_name": "Subject",
    "subject_dob": "Subject's date of birth",
    "subject_phone": "Subject's phone",
    "subject_description": "Subject's description",
    "weapon_present": "Weapon present",
    "weapon_kind": "Weapon",
    "violence_toward_responders": "Violence toward responders",
    "substances_involved": "Substances involved",
    "premise_hazards": "Premise hazards",
    "safety_notes": "Safety notes",
    "operational_notes": "Dispatch notes",
    "behavioral_health": "Behavioral-health call",
    "status": "Call status",
    "coresponse_eligible": "Co-response eligible",
    "eligibility_reason": "Eligibility reason",
    "triage_outcome": "Triage outcome",
    "not_served_reason": "Why not served",
    "not_served_note": "Why not served (note)",
}

# Fields whose values are codes: code → words.
VALUE_LABELS: dict[str, dict[str, str]] = {
    "status": INCIDENT_STATUS_LABELS,
    "source": {str(v): str(label) for v, label in Incident.Source.choices},
    "triage_outcome": {str(v): str(label) for v, label in Incident.TriageOutcome.choices},
    "not_served_reason": {str(v): str(label) for v, label in Incident.NotServedReason.choices},
}
# What timeline_text (services/common.py) writes for a boolean.
YES_NO = {"yes": "Yes", "no": "No"}
REDACTED = "[redacted]"


def assignment_status_label(status: str) -> str:
    return ASSIGNMENT_STATUS_LABELS.get(status, status)


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


def value_label(name: str, value: str) -> str:
    """The words for a stored timeline value of field ``name`` ("" stays "")."""
    if not value or value == REDACTED:
        return "hidden" if value == REDACTED else ""
    if value in YES_NO:
        return YES_NO[value]
    return VALUE_LABELS.get(name, {}).get(value, value)


def _assignment_value(value: str) -> str:
    """``declined (not enough fuel)`` → ``Declined (not enough fuel)``."""
    status, _, rest = value.partition(" (")
    words = assignment_status_label(status)
    return f"{words} ({rest}" if rest else words


def timeline_text(*, kind: str, field: str, old: str, new: str) -> str:
    """One timeline entry as a sentence: "Triage outcome: Dispatch co-response", "CR-1: Declined (…)"."""
    if field.startswith("assignment."):
        team = field.split(".", 1)[1]
        return f"{team}: {_assignment_value(new)}" if new else f"{team}: assignment"
    if kind == TimelineEntry.Kind.CREATED:
        return "Call created"
    label = field_label(field) if field else TIMELINE_KIND_LABELS.get(kind, kind)
    after = value_label(field, new) or "(empty)"
    before = value_label(field, old)
    prefix = "CAD: " if kind == TimelineEntry.Kind.CAD_UPDATE else ""
    if before and kind in (TimelineEntry.Kind.UPDATED, TimelineEntry.Kind.CAD_UPDATE):
        return f"{prefix}{label}: {before} → {after}"
    return f"{prefix}{label}: {after}"
