"""Reads of clinical data with the permission check built in: out of scope → NotFound (404).

Every read that returns clinical content writes an access-log row (apps/clinical/audit.py).
"""

from __future__ import annotations

import datetime as dt
import difflib
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.postgres.lookups import TrigramWordSimilar
from django.db import connection, transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import NotFound

from . import hooks
from .audit import access_log_record
from .models import (
    AccessLog,
    Addendum,
    ClinicalNote,
    CssrsScreen,
    Disposition,
    Encounter,
    IvcRecord,
    Person,
    SafetyPlan,
)
from .policy import (
    CLINICAL_CONTENT,
    ENCOUNTER_READERS,
    PERSON_READERS,
    Actor,
    Category,
    active_break_glass,
    categories_for,
    encounter_scope_q,
)

# ``search_name__trigram_word_similar`` (the ``<%`` operator, served by the GIN trigram index) without
# adding django.contrib.postgres to INSTALLED_APPS; only used when pg_trgm is installed.
Person._meta.get_field("search_name").register_lookup(TrigramWordSimilar)


@dataclass(frozen=True)
class EncounterView:
    encounter: Encounter
    categories: frozenset[str]
    break_glass: bool = False
    # Who is looking (for parts other apps add to the view, e.g. the encounter's referrals).
    viewer: User | None = None

    def allows(self, category: str) -> bool:
        return category in self.categories


def _encounter_qs() -> QuerySet[Encounter]:
    return Encounter.objects.select_related("person", "team", "clinician", "officer").prefetch_related(
        Prefetch("dispositions", queryset=Disposition.objects.order_by("recorded_at", "id")),
        Prefetch(
            "notes",
            queryset=ClinicalNote.objects.order_by("created_at")
            .select_related("author", "signed_by", "cosigned_by")
            .prefetch_related("addenda__author"),
        ),
        Prefetch("screens", queryset=CssrsScreen.objects.order_by("screened_at", "id")),
        Prefetch("safety_plans", queryset=SafetyPlan.objects.order_by("-created_at")),
    )


def _resolve(user: User, encounter_id: uuid.UUID | str) -> EncounterView:
    if not user.roles & ENCOUNTER_READERS:
        raise NotFound("Encounter not found.")
    scope = encounter_scope_q(user)
    try:
        encounter = _encounter_qs().get(pk=encounter_id)
    except (Encounter.DoesNotExist, ValueError, TypeError) as exc:  # a malformed UUID is "not found" too
        raise NotFound("Encounter not found.") from exc
    in_scope = scope is not None and Encounter.objects.filter(scope, pk=encounter.pk).exists()
    normal = categories_for(user, encounter) if in_scope else frozenset()
    # A grant matters only where normal access falls short (out of scope, or no narrative), so
    # ordinary reads are never mislabelled as emergency access in the log.
    grant = active_break_glass(user, encounter) if Category.NARRATIVE not in normal else None
    if not in_scope and grant is None:
        raise NotFound("Encounter not found.")
    if grant is None:
        return EncounterView(encounter=encounter, categories=normal, viewer=user)
    return EncounterView(
        encounter=encounter,
        categories=categories_for(user, encounter, break_glass=True),
        break_glass=True,
        viewer=user,
    )


def encounter_get(*, actor: Actor, encounter_id: uuid.UUID | str, audit: bool = True) -> EncounterView:
    """The encounter as ``actor.user`` may see it; logs the read of any clinical content."""
    view = _resolve(actor.user, encounter_id)
    if audit:
        access_log_record(
            actor=actor,
            action=AccessLog.Action.READ,
            record_type="encounter",
            record_id=view.encounter.pk,
            categories=view.categories,
            encounter_id=view.encounter.pk,
            person_id=view.encounter.person_id,
            break_glass=view.break_glass,
        )
    return view


