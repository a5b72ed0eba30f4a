"""Demo data: a world where the main flow can be tried at once, printed clearly.

People (one per role), four co-response teams with a week of shifts (two teams on duty at any hour,
one night uncovered), one call on scene and one waiting to be offered (apps/demo/dispatch.py), two
weeks of closed calls, and the three months before them for the insight screens (insight_history.py).
The navigator's people, referrals and follow-ups at every stage, and the agency directory (care.py).
Each part is a function of ``apps.demo`` (roster.py, dispatch.py, insight_history.py, care.py) called in
``handle`` in order; a part that builds another corner of the world adds its own module and call.

Idempotent: running it twice changes nothing (what exists is looked up before anything is made; a
new waiting call appears only when the last one was taken). ``--report`` prints the world and the
logins without changing anything (``make run`` ends with it). Demo mode only: it prints passwords.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.timefmt import local_day_bounds, local_today, to_local
from apps.demo import care, dispatch, insight_history, roster
from apps.incidents.models import Assignment, Incident
from apps.incidents.selectors import TeamStatus, team_availability
from apps.referrals.models import FollowUp
from apps.shifts.selectors import coverage_gaps
from apps.teams.models import Team

STATUS_WORDS = {
    TeamStatus.AVAILABLE: "Available",
    TeamStatus.CONDITIONALLY_AVAILABLE: "Conditionally available",
    TeamStatus.NOT_AVAILABLE: "Not available",
}


def _hm(moment: dt.datetime) -> str:
    return f"{to_local(moment):%a %H:%M}"


class Command(BaseCommand):
    help = "Create the demo world (people, teams, shifts, calls now and past) and print it. Demo mode only."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--report", action="store_true", help="Only print the world and the logins.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("seed_demo prints passwords: it only runs with DEMO_MODE on.")
        if options["report"]:
            self.report(users=User.objects.filter(username__in=[p.username for p in roster.PEOPLE]))
            return
        with transaction.atomic():
            people = roster.seed_people()
            teams = roster.seed_teams(people)
            shifts = roster.seed_shifts(people, teams)
        # Calls now go through the incident services, each write in its own transaction. Each part of
        # the world is one call here (people and teams first: the other parts use them).
        live = dispatch.seed_live_calls(people)
        history = dispatch.seed_history(people, teams)
        past = insight_history.seed_insight_history(people, teams)
        navigation = care.seed_care_navigation(people, teams)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo world ready: {shifts} new shift(s), {live.created} new call(s) now, "
                f"{history.calls} closed call(s) in the history, {past.calls} earlier call(s) for the insight "
                f"screens, {navigation.agencies} agencies, {navigation.open_followups} open follow-up(s) for the "
                "navigator."
            )
        )
        for note in live.notes:
            self.stdout.write(f"  note: {note}")
        self.report(users=User.objects.filter(pk__in=[u.pk for u in people.values()]))

    # --- the printed world ----------------------------------------------------------------------------

    def report(self, *, users: Any) -> None:
        now = timezone.now()
        out = self.stdout.write
        out(f"Teams on duty now ({to_local(now):%a %d %b %H:%M %Z}):")
        duties = team_availability(at=now)
        if not duties:
            out("  none: no shift covers this hour (see the admin's shifts)")
        for duty in duties:
            names = ", ".join(m.user.display_name for m in duty.members)
            doing = ""
            if duty.assignments:
                a = duty.assignments[0]
                doing = f"  (#{a.incident_id} {a.incident.call_type_code}: {a.get_status_display().lower()})"
            out(
                f"  {duty.team.call_sign:<5} {STATUS_WORDS.get(duty.status, duty.status):<14} {names}, "
                f"until {_hm(duty.shift.ends_at)}{doing}"
            )
        open_calls = list(
            Incident.objects.filter(status__in=Incident.OPEN_STATUSES).order_by("-priority", "received_at")[:6]
        )
        active = {
            a.incident_id: a
            for a in Assignment.objects.filter(incident__in=open_calls, status__in=Assignment.ACTIVE).select_related(
                "team"
            )
        }
        out("Open calls:")
        if not open_calls:
            out("  none: create one on the dispatch console")
        for incident in open_calls:
            current = active.get(incident.pk)
            state = "waiting to be offered"
            if current is not None:
                state = f"{current.team.call_sign}, {current.get_status_display().lower()}"
            out(f"  #{incident.pk:<4} P{incident.priority} {incident.call_type_code:<9} {incident.address}: {state}")
        if any(i.pk not in active for i in open_calls) and any(d.status == TeamStatus.AVAILABLE for d in duties):
            out("  Try it: sign in as dispatcher, select the waiting call, offer it to the available team;")
            out("  sign in as that team's clinician or officer on a phone (or a second browser) to accept.")
        closed = Incident.objects.filter(cad_source=dispatch.HISTORY_SOURCE)
        out(f"History: {closed.count()} closed call(s) in the last {dispatch.HISTORY_DAYS} days (Closed calls tab).")
        earlier = insight_history.calls()
        if earlier:
            out(f"Insight history: {earlier} call(s) in the {insight_history.MONTHS} months before (insights screens).")
        open_followups = FollowUp.objects.filter(person_id__in=care.person_ids(), status=FollowUp.Status.OPEN).count()
        if open_followups:
            out(f"Care navigation: {open_followups} open follow-up(s) of recent referrals (sign in as navigator).")
        today = local_today()
        gaps = coverage_gaps(start=now, end=local_day_bounds(today + dt.timedelta(days=7))[1])
        if gaps:
            gap = gaps[0]
            out(f"Coverage gap ahead: {_hm(gap.starts_at)} to {_hm(gap.ends_at)} (no team on duty).")
        out(f"Teams: {', '.join(Team.objects.order_by('call_sign').values_list('call_sign', flat=True))}.")
        out(f"Logins (password for all: {roster.DEMO_PASSWORD}; first sign-in sets up the authenticator app):")
        present = set(users.values_list("username", flat=True))
        for p in roster.PEOPLE:
            if p.username in present:
                out(f"  {p.username:<11} {p.full_name:<13} {p.what}")
