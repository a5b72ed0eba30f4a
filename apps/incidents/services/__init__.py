"""Every write to incidents and assignments, one module per concept: ``incidents`` (create, edit,
triage), ``cad_intake`` (the CAD's upsert), ``assignments`` (the lifecycle), ``common`` (the
timeline, the row lock, the dispatch event). ``grep -n "def assignment_" apps/incidents/services/*.py``
lists every way an assignment can change. Callers use this package (``services.assignment_accept``).

Concurrency: each write locks the incident row first (``select_for_update``), then changes the
assignment with a conditional UPDATE (``... WHERE status IN (allowed sources)``). The lock orders
writers per incident (no deadlock between an offer and an accept); the conditional update and the
partial unique index ``assignment_one_active_per_incident`` are the guarantees: two devices or two
dispatchers racing get exactly one winner, the other a Conflict (409) with the current state.

Events are emitted inside the transaction with ``event_emit``; they ring after commit.

The services are plain (not durable) atomic blocks on purpose: apps.core.idempotency runs a write
inside its own transaction together with the idempotency record, so they must nest. Nested, the
row lock and the conditional update still hold until the outermost commit, and on_commit events
still ring only then.
"""

from __future__ import annotations

from .assignments import (
    ENDED,
    ESCALATION_KIND,
    EVENT_FOR,
    FIELD_STATUSES,
    INCIDENT_STATUS_FOR,
    STAMP,
    TRANSITIONS,
    assignment_accept,
    assignment_acknowledge,
    assignment_cancel,
    assignment_decline,
    assignment_expire,
    assignment_offer,
    assignment_reassign,
    assignment_status_update,
    assignments_expire_due,
    escalation_subject,
)
from .cad_intake import CadResult, cad_incident_upsert
from .common import team_member_ids
from .incidents import CLOCK_SKEW, EDITABLE_FIELDS, IncidentData, incident_create, incident_triage, incident_update
from .unassigned import unassigned_alert_clear, unassigned_alert_raise, unassigned_alerts_raise, unassigned_threshold

__all__ = [
    "CLOCK_SKEW",
    "EDITABLE_FIELDS",
    "ENDED",
    "ESCALATION_KIND",
    "EVENT_FOR",
    "FIELD_STATUSES",
    "INCIDENT_STATUS_FOR",
    "STAMP",
    "TRANSITIONS",
    "CadResult",
    "IncidentData",
    "assignment_accept",
    "assignment_acknowledge",
    "assignment_cancel",
    "assignment_decline",
    "assignment_expire",
    "assignment_offer",
    "assignment_reassign",
    "assignment_status_update",
    "assignments_expire_due",
    "cad_incident_upsert",
    "escalation_subject",
    "incident_create",
    "incident_triage",
    "incident_update",
    "team_member_ids",
    "unassigned_alert_clear",
    "unassigned_alert_raise",
    "unassigned_alerts_raise",
    "unassigned_threshold",
]
