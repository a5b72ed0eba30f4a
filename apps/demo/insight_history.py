"""The demo's longer past, for the insight screens: three months of calls before the two weeks of
dispatch.py's history, with everything program insight counts (triage, offers and their delivery,
encounters with C-SSRS risk, dispositions and officer sections, referrals and follow-ups, shifts, CIT
training), written in bulk by ``apps.insights.history`` for the demo's own teams and people, then the
insights rollup. About 360 calls a month (Durham x 0.25); once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from apps.accounts.models import User
from apps.core.timefmt import local_today
from apps.incidents.models import Incident
from apps.insights.history import HISTORY_SOURCE, Crew, seed_history
from apps.insights.rollup import months_with_data, rollup_refresh
from apps.teams.models import Team

from . import dispatch, roster

MONTHS = 3
SCALE = 0.25


@dataclass(frozen=True)
class InsightHistory:
    calls: int
    last_day: dt.date | None


def calls() -> int:
    return Incident.objects.filter(cad_source=HISTORY_SOURCE).count()


def seed_insight_history(people: dict[str, User], teams: dict[str, Team]) -> InsightHistory:
    """Three months of past calls ending the day before dispatch.py's two weeks begin; once."""
    old = Incident.objects.filter(cad_source=HISTORY_SOURCE)
    if old.exists():
        last = old.order_by("-received_at").values_list("received_at", flat=True).first()
        return InsightHistory(calls=old.count(), last_day=last.date() if last else None)
    starts = {call_sign: (start.hour, 12) for call_sign, start, _end in roster.PATTERN}
    order = list(roster.TEAMS)
    crew = Crew(
        teams=[(teams[c].pk, c, people[roster.TEAMS[c][0]].pk, people[roster.TEAMS[c][1]].pk) for c in order],
        dispatchers=[people["dispatcher"].pk, people["diversion"].pk],
        navigators=[people["navigator"].pk],
        author=people["supervisor"].pk,
        shifts=[starts[c] for c in order],  # the demo's rota: two teams by day, two by night, every day
    )
    last_day = local_today() - dt.timedelta(days=dispatch.HISTORY_DAYS + 1)
    result = seed_history(months=MONTHS, scale=SCALE, end=last_day, crew=crew)
    rollup_refresh(months_with_data())
    return InsightHistory(calls=result.incidents, last_day=last_day)
