"""A realistic history for the insight screens and the benchmark (``manage.py seed_history``).

``scale`` 1 is Durham: about 1,431 behavioural-health calls a month (14 % of 911 calls), two co-response
teams riding at any time; ``scale`` 100 is a program a hundred times larger (~1.7 million calls a year,
200 teams). Every call has a triage (and its timeline entry); co-response dispatches have offers (some
declined, expired or cancelled; slow ones escalated), the responses have encounters with a person (some
people again and again), a C-SSRS screen, dispositions, an officer section (use of force and injuries,
rarely), IVC records, referrals with their status changes, follow-ups with attempts; teams have shifts
with their clinician and officer, officers have CIT training records. Distributions are plausible, not
real data; the generator is deterministic for a seed.

The rows are written straight to the tables in bulk (PostgreSQL ``COPY``; ``bulk_create`` on SQLite),
not through the services: a year of history is not a year of API calls. Everything a service would
keep consistent is kept here: statuses match timestamps, one active assignment per call at most (none:
history is over), follow-ups follow the policy's windows, references point to rows that exist.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import math
import random
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, models, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.clinical.models import (
    CssrsScreen,
    Disposition,
    Encounter,
    IvcRecord,
    OfficerSection,
    Person,
)
from apps.core.crypto import EncryptedJSONField, EncryptedTextField, encrypt_text
from apps.core.timefmt import local_zone
from apps.incidents.models import Assignment, CallType, Incident, TimelineEntry
from apps.realtime.models import Escalation
from apps.referrals.models import Agency, FollowUp, FollowUpAttempt, Referral, ReferralStatusChange, ReferralType
from apps.shifts.models import Shift, ShiftMember
from apps.teams.models import Team, TeamMembership

from .models import TrainingRecord

HISTORY_SOURCE = "history"  # Incident.cad_source of every seeded call
CALLS_PER_MONTH = 1431  # Durham: eligible behavioural-health calls a month (DOMAIN.md §1)
TEAMS_PER_SCALE = 2  # Durham: two clinicians ride with CIT officers

SOURCES = [
    ("911", 70),
    ("988_transfer", 8),
    ("officer_request", 10),
    ("self_initiated", 5),
    ("follow_up", 4),
    ("other", 3),
]
# (local code, weight, typical common priority)
CALL_TYPES = [
    ("WELFARE", 20, 4),
    ("MNTL", 18, 5),
    ("EDP", 12, 6),
    ("SUICTHRT", 12, 8),
    ("OD", 7, 9),
    ("INTOX", 8, 4),
    ("MTLV", 5, 8),
    ("TROUBLE", 5, 5),
    ("DISORD", 4, 4),
    ("TRESPASS", 3, 3),
    ("PERUNCON", 3, 8),
    ("SUICIDE", 2, 10),
    ("BARICADE", 1, 10),
]
# Calls by local hour: a trough before dawn, a plateau from late morning into the evening.
HOURLY = [
    2,
    1.6,
    1.3,
    1.1,
    1,
    1.1,
    1.6,
    2.4,
    3.4,
    4.2,
    4.8,
    5.2,
    5.4,
    5.5,
    5.6,
    5.7,
    5.8,
    5.9,
    5.7,
    5.2,
    4.6,
    3.9,
    3.2,
    2.6,
]
ELIGIBLE_OUTCOMES = [
    ("dispatch_co_response", 40),
    ("resolved_by_phone", 20),
    ("community_response", 20),
    ("transfer_988", 8),
    ("police_only", 6),
    ("no_response_needed", 6),
]
NOT_ELIGIBLE_OUTCOMES = [("police_only", 50), ("community_response", 30), ("no_response_needed", 20)]
NOT_SERVED_REASONS = [
    ("all_teams_busy", 35),
    ("no_team_on_shift", 20),
    ("out_of_area", 10),
    ("declined_by_caller", 20),
    ("other", 15),
]
DISPOSITIONS = [
    ("resolved_on_scene", 35),
    ("resolved_with_referral", 20),
    ("safety_plan_only", 6),
    ("transport_crisis_facility", 10),
    ("transport_ed", 8),
    ("ems_transport", 3),
    ("ivc_initiated", 3),
    ("arrest", 2),
    ("citation", 1),
    ("refused_services", 8),
    ("unable_to_locate", 3),
    ("transferred_988", 1),
]
RISKS = [("none", 40), ("low", 30), ("moderate", 20), ("high", 10)]
REFERRAL_TYPES = [(t.value, w) for t, w in zip(ReferralType, (30, 15, 10, 10, 10, 10, 10, 5), strict=True)]
FIRST = ["Alex", "Jordan", "Sam", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn", "Drew", "Reese"]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Wilson",
    "Moore",
    "Lee",
    "Walker",
    "Hall",
    "Young",
    "King",
]
STREETS = ["Main St", "Chapel Hill St", "Roxboro St", "Fayetteville St", "Alston Ave", "Holloway St", "Duke St"]


_CUMULATIVE: dict[int, tuple[list[float], float]] = {}


def _weighted(rng: random.Random, table: list[tuple[Any, ...]]) -> Any:
    """A row of ``table`` (value, weight, …) drawn by weight: its value, or the row when it has more."""
    cached = _CUMULATIVE.get(id(table))
    if cached is None:
        running, cumulative = 0.0, []
        for row in table:
            running += row[1]
            cumulative.append(running)
        cached = _CUMULATIVE[id(table)] = (cumulative, running)
    cumulative, total = cached
    row = table[min(len(table) - 1, bisect.bisect_right(cumulative, rng.random() * total))]
    return row[0] if len(row) == 2 else row


def _lognormal_seconds(rng: random.Random, median: float, spread: float = 0.6) -> int:
    return max(0, int(median * math.exp(rng.gauss(0, spread))))


# --- writing rows ---------------------------------------------------------------------------------


class Writer:
    """Rows as dicts keyed by attribute name; fields left out get the model's default."""

    def __init__(self) -> None:
        self._defaults: dict[type[models.Model], dict[str, Any]] = {}
        self.counts: dict[str, int] = {}

    def defaults(self, model: type[models.Model]) -> dict[str, Any]:
        if model not in self._defaults:
            values: dict[str, Any] = {}
            for f in model._meta.concrete_fields:
                if isinstance(f, EncryptedTextField | EncryptedJSONField):
                    values[f.attname] = "" if isinstance(f, EncryptedTextField) else []
                elif f.has_default() or not f.null:
                    values[f.attname] = f.get_default()
                else:
                    values[f.attname] = None
            self._defaults[model] = values
        return self._defaults[model]

    def write(self, model: type[models.Model], rows: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def count(self, model: type[models.Model], n: int) -> None:
        name = model._meta.label
        self.counts[name] = self.counts.get(name, 0) + n


class CopyWriter(Writer):
    """PostgreSQL COPY, column values adapted by psycopg; encrypted empty text is one token reused."""

    def __init__(self) -> None:
        super().__init__()
        self._empty_token = encrypt_text("")
        self._empty_list_token = encrypt_text("[]")

    def write(self, model: type[models.Model], rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        fields = model._meta.concrete_fields
        defaults = self.defaults(model)
        encrypted = {f.attname for f in fields if isinstance(f, EncryptedTextField | EncryptedJSONField)}
        json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
        names = [f.attname for f in fields]
        columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    values = []
                    for name in names:
                        value = row.get(name, defaults[name])
                        if name in encrypted:
                            value = self._empty_list_token if value == [] else self._empty_token
                        elif name in json_fields:
                            value = json.dumps(value)
                        values.append(value)
                    copy.write_row(values)
        self.count(model, len(rows))


class OrmWriter(Writer):
    """bulk_create (SQLite, small scales)."""

    def write(self, model: type[models.Model], rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        model._default_manager.bulk_create([model(**row) for row in rows], batch_size=500)
        self.count(model, len(rows))


# --- the world: people, teams, shifts, training ---------------------------------------------------------


@dataclass
class TeamInfo:
    team_id: int
    call_sign: str
    clinician_id: int
    officer_id: int
    shifts: list[tuple[dt.datetime, dt.datetime, int]] = field(default_factory=list)  # (start, end, shift id)


@dataclass
class World:
    teams: list[TeamInfo]
    dispatchers: list[int]
    navigators: list[int]
    agencies: list[int]
    call_type_ids: dict[str, int]
    author_id: int


class Ids:
    """Explicit primary keys, allocated above the current maximum (sequences are set after the load)."""

    def __init__(self, models_: list[type[models.Model]]) -> None:
        self.next: dict[type[models.Model], int] = {}
        for model in models_:
            current = model._default_manager.aggregate(m=models.Max("pk"))["m"] or 0
            self.next[model] = int(current) + 1

    def take(self, model: type[models.Model]) -> int:
        value = self.next[model]
        self.next[model] = value + 1
        return value

    def reset_sequences(self) -> None:
        if connection.vendor != "postgresql":
            return  # SQLite picks max(rowid) + 1 by itself
        with connection.cursor() as cursor:
            for model in self.next:
                table = model._meta.db_table
                column = model._meta.pk.column
                # Names from the models' own metadata, never from input.
                sql = f"SELECT setval(pg_get_serial_sequence(%s, %s), GREATEST((SELECT MAX({column}) FROM {table}), 1))"  # noqa: S608
                cursor.execute(sql, [table, column])


SERIAL_MODELS: list[type[models.Model]] = [
    Incident,
    TimelineEntry,
    Assignment,
    Escalation,
    CssrsScreen,
    Disposition,
    OfficerSection,
    IvcRecord,
    ReferralStatusChange,
    FollowUp,
    FollowUpAttempt,
    Shift,
    ShiftMember,
]


def _users(rng: random.Random, prefix: str, count: int, role: str) -> list[int]:
    password = make_password(None)  # unusable: seeded staff never sign in
    names = [f"{prefix}{i:04d}" for i in range(count)]
    User.objects.bulk_create(
        [User(username=n, password=password, first_name=rng.choice(FIRST), last_name=rng.choice(LAST)) for n in names],
        batch_size=1000,
        ignore_conflicts=True,
    )
    ids = list(User.objects.filter(username__in=names).order_by("username").values_list("pk", flat=True))
    group = Group.objects.get(name=role)
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=i, group_id=group.pk) for i in ids], ignore_conflicts=True, batch_size=1000
    )
    return ids


