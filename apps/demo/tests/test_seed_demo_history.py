"""seed_demo gives the demo teams three months of earlier calls, once, so the insight screens have numbers."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings

from apps.accounts.models import User
from apps.incidents.models import Assignment, Incident
from apps.insights.compute import Filters
from apps.insights.history import HISTORY_SOURCE
from apps.insights.periods import parse_period
from apps.insights.selectors import dashboard_answer

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")


@override_settings(DEMO_MODE=True)
def test_the_demo_has_a_history_for_its_own_teams_and_the_dashboard_shows_it() -> None:
    with time_machine.travel(dt.datetime(2026, 6, 3, 9, tzinfo=NY), tick=False):
        out = StringIO()
        call_command("seed_demo", stdout=out)
        history = Incident.objects.filter(cad_source=HISTORY_SOURCE)
        count = history.count()
        assert 500 < count < 1500, count
        assert "earlier call(s) for the insight screens" in out.getvalue()
        teams = set(Assignment.objects.filter(incident__in=history).values_list("team__call_sign", flat=True))
        assert teams <= {"CR-1", "CR-2", "CR-3", "CR-4"} and teams
        # It ends the day before the two weeks of apps/demo/dispatch.py's history begin.
        assert not history.filter(received_at__gte=dt.datetime(2026, 5, 20, tzinfo=NY)).exists()
        call_command("seed_demo", stdout=StringIO())
        assert history.count() == count  # once
        supervisor = User.objects.get(username="supervisor")
        answer = dashboard_answer(user=supervisor, period=parse_period("FY2026-Q3"), filters=Filters())
        assert answer["measures"]["calls.total"]["value"] > 0
        assert answer["measures"]["response.offered_to_accepted"]["overall"]["n"] > 0
