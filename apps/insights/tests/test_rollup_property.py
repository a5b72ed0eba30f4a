"""Property: on random data, the rollup, the live computation and a naive recomputation in Python agree.

The naive side shares nothing with apps/insights/compute.py: it reads every record into Python and counts
with zoneinfo, for each month, quarter and the fiscal year of October 2024 – March 2025 (two DST changes,
a calendar-year edge inside a quarter, a quarter edge, the fiscal-year start). Timestamps are drawn to
land on those edges often.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from collections import Counter
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.clinical.models import Disposition, Encounter
from apps.core.timefmt import local_zone
from apps.incidents.models import Assignment, Incident
from apps.insights import bins
from apps.insights.compute import Filters
from apps.insights.models import TrainingRecord
from apps.insights.periods import Period, parse_period
from apps.insights.rollup import rollup_mismatches, rollup_refresh
from apps.insights.selectors import dashboard_answer
from apps.referrals.models import FollowUp, FollowUpAttempt
from apps.shifts.models import ShiftMember
from apps.teams.models import Team

from .builders import Builder

pytestmark = pytest.mark.django_db

NY = local_zone()
PERIODS = [
    *(f"{y}-{m:02d}" for y, m in [(2024, 10), (2024, 11), (2024, 12), (2025, 1), (2025, 2), (2025, 3)]),
    "FY2025-Q1",
    "FY2025-Q2",
]
EDGES = [
    dt.datetime(2024, 10, 1, 0, 0, tzinfo=NY),
    dt.datetime(2024, 11, 3, 1, 30, tzinfo=NY),
    dt.datetime(2024, 11, 3, 1, 30, tzinfo=NY, fold=1),
    dt.datetime(2025, 1, 1, 0, 0, tzinfo=NY),
    dt.datetime(2025, 3, 9, 1, 59, 59, tzinfo=NY),
    dt.datetime(2025, 3, 9, 3, 0, tzinfo=NY),
    dt.datetime(2025, 3, 31, 23, 59, 59, tzinfo=NY),
]
START = dt.datetime(2024, 10, 1, tzinfo=NY).astimezone(dt.UTC)
END = dt.datetime(2025, 4, 1, tzinfo=NY).astimezone(dt.UTC)


def moment(rng: random.Random) -> dt.datetime:
    if rng.random() < 0.3:
        edge = rng.choice(EDGES).astimezone(dt.UTC)
        return edge + dt.timedelta(seconds=rng.choice([-1, 0, 1]))
    span = int((END - START).total_seconds())
    return START + dt.timedelta(seconds=rng.randrange(span))


def build(seed: int, size: int, user: Any, officers: list[Any]) -> None:
    rng = random.Random(seed)
    b = Builder(user)
    teams = [b.team("CR-A"), b.team("CR-B"), b.team("CRT-1", kind="community_response")]
    people = [b.person(f"P{i}") for i in range(5)]
    for officer in officers:
        if rng.random() < 0.6:
            completed = moment(rng).astimezone(NY).date()
            TrainingRecord.objects.create(
                person=officer,
                course=rng.choice(["cit_40", "cit_refresher", "mhfa"]),
                hours=40,
                completed_on=completed,
                expires_on=None if rng.random() < 0.7 else completed + dt.timedelta(days=rng.randint(1, 90)),
            )
    for team in teams:
        for _ in range(rng.randint(0, 3)):
            b.shift(team, moment(rng), officers=tuple(rng.sample(officers, rng.randint(1, 2))))
    for _ in range(size):
        eligible = rng.choice([True, True, False, None])
        outcome = rng.choice(["dispatch_co_response", "resolved_by_phone", "community_response"])
        incident = b.incident(
            moment(rng),
            source=rng.choice(["911", "988_transfer", "officer_request"]),
            call_type=rng.choice(["SUICTHRT", "WELFARE"]),
            priority=rng.randint(0, 10),
            eligible=eligible,
            outcome=outcome,
            reason=rng.choice(["", "all_teams_busy"]) if eligible and outcome != "dispatch_co_response" else "",
            triaged_after=rng.choice([0, 5, 61, 200]),
        )
        if rng.random() < 0.6:
            accepted = rng.choice([None, rng.randint(0, 200)])
            on_scene = None if accepted is None or rng.random() < 0.3 else accepted + rng.randint(0, 3000)
            b.assignment(
                incident,
                rng.choice(teams),
                offered_after=rng.randint(0, 900),
                acknowledged_after=rng.choice([None, rng.randint(0, 40)]),
                accepted_after=accepted,
                on_scene_after=on_scene,
                cleared_after=None if on_scene is None else on_scene + rng.randint(0, 9000),
                shift=rng.choice([None, *list(teams[0].shifts.all())]),
            )
            if on_scene is not None and rng.random() < 0.8:
                kind = rng.choice([Encounter.Kind.INCIDENT, Encounter.Kind.INCIDENT, Encounter.Kind.FOLLOW_UP])
                e = b.encounter(
                    moment(rng),
                    team=rng.choice(teams[:2]),
                    incident=incident,
                    person=rng.choice([None, *people]),
                    kind=kind,
                    risk=rng.choice(["", "low", "high"]),
                    dispositions=tuple(rng.sample(["arrest", "transport_ed", "resolved_on_scene"], rng.randint(0, 2))),
                )
                if e.person is not None and rng.random() < 0.5:
                    b.followup(
                        e,
                        moment(rng),
                        reason=rng.choice(["referral", "high_risk", "ed_linkage"]),
                        attempts=tuple((rng.randint(-30, 30), rng.choice(["reached", "no_answer"])) for _ in range(2)),
                    )


# --- the naive recomputation --------------------------------------------------------------------------


def local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(NY).date()


def inside(moment: dt.datetime | None, period: Period) -> bool:
    return moment is not None and period.start <= local_day(moment) < period.end


def seconds(later: dt.datetime, earlier: dt.datetime) -> int:
    return int((later - earlier).total_seconds() // 1)


def naive(period: Period) -> dict[str, Any]:
    incidents = [i for i in Incident.objects.all() if inside(i.received_at, period)]
    served = {
        a.incident_id
        for a in Assignment.objects.select_related("team").filter(on_scene_at__isnull=False)
        if a.team.kind == Team.Kind.CO_RESPONSE
    }
    how: Counter[str] = Counter()
    for i in incidents:
        local = i.received_at.astimezone(NY)
        how[str(local.weekday() * 24 + local.hour)] += 1
    eligible = [i for i in incidents if i.coresponse_eligible]
    assignments = [a for a in Assignment.objects.select_related("incident") if inside(a.incident.received_at, period)]
    accepted = [seconds(a.accepted_at, a.offered_at) for a in assignments if a.accepted_at]
    hist = bins.histogram_of(accepted)

    def seen(a: Assignment) -> dt.datetime | None:
        return a.acknowledged_at or a.accepted_at or (a.ended_at if a.status == "declined" else None)

    seen_at = [seen(a) for a in assignments]
    seen_20 = sum(1 for a, s in zip(assignments, seen_at, strict=True) if s and 0 <= seconds(s, a.offered_at) <= 20)
    contact_kinds = {Encounter.Kind.INCIDENT, Encounter.Kind.WALK_IN}
    all_contacts = [e for e in Encounter.objects.all() if e.kind in contact_kinds]
    encounters = [e for e in all_contacts if inside(e.started_at, period)]
    codes = Counter(d.code for d in Disposition.objects.select_related("encounter") if d.encounter in encounters)
    repeat_30 = 0
    for e in encounters:
        if e.person_id is None:
            continue
        earlier = [o.started_at for o in all_contacts if o.person_id == e.person_id and o.started_at < e.started_at]
        if earlier and 0 <= seconds(e.started_at, max(earlier)) <= 30 * 86400:
            repeat_30 += 1
    followups = [f for f in FollowUp.objects.all() if inside(f.due_at, period)]
    on_time: Counter[str] = Counter()
    due: Counter[str] = Counter()
    for f in followups:
        contacts = sorted(
            a.at for a in FollowUpAttempt.objects.filter(followup=f) if a.outcome in ("reached", "declined", "linked")
        )
        due[f.reason] += 1
        if contacts and contacts[0] <= f.due_at:
            on_time[f.reason] += 1
    members = [
        m for m in ShiftMember.objects.select_related("shift__team").filter(role="officer")
        if inside(m.shift.starts_at, period) and m.shift.team.kind == Team.Kind.CO_RESPONSE
    ]  # fmt: skip
    untrained: dict[int, bool] = {}
    for m in members:
        day = local_day(m.shift.starts_at)
        ok = any(
            r.course in TrainingRecord.CIT_COURSES and r.in_force_on(day)
            for r in TrainingRecord.objects.filter(person_id=m.user_id)
        )
        untrained[m.user_id] = untrained.get(m.user_id, False) or not ok
    return {
        "calls.total": len(incidents),
        "by_source": dict(Counter(i.source for i in incidents)),
        "how": dict(how),
        "eligible": len(eligible),
        "eligible_served": sum(1 for i in eligible if i.pk in served),
        "offered_to_accepted": (len(accepted), bins.percentile(hist, 0.5), bins.percentile(hist, 0.9)),
        "seen_20": (seen_20, len(assignments)),
        "dispositions": dict(codes),
        "people": len({e.person_id for e in encounters if e.person_id}),
        "repeat_30": repeat_30,
        "followup_24h": (on_time["high_risk"], due["high_risk"]),
        "followup_48h": (on_time["referral"], due["referral"]),
        "cit_officers": (sum(1 for v in untrained.values() if not v), len(untrained)),
    }


def from_answer(a: dict[str, Any]) -> dict[str, Any]:
    def nonzero(measure: str) -> dict[str, Any]:
        return {r["key"]: r["value"] for r in a[measure]["rows"] if r["value"]}

    window = {r["key"]: (r["numerator"], r["denominator"]) for r in a["followup.within_window"]["rows"]}
    accepted = a["response.offered_to_accepted"]["overall"]
    repeat = {r["key"]: r["numerator"] for r in a["repeat.contacts"]["rows"]}
    return {
        "calls.total": a["calls.total"]["value"],
        "by_source": nonzero("calls.by_source"),
        "how": nonzero("calls.by_hour_of_week"),
        "eligible": a["calls.eligible_served"]["denominator"],
        "eligible_served": a["calls.eligible_served"]["numerator"],
        "offered_to_accepted": (accepted["n"], accepted["p50"], accepted["p90"]),
        "seen_20": (a["delivery.seen_within_20s"]["numerator"], a["delivery.seen_within_20s"]["denominator"]),
        "dispositions": nonzero("outcomes.dispositions"),
        "people": a["outcomes.unique_people"]["value"],
        "repeat_30": repeat["30d"],
        "followup_24h": window["24h"],
        "followup_48h": window["48h"],
        "cit_officers": (a["training.cit_officers"]["numerator"], a["training.cit_officers"]["denominator"]),
    }


EXAMPLES = int(os.environ.get("INSIGHTS_PROPERTY_EXAMPLES", "6"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), size=st.integers(0, 40))
def test_rollup_live_and_naive_agree_on_random_data(make_user: Any, seed: int, size: int) -> None:
    with transaction.atomic():
        supervisor = make_user(f"sup{seed}", "supervisor")
        officers = [make_user(f"off{seed}_{i}", "officer") for i in range(3)]
        build(seed, size, make_user(f"disp{seed}", "dispatcher"), officers)
        # The naive side counts only high-risk follow-ups in the 24 h row: keep ivc_released out of it.
        assert not FollowUp.objects.filter(reason="ivc_released").exists()
        live = {
            key: dashboard_answer(user=supervisor, period=parse_period(key), filters=Filters())["measures"]
            for key in PERIODS
        }
        months = parse_period("FY2025").months()
        rollup_refresh(months)
        assert rollup_mismatches(months) == []
        for key in PERIODS:
            period = parse_period(key)
            from_rollup = dashboard_answer(user=supervisor, period=period, filters=Filters())["measures"]
            assert from_rollup == live[key], key
            assert from_answer(from_rollup) == naive(period), key
        transaction.set_rollback(True)
