"""The demo's people (one per role), its four co-response teams and their shifts.

Two teams ride by day (CR-1, CR-2: 07:00-19:00) and two by night (CR-3, CR-4: 19:00-07:00), so at
any hour two teams are on duty: one can be busy on a call while the other is free for the next one.
One night (``GAP_DAY_OFFSET`` days ahead) has no team at all: the coverage view shows the gap.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from apps.accounts.models import User
from apps.accounts.services import user_set_roles
from apps.core.timefmt import local_datetime, local_today
from apps.shifts.models import Shift
from apps.shifts.services import MemberSpec, shift_create
from apps.teams.models import Team, TeamMembership
from apps.teams.services import MembershipSpec, team_save

DEMO_PASSWORD = "coresponse-demo"


@dataclass(frozen=True)
class Person:
    username: str
    first: str
    last: str
    roles: tuple[str, ...]
    # What this login is for, in the printed list (a newcomer picks the right one).
    what: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.first} {self.last}"


PEOPLE: tuple[Person, ...] = (
    Person("dispatcher", "Dana", "Diaz", ("dispatcher",), "dispatch console: offer calls to teams"),
    Person("diversion", "Devon", "Reyes", ("dispatcher", "clinician"), "crisis-call diversion clinician"),
    Person("clinician1", "Claire", "Adams", ("clinician",), "CR-1 (day)"),
    Person("clinician2", "Chris", "Baker", ("clinician",), "CR-2 (day)"),
    Person("clinician3", "Carmen", "Cole", ("clinician",), "CR-3 (night)"),
    Person("clinician4", "Cody", "Dunn", ("clinician",), "CR-4 (night)"),
    Person("officer1", "Omar", "Evans", ("officer",), "CR-1 (day)"),
    Person("officer2", "Olivia", "Ford", ("officer",), "CR-2 (day)"),
    Person("officer3", "Owen", "Grant", ("officer",), "CR-3 (night)"),
    Person("officer4", "Opal", "Hayes", ("officer",), "CR-4 (night)"),
    Person("clinsup", "Sam", "Irwin", ("clinical_supervisor", "clinician"), "clinical supervisor"),
    Person("navigator", "Nina", "Jones", ("care_navigator",), "follow-ups"),
    Person("supervisor", "Sofia", "King", ("supervisor",), "live board, shifts in the admin"),
    Person("analyst", "Ari", "Lopez", ("analyst",), "program figures"),
    Person("admin", "Alex", "Moore", ("admin",), "everything, the admin"),
)

# call sign → (clinician, officer)
TEAMS: dict[str, tuple[str, str]] = {
    "CR-1": ("clinician1", "officer1"),
    "CR-2": ("clinician2", "officer2"),
    "CR-3": ("clinician3", "officer3"),
    "CR-4": ("clinician4", "officer4"),
}

DAY = (dt.time(7), dt.time(19))
NIGHT = (dt.time(19), dt.time(7))  # ends the next morning
# (team, local start, local end)
PATTERN: tuple[tuple[str, dt.time, dt.time], ...] = (
    ("CR-1", *DAY),
    ("CR-2", *DAY),
    ("CR-3", *NIGHT),
    ("CR-4", *NIGHT),
)
GAP_DAY_OFFSET = 3  # that night neither night team rides: the coverage view shows 12 hours uncovered
FIRST_DAY_OFFSET, LAST_DAY_OFFSET = -1, 7  # yesterday's night shift covers this morning


def seed_people() -> dict[str, User]:
    """One login per role (and one per team seat); existing accounts are left as they are."""
    people: dict[str, User] = {}
    for p in PEOPLE:
        user = User.objects.filter(username=p.username).first()
        if user is None:
            user = User(username=p.username, first_name=p.first, last_name=p.last, email=f"{p.username}@example.org")
            user.set_password(DEMO_PASSWORD)
            user.save()
            user_set_roles(user=user, roles=list(p.roles))
            if "admin" in p.roles:
                User.objects.filter(pk=user.pk).update(is_superuser=True, is_staff=True)
        people[p.username] = user
    return people


def seed_teams(people: dict[str, User]) -> dict[str, Team]:
    teams = {}
    for call_sign, (clinician, officer) in TEAMS.items():
        # Through the teams service (audited), and only when someone is missing.
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


def seed_shifts(people: dict[str, User], teams: dict[str, Team]) -> int:
    """Shifts from yesterday to a week ahead; returns how many were new."""
    today = local_today()
    created = 0
    for offset in range(FIRST_DAY_OFFSET, LAST_DAY_OFFSET + 1):
        day = today + dt.timedelta(days=offset)
        for call_sign, start_t, end_t in PATTERN:
            if end_t < start_t and offset == GAP_DAY_OFFSET:
                continue
            start = local_datetime(day, start_t)
            end = local_datetime(day + dt.timedelta(days=1) if end_t <= start_t else day, end_t)
            team = teams[call_sign]
            # Any shift of the team already there (also one of an older demo's pattern) stays.
            if Shift.objects.overlapping(start, end).filter(team=team).exists():
                continue
            clinician, officer = TEAMS[call_sign]
            shift_create(
                team=team,
                starts_at=start,
                ends_at=end,
                members=[
                    MemberSpec(user=people[clinician], role="clinician"),
                    MemberSpec(user=people[officer], role="officer"),
                ],
            )
            created += 1
    return created
