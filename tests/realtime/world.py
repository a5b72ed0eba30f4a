"""A world for the push benchmarks and the chaos test: co-response teams on duty now, dispatchers,
open incidents and a signed-in session per user, made through the services (not timed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

# An unusable password: nobody signs in; the sessions are written here.
PASSWORD_HASH = "!bench-no-login"


def prepare_world(clients: int, offers: int, *, dispatchers: int = 10, migrate: bool = True) -> dict[str, Any]:
    """N/2 teams of officer + clinician on duty now, ``dispatchers`` dispatchers, ``offers`` open
    incidents, a session for each user; an empty event log. Through the services where there is one.

    The returned plan: ``teams`` (per team the user ids of its officer and clinician), ``team_ids``,
    ``incidents`` (one per offer), ``dispatchers``, ``offered_by`` (a dispatcher's id), ``sessions``
    (user id → session key)."""
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.core.management import call_command
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.accounts.roles import Role
    from apps.accounts.services import user_set_roles
    from apps.incidents.models import Assignment, Incident, TimelineEntry
    from apps.incidents.services import incident_create
    from apps.realtime.models import Event, EventStream
    from apps.security.models import UserSession
    from apps.security.sessions import SESSION_ID_KEY
    from apps.shifts.models import Shift, ShiftMember
    from apps.shifts.services import MemberSpec, shift_create
    from apps.teams.models import Team, TeamMembership

    if migrate:
        call_command("migrate", verbosity=0)
    n_teams = clients // 2
    names = [f"bench_{i}" for i in range(2 * n_teams)] + [f"bench_dispatch_{i}" for i in range(dispatchers)]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    User.objects.bulk_create(
        [User(username=n, password=PASSWORD_HASH, first_name=n) for n in names if n not in existing],
        batch_size=1000,
    )
    User.objects.filter(username__in=names, is_active=False).update(is_active=True)
    users = {u.username: u for u in User.objects.filter(username__in=names).prefetch_related("groups")}
    bench_ids = [u.pk for u in users.values()]

    # Earlier runs: their incidents (with assignments and timeline) and the bench teams' shifts.
    old = Incident.objects.filter(created_by_id__in=bench_ids)
    TimelineEntry.objects.filter(incident__in=old).delete()
    Assignment.objects.filter(incident__in=old).delete()
    old.delete()
    Shift.objects.filter(team__call_sign__startswith="BENCH-").delete()

    # Roles (only where they differ, so a rerun is quick).
    wanted = {f"bench_{2 * t}": {Role.OFFICER} for t in range(n_teams)}
    wanted |= {f"bench_{2 * t + 1}": {Role.CLINICIAN} for t in range(n_teams)}
    wanted |= {f"bench_dispatch_{i}": {Role.DISPATCHER} for i in range(dispatchers)}
    for name, roles in wanted.items():
        user = users[name]
        if {g.name for g in user.groups.all()} != set(roles):
            users[name] = user_set_roles(user=user, roles=roles)
    users = {u.username: u for u in User.objects.filter(username__in=names).prefetch_related("groups")}
    dispatcher = users["bench_dispatch_0"]

    # Teams, their standing members, and a shift covering now for each.
    call_signs = [f"BENCH-{t:05d}" for t in range(n_teams)]
    Team.objects.bulk_create(
        [Team(call_sign=c, name=c, kind=Team.Kind.CO_RESPONSE) for c in call_signs], ignore_conflicts=True
    )
    Team.objects.filter(call_sign__in=call_signs, is_active=False).update(is_active=True)
    by_sign = {t.call_sign: t for t in Team.objects.filter(call_sign__in=call_signs)}
    teams = [by_sign[c] for c in call_signs]
    TeamMembership.objects.bulk_create(
        [
            TeamMembership(team=team, user=users[f"bench_{2 * t + k}"], role=role)
            for t, team in enumerate(teams)
            for k, role in ((0, TeamMembership.Role.OFFICER), (1, TeamMembership.Role.CLINICIAN))
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    now = timezone.now()
    for t, team in enumerate(teams):
        shift_create(
            team=team,
            starts_at=now - dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(hours=3),
            members=[
                MemberSpec(user=users[f"bench_{2 * t}"], role=ShiftMember.Role.OFFICER),
                MemberSpec(user=users[f"bench_{2 * t + 1}"], role=ShiftMember.Role.CLINICIAN),
            ],
            note="push benchmark",
            created_by=dispatcher,
        )

    # One open incident per offer.
    incidents = [
        incident_create(
            by=dispatcher,
            values={
                "call_type_code": "SUICTHRT",
                "priority": 2,
                "address": f"{n + 1} Bench Street, Durham",
                "beat": "B1",
                "subject_name": f"Bench Subject {n}",
            },
        ).pk
        for n in range(offers)
    ]

    # The setup's own events (incident.created to the board) are not part of the measurement.
    Event.objects.all().delete()
    EventStream.objects.all().delete()

    Session.objects.filter(session_key__startswith="bench").delete()
    UserSession.objects.filter(session_key__startswith="bench").delete()
    store = SessionStore()
    expire = timezone.now() + dt.timedelta(hours=2)
    sessions = []
    keys: dict[str, str] = {}
    # Each session has its security record (apps.security.sessions), as a sign-in would make it.
    records = UserSession.objects.bulk_create(
        [UserSession(user=user, session_key=f"bench{user.pk:028d}"[:40], label="bench") for user in users.values()],
        batch_size=1000,
    )
    record_of = {r.user_id: r.pk for r in records}
    for name, user in users.items():
        key = f"bench{user.pk:028d}"[:40]
        keys[name] = key
        data = {
            "_auth_user_id": str(user.pk),
            "_auth_user_backend": settings.AUTHENTICATION_BACKENDS[0],
            "_auth_user_hash": user.get_session_auth_hash(),
            SESSION_ID_KEY: record_of[user.pk],
        }
        sessions.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
    Session.objects.bulk_create(sessions, batch_size=1000)
    return {
        # Team t: its two members (user ids) and its Team id; offer n goes to team n.
        "teams": [[users[f"bench_{2 * t}"].pk, users[f"bench_{2 * t + 1}"].pk] for t in range(n_teams)],
        "team_ids": [team.pk for team in teams],
        "incidents": incidents,
        "dispatchers": [users[f"bench_dispatch_{i}"].pk for i in range(dispatchers)],
        "offered_by": dispatcher.pk,
        "sessions": {str(users[n].pk): k for n, k in keys.items()},
    }