@dataclass(frozen=True)
class Crew:
    """Existing people and teams to give a history to (the demo's), instead of making new ones."""

    teams: list[tuple[int, str, int, int]]  # (team id, call sign, clinician id, officer id)
    dispatchers: list[int]
    navigators: list[int]
    author: int
    # Per team (same order): the local start hour and length of its daily shift; None: the history's own
    # rota (three 10-hour patterns, five days a week).
    shifts: list[tuple[int, int]] | None = None


def _new_crew(rng: random.Random, scale: float) -> Crew:
    n_teams = max(2, round(TEAMS_PER_SCALE * scale))
    clinicians = _users(rng, "h_clin_", n_teams, "clinician")
    officers = _users(rng, "h_off_", n_teams, "officer")
    dispatchers = _users(rng, "h_disp_", max(2, round(scale)), "dispatcher")
    navigators = _users(rng, "h_nav_", max(2, round(scale)), "care_navigator")
    author = _users(rng, "h_author_", 1, "supervisor")[0]
    call_signs = [f"H-{i:03d}" for i in range(n_teams)]
    Team.objects.bulk_create(
        [Team(call_sign=c, name=f"History team {c}", kind=Team.Kind.CO_RESPONSE) for c in call_signs],
        ignore_conflicts=True,
    )
    team_ids = dict(Team.objects.filter(call_sign__in=call_signs).values_list("call_sign", "pk"))
    TeamMembership.objects.bulk_create(
        [
            TeamMembership(team_id=team_ids[c], user_id=u, role=r)
            for c, cl, of in zip(call_signs, clinicians, officers, strict=True)
            for u, r in ((cl, "clinician"), (of, "officer"))
        ],
        ignore_conflicts=True,
    )
    teams = [(team_ids[c], c, cl, of) for c, cl, of in zip(call_signs, clinicians, officers, strict=True)]
    return Crew(teams=teams, dispatchers=dispatchers, navigators=navigators, author=author)


