"""Every state change emits its event, to the right people, with role-filtered dispatch fields only."""

from __future__ import annotations

from typing import Any

import pytest

from apps.core.errors import Conflict
from apps.incidents import services
from apps.incidents.models import Assignment, Incident
from apps.realtime.models import Event

ALLOWED_KEYS = {
    "incident_id",
    "incident_status",
    "call_type",
    "call_type_common",
    "priority",
    "address",
    "beat",
    "safety",
    "assignment_id",
    "status",
    "team_id",
    "team_call_sign",
    "subject_name",
    "reason",
    "changed",
    "coresponse_eligible",
    "triage_outcome",
    "not_served_reason",
}


def _events(type: str) -> dict[str, dict[str, Any]]:
    return {e.user.username: e.data for e in Event.objects.filter(type=type).select_related("user")}


def test_incident_created_goes_to_the_board_only(
    make_incident: Any, dispatcher: Any, supervisor: Any, officer_a: Any, analyst: Any, captured_events: Any
) -> None:
    incident = make_incident()
    got = _events("incident.created")
    assert set(got) == {"dispatcher", "supervisor"}
    assert got["dispatcher"]["incident_id"] == incident.pk
    assert got["dispatcher"]["subject_name"] == "Jordan Example"
    assert got["dispatcher"]["safety"]["weapon_kind"] == "knife"


def test_offer_goes_to_both_members_and_the_board_with_role_filtering(
    supervisor: Any, officer_b: Any, on_shift_b: Any, offered: Assignment, dispatcher: Any, clinician_a: Any,
    officer_a: Any, captured_events: Any,
) -> None:  # fmt: skip
    got = _events("assignment.offered")
    assert set(got) == {"dispatcher", "supervisor", "clinician_a", "officer_a"}
    for data in got.values():
        assert set(data) <= ALLOWED_KEYS
        assert data["assignment_id"] == offered.pk
        assert data["status"] == "offered"
        assert data["team_call_sign"] == "CR-A"
        assert data["call_type"] == "SUICTHRT"
    # The officer's current call: the subject's name is there for him.
    assert got["officer_a"]["subject_name"] == "Jordan Example"
    assert got["clinician_a"]["subject_name"] == "Jordan Example"


def test_events_for_each_transition(
    offered: Assignment, officer_a: Any, clinician_a: Any, dispatcher: Any, captured_events: Any
) -> None:
    services.assignment_acknowledge(assignment_id=offered.pk, by=officer_a)
    services.assignment_accept(assignment_id=offered.pk, by=clinician_a)
    services.assignment_status_update(assignment_id=offered.pk, by=officer_a, status="en_route")
    services.assignment_status_update(assignment_id=offered.pk, by=officer_a, status="on_scene")
    services.assignment_status_update(assignment_id=offered.pk, by=officer_a, status="cleared")
    mine = list(
        Event.objects.filter(user=officer_a, type__startswith="assignment.")
        .order_by("seq")
        .values_list("type", "data__status")
    )
    assert mine == [
        ("assignment.offered", "offered"),
        ("assignment.acknowledged", "acknowledged"),
        ("assignment.accepted", "accepted"),
        ("assignment.status", "en_route"),
        ("assignment.status", "on_scene"),
        ("assignment.status", "cleared"),
    ]
    last = Event.objects.filter(user=officer_a, type__startswith="assignment.").order_by("-seq").first()
    assert last is not None
    assert last.data["incident_status"] == "Closed"
    # Cleared: no longer the officer's current call, so the name is not pushed any more.
    assert "subject_name" not in last.data
    assert Event.objects.filter(user=dispatcher, type="assignment.status").count() == 3


def test_a_refused_transition_emits_nothing(offered: Assignment, officer_a: Any, captured_events: Any) -> None:
    before = Event.objects.count()
    with pytest.raises(Conflict):
        services.assignment_status_update(assignment_id=offered.pk, by=officer_a, status="on_scene")
    assert Event.objects.count() == before


def test_decline_and_cancel_events_carry_the_reason(
    offered: Assignment, officer_a: Any, dispatcher: Any, on_shift_b: Any, captured_events: Any
) -> None:
    services.assignment_decline(assignment_id=offered.pk, by=officer_a, reason="on a call already")
    assert _events("assignment.declined")["dispatcher"]["reason"] == "on a call already"
    second = services.assignment_offer(incident_id=offered.incident_id, team_id=on_shift_b.team_id, by=dispatcher)
    services.assignment_cancel(assignment_id=second.pk, by=dispatcher, reason="resolved")
    got = _events("assignment.cancelled")
    assert set(got) == {"dispatcher", "clinician_b", "officer_b"}
    assert "subject_name" not in got["officer_b"]  # cancelled: not the current call any more


def test_triage_and_update_events(incident: Incident, dispatcher: Any, captured_events: Any) -> None:
    services.incident_triage(
        incident_id=incident.pk, by=dispatcher, eligible=True, eligibility_reason="r", outcome="dispatch_co_response"
    )
    assert _events("incident.triaged")["dispatcher"]["triage_outcome"] == "dispatch_co_response"
    services.incident_update(incident_id=incident.pk, by=dispatcher, values={"priority": 4})
    assert _events("incident.updated")["dispatcher"]["changed"] == ["priority"]


def test_events_ring_only_after_commit(
    make_incident: Any, dispatcher: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_incident()
    assert len(callbacks) == 1  # the ring is deferred to commit; the event row already exists
    assert Event.objects.filter(type="incident.created").exists()
