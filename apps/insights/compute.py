"""The measure families, computed from the source tables for a time range: the one definition.

Each family answers, for ``[start, end)`` and optional filters, a set of *cells*: per local month and
per value of the family's dimensions, a dict of integer counts and interval histograms. The rollup
(apps/insights/rollup.py) stores exactly these cells per month; the dashboard merges cells (from the
rollup, or computed live by these same functions when a period or a filter is not in the rollup).

| family   | a record is one …                         | placed in a month by           | dimensions        |
|----------|-------------------------------------------|--------------------------------|-------------------|
| calls    | incident                                  | ``Incident.received_at``       | call type, source |
| response | assignment (offer) of an incident         | its incident's ``received_at`` | team              |
| outcomes | encounter (incident response or walk-in)  | ``Encounter.started_at``       | team              |
| followup | follow-up task / referral                 | ``FollowUp.due_at`` / ``Referral.made_at`` | encounter's team |
| training | officer on a co-response shift            | ``Shift.starts_at``            | team              |

Months are local (America/New_York): the database truncates each timestamp in that zone, so a call
at 23:30 on 31 March EDT is a March call, whatever UTC says. Count keys are strings such as
``"src:911"`` or ``"disp:arrest"``; apps/insights/catalogue.py says what each measure reads.

Everything here is a read; nothing is written. Queries are plain ORM aggregations (PostgreSQL and
SQLite alike): a handful of GROUP BY queries per family, each scanning the range once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, ExtractHour, ExtractIsoWeekDay, TruncDate, TruncMonth

from apps.clinical.models import Disposition, Encounter, IvcRecord, OfficerSection
from apps.core.timefmt import local_zone
from apps.incidents.models import Assignment, Incident, TimelineEntry
from apps.realtime.models import Escalation
from apps.referrals.models import FollowUp, FollowUpAttempt, Referral, ReferralStatusChange
from apps.shifts.models import ShiftMember
from apps.teams.models import Team

from .bins import MAX_SECONDS, bin_expression
from .models import TrainingRecord

CALLS = "calls"
RESPONSE = "response"
OUTCOMES = "outcomes"
FOLLOWUP = "followup"
TRAINING = "training"
FAMILIES = (CALLS, RESPONSE, OUTCOMES, FOLLOWUP, TRAINING)
TEAM_FAMILIES = (RESPONSE, OUTCOMES, FOLLOWUP, TRAINING)

# Filters each family can apply when computed from the source tables (live); the rollup keeps only the
# family's dimensions (calls: call type and source; the others: team). A filter a family cannot apply
# is reported as not applied (a call is received before any team is involved; shifts have no call type).
LIVE_FILTERS: dict[str, frozenset[str]] = {
    CALLS: frozenset({"call_type", "source"}),
    RESPONSE: frozenset({"team", "call_type", "source"}),
    OUTCOMES: frozenset({"team", "call_type", "source"}),
    FOLLOWUP: frozenset({"team", "call_type", "source"}),
    TRAINING: frozenset({"team"}),
}
ROLLUP_FILTERS: dict[str, frozenset[str]] = {
    CALLS: frozenset({"call_type", "source"}),
    RESPONSE: frozenset({"team"}),
    OUTCOMES: frozenset({"team"}),
    FOLLOWUP: frozenset({"team"}),
    TRAINING: frozenset({"team"}),
}

# Interval measures of the histograms (seconds from the first timestamp to the second).
H_RECEIVED_TRIAGED = "received_to_triaged"
H_RECEIVED_OFFERED = "received_to_offered"
H_OFFERED_SEEN = "offered_to_seen"
H_OFFERED_ACCEPTED = "offered_to_accepted"
H_ACCEPTED_ON_SCENE = "accepted_to_on_scene"
H_ON_SCENE = "on_scene_duration"
H_RECEIVED_CLEARED = "received_to_cleared"

SEEN_WITHIN_SECONDS = 20  # "offers seen within 20 s" (the Web Push escalation delay's default)
REPEAT_WINDOWS_DAYS = (30, 90)
CONTACT_OUTCOMES = (
    FollowUpAttempt.Outcome.REACHED,
    FollowUpAttempt.Outcome.DECLINED,
    FollowUpAttempt.Outcome.LINKED,
)
# Encounters counted as program contacts (follow-up encounters are care navigation, counted there).
CONTACT_KINDS = (Encounter.Kind.INCIDENT, Encounter.Kind.WALK_IN)
NOT_SCREENED = "not_screened"


@dataclass(frozen=True)
class Filters:
    team: int | None = None
    call_type: str | None = None
    source: str | None = None

    def names(self) -> frozenset[str]:
        return frozenset(n for n in ("team", "call_type", "source") if getattr(self, n) not in (None, ""))

    def only(self, names: Iterable[str]) -> Filters:
        keep = set(names)
        return Filters(
            team=self.team if "team" in keep else None,
            call_type=self.call_type if "call_type" in keep else None,
            source=self.source if "source" in keep else None,
        )

    def as_dict(self) -> dict[str, Any]:
        return {"team": self.team, "call_type": self.call_type, "source": self.source}


class CellKey(NamedTuple):
    month: dt.date
    is_total: bool
    team: int
    call_type: str
    source: str


@dataclass
class Cell:
    counts: dict[str, int] = field(default_factory=dict)
    hist: dict[str, dict[int, int]] = field(default_factory=dict)

    def add(self, key: str, n: int) -> None:
        if n:
            self.counts[key] = self.counts.get(key, 0) + int(n)

    def add_bin(self, measure: str, index: int, n: int) -> None:
        if n:
            bins = self.hist.setdefault(measure, {})
            bins[index] = bins.get(index, 0) + int(n)

    def merge(self, other: Cell, *, skip_prefixes: tuple[str, ...] = ()) -> None:
        for key, n in other.counts.items():
            if not key.startswith(skip_prefixes):
                self.counts[key] = self.counts.get(key, 0) + n
        for measure, bins in other.hist.items():
            mine = self.hist.setdefault(measure, {})
            for index, n in bins.items():
                mine[index] = mine.get(index, 0) + n

    def as_json(self) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
        return dict(sorted(self.counts.items())), {
            m: {str(i): n for i, n in sorted(b.items())} for m, b in sorted(self.hist.items())
        }

    @classmethod
    def from_json(cls, counts: dict[str, Any], hist: dict[str, Any]) -> Cell:
        return cls(
            counts={k: int(v) for k, v in counts.items()},
            hist={m: {int(i): int(n) for i, n in b.items()} for m, b in hist.items()},
        )


Cells = dict[CellKey, Cell]

# Keys that do not add up across teams (distinct people); the total row computes its own.
NON_ADDITIVE_PREFIXES = ("pt:", "pa:")


# --- SQL helpers ---------------------------------------------------------------------------------


class Seconds(Func):
    """Whole seconds from ``rhs`` to ``lhs`` (``lhs - rhs``, rounded down); NULL if either is NULL."""

    arity = 2
    output_field = IntegerField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="FLOOR(EXTRACT(EPOCH FROM (%(expressions)s)))::integer", arg_joiner=" - "
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # django_timestamp_diff: microseconds lhs - rhs (Django's own SQLite function); integer division
        # truncates towards zero, so negatives are mapped to -1 explicitly (they are excluded anyway).
        sql, params = self.as_sql(compiler, connection, template="django_timestamp_diff(%(expressions)s)")
        return f"(CASE WHEN {sql} < 0 THEN -1 ELSE {sql} / 1000000 END)", (*params, *params)


def local_month(field_name: str) -> TruncMonth:
    return TruncMonth(field_name, tzinfo=local_zone(), output_field=DateField())


def local_date(field_name: str) -> TruncDate:
    return TruncDate(field_name, tzinfo=local_zone())


def _apply(qs: QuerySet[Any], lookups: dict[str, str], filters: Filters) -> QuerySet[Any]:
    """Filter ``qs`` by each filter set, through the lookup path this family uses for it."""
    for name, path in lookups.items():
        value = getattr(filters, name)
        if value not in (None, ""):
            qs = qs.filter(**{path: value})
    return qs


def _histogram(
    cells: Cells,
    qs: QuerySet[Any],
    *,
    measure: str,
    end_field: Any,
    start_field: Any,
    dims: tuple[str, ...],
    dim_of: Any,
) -> None:
    """Add the histogram of ``end_field - start_field`` to the cells, per month and dimension."""
    rows = (
        qs.annotate(_s=Seconds(end_field, start_field))
        .filter(_s__gte=0, _s__lt=MAX_SECONDS)
        .annotate(_bin=bin_expression("_s"))
        .values("_month", *dims, "_bin")
        .annotate(_n=Count("pk"))
        .order_by()
    )
    for row in rows:
        cells_get(cells, dim_of(row)).add_bin(measure, row["_bin"], row["_n"])


def cells_get(cells: Cells, key: CellKey) -> Cell:
    cell = cells.get(key)
    if cell is None:
        cell = cells[key] = Cell()
    return cell


# --- calls ---------------------------------------------------------------------------------------


def _calls(start: dt.datetime, end: dt.datetime, filters: Filters) -> Cells:
    cells: Cells = {}
    base = _apply(
        Incident.objects.filter(received_at__gte=start, received_at__lt=end),
        {"call_type": "call_type_code", "source": "source"},
        filters,
    ).annotate(_month=local_month("received_at"))

    def key(row: Mapping[str, Any]) -> CellKey:
        return CellKey(row["_month"], False, 0, row["call_type_code"] or "", row["source"] or "")

    served = Exists(
        Assignment.objects.filter(
            incident_id=OuterRef("pk"), on_scene_at__isnull=False, team__kind=Team.Kind.CO_RESPONSE
        )
    )
    rows = (
        base.annotate(_served=served)
        .values(
            "_month",
            "call_type_code",
            "source",
            "priority",
            "coresponse_eligible",
            "triage_outcome",
            "not_served_reason",
            "_served",
        )
        .annotate(_n=Count("pk"))
        .order_by()
    )
    dispatched = Incident.TriageOutcome.DISPATCH_CO_RESPONSE
    for row in rows:
        cell, n = cells_get(cells, key(row)), row["_n"]
        cell.add("total", n)
        cell.add(f"prio:{row['priority']}", n)
        cell.add(f"src:{row['source'] or 'none'}", n)
        cell.add(f"ct:{row['call_type_code'] or 'none'}", n)
        eligible = row["coresponse_eligible"]
        cell.add({True: "elig:yes", False: "elig:no", None: "elig:unknown"}[eligible], n)
        cell.add(f"outcome:{row['triage_outcome'] or 'none'}", n)
        if row["_served"]:
            cell.add("served", n)
        if eligible:
            if row["_served"]:
                cell.add("elig_served", n)
            else:
                cell.add("elig_notserved", n)
                reason = row["not_served_reason"] or (
                    "dispatched_not_on_scene" if row["triage_outcome"] == dispatched else "not_recorded"
                )
                cell.add(f"reason:{reason}", n)
            if row["triage_outcome"] == Incident.TriageOutcome.RESOLVED_BY_PHONE:
                cell.add("elig_phone", n)

    how = (
        base.annotate(
            _dow=ExtractIsoWeekDay("received_at", tzinfo=local_zone()),
            _hour=ExtractHour("received_at", tzinfo=local_zone()),
        )
        .values("_month", "call_type_code", "source", "_dow", "_hour")
        .annotate(_n=Count("pk"))
        .order_by()
    )
    for row in how:
        cells_get(cells, key(row)).add(f"how:{(row['_dow'] - 1) * 24 + row['_hour']}", row["_n"])

    first_triage = Subquery(
        TimelineEntry.objects.filter(incident_id=OuterRef("pk"), kind=TimelineEntry.Kind.TRIAGED)
        .order_by("at", "id")
        .values("at")[:1]
    )
    _histogram(
        cells,
        base.annotate(_triaged=first_triage).filter(_triaged__isnull=False),
        measure=H_RECEIVED_TRIAGED,
        end_field=F("_triaged"),
        start_field=F("received_at"),
        dims=("call_type_code", "source"),
        dim_of=key,
    )
    return cells


# --- response (assignments) ---------------------------------------------------------------------


def _response(start: dt.datetime, end: dt.datetime, filters: Filters) -> Cells:
    cells: Cells = {}
    base = _apply(
        Assignment.objects.filter(incident__received_at__gte=start, incident__received_at__lt=end),
        {"team": "team_id", "call_type": "incident__call_type_code", "source": "incident__source"},
        filters,
    ).annotate(
        _month=local_month("incident__received_at"),
        # Seen on a device: acknowledged, or answered (accepting or declining is seeing).
        _seen=Coalesce(
            "acknowledged_at",
            "accepted_at",
            Case(When(status=Assignment.Status.DECLINED, then=F("ended_at"))),
        ),
    )

    def key(row: Mapping[str, Any]) -> CellKey:
        return CellKey(row["_month"], False, row["team_id"], "", "")

    subject = Concat(Value("assignment:"), F("pk"), output_field=CharField())
    esc = Escalation.objects.filter(subject=OuterRef("_subject"))
    cit_officer = ShiftMember.objects.filter(
        shift_id=OuterRef("shift_id"),
        role=ShiftMember.Role.OFFICER,
    ).filter(
        Exists(
            TrainingRecord.objects.filter(
                person_id=OuterRef("user_id"),
                course__in=TrainingRecord.CIT_COURSES,
                completed_on__lte=OuterRef(OuterRef("_offer_day")),
            ).filter(Q(expires_on__isnull=True) | Q(expires_on__gt=OuterRef(OuterRef("_offer_day"))))
        )
    )
    S = Assignment.Status
    counted = base.annotate(
        _subject=subject,
        _offer_day=local_date("offered_at"),
        _seen_s=Seconds(F("_seen"), F("offered_at")),
    ).annotate(
        _push=Exists(esc.filter(push_fired_at__isnull=False)),
        _alert=Exists(esc.filter(alert_fired_at__isnull=False)),
        _reassign=Exists(esc.filter(reassign_fired_at__isnull=False)),
        _cit=Exists(cit_officer),
    )
    rows = (
        counted.values("_month", "team_id")
        .annotate(
            offers=Count("pk"),
            seen=Count("pk", filter=Q(_seen__isnull=False)),
            seen_20s=Count("pk", filter=Q(_seen_s__gte=0, _seen_s__lte=SEEN_WITHIN_SECONDS)),
            accepted=Count("pk", filter=Q(accepted_at__isnull=False)),
            declined=Count("pk", filter=Q(status=S.DECLINED)),
            expired=Count("pk", filter=Q(status=S.EXPIRED)),
            cancelled=Count("pk", filter=Q(status=S.CANCELLED)),
            on_scene=Count("pk", filter=Q(on_scene_at__isnull=False)),
            cleared=Count("pk", filter=Q(cleared_at__isnull=False)),
            esc_push=Count("pk", filter=Q(_push=True)),
            esc_alert=Count("pk", filter=Q(_alert=True)),
            esc_reassign=Count("pk", filter=Q(_reassign=True)),
            answered_cit=Count("pk", filter=Q(accepted_at__isnull=False, _cit=True)),
        )
        .order_by()
    )
    for row in rows:
        cell = cells_get(cells, key(row))
        for name in (
            "offers",
            "seen",
            "seen_20s",
            "accepted",
            "declined",
            "expired",
            "cancelled",
            "on_scene",
            "cleared",
            "esc_push",
            "esc_alert",
            "esc_reassign",
            "answered_cit",
        ):
            cell.add(name, row[name])
        cell.add("seen_later", row["seen"] - row["seen_20s"])
        cell.add("not_seen", row["offers"] - row["seen"])
        cell.add("answered_not_cit", row["accepted"] - row["answered_cit"])

    earlier_offer = Assignment.objects.filter(incident_id=OuterRef("incident_id")).filter(
        Q(offered_at__lt=OuterRef("offered_at")) | Q(offered_at=OuterRef("offered_at"), pk__lt=OuterRef("pk"))
    )
    team_dims = ("team_id",)
    _histogram(
        cells,
        base.filter(~Exists(earlier_offer)),
        measure=H_RECEIVED_OFFERED,
        end_field=F("offered_at"),
        start_field=F("incident__received_at"),
        dims=team_dims,
        dim_of=key,
    )
    _histogram(
        cells,
        base.filter(_seen__isnull=False),
        measure=H_OFFERED_SEEN,
        end_field=F("_seen"),
        start_field=F("offered_at"),
        dims=team_dims,
        dim_of=key,
    )
    _histogram(
        cells,
        base.filter(accepted_at__isnull=False),
        measure=H_OFFERED_ACCEPTED,
        end_field=F("accepted_at"),
        start_field=F("offered_at"),
        dims=team_dims,
        dim_of=key,
    )
    _histogram(
        cells,
        base.filter(accepted_at__isnull=False, on_scene_at__isnull=False),
        measure=H_ACCEPTED_ON_SCENE,
        end_field=F("on_scene_at"),
        start_field=F("accepted_at"),
        dims=team_dims,
        dim_of=key,
    )
    _histogram(
        cells,
        base.annotate(_left=Coalesce("transporting_at", "cleared_at")).filter(
            on_scene_at__isnull=False, _left__isnull=False
        ),
        measure=H_ON_SCENE,
        end_field=F("_left"),
        start_field=F("on_scene_at"),
        dims=team_dims,
        dim_of=key,
    )
    _histogram(
        cells,
        base.filter(cleared_at__isnull=False),
        measure=H_RECEIVED_CLEARED,
        end_field=F("cleared_at"),
        start_field=F("incident__received_at"),
        dims=team_dims,
        dim_of=key,
    )
    return cells


# --- outcomes (encounters) -----------------------------------------------------------------------


def _encounters(start: dt.datetime, end: dt.datetime, filters: Filters) -> QuerySet[Encounter]:
    return _apply(
        Encounter.objects.filter(started_at__gte=start, started_at__lt=end, kind__in=CONTACT_KINDS),
        {"team": "team_id", "call_type": "incident__call_type_code", "source": "incident__source"},
        filters,
    )


def _outcomes(start: dt.datetime, end: dt.datetime, filters: Filters) -> Cells:
    cells: Cells = {}
    base = _encounters(start, end, filters).annotate(_month=local_month("started_at"))

    def key(row: Mapping[str, Any]) -> CellKey:
        return CellKey(row["_month"], False, row["team_id"] or 0, "", "")

    D = Disposition.Code
    disposition = Disposition.objects.filter(encounter_id=OuterRef("pk"))
    previous = Subquery(
        Encounter.objects.filter(
            person_id=OuterRef("person_id"), started_at__lt=OuterRef("started_at"), kind__in=CONTACT_KINDS
        )
        .order_by("-started_at")
        .values("started_at")[:1]
    )
    flagged = base.annotate(
        _referral=Exists(Referral.objects.filter(encounter_id=OuterRef("pk"))),
        _ivc=Exists(IvcRecord.objects.filter(encounter_id=OuterRef("pk")))
        | Exists(disposition.filter(code=D.IVC_INITIATED)),
        _arrest=Exists(disposition.filter(code=D.ARREST))
        | Exists(
            OfficerSection.objects.filter(encounter_id=OuterRef("pk"), police_action=OfficerSection.PoliceAction.ARREST)
        ),
        _gap=Seconds(F("started_at"), previous),
    )
    rows = (
        flagged.values("_month", "team_id")
        .annotate(
            encounters=Count("pk"),
            with_person=Count("pk", filter=Q(person_id__isnull=False)),
            referral_made=Count("pk", filter=Q(_referral=True)),
            ivc_any=Count("pk", filter=Q(_ivc=True)),
            arrest=Count("pk", filter=Q(_arrest=True)),
            arrest_diverted=Count("pk", filter=Q(arrest_diverted=True)),
            ed_diverted=Count("pk", filter=Q(ed_diverted=True)),
            with_officer_section=Count("pk", filter=Q(officer_section__isnull=False)),
            use_of_force=Count("pk", filter=Q(officer_section__use_of_force=True)),
            subject_injured=Count("pk", filter=Q(officer_section__subject_injured=True)),
            officer_injured=Count("pk", filter=Q(officer_section__officer_injured=True)),
            repeat_30d=Count("pk", filter=Q(_gap__gte=0, _gap__lte=REPEAT_WINDOWS_DAYS[0] * 86400)),
            repeat_90d=Count("pk", filter=Q(_gap__gte=0, _gap__lte=REPEAT_WINDOWS_DAYS[1] * 86400)),
        )
        .order_by()
    )
    counted = (
        "encounters",
        "with_person",
        "referral_made",
        "arrest",
        "arrest_diverted",
        "ed_diverted",
        "with_officer_section",
        "use_of_force",
        "subject_injured",
        "officer_injured",
        "repeat_30d",
        "repeat_90d",
    )
    for counted_row in rows:
        cell = cells_get(cells, key(counted_row))
        cell.add("ivc", counted_row["ivc_any"])
        for name in counted:
            cell.add(name, counted_row[name])  # type: ignore[literal-required]
    for kind_row in base.values("_month", "team_id", "kind").annotate(_n=Count("pk")).order_by():
        cells_get(cells, key(kind_row)).add(f"kind:{kind_row['kind']}", kind_row["_n"])

    for risk_row in base.values("_month", "team_id", "risk_level").annotate(_n=Count("pk")).order_by():
        cells_get(cells, key(risk_row)).add(f"risk:{risk_row['risk_level'] or NOT_SCREENED}", risk_row["_n"])

    dispositions = (
        Disposition.objects.filter(encounter__in=base.values("pk"))
        .annotate(_month=local_month("encounter__started_at"), team_id=F("encounter__team_id"))
        .values("_month", "team_id", "code", "apco_code")
        .annotate(_n=Count("pk"))
        .order_by()
    )
    for disp_row in dispositions:
        cell, n = cells_get(cells, key(disp_row)), disp_row["_n"]
        cell.add("dispositions", n)
        cell.add(f"disp:{disp_row['code']}", n)
        cell.add(f"apco:{disp_row['apco_code'] or 'none'}", n)

    pathways = (
        IvcRecord.objects.filter(encounter__in=base.values("pk"))
        .annotate(_month=local_month("encounter__started_at"), team_id=F("encounter__team_id"))
        .values("_month", "team_id", "pathway")
        .annotate(_n=Count("pk"))
        .order_by()
    )
    for path_row in pathways:
        cell = cells_get(cells, key(path_row))
        cell.add("ivc_records", path_row["_n"])
        cell.add(f"ivc_path:{path_row['pathway']}", path_row["_n"])
    return cells


def _people_keys(cells: Cells, start: dt.datetime, end: dt.datetime, filters: Filters) -> None:
    """Unique people, made additive over months: each (person, month) is stored under the month of the
    person's previous contact before that month (``pa:`` any team, on the total row; ``pt:`` the same
    team, on the team's row; ``-`` none). People in months m1..m2 = the entries of those months whose
    previous month is before m1. Only for whole months (the rollup, and live month-aligned periods)."""
    from .periods import month_key

    base = _encounters(start, end, filters).filter(person_id__isnull=False)
    month_of = local_month("started_at")
    in_range = base.annotate(_month=month_of).values("person_id", "team_id", "_month").distinct().order_by()
    pairs = [(r["person_id"], r["team_id"] or 0, r["_month"]) for r in in_range]
    if not pairs:
        return
    # Each person's last contact before each month of the range (any team, and per team).
    earlier = (
        _apply(
            Encounter.objects.filter(started_at__lt=end, kind__in=CONTACT_KINDS),
            {"team": "team_id", "call_type": "incident__call_type_code", "source": "incident__source"},
            filters,
        )
        .filter(person_id__in=base.values("person_id"))
        .annotate(_month=month_of)
        .values("person_id", "team_id", "_month")
        .annotate(_n=Max("started_at"))
        .order_by()
    )
    history: dict[Any, list[tuple[dt.date, int]]] = {}
    for row in earlier:
        history.setdefault(row["person_id"], []).append((row["_month"], row["team_id"] or 0))

    def previous(person: Any, month: dt.date, team: int | None) -> str:
        best: dt.date | None = None
        for m, t in history.get(person, ()):
            if m < month and (team is None or t == team) and (best is None or m > best):
                best = m
        return month_key(best) if best else "-"

    seen_any: set[tuple[Any, dt.date]] = set()
    for person, team, month in pairs:
        cells_get(cells, CellKey(month, False, team, "", "")).add(f"pt:{previous(person, month, team)}", 1)
        if (person, month) not in seen_any:
            seen_any.add((person, month))
            cells_get(cells, CellKey(month, True, 0, "", "")).add(f"pa:{previous(person, month, None)}", 1)


def unique_people(start: dt.datetime, end: dt.datetime, filters: Filters) -> int:
    """People with at least one contact (incident response or walk-in) in the range: the live count."""
    return _encounters(start, end, filters).filter(person_id__isnull=False).values("person_id").distinct().count()


# --- follow-up ------------------------------------------------------------------------------------


def _followup(start: dt.datetime, end: dt.datetime, filters: Filters) -> Cells:
    cells: Cells = {}
    lookups = {
        "team": "encounter__team_id",
        "call_type": "encounter__incident__call_type_code",
        "source": "encounter__incident__source",
    }

    def key(row: Mapping[str, Any]) -> CellKey:
        return CellKey(row["_month"], False, row["team_id"] or 0, "", "")

    first_contact = Subquery(
        FollowUpAttempt.objects.filter(followup_id=OuterRef("pk"), outcome__in=CONTACT_OUTCOMES)
        .order_by("at", "id")
        .values("at")[:1]
    )
    followups = (
        _apply(FollowUp.objects.filter(due_at__gte=start, due_at__lt=end), lookups, filters)
        .annotate(_month=local_month("due_at"), team_id=F("encounter__team_id"), _contact=first_contact)
        .values("_month", "team_id", "reason")
        .annotate(
            due=Count("pk"),
            on_time=Count("pk", filter=Q(_contact__lte=F("due_at"))),
            late=Count("pk", filter=Q(_contact__gt=F("due_at"))),
        )
        .order_by()
    )
    for row in followups:
        cell, reason = cells_get(cells, key(row)), row["reason"]
        cell.add(f"fu_due:{reason}", row["due"])
        cell.add(f"fu_on_time:{reason}", row["on_time"])
        cell.add(f"fu_late:{reason}", row["late"])
        cell.add(f"fu_none:{reason}", row["due"] - row["on_time"] - row["late"])

    linked_at = Subquery(
        ReferralStatusChange.objects.filter(referral_id=OuterRef("pk"), to_status=Referral.Status.LINKED)
        .order_by("at", "id")
        .values("at")[:1]
    )
    referrals = (
        _apply(Referral.objects.filter(made_at__gte=start, made_at__lt=end), lookups, filters)
        .annotate(_month=local_month("made_at"), team_id=F("encounter__team_id"), _gap=Seconds(linked_at, F("made_at")))
        .values("_month", "team_id")
        .annotate(
            made=Count("pk"),
            linked=Count("pk", filter=Q(_gap__isnull=False)),
            linked_7d=Count("pk", filter=Q(_gap__lte=7 * 86400)),
            linked_30d=Count("pk", filter=Q(_gap__lte=30 * 86400)),
        )
        .order_by()
    )
    for row in referrals:
        cell = cells_get(cells, key(row))
        cell.add("ref_made", row["made"])
        cell.add("ref_linked", row["linked"])
        cell.add("ref_linked_7d", row["linked_7d"])
        cell.add("ref_linked_30d", row["linked_30d"])
        cell.add("ref_not_linked_7d", row["made"] - row["linked_7d"])
        cell.add("ref_not_linked_30d", row["made"] - row["linked_30d"])
    return cells


# --- training ---------------------------------------------------------------------------------------


def _training(start: dt.datetime, end: dt.datetime, filters: Filters) -> Cells:
    """Officer-shifts of co-response teams, per officer: ``o:<user>`` shifts, ``u:<user>`` of them without
    a CIT course in force on the shift's (local) start day. Summed over months, an officer is CIT-trained
    for a period when ``u`` is 0 for every shift of the period."""
    cells: Cells = {}
    rows = (
        _apply(
            ShiftMember.objects.filter(
                role=ShiftMember.Role.OFFICER,
                shift__starts_at__gte=start,
                shift__starts_at__lt=end,
                shift__team__kind=Team.Kind.CO_RESPONSE,
            ),
            {"team": "shift__team_id"},
            filters,
        )
        .annotate(
            _month=local_month("shift__starts_at"),
            team_id=F("shift__team_id"),
            _day=local_date("shift__starts_at"),
        )
        .annotate(
            _cit=Exists(
                TrainingRecord.objects.filter(
                    person_id=OuterRef("user_id"),
                    course__in=TrainingRecord.CIT_COURSES,
                    completed_on__lte=OuterRef("_day"),
                ).filter(Q(expires_on__isnull=True) | Q(expires_on__gt=OuterRef("_day")))
            )
        )
        .values("_month", "team_id", "user_id")
        .annotate(shifts=Count("pk"), untrained=Count("pk", filter=Q(_cit=False)))
        .order_by()
    )
    for row in rows:
        cell = cells_get(cells, key_team(row))
        cell.add(f"o:{row['user_id']}", row["shifts"])
        cell.add(f"u:{row['user_id']}", row["untrained"])
    if filters.team is None:
        # Courses completed (local dates); not a team's: only in the unfiltered cells (team 0).
        zone = local_zone()
        records = (
            TrainingRecord.objects.filter(
                completed_on__gte=start.astimezone(zone).date(), completed_on__lt=end.astimezone(zone).date()
            )
            .annotate(_month=TruncMonth("completed_on", output_field=DateField()))
            .values("_month", "course")
            .annotate(_n=Count("pk"), _hours=Sum("hours"))
            .order_by()
        )
        for row in records:
            cell = cells_get(cells, CellKey(row["_month"], False, 0, "", ""))
            cell.add("tr_records", row["_n"])
            cell.add(f"tr_course:{row['course']}", row["_n"])
            cell.add(f"tr_tenths:{row['course']}", round((row["_hours"] or Decimal(0)) * 10))
    return cells


def key_team(row: Mapping[str, Any]) -> CellKey:
    return CellKey(row["_month"], False, row["team_id"] or 0, "", "")


# --- entry points -----------------------------------------------------------------------------------

_COMPUTE = {CALLS: _calls, RESPONSE: _response, OUTCOMES: _outcomes, FOLLOWUP: _followup, TRAINING: _training}


def compute_family(
    family: str, start: dt.datetime, end: dt.datetime, filters: Filters | None = None, *, people: bool = True
) -> Cells:
    """Cells of ``family`` for ``[start, end)``: one per (month, dimension value), plus a total row per
    month. ``people``: add the distinct-people keys (only meaningful for whole months)."""
    filters = (filters or Filters()).only(LIVE_FILTERS[family])
    cells = _COMPUTE[family](start, end, filters)
    totals: Cells = {}
    for key, cell in cells.items():
        if not key.is_total:
            cells_get(totals, CellKey(key.month, True, 0, "", "")).merge(cell, skip_prefixes=NON_ADDITIVE_PREFIXES)
    cells.update(totals)
    if family == OUTCOMES and people:
        _people_keys(cells, start, end, filters)
    return cells


def first_contact_times(followup_ids: Iterable[int]) -> dict[int, dt.datetime]:
    """First successful contact per follow-up (for drill-downs)."""
    rows = (
        FollowUpAttempt.objects.filter(followup_id__in=list(followup_ids), outcome__in=CONTACT_OUTCOMES)
        .values("followup_id")
        .annotate(first=Min("at"))
    )
    return {r["followup_id"]: r["first"] for r in rows}