def build_world(
    rng: random.Random,
    scale: float,
    first_day: dt.date,
    last_day: dt.date,
    writer: Writer,
    ids: Ids,
    crew: Crew | None = None,
) -> World:
    crew = crew or _new_crew(rng, scale)
    teams = [TeamInfo(t, c, cl, of) for t, c, cl, of in crew.teams]
    own_rota = crew.shifts is None
    officers = sorted({info.officer_id for info in teams})
    clinicians = sorted({info.clinician_id for info in teams})
    dispatchers, navigators, author = crew.dispatchers, crew.navigators, crew.author

    # Shifts: three 10-hour patterns (07-17, 13-23, 21-07 local); team i works pattern i % 3, five days in
    # seven, so about a third of the teams ride at any hour.
    zone = local_zone()
    patterns = [(7, 10), (13, 10), (21, 10)]
    shift_rows: list[dict[str, Any]] = []
    member_rows: list[dict[str, Any]] = []
    day = first_day
    while day <= last_day:
        for index, info in enumerate(teams):
            if own_rota and (day.toordinal() + index) % 7 in (5, 6):
                continue  # days off
            hour, hours = patterns[index % 3] if crew.shifts is None else crew.shifts[index]
            start = dt.datetime.combine(day, dt.time(hour), tzinfo=zone).astimezone(dt.UTC)
            end = start + dt.timedelta(hours=hours)
            shift_id = ids.take(Shift)
            info.shifts.append((start, end, shift_id))
            shift_rows.append(
                {
                    "id": shift_id,
                    "team_id": info.team_id,
                    "starts_at": start,
                    "ends_at": end,
                    "note": "",
                    "created_by_id": author,
                    "created_at": start - dt.timedelta(days=14),
                }
            )
            for user_id, role in ((info.clinician_id, "clinician"), (info.officer_id, "officer")):
                member_rows.append(
                    {"id": ids.take(ShiftMember), "shift_id": shift_id, "user_id": user_id, "role": role}
                )
        day += dt.timedelta(days=1)
    writer.write(Shift, shift_rows)
    writer.write(ShiftMember, member_rows)

    # Training: most officers hold the CIT 40-hour course from before; some take it during the history
    # (their earlier shifts count as not CIT-trained); refreshers; clinicians take the C-SSRS course.
    records: list[TrainingRecord] = []
    span = (last_day - first_day).days
    trained = set(TrainingRecord.objects.filter(person_id__in=officers).values_list("person_id", flat=True))
    for officer in (o for o in officers if o not in trained):
        roll = rng.random()
        if roll < 0.8:
            done = first_day - dt.timedelta(days=rng.randint(30, 5 * 365))
            records.append(
                TrainingRecord(
                    person_id=officer,
                    course="cit_40",
                    hours=40,
                    completed_on=done,
                    provider="Durham CIT program",
                    recorded_by_id=author,
                )
            )
            if rng.random() < 0.3:
                records.append(
                    TrainingRecord(
                        person_id=officer,
                        course="cit_refresher",
                        hours=8,
                        completed_on=first_day + dt.timedelta(days=rng.randint(0, span)),
                        recorded_by_id=author,
                    )
                )
        elif roll < 0.95:
            records.append(
                TrainingRecord(
                    person_id=officer,
                    course="cit_40",
                    hours=40,
                    completed_on=first_day + dt.timedelta(days=rng.randint(0, span)),
                    provider="Durham CIT program",
                    recorded_by_id=author,
                )
            )
        if rng.random() < 0.4:
            records.append(
                TrainingRecord(
                    person_id=officer,
                    course="de_escalation",
                    hours=16,
                    completed_on=first_day + dt.timedelta(days=rng.randint(0, span)),
                    recorded_by_id=author,
                )
            )
    for clinician in (c for c in clinicians if c not in trained):
        if rng.random() < 0.5:
            records.append(
                TrainingRecord(
                    person_id=clinician,
                    course="cssrs",
                    hours=4,
                    completed_on=first_day + dt.timedelta(days=rng.randint(0, span)),
                    recorded_by_id=author,
                )
            )
    TrainingRecord.objects.bulk_create(records, batch_size=1000)

    agencies = []
    for name, kind in (
        ("Durham Center Access", "crisis_facility"),
        ("Lincoln Community Health", "primary_care"),
        ("Freedom House Recovery", "substance_use_treatment"),
        ("Urban Ministries", "housing"),
        ("Alliance Health", "outpatient_mental_health"),
    ):
        agencies.append(Agency.objects.get_or_create(name=name, defaults={"type": kind})[0].pk)
    call_type_ids = dict(CallType.objects.values_list("local_code", "pk"))
    return World(teams, dispatchers, navigators, agencies, call_type_ids, author)


