"""seed_history: a consistent, plausible history (small here; the benchmark seeds 100x Durham)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Q

from apps.clinical.models import Encounter
from apps.incidents.models import Assignment, Incident
from apps.insights.compute import Filters
from apps.insights.history import HISTORY_SOURCE
from apps.insights.models import RollupMonth, TrainingRecord
from apps.insights.periods import parse_period
from apps.insights.rollup import rollup_mismatches
from apps.insights.selectors import dashboard_answer
from apps.referrals.models import FollowUp
from apps.shifts.models import Shift

pytestmark = pytest.mark.django_db


def test_seed_history_writes_a_consistent_history_and_its_rollup(supervisor: Any) -> None:
    out = io.StringIO()
    call_command("seed_history", months=2, scale=0.3, seed=7, end="2025-02-28", stdout=out)
    calls = Incident.objects.filter(cad_source=HISTORY_SOURCE)
    # About 1,431 x 0.3 = 429 calls a month (weekends a little more).
    assert 780 <= calls.count() <= 960, calls.count()
    assert calls.filter(received_at__lt=parse_period("2025-01").bounds()[0]).count() == 0
    assert calls.filter(received_at__gte=parse_period("2025-03").bounds()[0]).count() == 0
    # Every served call has exactly one cleared assignment and one encounter; nothing is left active.
    assert not Assignment.objects.filter(status__in=Assignment.ACTIVE).exists()
    cleared = Assignment.objects.filter(status="cleared")
    assert cleared.values("incident_id").annotate(n=Count("pk")).filter(n__gt=1).count() == 0
    assert Encounter.objects.filter(kind="incident").count() == cleared.count()
    # Timestamps in lifecycle order.
    assert not cleared.filter(
        Q(accepted_at__lt=F_("offered_at")) | Q(on_scene_at__lt=F_("accepted_at")) | Q(cleared_at__lt=F_("on_scene_at"))
    ).exists()
    assert FollowUp.objects.exists() and Shift.objects.exists() and TrainingRecord.objects.exists()
    assert RollupMonth.objects.filter(month=dt.date(2025, 1, 1)).exists()
    assert rollup_mismatches([dt.date(2025, 1, 1), dt.date(2025, 2, 1)]) == []

    answer = dashboard_answer(user=supervisor, period=parse_period("FY2025-Q2"), filters=Filters())["measures"]
    assert answer["calls.total"]["value"] == calls.count()
    eligible = answer["calls.eligible_served"]
    assert 0.7 < eligible["denominator"] / calls.count() < 0.95
    assert 0 < eligible["numerator"] < eligible["denominator"]
    accepted = answer["response.offered_to_accepted"]["overall"]
    assert accepted["n"] > 0 and 5 <= accepted["p50"] <= 300
    assert answer["outcomes.unique_people"]["value"] < answer["outcomes.unique_people"]["encounters"]
    assert "Seeded" in out.getvalue() and "Rollup:" in out.getvalue()

    with pytest.raises(CommandError):
        call_command("seed_history", months=1, scale=0.1, stdout=io.StringIO())


def F_(name: str) -> Any:
    from django.db.models import F

    return F(name)
