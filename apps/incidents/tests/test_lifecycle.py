"""Every legal and illegal assignment transition, and what each does to the incident."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from apps.core.errors import Conflict, Invalid
from apps.incidents import services
from apps.incidents.models import Assignment, Incident, TimelineEntry

LATE = dt.timedelta(days=1)  # past every offer's expiry deadline


S = Assignment.Status
ALL = list(S.values)


def _drive(assignment: Assignment, to: str, *, member: Any, dispatcher: Any) -> Assignment:
    """Run the service for moving ``assignment`` to ``to`` (the way a client would)."""
    aid = assignment.pk
    if to == S.ACKNOWLEDGED:
        return services.assignment_acknowledge(assignment_id=aid, by=member)
    if to == S.ACCEPTED:
        return services.assignment_accept(assignment_id=aid, by=member)
    if to == S.DECLINED:
        return services.assignment_decline(assignment_id=aid, by=member, reason="on another call")
    if to == S.EXPIRED:
        return services.assignment_expire(assignment_id=aid, now=timezone.now() + LATE)
    if to == S.CANCELLED:
        return services.assignment_cancel(assignment_id=aid, by=dispatcher, reason="caller withdrew")
    return services.assignment_status_update(assignment_id=aid, by=member, status=to)


# The shortest path of legal moves from "offered" to each status.
PATH: dict[str, list[str]] = {
    S.OFFERED: [],
    S.ACKNOWLEDGED: [S.ACKNOWLEDGED],
    S.ACCEPTED: [S.ACCEPTED],
    S.EN_ROUTE: [S.ACCEPTED, S.EN_ROUTE],
    S.ON_SCENE: [S.ACCEPTED, S.EN_ROUTE, S.ON_SCENE],
    S.TRANSPORTING: [S.ACCEPTED, S.EN_ROUTE, S.ON_SCENE, S.TRANSPORTING],
    S.AT_FACILITY: [S.ACCEPTED, S.EN_ROUTE, S.ON_SCENE, S.TRANSPORTING, S.AT_FACILITY],
    S.CLEARED: [S.ACCEPTED, S.EN_ROUTE, S.ON_SCENE, S.CLEARED],
    S.DECLINED: [S.DECLINED],
    S.EXPIRED: [S.EXPIRED],
    S.CANCELLED: [S.CANCELLED],
}
LEGAL = {(src, dst) for dst, sources in services.TRANSITIONS.items() for src in sources}
PAIRS = [(src, dst) for src in ALL for dst in ALL if dst != S.OFFERED and src != dst]


@pytest.mark.parametrize(("src", "dst"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_every_transition_is_allowed_exactly_when_the_lifecycle_says(
    src: str, dst: str, offered: Assignment, clinician_a: Any, dispatcher: Any
) -> None:
    for step in PATH[src]:
        _drive(offered, step, member=clinician_a, dispatcher=dispatcher)
    offered.refresh_from_db()
    assert offered.status == src
    entries_before = TimelineEntry.objects.count()
    incident_status_before = Incident.objects.get(pk=offered.incident_id).status

    if (src, dst) in LEGAL:
        result = _drive(offered, dst, member=clinician_a, dispatcher=dispatcher)
        assert result.status == dst
        stamp = services.STAMP[dst]
        assert getattr(result, stamp) is not None
        assert TimelineEntry.objects.count() > entries_before
    else:
        with pytest.raises(Conflict) as err:
            _drive(offered, dst, member=clinician_a, dispatcher=dispatcher)
        assert err.value.status_code == 409
        assert err.value.extra["current"]["status"] == src
        offered.refresh_from_db()
        assert offered.status == src
        assert TimelineEntry.objects.count() == entries_before
        assert Incident.objects.get(pk=offered.incident_id).status == incident_status_before


def test_incident_status_follows_the_assignment(offered: Assignment, officer_a: Any, clinician_a: Any) -> None:
    incident_id = offered.incident_id

    def status() -> str:
        return Incident.objects.get(pk=incident_id).status

    assert status() == Incident.Status.ACTIVE
    services.assignment_acknowledge(assignment_id=offered.pk, by=officer_a)
    assert status() == Incident.Status.ACTIVE
    services.assignment_accept(assignment_id=offered.pk, by=officer_a)
    assert status() == Incident.Status.RESOURCES_ASSIGNED
    services.assignment_status_update(assignment_id=offered.pk, by=clinician_a, status=S.EN_ROUTE)
    assert status() == Incident.Status.RESOURCES_ENROUTE
    services.assignment_status_update(assignment_id=offered.pk, by=officer_a, status=S.ON_SCENE)
    assert status() == Incident.Status.RESOURCES_ONSCENE
    services.assignment_status_update(assignment_id=offered.pk, by=officer_a, status=S.TRANSPORTING)
    services.assignment_status_update(assignment_id=offered.pk, by=officer_a, status=S.AT_FACILITY)
    assert status() == Incident.Status.RESOURCES_ONSCENE
    services.assignment_status_update(assignment_id=offered.pk, by=clinician_a, status=S.CLEARED)
    incident = Incident.objects.get(pk=incident_id)
    assert incident.status == Incident.Status.CLOSED
    assert incident.closed_at is not None
    a = Assignment.objects.get(pk=offered.pk)
    stamps = [a.offered_at, a.acknowledged_at, a.accepted_at, a.en_route_at, a.on_scene_at]
    stamps += [a.transporting_at, a.at_facility_at, a.cleared_at]
    assert all(s is not None for s in stamps)
    assert stamps == sorted(stamps)  # type: ignore[type-var]
    assert a.accepted_by == officer_a


def test_a_status_set_by_one_member_applies_to_the_pair(offered: Assignment, officer_a: Any, clinician_a: Any) -> None:
    services.assignment_accept(assignment_id=offered.pk, by=officer_a)
    with pytest.raises(Conflict):
        services.assignment_accept(assignment_id=offered.pk, by=clinician_a)
    services.assignment_status_update(assignment_id=offered.pk, by=clinician_a, status=S.EN_ROUTE)
    # The officer's device now sees en route too: it is one assignment row for the pair.
    with pytest.raises(Conflict) as err:
        services.assignment_status_update(assignment_id=offered.pk, by=officer_a, status=S.EN_ROUTE)
    assert err.value.extra["current"]["status"] == S.EN_ROUTE


def test_second_device_acknowledging_is_harmless(offered: Assignment, officer_a: Any, clinician_a: Any) -> None:
    services.assignment_acknowledge(assignment_id=offered.pk, by=officer_a)
    again = services.assignment_acknowledge(assignment_id=offered.pk, by=clinician_a)
    assert again.status == S.ACKNOWLEDGED
    assert again.acknowledged_by == officer_a


def test_on_scene_before_accepted_is_a_conflict(offered: Assignment, officer_a: Any) -> None:
    with pytest.raises(Conflict) as err:
        services.assignment_status_update(assignment_id=offered.pk, by=officer_a, status=S.ON_SCENE)
    assert err.value.extra["current"]["status"] == S.OFFERED


def test_a_member_of_another_team_cannot_accept(offered: Assignment, officer_b: Any, on_shift_b: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.assignment_accept(assignment_id=offered.pk, by=officer_b)
    assert Assignment.objects.get(pk=offered.pk).status == S.OFFERED


def test_decline_needs_a_reason(offered: Assignment, officer_a: Any) -> None:
    with pytest.raises(Invalid) as err:
        services.assignment_decline(assignment_id=offered.pk, by=officer_a, reason="  ")
    assert "reason" in err.value.errors
    assert Assignment.objects.get(pk=offered.pk).status == S.OFFERED


def test_one_active_assignment_per_incident(offered: Assignment, on_shift_b: Any, dispatcher: Any) -> None:
    with pytest.raises(Conflict) as err:
        services.assignment_offer(incident_id=offered.incident_id, team_id=on_shift_b.team_id, by=dispatcher)
    assert err.value.extra["current"]["team_call_sign"] == "CR-A"
    assert Assignment.objects.filter(incident_id=offered.incident_id).count() == 1


def test_the_database_refuses_a_second_active_assignment(offered: Assignment, team_b: Any) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(incident_id=offered.incident_id, team=team_b)


def test_offer_to_a_team_not_on_duty_is_refused(incident: Incident, team_b: Any, dispatcher: Any) -> None:
    with pytest.raises(Invalid) as err:
        services.assignment_offer(incident_id=incident.pk, team_id=team_b.pk, by=dispatcher)
    assert "not on duty" in err.value.errors["team"][0]
    assert not Assignment.objects.exists()


def test_offer_to_an_unknown_team_is_refused(incident: Incident, dispatcher: Any) -> None:
    with pytest.raises(Invalid):
        services.assignment_offer(incident_id=incident.pk, team_id=99999, by=dispatcher)


def test_offer_to_a_busy_team_is_a_conflict(
    make_incident: Any, offered: Assignment, officer_a: Any, on_shift_a: Any, dispatcher: Any
) -> None:
    services.assignment_accept(assignment_id=offered.pk, by=officer_a)
    other = make_incident(address="2 Main St")
    with pytest.raises(Conflict):
        services.assignment_offer(incident_id=other.pk, team_id=on_shift_a.team_id, by=dispatcher)


def test_declined_incident_can_be_offered_again_and_history_is_kept(
    offered: Assignment, officer_a: Any, on_shift_b: Any, dispatcher: Any
) -> None:
    services.assignment_decline(assignment_id=offered.pk, by=officer_a, reason="at the hospital")
    assert Incident.objects.get(pk=offered.incident_id).status == Incident.Status.ACTIVE
    second = services.assignment_offer(incident_id=offered.incident_id, team_id=on_shift_b.team_id, by=dispatcher)
    rows = list(Assignment.objects.filter(incident_id=offered.incident_id).order_by("id"))
    assert [r.status for r in rows] == [S.DECLINED, S.OFFERED]
    assert rows[0].end_reason == "at the hospital"
    assert second.team_id == on_shift_b.team_id


def test_reassign_cancels_and_reoffers_keeping_history(
    offered: Assignment, officer_a: Any, on_shift_b: Any, dispatcher: Any
) -> None:
    services.assignment_accept(assignment_id=offered.pk, by=officer_a)
    new = services.assignment_reassign(
        incident_id=offered.incident_id, team_id=on_shift_b.team_id, by=dispatcher, reason="B is closer"
    )
    old = Assignment.objects.get(pk=offered.pk)
    assert old.status == S.CANCELLED
    assert "B is closer" in old.end_reason
    assert new.status == S.OFFERED
    assert Incident.objects.get(pk=offered.incident_id).status == Incident.Status.ACTIVE
    fields = list(TimelineEntry.objects.filter(incident_id=offered.incident_id).values_list("field", "new_value"))
    assert ("assignment.CR-A", "cancelled (reassigned: B is closer)") in fields
    assert ("assignment.CR-B", "offered") in fields


def test_reassign_to_the_same_team_is_a_conflict(offered: Assignment, on_shift_a: Any, dispatcher: Any) -> None:
    with pytest.raises(Conflict):
        services.assignment_reassign(
            incident_id=offered.incident_id, team_id=on_shift_a.team_id, by=dispatcher, reason="x"
        )
    assert Assignment.objects.get(pk=offered.pk).status == S.OFFERED


def test_closed_incident_cannot_be_offered(
    offered: Assignment, officer_a: Any, on_shift_b: Any, dispatcher: Any
) -> None:
    for step in PATH[S.CLEARED]:
        _drive(offered, step, member=officer_a, dispatcher=dispatcher)
    with pytest.raises(Conflict) as err:
        services.assignment_offer(incident_id=offered.incident_id, team_id=on_shift_b.team_id, by=dispatcher)
    assert err.value.extra["current"]["incident_status"] == Incident.Status.CLOSED


def test_timeline_entries_are_append_only(incident: Incident) -> None:
    entry = TimelineEntry.objects.filter(incident=incident).first()
    assert entry is not None
    entry.new_value = "forged"
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()


def test_triage_records_eligible_but_not_served_and_keeps_old_values(incident: Incident, dispatcher: Any) -> None:
    services.incident_triage(
        incident_id=incident.pk,
        by=dispatcher,
        eligible=True,
        eligibility_reason="suicide threat with weapon",
        outcome=Incident.TriageOutcome.POLICE_ONLY,
        not_served_reason=Incident.NotServedReason.ALL_TEAMS_BUSY,
    )
    services.incident_triage(
        incident_id=incident.pk,
        by=dispatcher,
        eligible=True,
        eligibility_reason="suicide threat with weapon",
        outcome=Incident.TriageOutcome.DISPATCH_CO_RESPONSE,
    )
    incident.refresh_from_db()
    assert incident.triage_outcome == Incident.TriageOutcome.DISPATCH_CO_RESPONSE
    assert incident.not_served_reason == ""
    changes = list(
        TimelineEntry.objects.filter(incident=incident, kind="triaged", field="triage_outcome").values_list(
            "old_value", "new_value"
        )
    )
    assert changes == [("", "police_only"), ("police_only", "dispatch_co_response")]
    assert TimelineEntry.objects.filter(
        incident=incident, field="not_served_reason", old_value="all_teams_busy", new_value=""
    ).exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"eligible": True, "outcome": "police_only"}, "not_served_reason"),
        ({"eligible": False, "outcome": "dispatch_co_response"}, "outcome"),
        ({"eligible": False, "outcome": "police_only", "not_served_reason": "all_teams_busy"}, "not_served_reason"),
        ({"eligible": True, "outcome": "police_only", "not_served_reason": "other"}, "not_served_note"),
        ({"eligible": True, "outcome": "teleport"}, "outcome"),
    ],
)
def test_inconsistent_triage_is_refused(
    incident: Incident, dispatcher: Any, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as err:
        services.incident_triage(incident_id=incident.pk, by=dispatcher, eligibility_reason="r", **kwargs)
    assert field in err.value.errors
    incident.refresh_from_db()
    assert incident.triage_outcome == ""
    assert incident.triaged_at is None


def test_only_dispatchers_triage_and_offer(incident: Incident, officer_a: Any, on_shift_a: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.incident_triage(
            incident_id=incident.pk, by=officer_a, eligible=False, eligibility_reason="x", outcome="police_only"
        )
    with pytest.raises(PermissionDenied):
        services.assignment_offer(incident_id=incident.pk, team_id=on_shift_a.team_id, by=officer_a)


def test_incident_update_logs_old_and_new(incident: Incident, dispatcher: Any) -> None:
    services.incident_update(incident_id=incident.pk, by=dispatcher, values={"priority": 3, "beat": "D2"})
    rows = set(
        TimelineEntry.objects.filter(incident=incident, kind="updated").values_list("field", "old_value", "new_value")
    )
    assert rows == {("priority", "8", "3"), ("beat", "", "D2")}


def test_unknown_call_type_is_refused_by_hand(dispatcher: Any) -> None:
    with pytest.raises(Invalid) as err:
        services.incident_create(by=dispatcher, values={"call_type_code": "NOPE", "priority": 5})
    assert "call_type" in err.value.errors
    assert not Incident.objects.exists()