# --- the calls ------------------------------------------------------------------------------------


@dataclass
class Batch:
    rows: dict[type[models.Model], list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, model: type[models.Model], row: dict[str, Any]) -> None:
        self.rows.setdefault(model, []).append(row)

    def size(self) -> int:
        return sum(len(r) for r in self.rows.values())


ORDER: list[type[models.Model]] = [
    Person,
    Incident,
    Assignment,
    TimelineEntry,
    Escalation,
    Encounter,
    CssrsScreen,
    Disposition,
    OfficerSection,
    IvcRecord,
    Referral,
    ReferralStatusChange,
    FollowUp,
    FollowUpAttempt,
]


def _call_times(rng: random.Random, day: dt.date, calls: float) -> Iterator[dt.datetime]:
    """The calls of one local day, spread by hour of day, in order."""
    zone = local_zone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone).astimezone(dt.UTC)
    weekend = 1.08 if day.weekday() >= 5 else 1.0
    n = int(calls * weekend + rng.random())
    total = sum(HOURLY)
    moments = []
    seconds = int((end - start).total_seconds())  # 23 or 25 hours on DST days
    for _ in range(n):
        pick, hour = rng.random() * total, 0
        while hour < 23 and pick >= HOURLY[hour]:
            pick -= HOURLY[hour]
            hour += 1
        offset = min(seconds - 1, int((hour + rng.random()) * 3600 * seconds / 86400))
        moments.append(start + dt.timedelta(seconds=offset))
    moments.sort()
    yield from moments


