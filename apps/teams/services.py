"""Every write to teams: audited (the admin's history, ``LogEntry``) and told to the board and the
team's people (``team.*`` events, apps/teams/events.py), inside its transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db import transaction

from apps.accounts.models import User
from apps.realtime.services import dispatcher_recipients, event_emit

from .models import Team, TeamMembership


@dataclass(frozen=True)
class MembershipSpec:
    user: User
    role: str


def _audit(team: Team, *, by: User | None, flag: int, message: str) -> None:
    if by is None or not by.pk:
        return  # a system write (the demo seeder): nobody to name
    LogEntry.objects.log_actions(
        user_id=by.pk, queryset=[team], action_flag=flag, change_message=message, single_object=True
    )


def _emit(event_type: str, team: Team, member_ids: Iterable[int], *, by: User | None, also: Iterable[int] = ()) -> None:
    """``team.*`` to the board watchers and the team's people, for a change a person made."""
    if by is None or not by.pk:
        return
    members = sorted(set(member_ids))
    payload = {
        "team_id": team.pk,
        "call_sign": team.call_sign,
        "name": team.name,
        "kind": team.kind,
        "is_active": team.is_active,
        "member_ids": members,
    }
    event_emit(type=event_type, recipients=[*dispatcher_recipients(), *members, *also], data=payload)


def _sync_memberships(team: Team, memberships: Sequence[MembershipSpec]) -> None:
    """Make the team's rows match ``memberships``; rows that stay keep their ids."""
    wanted = {m.user.pk: m.role for m in memberships}
    TeamMembership.objects.filter(team=team).exclude(user_id__in=wanted).delete()
    current = dict(TeamMembership.objects.filter(team=team).values_list("user_id", "role"))
    for user_id, role in wanted.items():
        if user_id not in current:
            TeamMembership.objects.create(team=team, user_id=user_id, role=role)
        elif current[user_id] != role:
            TeamMembership.objects.filter(team=team, user_id=user_id).update(role=role)


@transaction.atomic
def team_save(*, team: Team, memberships: Sequence[MembershipSpec] | None = None, by: User | None = None) -> Team:
    """Create ``team`` (unsaved) or save its changed fields; with ``memberships``, also set who is on it."""
    created = team._state.adding
    before = [] if created else list(TeamMembership.objects.filter(team=team).values_list("user_id", flat=True))
    team.full_clean(validate_unique=True)
    team.save()
    if memberships is not None:
        _sync_memberships(team, memberships)
    after = list(TeamMembership.objects.filter(team=team).values_list("user_id", flat=True))
    people = ", ".join(f"{m.user.display_name} ({m.role})" for m in memberships or [])
    description = f"{team.call_sign} ({team.get_kind_display()}, {'active' if team.is_active else 'inactive'})"
    if memberships is not None:
        description += f"; members: {people or 'none'}"
    _audit(
        team,
        by=by,
        flag=ADDITION if created else CHANGE,
        message=f"{'Created' if created else 'Changed'} {description}.",
    )
    _emit("team.created" if created else "team.updated", team, after, by=by, also=before)
    return team


@transaction.atomic
def team_delete(*, team: Team, by: User | None) -> None:
    """Delete a team (refused by the database while shifts or assignments name it: PROTECT)."""
    members = list(TeamMembership.objects.filter(team=team).values_list("user_id", flat=True))
    snapshot = Team(pk=team.pk, call_sign=team.call_sign, name=team.name, kind=team.kind, is_active=team.is_active)
    _audit(team, by=by, flag=DELETION, message=f"Deleted {team.call_sign}.")
    team.delete()
    _emit("team.deleted", snapshot, members, by=by)