def encounter_list(*, actor: Actor, person_id: uuid.UUID | None = None, open_only: bool = False) -> list[EncounterView]:
    """Encounters in the user's normal scope (break-glass grants open single records only)."""
    user = actor.user
    scope = encounter_scope_q(user) if user.roles & ENCOUNTER_READERS else None
    if scope is None:
        return []
    # Summaries only: person, team and dispositions; no notes or screens are loaded for a list.
    qs = (
        Encounter.objects.filter(scope)
        .select_related("person", "team")
        .prefetch_related(Prefetch("dispositions", queryset=Disposition.objects.order_by("recorded_at", "id")))
    )
    if person_id is not None:
        qs = qs.filter(person_id=person_id)
    if open_only:
        qs = qs.filter(closed_at__isnull=True)
    views = [EncounterView(e, categories_for(user, e), viewer=user) for e in qs.order_by("-started_at")[:200]]
    # The officer's high-risk flag is a clinical fact too: its reads are logged like the rest.
    logged = CLINICAL_CONTENT | {Category.HIGH_RISK_FLAG}
    clinical = [v for v in views if v.categories & logged]
    if clinical:
        AccessLog.objects.bulk_create(
            [
                AccessLog(
                    user=user,
                    roles=",".join(sorted(user.roles)),
                    action=AccessLog.Action.READ,
                    record_type="encounter_list",
                    record_id=str(v.encounter.pk),
                    encounter_id=v.encounter.pk,
                    person_id=v.encounter.person_id,
                    categories=",".join(sorted(v.categories & logged)),
                    ip=actor.ip,
                    user_agent=actor.user_agent,
                )
                for v in clinical
            ]
        )
    return views


def encounter_for_write(*, user: User, encounter_id: uuid.UUID | str) -> EncounterView:
    """Like encounter_get without the read log (the write logs itself); break-glass never writes."""
    view = _resolve(user, encounter_id)
    if view.break_glass:
        scope = encounter_scope_q(user)
        if scope is None or not Encounter.objects.filter(scope, pk=view.encounter.pk).exists():
            raise NotFound("Encounter not found.")
    return view


