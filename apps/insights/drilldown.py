"""Drill-down from a number to the records behind it, and the supervisors' live operations panel.

- Incidents (supervisors, clinical supervisors): the calls behind a calls / response / delivery number,
  with dispatch fields only (no caller or subject identity, no free text; incidents hold no clinical
  text at all).
- Encounters (clinical supervisors): the encounters behind an outcomes number, within the clinical
  scope rules (apps.clinical.policy), with their risk level, dispositions and the officer section's
  flags; no narrative. Every encounter listed is written to the clinical access log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay
from django.utils import timezone

from apps.accounts.models import User
from apps.clinical.audit import access_log_record
from apps.clinical.models import AccessLog, Disposition, Encounter, IvcRecord
from apps.clinical.policy import Actor, Category, categories_for, encounter_scope_q
from apps.core.errors import Invalid, NotFound
from apps.core.timefmt import local_zone
from apps.incidents.models import Assignment, Incident
from apps.incidents.selectors import active_assignment_of, incident_board, team_availability
from apps.referrals.models import FollowUp, Referral
from apps.teams.models import Team

from .compute import CONTACT_KINDS, NOT_SCREENED, REPEAT_WINDOWS_DAYS, Filters, Seconds, local_month
from .periods import Period, month_key
from .selectors import ENCOUNTER_DRILL_ROLES, INCIDENT_DRILL_ROLES, LIVE_ROLES

NUMERATOR, DENOMINATOR = "numerator", "denominator"


def _served() -> Exists:
    return Exists(
        Assignment.objects.filter(
            incident_id=OuterRef("pk"), on_scene_at__isnull=False, team__kind=Team.Kind.CO_RESPONSE
        )
    )


def _not_served_reason(key: str) -> Q:
    dispatched = Incident.TriageOutcome.DISPATCH_CO_RESPONSE
    base = Q(coresponse_eligible=True, _served=False)
    if key == "dispatched_not_on_scene":
        return base & Q(not_served_reason="", triage_outcome=dispatched)
    if key == "not_recorded":
        return base & Q(not_served_reason="") & ~Q(triage_outcome=dispatched)
    return base & Q(not_served_reason=key)


def _share(num: Q, den: Q) -> Callable[[str], Q]:
    def pick(key: str) -> Q:
        if key == NUMERATOR:
            return den & num
        if key == DENOMINATOR:
            return den
        raise Invalid("Unknown drill-down.", errors={"key": ["Use numerator or denominator."]})

    return pick


_ELIGIBLE = Q(coresponse_eligible=True)
# measure → key → filter on incidents (annotated with ``_served``, ``_dow``, ``_hour``).
INCIDENT_CELLS: dict[str, Callable[[str], Q]] = {
    "calls.total": lambda key: Q(),
    "calls.by_source": lambda key: Q(source=key),
    "calls.by_call_type": lambda key: Q(call_type_code="" if key == "none" else key),
    "calls.by_priority": lambda key: Q(priority=int(key)),
    "calls.by_hour_of_week": lambda key: Q(_dow=int(key) // 24 + 1, _hour=int(key) % 24),
    "calls.eligibility": lambda key: {
        "yes": Q(coresponse_eligible=True),
        "no": Q(coresponse_eligible=False),
        "unknown": Q(coresponse_eligible__isnull=True),
    }[key],
    "calls.triage_outcomes": lambda key: Q(triage_outcome="" if key == "none" else key),
    "calls.not_served_reasons": _not_served_reason,
    "calls.eligible_served": _share(Q(_served=True), _ELIGIBLE),
    "calls.diverted_by_phone": _share(Q(triage_outcome=Incident.TriageOutcome.RESOLVED_BY_PHONE), _ELIGIBLE),
}
# Measures about assignments: the calls that had an assignment (of the team, when one is given).
ASSIGNMENT_MEASURES = (
    "response.received_to_offered",
    "response.offered_to_seen",
    "response.offered_to_accepted",
    "response.accepted_to_on_scene",
    "response.on_scene_duration",
    "response.received_to_cleared",
    "delivery.seen_within_20s",
    "delivery.escalations",
    "training.calls_cit_officer",
)


def _disp(field: str, value: str) -> Q:
    return Q(Exists(Disposition.objects.filter(encounter_id=OuterRef("pk"), **{field: value})))


_OFFICER = Q(officer_section__isnull=False)
_REFERRAL = Q(Exists(Referral.objects.filter(encounter_id=OuterRef("pk"))))
_IVC = Q(Exists(IvcRecord.objects.filter(encounter_id=OuterRef("pk")))) | _disp("code", Disposition.Code.IVC_INITIATED)
_ARREST = _disp("code", Disposition.Code.ARREST) | Q(officer_section__police_action="arrest")
# measure → key → filter on encounters (``repeat.contacts`` also needs the ``_gap`` annotation).
ENCOUNTER_CELLS: dict[str, Callable[[str], Q]] = {
    "outcomes.encounters": lambda key: Q(kind=key),
    "outcomes.dispositions": lambda key: _disp("code", key),
    "outcomes.dispositions_apco": lambda key: _disp("apco_code", "" if key == "none" else key),
    "outcomes.risk_mix": lambda key: Q(risk_level="" if key == NOT_SCREENED else key),
    "outcomes.unique_people": lambda key: Q(person_id__isnull=False),
    "clinical.ivc_pathways": lambda key: Q(ivc__pathway=key),
    "outcomes.resolved_on_scene": _share(_disp("code", "resolved_on_scene"), Q()),
    "outcomes.referral_made": _share(_REFERRAL, Q()),
    "outcomes.transport_crisis_facility": _share(_disp("code", "transport_crisis_facility"), Q()),
    "outcomes.transport_ed": _share(_disp("code", "transport_ed"), Q()),
    "outcomes.ivc": _share(_IVC, Q()),
    "outcomes.arrest": _share(_ARREST, Q()),
    "outcomes.arrest_diverted": _share(Q(arrest_diverted=True), Q()),
    "outcomes.ed_diverted": _share(Q(ed_diverted=True), Q()),
    "outcomes.use_of_force": _share(Q(officer_section__use_of_force=True), _OFFICER),
    "outcomes.subject_injured": _share(Q(officer_section__subject_injured=True), _OFFICER),
    "outcomes.officer_injured": _share(Q(officer_section__officer_injured=True), _OFFICER),
    "repeat.contacts": lambda key: {
        "30d": Q(_gap__gte=0, _gap__lte=REPEAT_WINDOWS_DAYS[0] * 86400),
        "90d": Q(_gap__gte=0, _gap__lte=REPEAT_WINDOWS_DAYS[1] * 86400),
    }[key],
}


def _month_filter(field: str, period: Period, month: str | None) -> dict[str, Any]:
    start, end = period.bounds()
    lookups: dict[str, Any] = {f"{field}__gte": start, f"{field}__lt": end}
    if month and month not in {month_key(m) for m in period.months()}:
        raise Invalid("Unknown month.", errors={"month": [f"Not a month of {period.label}."]})
    return lookups


def _cell_q(cells: dict[str, Callable[[str], Q]], measure: str, key: str) -> Q:
    pick = cells.get(measure)
    if pick is None:
        raise Invalid(
            "This number has no drill-down here.",
            errors={"measure": [f"Drill-downs exist for: {', '.join(sorted(cells))}."]},
        )
    try:
        return pick(key)
    except (KeyError, ValueError) as exc:
        raise Invalid("Unknown drill-down.", errors={"key": [f"No row {key!r} in {measure}."]}) from exc


def incident_drilldown(
    *, user: User, period: Period, measure: str, key: str, filters: Filters, month: str | None = None
) -> QuerySet[Incident]:
    if not user.has_role(*INCIDENT_DRILL_ROLES):
        raise NotFound("Not found.")
    qs = Incident.objects.filter(**_month_filter("received_at", period, month)).annotate(
        _month=local_month("received_at"),
        _served=_served(),
        _dow=ExtractIsoWeekDay("received_at", tzinfo=local_zone()),
        _hour=ExtractHour("received_at", tzinfo=local_zone()),
    )
    if month:
        qs = qs.filter(_month=dt.date.fromisoformat(month + "-01"))
    if filters.call_type:
        qs = qs.filter(call_type_code=filters.call_type)
    if filters.source:
        qs = qs.filter(source=filters.source)
    if measure in ASSIGNMENT_MEASURES:
        offers = Assignment.objects.filter(incident_id=OuterRef("pk"))
        if filters.team is not None:
            offers = offers.filter(team_id=filters.team)
        qs = qs.filter(Exists(offers))
    else:
        qs = qs.filter(_cell_q(INCIDENT_CELLS, measure, key))
    responding = Assignment.objects.filter(incident_id=OuterRef("pk")).order_by("-offered_at", "-id")
    return qs.annotate(
        team_call_sign=Subquery(responding.values("team__call_sign")[:1]),
        assignment_status=Subquery(responding.values("status")[:1]),
    ).order_by("received_at", "id")


def incident_row(incident: Incident) -> dict[str, Any]:
    """Dispatch fields only (DOMAIN.md §2 for a supervisor's aggregate QA; no identity, no free text)."""
    return {
        "id": incident.pk,
        "cad_number": incident.cad_number,
        "received_at": incident.received_at.isoformat(),
        "source": incident.source,
        "call_type": incident.call_type_code,
        "priority": incident.priority,
        "status": incident.status,
        "beat": incident.beat,
        "district": incident.district,
        "coresponse_eligible": incident.coresponse_eligible,
        "triage_outcome": incident.triage_outcome,
        "not_served_reason": incident.not_served_reason,
        "team": getattr(incident, "team_call_sign", None),
        "assignment_status": getattr(incident, "assignment_status", None),
    }


def encounter_drilldown(
    *, actor: Actor, period: Period, measure: str, key: str, filters: Filters, month: str | None = None
) -> QuerySet[Encounter]:
    user = actor.user
    scope = encounter_scope_q(user)
    if not user.has_role(*ENCOUNTER_DRILL_ROLES) or scope is None:
        raise NotFound("Not found.")
    previous = Subquery(
        Encounter.objects.filter(
            person_id=OuterRef("person_id"), started_at__lt=OuterRef("started_at"), kind__in=CONTACT_KINDS
        )
        .order_by("-started_at")
        .values("started_at")[:1]
    )
    qs = Encounter.objects.filter(scope, kind__in=CONTACT_KINDS, **_month_filter("started_at", period, month))
    if month:
        qs = qs.annotate(_month=local_month("started_at")).filter(_month=dt.date.fromisoformat(month + "-01"))
    if filters.team is not None:
        qs = qs.filter(team_id=filters.team)
    if filters.call_type:
        qs = qs.filter(incident__call_type_code=filters.call_type)
    if filters.source:
        qs = qs.filter(incident__source=filters.source)
    cell = _cell_q(ENCOUNTER_CELLS, measure, key)
    if measure == "repeat.contacts":
        qs = qs.annotate(_gap=Seconds(F("started_at"), previous))
    return (
        qs.filter(cell)
        .select_related("team", "officer_section")
        .prefetch_related("dispositions")
        .order_by("started_at", "id")
    )


ENCOUNTER_LIST_CATEGORIES = frozenset(
    {Category.OPERATIONAL, Category.RISK, Category.DISPOSITION, Category.OFFICER_SECTION}
)


def encounter_rows(*, actor: Actor, encounters: list[Encounter]) -> list[dict[str, Any]]:
    """The page of encounters as the clinical supervisor may see them; each read is logged."""
    rows = []
    for e in encounters:
        cats = categories_for(actor.user, e) & ENCOUNTER_LIST_CATEGORIES
        section = getattr(e, "officer_section", None) if Category.OFFICER_SECTION in cats else None
        rows.append(
            {
                "id": str(e.pk),
                "started_at": e.started_at.isoformat(),
                "kind": e.kind,
                "team": e.team.call_sign if e.team else None,
                "incident_id": e.incident_id,
                "person_id": str(e.person_id) if e.person_id and Category.SUBJECT in categories_for(actor.user, e)
                else None,
                "risk_level": (e.risk_level or None) if Category.RISK in cats else None,
                "dispositions": [
                    {"code": d.code, "apco_code": d.apco_code} for d in e.dispositions.all()
                ] if Category.DISPOSITION in cats else [],
                "arrest_diverted": e.arrest_diverted,
                "ed_diverted": e.ed_diverted,
                "officer_section": {
                    "police_action": section.police_action,
                    "use_of_force": section.use_of_force,
                    "subject_injured": section.subject_injured,
                    "officer_injured": section.officer_injured,
                    "transport": section.transport,
                } if section is not None else None,
            }
        )  # fmt: skip
        access_log_record(
            actor=actor,
            action=AccessLog.Action.READ,
            record_type="insights_drilldown",
            record_id=e.pk,
            categories=cats,
            encounter_id=e.pk,
            person_id=e.person_id,
        )
    return rows


# --- live operations ------------------------------------------------------------------------------


def live_operations(*, user: User, now: dt.datetime | None = None) -> dict[str, Any]:
    """Now: open calls, teams on duty and their status, unassigned high-priority calls, overdue follow-ups."""
    if not user.has_role(*LIVE_ROLES):
        raise NotFound("Not found.")
    now = now or timezone.now()
    threshold = int(getattr(settings, "INSIGHTS_HIGH_PRIORITY", 7))
    board = list(incident_board(user=user)[:200])
    open_total = Incident.objects.filter(status__in=Incident.OPEN_STATUSES).count()
    by_status = dict(
        Incident.objects.filter(status__in=Incident.OPEN_STATUSES)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )

    def call(incident: Incident) -> dict[str, Any]:
        active = active_assignment_of(incident)
        return {
            "id": incident.pk,
            "received_at": incident.received_at.isoformat(),
            "age_seconds": max(0, int((now - incident.received_at).total_seconds())),
            "priority": incident.priority,
            "call_type": incident.call_type_code,
            "source": incident.source,
            "status": incident.status,
            "beat": incident.beat,
            "district": incident.district,
            "address": incident.address,
            "weapon_present": incident.weapon_present,
            "assignment": None
            if active is None
            else {
                "id": active.pk,
                "team": active.team.call_sign,
                "status": active.status,
                "offered_at": active.offered_at.isoformat(),
                "acknowledged_at": active.acknowledged_at.isoformat() if active.acknowledged_at else None,
            },
        }

    calls = [call(i) for i in board]
    teams = []
    for on_duty in team_availability(at=now):
        current = on_duty.assignments[0] if on_duty.assignments else None
        teams.append(
            {
                "team_id": on_duty.team.pk,
                "call_sign": on_duty.team.call_sign,
                "status": on_duty.status,
                "shift_ends_at": on_duty.shift.ends_at.isoformat(),
                "members": [{"name": m.user.display_name, "role": m.role} for m in on_duty.members],
                "assignment": None
                if current is None
                else {"incident_id": current.incident_id, "status": current.status},
                "minutes_since_clear": None
                if on_duty.last_cleared_at is None
                else int((now - on_duty.last_cleared_at).total_seconds() // 60),
            }
        )
    overdue = FollowUp.objects.open().filter(due_at__lt=now)
    oldest = overdue.order_by("due_at").values_list("due_at", flat=True).first()
    by_assignee = [
        {"assignee_id": r["assignee_id"], "assignee": f"{r['assignee__first_name']} {r['assignee__last_name']}".strip(),
         "count": r["n"]}
        for r in overdue.values("assignee_id", "assignee__first_name", "assignee__last_name")
        .annotate(n=Count("pk"))
        .order_by("-n", "assignee_id")
    ]  # fmt: skip
    return {
        "as_of": now.isoformat(),
        "open_calls": {"total": open_total, "by_status": by_status, "items": calls},
        "teams": teams,
        "unassigned_high_priority": {
            "threshold": threshold,
            "items": [c for c in calls if c["assignment"] is None and c["priority"] >= threshold],
        },
        "overdue_followups": {
            "total": overdue.count(),
            "oldest_due_at": oldest.isoformat() if oldest else None,
            "by_assignee": by_assignee,
        },
    }
