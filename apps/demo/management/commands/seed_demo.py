"""Demo data: 4 co-response teams, one person per role, shifts today → +7 days with one coverage gap.

Idempotent: running it twice changes nothing (people and shifts are looked up before being made).
Refuses to run outside demo mode, because it prints passwords.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.accounts.models import User
from apps.accounts.services import user_set_roles
from apps.core.timefmt import local_datetime, local_range, local_today
from apps.incidents import services as incident_services
from apps.incidents.models import Incident
from apps.incidents.selectors import TeamStatus, team_availability
from apps.shifts.models import Shift
from apps.shifts.services import MemberSpec, shift_create
from apps.teams.models import Team, TeamMembership
from apps.teams.services import MembershipSpec, team_save

DEMO_PASSWORD = "coresponse-demo"

PEOPLE: list[tuple[str, str, str, list[str]]] = [
    # username, first, last, roles
    ("dispatcher", "Dana", "Diaz", ["dispatcher"]),
    ("diversion", "Devon", "Reyes", ["dispatcher", "clinician"]),
    ("clinician1", "Claire", "Adams", ["clinician"]),
    ("clinician2", "Chris", "Baker", ["clinician"]),
    ("clinician3", "Carmen", "Cole", ["clinician"]),
    ("clinician4", "Cody", "Dunn", ["clinician"]),
    ("officer1", "Omar", "Evans", ["officer"]),
    ("officer2", "Olivia", "Ford", ["officer"]),
    ("officer3", "Owen", "Grant", ["officer"]),
    ("officer4", "Opal", "Hayes", ["officer"]),
    ("clinsup", "Sam", "Irwin", ["clinical_supervisor", "clinician"]),
    ("navigator", "Nina", "Jones", ["care_navigator"]),
    ("supervisor", "Sofia", "King", ["supervisor"]),
    ("analyst", "Ari", "Lopez", ["analyst"]),
    ("admin", "Alex", "Moore", ["admin"]),
]

TEAMS = [
    ("CR-1", "clinician1", "officer1"),
    ("CR-2", "clinician2", "officer2"),
    ("CR-3", "clinician3", "officer3"),
    ("CR-4", "clinician4", "officer4"),
]

# (team, local start, local end): an end before the start ends the next day.
PATTERN = [
    ("CR-1", dt.time(7), dt.time(17)),
    ("CR-2", dt.time(10), dt.time(20)),
    ("CR-3", dt.time(20), dt.time(7)),
]
GAP_DAY_OFFSET = 3  # CR-3's night shift is missing that night: the coverage view shows 11 hours


class Command(BaseCommand):
    help = "Create demo teams, people (one per role) and shifts. Demo mode only."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("seed_demo prints passwords: it only runs with DEMO_MODE on.")
        with transaction.atomic():
            people = self._people()
            teams = self._teams(people)
            created = self._shifts(people, teams)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} new shift(s))."))
        # Incidents go through the incident services, each in its own transaction.
        self.stdout.write(f"Demo incidents: {self._incidents(people)} new.")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, first, last, roles in PEOPLE:
            self.stdout.write(f"  {username:<12} {first + ' ' + last:<16} {', '.join(roles)}")

    def _people(self) -> dict[str, User]:
        people: dict[str, User] = {}
        for username, first, last, roles in PEOPLE:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(username=username, first_name=first, last_name=last, email=f"{username}@example.org")
                user.set_password(DEMO_PASSWORD)
                user.save()
                user_set_roles(user=user, roles=roles)
                if "admin" in roles:
                    User.objects.filter(pk=user.pk).update(is_superuser=True, is_staff=True)
            people[username] = user
        return people

    def _teams(self, people: dict[str, User]) -> dict[str, Team]:
        teams = {}
        for call_sign, clinician, officer in TEAMS:
            # Through the teams service (audited, team.* events), and only when someone is missing.
            team = Team.objects.filter(call_sign=call_sign).first() or Team(
                call_sign=call_sign, name=f"Co-response {call_sign}"
            )
            existing = [] if team.pk is None else list(TeamMembership.objects.filter(team=team).select_related("user"))
            specs = [MembershipSpec(user=m.user, role=m.role) for m in existing]
            for username, role in ((clinician, "clinician"), (officer, "officer")):
                if all(m.user.pk != people[username].pk for m in specs):
                    specs.append(MembershipSpec(user=people[username], role=role))
            if team.pk is None or len(specs) > len(existing):
                team = team_save(team=team, memberships=specs)
            teams[call_sign] = team
        return teams

    def _shifts(self, people: dict[str, User], teams: dict[str, Team]) -> int:
        pairs = {call_sign: (clin, off) for call_sign, clin, off in TEAMS}
        today = local_today()
        created = 0
        for offset in range(-1, 8):
            day = today + dt.timedelta(days=offset)
            for call_sign, start_t, end_t in PATTERN:
                if call_sign == "CR-3" and offset == GAP_DAY_OFFSET:
                    continue
                start = local_datetime(day, start_t)
                end = local_datetime(day + dt.timedelta(days=1) if end_t <= start_t else day, end_t)
                team = teams[call_sign]
                if Shift.objects.filter(team=team, starts_at=start).exists():
                    continue
                clin, off = pairs[call_sign]
                shift_create(
                    team=team,
                    starts_at=start,
                    ends_at=end,
                    members=[
                        MemberSpec(user=people[clin], role="clinician"),
                        MemberSpec(user=people[off], role="officer"),
                    ],
                )
                created += 1
                self.stdout.write(f"  shift {call_sign} {local_range(start, end)}", ending="\n")
        return created

    def _incidents(self, people: dict[str, User]) -> int:
        """Three demo incidents: one closed, one on scene, one offered to CR-1 (as far as teams are on duty)."""
        dispatcher = people["dispatcher"]
        created = 0
        for number, call_type, priority, address, plan in DEMO_INCIDENTS:
            if Incident.objects.filter(cad_source="demo", cad_number=number).exists():
                continue
            incident = incident_services.incident_create(
                by=dispatcher,
                values={"call_type_code": call_type, "priority": priority, "address": address, "beat": "D1"},
                cad_source="demo",
                cad_number=number,
            )
            created += 1
            free = [t for t in team_availability() if t.status == TeamStatus.AVAILABLE]
            # CR-1 gets the open offer; the others prefer another team so that CR-1 stays free.
            free.sort(key=lambda t: (t.team.call_sign != "CR-1") == (plan == "offered"))
            if not free:
                self.stdout.write(f"  incident {number}: no free team on duty now, left unassigned")
                continue
            team = free[0]
            offer = incident_services.assignment_offer(incident_id=incident.pk, team_id=team.team.pk, by=dispatcher)
            member = team.members[0].user
            steps = {"offered": [], "on_scene": ["en_route", "on_scene"], "closed": ["en_route", "on_scene", "cleared"]}
            if steps[plan]:
                incident_services.assignment_accept(assignment_id=offer.pk, by=member)
            for status in steps[plan]:
                incident_services.assignment_status_update(assignment_id=offer.pk, by=member, status=status)
            self.stdout.write(f"  incident {number} {call_type} → {team.team.call_sign}, {plan}")
        return created


# (CAD number, call type, priority, address, what happens). The closed one goes first, so CR-1
# is free again for the offer.
DEMO_INCIDENTS = [
    ("DEMO-0001", "WELFARE", 4, "200 E Main St, Durham, NC", "closed"),
    ("DEMO-0002", "MNTL", 6, "500 W Chapel Hill St, Durham, NC", "on_scene"),
    ("DEMO-0003", "SUICTHRT", 8, "101 City Hall Plaza, Durham, NC", "offered"),
]
