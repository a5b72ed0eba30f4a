"""Every write to shifts goes through here: the API, the admin and the demo seeder share the rules.

Each write is audited (the admin's history, ``LogEntry``, when a person made it) and tells the
dispatchers, the supervisors and the people on the shift (``shift.*`` events, apps/shifts/events.py),
inside its transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.core.timefmt import local_datetime, local_range, to_local
from apps.realtime.services import dispatcher_recipients, event_emit
from apps.teams.models import Team

from .models import Shift, ShiftMember

MAX_SHIFT = dt.timedelta(hours=24)
# A shift member's role must be one the person holds.
_REQUIRED_USER_ROLE = {ShiftMember.Role.CLINICIAN: Role.CLINICIAN, ShiftMember.Role.OFFICER: Role.OFFICER}


@dataclass(frozen=True)
class MemberSpec:
    user: User
    role: str


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    # Python subtracts and compares two datetimes of the *same* tzinfo by wall clock, so a local
    # 20:00→08:00 night over the fall-back change would measure 12 h instead of 13 h. Normalise to UTC
    # before any arithmetic (naive values are left for the aware-check to refuse).
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC)


def _add(errors: dict[str, list[str]], key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


def shift_problems(
    *,
    team: Team | None,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
    members: Sequence[MemberSpec],
    exclude_shift_id: int | None = None,
) -> dict[str, list[str]]:
    """All the rules a shift must satisfy, as field → messages (empty when valid)."""
    errors: dict[str, list[str]] = {}
    starts_at, ends_at = _utc(starts_at), _utc(ends_at)
    if team is None:
        _add(errors, "team", "Choose a team.")
    elif not team.is_active:
        _add(errors, "team", f"Team {team.call_sign} is not active.")
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value is None:
            _add(errors, name, "This field is required.")
        elif value.tzinfo is None:
            _add(errors, name, "Must be timezone-aware.")
    times_ok = "starts_at" not in errors and "ends_at" not in errors
    if times_ok and starts_at is not None and ends_at is not None:
        if ends_at <= starts_at:
            _add(errors, "ends_at", "End must be after start.")
            times_ok = False
        elif ends_at - starts_at > MAX_SHIFT:
            _add(errors, "ends_at", "A shift cannot be longer than 24 hours.")

    if not members:
        _add(errors, "members", "A shift needs its members.")
    seen: set[int] = set()
    for spec in members:
        if spec.user.pk in seen:
            _add(errors, "members", f"{spec.user.display_name} is listed twice.")
        seen.add(spec.user.pk)
        if spec.role not in ShiftMember.Role.values:
            _add(errors, "members", f"Unknown shift role {spec.role!r}.")
            continue
        needed = _REQUIRED_USER_ROLE.get(ShiftMember.Role(spec.role))
        if needed is not None and not spec.user.has_role(needed):
            _add(errors, "members", f"{spec.user.display_name} does not hold the {needed} role.")
        if not spec.user.is_active:
            _add(errors, "members", f"{spec.user.display_name} is not an active user.")
    if team is not None and team.kind == Team.Kind.CO_RESPONSE and members:
        roles = {m.role for m in members}
        if not {ShiftMember.Role.CLINICIAN, ShiftMember.Role.OFFICER} <= roles:
            _add(errors, "members", "A co-response shift needs at least one clinician and one officer.")

    if times_ok and starts_at is not None and ends_at is not None and members:
        clashes = (
            ShiftMember.objects.filter(
                user__in=[m.user.pk for m in members],
                shift__starts_at__lt=ends_at,
                shift__ends_at__gt=starts_at,
            )
            .exclude(shift_id=exclude_shift_id or 0)
            .select_related("user", "shift__team")
            .order_by("shift__starts_at")
        )
        for clash in clashes:
            _add(
                errors,
                "members",
                f"{clash.user.display_name} is already on {clash.shift.team.call_sign} "
                f"{local_range(clash.shift.starts_at, clash.shift.ends_at)}.",
            )
    return errors


def lock_people(members: Iterable[MemberSpec]) -> None:
    # Two supervisors booking the same person at once: serialise on the people's rows (in id order,
    # so two bookings cannot deadlock), then the overlap check sees the other's committed shift.
    ids = sorted({m.user.pk for m in members})
    list(User.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))


def _audit(shift: Shift, *, by: User | None, flag: int, message: str) -> None:
    if by is None or not by.pk:
        return  # a system write (the demo seeder, a data fix): nobody to name
    LogEntry.objects.log_actions(
        user_id=by.pk, queryset=[shift], action_flag=flag, change_message=message, single_object=True
    )


def _describe(shift: Shift, members: Sequence[MemberSpec]) -> str:
    people = ", ".join(f"{m.user.display_name} ({m.role})" for m in members)
    return f"{shift.team.call_sign} {local_range(shift.starts_at, shift.ends_at)}; members: {people}"


def _emit(
    event_type: str, shift: Shift, member_ids: Iterable[int], *, by: User | None, also: Iterable[int] = ()
) -> None:
    """``shift.*`` to the board watchers and the people concerned (``also``: members before a change),
    for a change a person made (a system write, such as the demo seeder, tells nobody)."""
    if by is None or not by.pk:
        return
    members = sorted(set(member_ids))
    payload = {
        "shift_id": shift.pk,
        "team_id": shift.team_id,
        "team_call_sign": shift.team.call_sign,
        "starts_at": shift.starts_at.isoformat(),
        "ends_at": shift.ends_at.isoformat(),
        "member_ids": members,
    }
    event_emit(type=event_type, recipients=[*dispatcher_recipients(), *members, *also], data=payload)


@transaction.atomic
def shift_create(
    *,
    team: Team,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    members: Sequence[MemberSpec],
    note: str = "",
    created_by: User | None = None,
) -> Shift:
    lock_people(members)
    errors = shift_problems(team=team, starts_at=starts_at, ends_at=ends_at, members=members)
    if errors:
        raise ValidationError(errors)
    starts_at, ends_at = starts_at.astimezone(dt.UTC), ends_at.astimezone(dt.UTC)
    shift = Shift.objects.create(team=team, starts_at=starts_at, ends_at=ends_at, note=note, created_by=created_by)
    ShiftMember.objects.bulk_create([ShiftMember(shift=shift, user=m.user, role=m.role) for m in members])
    _audit(shift, by=created_by, flag=ADDITION, message=f"Created {_describe(shift, members)}.")
    _emit("shift.created", shift, [m.user.pk for m in members], by=created_by)
    return shift


@transaction.atomic
def shift_update(
    *,
    shift: Shift,
    team: Team,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    members: Sequence[MemberSpec],
    note: str,
    by: User | None = None,
) -> Shift:
    lock_people(members)
    errors = shift_problems(team=team, starts_at=starts_at, ends_at=ends_at, members=members, exclude_shift_id=shift.pk)
    if errors:
        raise ValidationError(errors)
    before = list(ShiftMember.objects.filter(shift=shift).values_list("user_id", flat=True))
    starts_at, ends_at = starts_at.astimezone(dt.UTC), ends_at.astimezone(dt.UTC)
    shift.team, shift.starts_at, shift.ends_at, shift.note = team, starts_at, ends_at, note
    shift.save()
    shift.members.all().delete()
    ShiftMember.objects.bulk_create([ShiftMember(shift=shift, user=m.user, role=m.role) for m in members])
    _audit(shift, by=by, flag=CHANGE, message=f"Changed to {_describe(shift, members)}.")
    _emit("shift.updated", shift, [m.user.pk for m in members], by=by, also=before)
    return shift


@transaction.atomic
def shift_delete(*, shift: Shift, by: User | None) -> None:
    """Delete a shift (its members go with it). Assignments keep their own record of the team."""
    members = shift_members(shift)
    snapshot = Shift(pk=shift.pk, team=shift.team, starts_at=shift.starts_at, ends_at=shift.ends_at)
    _audit(shift, by=by, flag=DELETION, message=f"Deleted {_describe(shift, members)}.")
    shift.delete()
    _emit("shift.deleted", snapshot, [m.user.pk for m in members], by=by)


def shift_members(shift: Shift) -> list[MemberSpec]:
    return [MemberSpec(user=m.user, role=m.role) for m in shift.members.select_related("user")]


@dataclass
class BatchResult:
    created: list[Shift] = field(default_factory=list)
    conflicts: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)


def _shift_by_local_days(moment: dt.datetime, days: int) -> dt.datetime:
    # Same wall-clock time `days` later: 08:00 stays 08:00 across a DST change (a plain +7×24 h would
    # move it an hour).
    local = to_local(moment)
    return local_datetime(local.date() + dt.timedelta(days=days), local.time().replace(tzinfo=None))


def shifts_copy(*, shifts: Iterable[Shift], days: int = 7, created_by: User | None = None) -> BatchResult:
    """Copy shifts ``days`` later (same wall-clock times); conflicts are reported, not created."""
    result = BatchResult()
    for shift in shifts:
        members = shift_members(shift)
        start = _shift_by_local_days(shift.starts_at, days)
        end = _shift_by_local_days(shift.ends_at, days)
        label = f"{shift.team.call_sign} {local_range(start, end)}"
        try:
            result.created.append(
                shift_create(
                    team=shift.team,
                    starts_at=start,
                    ends_at=end,
                    members=members,
                    note=shift.note,
                    created_by=created_by,
                )
            )
        except ValidationError as exc:
            result.conflicts.append((label, exc.message_dict))
    return result


def shifts_generate(
    *,
    team: Team,
    members: Sequence[MemberSpec],
    weekdays: Iterable[int],
    start_time: dt.time,
    end_time: dt.time,
    first_day: dt.date,
    weeks: int,
    created_by: User | None = None,
) -> BatchResult:
    """A recurring pattern (e.g. Mon–Fri 08:00–18:00 for 4 weeks), in local wall-clock time.

    ``weekdays`` uses Monday=0. An end time at or before the start time means the shift ends the next
    day (a night shift). Occurrences that break a rule are reported with the reason, not created.
    """
    days = set(weekdays)
    result = BatchResult()
    for offset in range(weeks * 7):
        day = first_day + dt.timedelta(days=offset)
        if day.weekday() not in days:
            continue
        start = local_datetime(day, start_time)
        end_day = day if end_time > start_time else day + dt.timedelta(days=1)
        end = local_datetime(end_day, end_time)
        label = f"{team.call_sign} {local_range(start, end)}"
        try:
            result.created.append(
                shift_create(team=team, starts_at=start, ends_at=end, members=members, created_by=created_by)
            )
        except ValidationError as exc:
            result.conflicts.append((label, exc.message_dict))
    return result
