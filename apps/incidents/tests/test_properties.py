"""Random action sequences keep the invariants: at most one active assignment per incident,
timestamps in lifecycle order, a timeline entry for every change, and an incident status that
follows the assignment."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from apps.core.errors import Conflict, Invalid
from apps.incidents import services
from apps.incidents.models import Assignment, Incident, TimelineEntry

LATE = dt.timedelta(days=1)  # past every offer's expiry deadline

S = Assignment.Status
ACTIONS = ["offer", "reassign", "ack", "accept", "decline", "cancel", "expire", *services.FIELD_STATUSES]
# "advance" takes the next lifecycle step of the target (weighted, so that sequences get far).
NEXT: dict[str, list[str]] = {
    S.OFFERED: ["ack", "accept"],
    S.ACKNOWLEDGED: ["accept"],
    S.ACCEPTED: [S.EN_ROUTE],
    S.EN_ROUTE: [S.ON_SCENE],
    S.ON_SCENE: [S.CLEARED, S.TRANSPORTING],
    S.TRANSPORTING: [S.AT_FACILITY, S.CLEARED],
    S.AT_FACILITY: [S.CLEARED],
}
LIFECYCLE_STAMPS = [
    "offered_at",
    "acknowledged_at",
    "accepted_at",
    "en_route_at",
    "on_scene_at",
    "transporting_at",
    "at_facility_at",
    "cleared_at",
]
EXPECTED_INCIDENT_STATUS: dict[str, set[str]] = {
    S.OFFERED: {Incident.Status.ACTIVE},
    S.ACKNOWLEDGED: {Incident.Status.ACTIVE},
    **{k: {v} for k, v in services.INCIDENT_STATUS_FOR.items()},
}

# (action, team side for offers, act on the latest assignment?, acted by a member of the other team?)
action = st.tuples(
    st.sampled_from([*ACTIONS, *["advance"] * 15]),
    st.sampled_from(["a", "b"]),
    st.booleans(),
    st.sampled_from([False, False, False, True]),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(action, min_size=1, max_size=25))
def test_random_action_sequences_keep_the_invariants(
    steps: list[tuple[str, str, bool, bool]],
    dispatcher: Any,
    on_shift_a: Any,
    on_shift_b: Any,
    officer_a: Any,
    clinician_b: Any,
) -> None:
    # Each example starts from free teams (examples share the test's database).
    Assignment.objects.filter(status__in=Assignment.ACTIVE).update(status=S.CANCELLED)
    incident = services.incident_create(by=dispatcher, values={"call_type_code": "EDP", "priority": 5})
    teams = {"a": on_shift_a.team_id, "b": on_shift_b.team_id}
    members = {"a": officer_a, "b": clinician_b}
    history: dict[int, list[str]] = {}  # assignment id → statuses it went through, from our side

    side_of = {on_shift_a.team_id: "a", on_shift_b.team_id: "b"}
    for name, side, latest, intruder in steps:
        newest_first = latest or name == "advance"
        target = Assignment.objects.filter(incident=incident).order_by("-id" if newest_first else "id").first()
        entries_before = TimelineEntry.objects.filter(incident=incident).count()
        try:
            if name == "offer":
                a = services.assignment_offer(incident_id=incident.pk, team_id=teams[side], by=dispatcher)
                history[a.pk] = [S.OFFERED]
            elif name == "reassign":
                active = Assignment.objects.filter(incident=incident, status__in=Assignment.ACTIVE).first()
                a = services.assignment_reassign(
                    incident_id=incident.pk, team_id=teams[side], by=dispatcher, reason="r"
                )
                if active is not None:
                    history[active.pk].append(S.CANCELLED)
                history[a.pk] = [S.OFFERED]
            elif target is None:
                continue
            else:
                if name == "advance":
                    options = NEXT.get(target.status, ["accept"])
                    name = options[0 if side == "a" else -1]
                own = side_of[target.team_id]
                who = members[{"a": "b", "b": "a"}[own] if intruder else own]
                if name == "ack":
                    was = target.status
                    a = services.assignment_acknowledge(assignment_id=target.pk, by=who)
                    if was != S.ACKNOWLEDGED:
                        history[a.pk].append(S.ACKNOWLEDGED)
                elif name == "accept":
                    a = services.assignment_accept(assignment_id=target.pk, by=who)
                    history[a.pk].append(S.ACCEPTED)
                elif name == "decline":
                    a = services.assignment_decline(assignment_id=target.pk, by=who, reason="busy")
                    history[a.pk].append(S.DECLINED)
                elif name == "cancel":
                    a = services.assignment_cancel(assignment_id=target.pk, by=dispatcher, reason="r")
                    history[a.pk].append(S.CANCELLED)
                elif name == "expire":
                    a = services.assignment_expire(assignment_id=target.pk, now=timezone.now() + LATE)
                    history[a.pk].append(S.EXPIRED)
                else:
                    a = services.assignment_status_update(assignment_id=target.pk, by=who, status=name)
                    history[a.pk].append(name)
            event(f"done: {name}")
        except (Conflict, Invalid, PermissionDenied) as exc:
            event(f"refused: {name} ({type(exc).__name__})")
            # A refused action changes nothing at all.
            assert TimelineEntry.objects.filter(incident=incident).count() == entries_before

        # Invariant 1: at most one active assignment.
        rows = list(Assignment.objects.filter(incident=incident))
        active_rows = [r for r in rows if r.status in Assignment.ACTIVE]
        assert len(active_rows) <= 1
        # Invariant 2: the stamps that are set are in lifecycle order, and the end comes last.
        for r in rows:
            stamps = [getattr(r, f) for f in LIFECYCLE_STAMPS if getattr(r, f) is not None]
            assert stamps == sorted(stamps)
            assert getattr(r, services.STAMP[r.status]) is not None if r.status != S.OFFERED else True
            if r.ended_at is not None:
                assert all(s <= r.ended_at for s in stamps)
        # Invariant 3: the timeline has every change of every assignment, in order.
        for r in rows:
            logged = [
                v.split(" (", 1)[0]
                for v in TimelineEntry.objects.filter(assignment=r, kind="assignment")
                .order_by("at", "id")
                .values_list("new_value", flat=True)
            ]
            assert logged == history[r.pk]
            assert logged[-1] == r.status
        # Invariant 4: the incident status follows the active assignment.
        status = Incident.objects.get(pk=incident.pk).status
        if active_rows:
            assert status in EXPECTED_INCIDENT_STATUS[active_rows[0].status]
        elif any(r.status == S.CLEARED for r in rows):
            assert status == Incident.Status.CLOSED
        else:
            assert status == Incident.Status.ACTIVE