@dataclass
class Generator:
    rng: random.Random
    world: World
    ids: Ids
    writer: Writer
    scale: float
    now: dt.datetime
    # (person id, last contact) of recent people, for repeat contacts.
    recent: deque[tuple[uuid.UUID, dt.datetime]] = field(default_factory=lambda: deque(maxlen=5000))
    seq: int = 0
    busy_until: dict[int, dt.datetime] = field(default_factory=dict)
    _by_day: dict[dt.date, list[tuple[TeamInfo, dt.datetime, dt.datetime, int]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        size = max(500, int(250 * self.scale))  # about a month of people: repeat contacts within 30-90 days
        self.recent = deque(maxlen=size)
        for info in self.world.teams:
            for start, end, shift_id in info.shifts:
                self._by_day.setdefault(start.date(), []).append((info, start, end, shift_id))

    def new_uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def on_duty(self, at: dt.datetime) -> list[tuple[TeamInfo, int]]:
        """Teams with a shift covering ``at`` (shifts are indexed by their UTC start day; none is over a day)."""
        day = at.date()
        out = []
        for candidates in (self._by_day.get(day - dt.timedelta(days=1), ()), self._by_day.get(day, ())):
            out += [(info, shift_id) for info, start, end, shift_id in candidates if start <= at < end]
        return out

    def day(self, day: dt.date, batch: Batch) -> None:
        per_day = CALLS_PER_MONTH * self.scale * 12 / 365.25
        on_duty_cache: dict[int, list[tuple[TeamInfo, int]]] = {}
        for received in _call_times(self.rng, day, per_day):
            hour_key = int(received.timestamp() // 1800)
            if hour_key not in on_duty_cache:
                on_duty_cache[hour_key] = self.on_duty(received)
            self.call(received, on_duty_cache[hour_key], batch)
        if self.rng.random() < 0.3 * self.scale:  # walk-ins
            self.encounter(
                None,
                None,
                dt.datetime.combine(day, dt.time(13), tzinfo=local_zone()).astimezone(dt.UTC),
                None,
                batch,
                kind=Encounter.Kind.WALK_IN,
            )

    def call(self, received: dt.datetime, on_duty: list[tuple[TeamInfo, int]], batch: Batch) -> None:
        rng = self.rng
        self.seq += 1
        incident_id = self.ids.take(Incident)
        code, _w, priority = _weighted(rng, CALL_TYPES)
        priority = max(0, min(10, priority + rng.choice([-1, 0, 0, 1])))
        eligible = rng.random()
        coresponse_eligible: bool | None = True if eligible < 0.85 else (False if eligible < 0.95 else None)
        if coresponse_eligible:
            outcome = _weighted(rng, ELIGIBLE_OUTCOMES)
        elif coresponse_eligible is False:
            outcome = _weighted(rng, NOT_ELIGIBLE_OUTCOMES)
        else:
            outcome = ""
        reason = ""
        triaged_at = (
            None if coresponse_eligible is None else received + dt.timedelta(seconds=_lognormal_seconds(rng, 90, 0.7))
        )
        free = [t for t in on_duty if self.busy_until.get(t[0].team_id, received) <= received]
        if outcome == "dispatch_co_response" and not free:
            outcome = "community_response"
            reason = "all_teams_busy" if on_duty else "no_team_on_shift"
        elif coresponse_eligible and outcome != "dispatch_co_response":
            reason = _weighted(rng, NOT_SERVED_REASONS)
        dispatcher = rng.choice(self.world.dispatchers)
        status = Incident.Status.CLOSED
        closed_at: dt.datetime | None = None
        row = {
            "id": incident_id,
            "cad_source": HISTORY_SOURCE,
            "cad_number": f"H{received.astimezone(local_zone()):%y%m%d}-{self.seq:07d}",
            "received_at": received,
            "source": _weighted(rng, SOURCES),
            "call_type_id": self.world.call_type_ids.get(code),
            "call_type_code": code,
            "priority": priority,
            "priority_local": f"P{max(1, 5 - priority // 2)}",
            "address": f"{rng.randint(1, 4999)} {rng.choice(STREETS)}, Durham, NC",
            "beat": f"D{rng.randint(1, 5)}-{rng.randint(1, 12):02d}",
            "district": f"D{rng.randint(1, 5)}",
            "subject_name": f"{rng.choice(FIRST)} {rng.choice(LAST)}" if rng.random() < 0.6 else "",
            "weapon_present": rng.random() < 0.06,
            "substances_involved": rng.random() < 0.2,
            "status": status,
            "behavioral_health": True,
            "coresponse_eligible": coresponse_eligible,
            "triage_outcome": outcome,
            "not_served_reason": reason,
            "triaged_at": triaged_at,
            "triaged_by_id": dispatcher if triaged_at else None,
            "created_at": received,
            "updated_at": received,
            "created_by_id": dispatcher,
        }
        batch.add(
            TimelineEntry,
            {
                "id": self.ids.take(TimelineEntry),
                "incident_id": incident_id,
                "at": received,
                "actor_id": dispatcher,
                "kind": "created",
            },
        )
        if triaged_at is not None:
            batch.add(
                TimelineEntry,
                {
                    "id": self.ids.take(TimelineEntry),
                    "incident_id": incident_id,
                    "at": triaged_at,
                    "actor_id": dispatcher,
                    "kind": "triaged",
                    "field": "triage_outcome",
                    "new_value": outcome,
                },
            )
        if outcome == "dispatch_co_response":
            closed_at, served = self.dispatch(incident_id, received, triaged_at or received, free, batch)
            if not served:
                status = Incident.Status.CANCELLED
        else:
            closed_at = (triaged_at or received) + dt.timedelta(minutes=rng.randint(2, 30))
        row["status"] = status
        row["closed_at"] = closed_at
        row["updated_at"] = closed_at or received
        batch.add(Incident, row)

    def dispatch(
        self,
        incident_id: int,
        received: dt.datetime,
        triaged: dt.datetime,
        free: list[tuple[TeamInfo, int]],
        batch: Batch,
    ) -> tuple[dt.datetime, bool]:
        rng = self.rng
        offered = triaged + dt.timedelta(seconds=_lognormal_seconds(rng, 150, 0.6))
        candidates = list(free)
        rng.shuffle(candidates)
        for attempt, (info, shift_id) in enumerate(candidates[:3]):
            assignment_id = self.ids.take(Assignment)
            seen_after = rng.expovariate(1 / 9) if rng.random() < 0.85 else rng.uniform(20, 150)
            roll = rng.random()
            row: dict[str, Any] = {
                "id": assignment_id,
                "incident_id": incident_id,
                "team_id": info.team_id,
                "shift_id": shift_id,
                "offered_at": offered,
                "offered_by_id": self.world.author_id,
                "acknowledged_by_id": None,
            }
            acknowledged = offered + dt.timedelta(seconds=seen_after)
            self.escalation(assignment_id, info.call_sign, offered, seen_after, batch)
            last = attempt == min(2, len(candidates) - 1)
            if roll < 0.06 and not last:  # declined
                ended = acknowledged + dt.timedelta(seconds=rng.randint(5, 40))
                row.update(
                    status="declined",
                    acknowledged_at=acknowledged,
                    acknowledged_by_id=info.officer_id,
                    ended_at=ended,
                    ended_by_id=info.officer_id,
                    end_reason="On another call",
                    updated_at=ended,
                )
                batch.add(Assignment, row)
                offered = ended + dt.timedelta(seconds=rng.randint(20, 90))
                continue
            if roll < 0.10 and not last:  # expired: nobody answered
                ended = offered + dt.timedelta(minutes=5)
                row.update(status="expired", ended_at=ended, end_reason="No answer within 5 minutes", updated_at=ended)
                batch.add(Assignment, row)
                offered = ended + dt.timedelta(seconds=rng.randint(10, 60))
                continue
            accepted = acknowledged + dt.timedelta(seconds=rng.randint(5, 60))
            row.update(
                acknowledged_at=acknowledged if rng.random() < 0.9 else None,
                accepted_at=accepted,
                accepted_by_id=info.officer_id,
            )
            if row["acknowledged_at"] is not None:
                row["acknowledged_by_id"] = info.clinician_id
            if roll > 0.975:  # cancelled after acceptance (the caller called back)
                ended = accepted + dt.timedelta(minutes=rng.randint(2, 10))
                row.update(
                    status="cancelled",
                    ended_at=ended,
                    ended_by_id=self.world.author_id,
                    end_reason="Caller called back",
                    updated_at=ended,
                )
                batch.add(Assignment, row)
                return ended, False
            en_route = accepted + dt.timedelta(seconds=rng.randint(15, 120))
            on_scene = en_route + dt.timedelta(seconds=_lognormal_seconds(rng, 13 * 60, 0.45))
            stay = dt.timedelta(seconds=_lognormal_seconds(rng, 45 * 60, 0.5))
            transporting = on_scene + stay if rng.random() < 0.15 else None
            at_facility = transporting + dt.timedelta(minutes=rng.randint(8, 30)) if transporting else None
            cleared = (at_facility or on_scene + stay) + dt.timedelta(minutes=rng.randint(5, 40) if at_facility else 0)
            row.update(
                status="cleared",
                en_route_at=en_route,
                on_scene_at=on_scene,
                transporting_at=transporting,
                at_facility_at=at_facility,
                cleared_at=cleared,
                updated_at=cleared,
            )
            batch.add(Assignment, row)
            self.busy_until[info.team_id] = cleared
            self.encounter(incident_id, info, on_scene, cleared, batch)
            return cleared, True
        return offered, False

    def escalation(
        self, assignment_id: int, call_sign: str, offered: dt.datetime, seen_after: float, batch: Batch
    ) -> None:
        due = {"push": 20, "alert": 60, "reassign": 120}
        row: dict[str, Any] = {
            "id": self.ids.take(Escalation),
            "subject": f"assignment:{assignment_id}",
            "event_uid": self.new_uuid(),
            "team_label": call_sign,
            "created_at": offered,
            "delivered_at": offered + dt.timedelta(seconds=min(seen_after, 1.5)),
            "acknowledged_at": offered + dt.timedelta(seconds=seen_after),
            "resolved_at": offered + dt.timedelta(seconds=seen_after + 20),
            "resolution": "accepted",
        }
        for stage, seconds in due.items():
            row[f"{stage}_due_at"] = offered + dt.timedelta(seconds=seconds)
            row[f"{stage}_fired_at"] = offered + dt.timedelta(seconds=seconds + 0.5) if seen_after > seconds else None
        batch.add(Escalation, row)

    def person(self, at: dt.datetime, batch: Batch) -> uuid.UUID | None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.08:
            return None  # not identified
        if roll < 0.33 and self.recent:
            person_id, _last = self.recent[rng.randrange(len(self.recent))]
            self.recent.append((person_id, at))
            return person_id
        person_id = self.new_uuid()
        first, last = rng.choice(FIRST), rng.choice(LAST)
        batch.add(
            Person,
            {
                "id": person_id,
                "first_name": first,
                "last_name": last,
                "date_of_birth": dt.date(rng.randint(1940, 2008), rng.randint(1, 12), rng.randint(1, 28)),
                "sex": rng.choice(["female", "male", "unknown"]),
                "aliases": [],
                "search_name": f"{first} {last}".lower(),
                "created_by_id": self.world.author_id,
                "created_at": at,
                "updated_at": at,
            },
        )
        self.recent.append((person_id, at))
        return person_id

    def encounter(
        self,
        incident_id: int | None,
        info: TeamInfo | None,
        started: dt.datetime,
        closed: dt.datetime | None,
        batch: Batch,
        kind: str = Encounter.Kind.INCIDENT,
    ) -> None:
        rng = self.rng
        encounter_id = self.new_uuid()
        person_id = self.person(started, batch)
        clinician = info.clinician_id if info else self.world.author_id
        screened = rng.random() < 0.7
        risk = _weighted(rng, RISKS) if screened else ""
        closed = closed or started + dt.timedelta(minutes=rng.randint(20, 90))
        batch.add(
            Encounter,
            {
                "id": encounter_id,
                "kind": kind,
                "incident_id": incident_id,
                "person_id": person_id,
                "team_id": info.team_id if info else None,
                "clinician_id": clinician,
                "officer_id": info.officer_id if info else None,
                "started_at": started,
                "closed_at": closed,
                "risk_level": risk,
                "arrest_diverted": rng.random() < 0.05,
                "ed_diverted": rng.random() < 0.08,
                "created_by_id": clinician,
                "created_at": started,
                "updated_at": closed,
            },
        )
        if screened:
            high, moderate, low = risk == "high", risk == "moderate", risk in ("low", "moderate", "high")
            batch.add(
                CssrsScreen,
                {
                    "id": self.ids.take(CssrsScreen),
                    "encounter_id": encounter_id,
                    "q1_wish_dead": low,
                    "q2_active_thoughts": low and rng.random() < 0.6,
                    "q3_method": moderate or high,
                    "q4_intent": high,
                    "q5_plan": False,
                    "q6_behavior": False,
                    "q6a_past_3_months": None,
                    "computed_risk": risk,
                    "rule_version": "cssrs-screener-2020",
                    "screened_by_id": clinician,
                    "screened_at": started + dt.timedelta(minutes=10),
                },
            )
        codes = {_weighted(rng, DISPOSITIONS) for _ in range(1 if rng.random() < 0.7 else 2)}
        for code in sorted(codes):
            batch.add(
                Disposition,
                {
                    "id": self.ids.take(Disposition),
                    "encounter_id": encounter_id,
                    "code": code,
                    "apco_code": Disposition.APCO.get(code, ""),
                    "recorded_by_id": clinician,
                    "recorded_at": closed,
                },
            )
        if info is not None and rng.random() < 0.9:
            force = rng.random() < 0.015
            batch.add(
                OfficerSection,
                {
                    "id": self.ids.take(OfficerSection),
                    "encounter_id": encounter_id,
                    "police_action": "arrest" if "arrest" in codes else ("citation" if "citation" in codes else "none"),
                    "use_of_force": force,
                    "subject_injured": force and rng.random() < 0.5,
                    "officer_injured": force and rng.random() < 0.25,
                    "transport": "ems" if "ems_transport" in codes else "none",
                    "ivc_custody": "ivc_initiated" in codes,
                    "updated_by_id": info.officer_id,
                    "updated_at": closed,
                },
            )
        if "ivc_initiated" in codes:
            batch.add(
                IvcRecord,
                {
                    "id": self.ids.take(IvcRecord),
                    "encounter_id": encounter_id,
                    "pathway": rng.choice([c.value for c in IvcRecord.Pathway]),
                    "petition_at": closed,
                    "outcome": rng.choice(["committed", "released", "pending"]),
                    "updated_by_id": clinician,
                    "updated_at": closed,
                },
            )
        if person_id is None:
            return
        if risk == "high":
            self.followup(
                encounter_id=encounter_id,
                person_id=person_id,
                referral_id=None,
                reason="high_risk",
                key=f"encounter:{encounter_id}:high_risk",
                due=started + dt.timedelta(hours=24),
                batch=batch,
            )
        if codes & {"transport_ed", "ems_transport"}:
            for days in (7, 30):
                self.followup(
                    encounter_id=encounter_id,
                    person_id=person_id,
                    referral_id=None,
                    reason="ed_linkage",
                    key=f"encounter:{encounter_id}:ed_linkage:{days}",
                    due=closed + dt.timedelta(days=days),
                    batch=batch,
                )
        if rng.random() < 0.4 or "resolved_with_referral" in codes:
            self.referral(encounter_id, person_id, closed, clinician, batch)

    def referral(
        self, encounter_id: uuid.UUID, person_id: uuid.UUID, made: dt.datetime, clinician: int, batch: Batch
    ) -> None:
        rng = self.rng
        referral_id = self.new_uuid()
        roll = rng.random()
        status, changed = "made", made
        steps = [("", "made", made)]
        if roll < 0.45:
            when = made + dt.timedelta(days=rng.choice([rng.uniform(1, 7), rng.uniform(7, 30), rng.uniform(30, 60)]))
            if rng.random() < 0.5:
                steps.append(("made", "scheduled", made + (when - made) / 2))
            steps.append((steps[-1][1], "linked", when))
        elif roll < 0.6:
            steps.append(("made", "scheduled", made + dt.timedelta(days=rng.uniform(1, 5))))
        elif roll < 0.7:
            steps.append(("made", "declined", made + dt.timedelta(days=rng.uniform(0, 3))))
        elif roll < 0.8:
            steps.append(("made", "unreachable", made + dt.timedelta(days=rng.uniform(3, 10))))
        steps = [s for s in steps if s[2] <= self.now]
        status, changed = steps[-1][1], steps[-1][2]
        batch.add(
            Referral,
            {
                "id": referral_id,
                "person_id": person_id,
                "encounter_id": encounter_id,
                "type": _weighted(rng, REFERRAL_TYPES),
                "agency_id": rng.choice(self.world.agencies),
                "status": status,
                "made_at": made,
                "made_by_id": clinician,
                "status_changed_at": changed,
                "status_changed_by_id": clinician,
            },
        )
        for old, new, at in steps:
            batch.add(
                ReferralStatusChange,
                {
                    "id": self.ids.take(ReferralStatusChange),
                    "referral_id": referral_id,
                    "from_status": old,
                    "to_status": new,
                    "at": at,
                    "by_id": clinician,
                },
            )
        self.followup(
            encounter_id=encounter_id,
            person_id=person_id,
            referral_id=referral_id,
            reason="referral",
            key=f"referral:{referral_id}",
            due=made + dt.timedelta(hours=48),
            batch=batch,
        )

    def followup(
        self,
        *,
        encounter_id: uuid.UUID,
        person_id: uuid.UUID,
        referral_id: uuid.UUID | None,
        reason: str,
        key: str,
        due: dt.datetime,
        batch: Batch,
    ) -> None:
        rng = self.rng
        followup_id = self.ids.take(FollowUp)
        navigator = rng.choice(self.world.navigators)
        created = due - dt.timedelta(hours=24 if reason != "ed_linkage" else 24 * 7)
        attempts: list[tuple[dt.datetime, str]] = []
        at = created + dt.timedelta(hours=rng.uniform(1, 30))
        for _ in range(3):
            if at > self.now:
                break
            outcome = rng.choices(
                ["reached", "no_answer", "wrong_number", "declined", "linked"], weights=[55, 30, 5, 5, 5]
            )[0]
            attempts.append((at, outcome))
            if outcome in ("reached", "declined", "linked"):
                break
            at += dt.timedelta(hours=rng.uniform(4, 30))
        contacted = any(o in ("reached", "declined", "linked") for _a, o in attempts)
        failed = sum(1 for _a, o in attempts if o in ("no_answer", "wrong_number"))
        status, closed_at, closed_reason = "open", None, ""
        if contacted:
            status, closed_at = "done", attempts[-1][0]
        elif failed >= 3:
            status, closed_at, closed_reason = "closed", attempts[-1][0], "Unreachable after 3 attempts"
        elif due < self.now - dt.timedelta(days=14):
            # Navigators close what they could not reach; only the last two weeks stay open (overdue).
            status, closed_at, closed_reason = "closed", due + dt.timedelta(days=14), "Not reached within two weeks"
        batch.add(
            FollowUp,
            {
                "id": followup_id,
                "person_id": person_id,
                "encounter_id": encounter_id,
                "referral_id": referral_id,
                "reason": reason,
                "policy_key": key,
                "due_at": due,
                "assignee_id": navigator,
                "status": status,
                "failed_attempts": failed,
                "closed_reason": closed_reason,
                "closed_at": closed_at,
                "closed_by_id": navigator if closed_at else None,
                "created_at": created,
            },
        )
        for at_, outcome in attempts:
            batch.add(
                FollowUpAttempt,
                {
                    "id": self.ids.take(FollowUpAttempt),
                    "followup_id": followup_id,
                    "at": at_,
                    "method": "phone",
                    "outcome": outcome,
                    "by_id": navigator,
                    "created_at": at_,
                },
            )


@dataclass
class Result:
    incidents: int
    rows: dict[str, int]
    seconds: float


def seed_history(
    *,
    months: int,
    scale: float,
    seed: int = 1,
    end: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
    crew: Crew | None = None,
) -> Result:
    """Write ``months`` months of history ending ``end`` (default: yesterday, local), for new teams and
    people (``H-000``…, ``h_off_0000``…) or for an existing ``crew``."""
    if Incident.objects.filter(cad_source=HISTORY_SOURCE).exists():
        raise ValueError("This database already has a seeded history; use a fresh database.")
    started = time.perf_counter()
    rng = random.Random(seed)  # noqa: S311 - plausible data, not secrets
    last_day = end or (timezone.localdate() - dt.timedelta(days=1))
    first_day = last_day.replace(day=1)
    for _ in range(max(0, months - 1)):
        first_day = (first_day - dt.timedelta(days=1)).replace(day=1)
    postgres = connection.vendor == "postgresql"
    writer: Writer = CopyWriter() if postgres else OrmWriter()
    ids = Ids(SERIAL_MODELS)
    with transaction.atomic():
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        world = build_world(rng, scale, first_day, last_day, writer, ids, crew)
        generator = Generator(rng, world, ids, writer, scale, timezone.now())
        batch = Batch()
        day = first_day
        flush_at = 150_000 if postgres else 5_000
        while day <= last_day:
            generator.day(day, batch)
            if batch.size() >= flush_at or day == last_day:
                for model in ORDER:
                    writer.write(model, batch.rows.get(model, []))
                batch = Batch()
                if progress:
                    progress(f"  {day:%Y-%m-%d}: {generator.seq:,} calls")
            day += dt.timedelta(days=1)
        ids.reset_sequences()
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return Result(incidents=generator.seq, rows=dict(writer.counts), seconds=time.perf_counter() - started)
