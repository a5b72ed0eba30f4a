"""Events of incidents and assignments (apps.realtime.registry), to the board (dispatchers,
supervisors) and, for an assignment, the team on shift (docs/incidents.md, "Events").

Dispatch fields only, never clinical text. ``subject_name`` only for full-tier recipients, and for
an officer while this is their current call (services/common.py ``emit``).
"""

from __future__ import annotations

from apps.realtime.registry import BOOLEAN, DATETIME, INTEGER, STRING, EventType, Schema, array, enum, nullable, obj

from .models import Assignment, Incident, UnassignedAlert

_DISPATCH: dict[str, Schema] = {
    "incident_id": INTEGER,
    "incident_status": enum(*Incident.Status.values),
    "call_type": STRING,
    "call_type_common": STRING,
    "priority": INTEGER,
    "address": STRING,
    "beat": STRING,
    "safety": obj(
        {
            "weapon_present": BOOLEAN,
            "weapon_kind": STRING,
            "violence_toward_responders": BOOLEAN,
            "substances_involved": BOOLEAN,
            "premise_hazards": STRING,
        }
    ),
}
_ASSIGNMENT: dict[str, Schema] = {
    "assignment_id": INTEGER,
    "status": enum(*Assignment.Status.values),
    "team_id": INTEGER,
    "team_call_sign": STRING,
}
_FOR_SOME = {"subject_name": STRING}  # full tier, or the officer on the call


def _assignment_event(name: str, description: str, *, reason: bool = False) -> EventType:
    required = {**_DISPATCH, **_ASSIGNMENT, **({"reason": STRING} if reason else {})}
    return EventType(name, description, obj(required, _FOR_SOME))


INCIDENT_CREATED = EventType(
    "incident.created", "An incident was created (by hand or by the CAD); to the board.", obj(_DISPATCH, _FOR_SOME)
)
INCIDENT_UPDATED = EventType(
    "incident.updated",
    "Dispatch fields of an incident changed (edit or CAD update); to the board and the team on it.",
    # The assignment fields come along while the incident has an active assignment.
    obj({**_DISPATCH, "changed": array(STRING)}, {**_ASSIGNMENT, **_FOR_SOME}),
)
INCIDENT_TRIAGED = EventType(
    "incident.triaged",
    "Triage was recorded (eligibility, outcome, not-served reason); to the board.",
    obj(
        {
            **_DISPATCH,
            "coresponse_eligible": nullable(BOOLEAN),
            "triage_outcome": enum(*Incident.TriageOutcome.values),
            "not_served_reason": enum("", *Incident.NotServedReason.values),
        },
        _FOR_SOME,
    ),
)
ASSIGNMENT_OFFERED = _assignment_event(
    "assignment.offered",
    "An incident was offered to a team (also the new offer of a reassign); to the board and the team.",
)
ASSIGNMENT_ACKNOWLEDGED = _assignment_event(
    "assignment.acknowledged", "A device of the team showed the offer; to the board and the team."
)
ASSIGNMENT_ACCEPTED = _assignment_event(
    "assignment.accepted", "The team accepted the offer; to the board and the team."
)
ASSIGNMENT_DECLINED = _assignment_event(
    "assignment.declined", "The team declined the offer, with a reason; to the board and the team.", reason=True
)
ASSIGNMENT_EXPIRED = _assignment_event(
    "assignment.expired",
    "Nobody accepted the offer within INCIDENTS_OFFER_EXPIRE_SECONDS; to the board and the team.",
    reason=True,
)
ASSIGNMENT_CANCELLED = _assignment_event(
    "assignment.cancelled",
    "A dispatcher cancelled the assignment or reassigned it away; to the board and the team.",
    reason=True,
)
ASSIGNMENT_STATUS = _assignment_event(
    "assignment.status",
    "The pair moved the call on (en route, on scene, transporting, at facility, cleared); to the board and the team.",
)

INCIDENT_UNASSIGNED = EventType(
    "incident.unassigned",
    "A call eligible for co-response waited longer than its priority allows with no team offered; to the board, once.",
    obj(
        {**_DISPATCH, "waiting_since": DATETIME, "threshold_seconds": INTEGER, "raised_at": DATETIME},
        _FOR_SOME,
    ),
)
INCIDENT_UNASSIGNED_CLEARED = EventType(
    "incident.unassigned_cleared",
    "The unassigned call's alert is over: offered to a team, or triaged away from co-response; to the board.",
    obj({**_DISPATCH, "reason": enum(*UnassignedAlert.Cleared.values), "cleared_at": DATETIME}, _FOR_SOME),
)

EVENTS = (
    INCIDENT_CREATED,
    INCIDENT_UPDATED,
    INCIDENT_TRIAGED,
    INCIDENT_UNASSIGNED,
    INCIDENT_UNASSIGNED_CLEARED,
    ASSIGNMENT_OFFERED,
    ASSIGNMENT_ACKNOWLEDGED,
    ASSIGNMENT_ACCEPTED,
    ASSIGNMENT_DECLINED,
    ASSIGNMENT_EXPIRED,
    ASSIGNMENT_CANCELLED,
    ASSIGNMENT_STATUS,
)