def note_get(*, actor: Actor, note_id: uuid.UUID | str, audit: bool = True) -> tuple[ClinicalNote, EncounterView]:
    try:
        encounter_id = ClinicalNote.objects.values_list("encounter_id", flat=True).get(pk=note_id)
    except (ClinicalNote.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("Note not found.") from exc
    view = _resolve(actor.user, encounter_id)
    if Category.NARRATIVE not in view.categories:
        raise NotFound("Note not found.")
    note = ClinicalNote.objects.select_related("author", "signed_by", "cosigned_by").get(pk=note_id)
    if audit:
        access_log_record(
            actor=actor,
            action=AccessLog.Action.READ,
            record_type="note",
            record_id=note.pk,
            categories=view.categories & CLINICAL_CONTENT,
            encounter_id=view.encounter.pk,
            person_id=view.encounter.person_id,
            break_glass=view.break_glass,
        )
    return note, view


# --- persons ----------------------------------------------------------------------------------------


@dataclass
class PersonMatch:
    person: Person
    score: float


def _require_person_reader(user: User) -> None:
    if not user.roles & PERSON_READERS:
        raise NotFound("Person not found.")


_trigram_checked: dict[str, bool] = {}


def _trigram_available() -> bool:
    """Whether this database has pg_trgm (checked once per database alias and process)."""
    if connection.vendor != "postgresql":
        return False
    if connection.alias not in _trigram_checked:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            _trigram_checked[connection.alias] = cursor.fetchone() is not None
    return _trigram_checked[connection.alias]


def _similarity(query: str, candidate: str) -> float:
    return difflib.SequenceMatcher(None, query, candidate).ratio()


def person_search(
    *, actor: Actor, q: str = "", dob: dt.date | None = None, limit: int = 20, threshold: float = 0.6
) -> list[PersonMatch]:
    """Typo-tolerant search by name (and aliases) and/or date of birth.

    SQL narrows to a candidate set, then difflib scores full names, aliases and single tokens in
    Python. Candidates: on PostgreSQL with pg_trgm, any name within trigram word similarity 0.3 of a
    query token (GIN index, migration 0004); elsewhere a shared two-letter prefix of a token (so a
    typo in the first two letters of every token is found there only through the DOB); and always
    the exact DOB.
    """
    _require_person_reader(actor.user)
    tokens = [t for t in q.lower().split() if t][:6]
    if not tokens and dob is None:
        return []
    trigram = _trigram_available()
    cond = Q()
    for token in tokens:
        cond |= Q(search_name__trigram_word_similar=token) if trigram else Q(search_name__contains=token[:2])
    if dob is not None:
        cond = (cond | Q(date_of_birth=dob)) if tokens else Q(date_of_birth=dob)
    qs = Person.objects.filter(cond, merged_into__isnull=True)[:2000]
    if trigram:
        with transaction.atomic(), connection.cursor() as cursor:
            # SET LOCAL: the looser threshold ends with this transaction, never leaks into the pool.
            cursor.execute("SET LOCAL pg_trgm.word_similarity_threshold = 0.3")
            candidates = list(qs)
    else:
        candidates = list(qs)
    query = " ".join(tokens)
    matches: list[PersonMatch] = []
    for person in candidates:
        names = [n for n in person.search_name.split(" | ") if n] or [""]
        score = max(_similarity(query, n) for n in names) if query else 0.0
        # Token-level: "smtih" vs "john smith" scores low as a whole; best per-token match helps.
        if tokens:
            parts = [p for n in names for p in n.split()]
            per_token = [max((_similarity(t, p) for p in parts), default=0.0) for t in tokens]
            score = max(score, sum(per_token) / len(per_token))
        if dob is not None and person.date_of_birth == dob:
            score = score + 0.5 if query else 1.0
        if score >= threshold:
            matches.append(PersonMatch(person, round(min(score, 1.5), 3)))
    matches.sort(key=lambda m: (-m.score, m.person.last_name, m.person.first_name))
    result = matches[:limit]
    # One row per person shown (never the query text: it holds names).
    AccessLog.objects.bulk_create(
        [
            AccessLog(
                user=actor.user,
                roles=",".join(sorted(actor.user.roles)),
                action=AccessLog.Action.READ,
                record_type="person_search",
                record_id=str(m.person.pk),
                person_id=m.person.pk,
                categories=Category.SUBJECT,
                ip=actor.ip,
                user_agent=actor.user_agent,
            )
            for m in result
        ]
    )
    return result


@dataclass
class PersonView:
    person: Person
    encounters: list[EncounterView]
    safety_plan: SafetyPlan | None
    safety_plan_elsewhere: SafetyPlan | None = None  # exists, outside the viewer's scope
    open_referrals: list[dict[str, Any]] = field(default_factory=list)
    merged_from: list[Person] = field(default_factory=list)


def person_get(*, actor: Actor, person_id: uuid.UUID | str) -> PersonView:
    """A person with prior encounters (summaries within the user's scope), the active safety plan
    and open referrals. A merged-away id answers with the survivor."""
    _require_person_reader(actor.user)
    try:
        person = Person.objects.get(pk=person_id)
    except (Person.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("Person not found.") from exc
    while person.merged_into_id is not None:
        person = Person.objects.get(pk=person.merged_into_id)
    encounters = encounter_list(actor=actor, person_id=person.pk)
    plan = SafetyPlan.objects.filter(person=person, is_active=True).order_by("-created_at").first()
    # The plan's text only for those who may open the encounter it was made in (a clinician of
    # another team sees that a plan exists, and may break the glass for it).
    plan_visible = plan is not None and any(
        v.encounter.pk == plan.encounter_id and Category.NARRATIVE in v.categories for v in encounters
    )
    access_log_record(
        actor=actor,
        action=AccessLog.Action.READ,
        record_type="person",
        record_id=person.pk,
        categories={Category.SUBJECT, Category.NARRATIVE} if plan_visible else {Category.SUBJECT},
        person_id=person.pk,
    )
    return PersonView(
        person=person,
        encounters=encounters,
        safety_plan=plan if plan_visible else None,
        safety_plan_elsewhere=plan if plan is not None and not plan_visible else None,
        open_referrals=hooks.open_referrals(person, actor.user),
        merged_from=list(Person.objects.filter(merged_into=person)),
    )


# --- reminders hook ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueReminder:
    kind: str  # "note_unsigned" | "ivc_custody_window" | "ivc_first_exam_window"
    subject_type: str
    subject_id: str
    recipient_id: int
    due_at: dt.datetime


def clinical_due_reminders(now: dt.datetime | None = None) -> list[DueReminder]:
    """Clinical deadlines that are due at ``now``: notes unsigned N h after the encounter closed, and
    IVC custody orders with no custody recorded after N h, and custody with no first examination
    after N h (settings CLINICAL_*_REMINDER_HOURS).

    The services also schedule these as rows in apps.reminders; this is the same rule as a query,
    for a sweep or a report, and the check the reminder engine uses to drop obsolete reminders.
    """
    now = now or timezone.now()
    note_after = dt.timedelta(hours=settings.CLINICAL_UNSIGNED_NOTE_REMINDER_HOURS)
    custody_after = dt.timedelta(hours=settings.CLINICAL_IVC_CUSTODY_REMINDER_HOURS)
    due: list[DueReminder] = []
    notes = ClinicalNote.objects.filter(
        status=ClinicalNote.Status.DRAFT, encounter__closed_at__isnull=False, encounter__closed_at__lte=now - note_after
    ).values_list("id", "author_id", "encounter__closed_at")
    for note_id, author_id, closed_at in notes:
        if closed_at is None:  # excluded by the filter; narrows the type
            continue
        due.append(
            DueReminder("note_unsigned", "clinical.clinicalnote", str(note_id), author_id, closed_at + note_after)
        )
    ivcs = IvcRecord.objects.filter(
        custody_order_at__isnull=False,
        custody_order_at__lte=now - custody_after,
        custody_taken_at__isnull=True,
        outcome=IvcRecord.Outcome.PENDING,
    ).values_list("id", "updated_by_id", "custody_order_at")
    for ivc_id, user_id, order_at in ivcs:
        if order_at is None:
            continue
        due.append(
            DueReminder("ivc_custody_window", "clinical.ivcrecord", str(ivc_id), user_id, order_at + custody_after)
        )
    exams = IvcRecord.objects.filter(
        custody_taken_at__isnull=False,
        custody_taken_at__lte=now - custody_after,
        first_exam_at__isnull=True,
        outcome=IvcRecord.Outcome.PENDING,
    ).values_list("id", "updated_by_id", "custody_taken_at")
    for ivc_id, user_id, taken_at in exams:
        if taken_at is None:
            continue
        due.append(
            DueReminder("ivc_first_exam_window", "clinical.ivcrecord", str(ivc_id), user_id, taken_at + custody_after)
        )
    return due


def addenda_of(note: ClinicalNote) -> list[Addendum]:
    return list(note.addenda.select_related("author").order_by("created_at"))


# --- de-identified export (supervisors) -------------------------------------------------------------

# Not analysts: a row per encounter with its month and team identifies people even without names;
# analysts get aggregates from apps.insights (small cells suppressed).
EXPORT_ROLES = frozenset({"supervisor", "clinical_supervisor"})


def encounters_export(*, actor: Actor, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """Encounters started in [start, end) without identity or clinical content: month, kind, team,
    dispositions (program + APCO code) and diversion flags per row; risk levels only as totals
    (DOMAIN.md §2: analysts get risk in aggregate). Never narrative, never Part 2. Logged as export."""
    if not actor.user.roles & EXPORT_ROLES:
        raise NotFound("Not found.")
    qs = (
        Encounter.objects.filter(started_at__gte=start, started_at__lt=end)
        .select_related("team")
        .prefetch_related(Prefetch("dispositions", queryset=Disposition.objects.order_by("code")))
        .order_by("started_at")
    )
    rows: list[dict[str, Any]] = []
    risk_totals: dict[str, int] = {}
    disposition_totals: dict[str, int] = {}
    for e in qs:
        codes = [{"code": d.code, "apco_code": d.apco_code} for d in e.dispositions.all()]
        for d in codes:
            disposition_totals[d["code"]] = disposition_totals.get(d["code"], 0) + 1
        risk = e.risk_level or "not_screened"
        risk_totals[risk] = risk_totals.get(risk, 0) + 1
        rows.append(
            {
                "month": timezone.localtime(e.started_at).strftime("%Y-%m"),
                "kind": e.kind,
                "team": e.team.call_sign if e.team else None,
                "linked_to_incident": e.incident_id is not None,
                "dispositions": codes,
                "arrest_diverted": e.arrest_diverted,
                "ed_diverted": e.ed_diverted,
            }
        )
    access_log_record(
        actor=actor,
        action=AccessLog.Action.EXPORT,
        record_type="encounter_export",
        record_id=f"{start:%Y%m%d}-{end:%Y%m%d}",
        categories={Category.DISPOSITION, Category.OPERATIONAL},
    )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "rows": rows,
        "totals": {
            "encounters": len(rows),
            "risk_levels": risk_totals,
            "dispositions": disposition_totals,
            "arrest_diverted": sum(1 for r in rows if r["arrest_diverted"]),
            "ed_diverted": sum(1 for r in rows if r["ed_diverted"]),
        },
    }


# --- dispositions of calls, for the closed-calls search (apps.incidents.hooks) ----------------------
# The program codes only (DOMAIN.md §2: dispatchers and officers may know a call's disposition); no
# encounter content, so these reads are not clinical-content reads and are not access-logged.


def incidents_with_disposition(code: str) -> QuerySet[Disposition, Any]:
    """Ids of incidents one of whose encounters has disposition ``code`` (a subquery)."""
    return Disposition.objects.filter(code=code, encounter__incident__isnull=False).values("encounter__incident_id")


def disposition_codes_of_incidents(incident_ids: Collection[int]) -> dict[int, list[str]]:
    """Each incident's disposition codes, in the order recorded (one query)."""
    out: dict[int, list[str]] = {}
    rows = (
        Disposition.objects.filter(encounter__incident_id__in=list(incident_ids))
        .order_by("recorded_at", "id")
        .values_list("encounter__incident_id", "code")
    )
    for incident_id, code in rows:
        codes = out.setdefault(incident_id, [])
        if code not in codes:
            codes.append(code)
    return out
