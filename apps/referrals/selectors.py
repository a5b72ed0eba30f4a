"""Reads of referrals and follow-ups with the permission check built in.

Scope is the clinical app's: a referral or follow-up is visible to whoever may open its encounter
(apps/clinical/policy.py ``encounter_scope_q``); anything else is a 404. Within scope, operational
roles (officer, dispatcher, supervisor) get existence and status only; clinicians, care navigators
and clinical supervisors also get the details (type, agency, notes, attempts), and those reads are
written to the clinical access log.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from apps.accounts.models import User
from apps.clinical.models import AccessLog, Encounter, Person
from apps.clinical.policy import ENCOUNTER_READERS, Actor, Category, encounter_scope_q, may_read_part2
from apps.core.errors import NotFound
from apps.core.timefmt import local_day_bounds, to_local

from .models import FollowUp, FollowUpAttempt, Referral, ReferralStatusChange, ReferralType
from .policy import DETAIL_ROLES, QUEUE_ROLES, SUPERVISOR_ROLES, WRITER_ROLES

Bucket = Literal["due_today", "overdue", "upcoming"]
BUCKETS: tuple[str, ...] = ("due_today", "overdue", "upcoming")
LIST_LIMIT = 200


def shows_details(user: User) -> bool:
    """Referral details and follow-up notes are clinical-ish: clinical roles only (DOMAIN.md §2)."""
    return bool(user.roles & DETAIL_ROLES)


# A referral to substance-use treatment discloses 42 CFR Part 2 information by its type alone: its
# details (type, agency, notes, attempt notes) only for Part 2 readers (the clinical person view agrees).
PART2_REFERRAL_TYPES = frozenset({ReferralType.SUBSTANCE_USE.value})


def referral_details_visible(user: User, referral_type: str | None) -> bool:
    if not shows_details(user):
        return False
    return referral_type not in PART2_REFERRAL_TYPES or may_read_part2(user)


OPEN_STATUSES = (Referral.Status.MADE, Referral.Status.SCHEDULED)


def person_open_referrals(person: Person, user: User) -> list[dict[str, Any]]:
    """A person's open referrals for the clinical person view (registered with apps.clinical.hooks):
    type, agency, status and dates only, never their notes; substance-use ones only for Part 2
    readers. The person view's own access check and log cover the read."""
    qs = Referral.objects.filter(person=person, status__in=OPEN_STATUSES)
    if not may_read_part2(user):
        qs = qs.exclude(type__in=PART2_REFERRAL_TYPES)
    rows = qs.order_by("made_at", "id").values("id", "type", "agency_id", "status", "made_at", "encounter_id")[:50]
    return [{k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in row.items()} for row in rows]


def encounter_referrals(encounter: Encounter, user: User) -> list[dict[str, Any]]:
    """An encounter's referrals for its clinical view (registered with apps.clinical.hooks): type,
    agency (with its phone), notes, status and dates. The encounter view checked access and logs the
    read as clinical narrative. A substance-use referral shows its details only to Part 2 readers;
    the others see that it exists (``restricted``)."""
    rows: list[dict[str, Any]] = []
    for referral in (
        Referral.objects.filter(encounter=encounter)
        .select_related("agency", "made_by")
        .order_by("made_at", "id")[:LIST_LIMIT]
    ):
        row: dict[str, Any] = {
            "id": str(referral.pk),
            "status": referral.status,
            "made_at": referral.made_at,
            "restricted": not referral_details_visible(user, referral.type),
        }
        if not row["restricted"]:
            agency = referral.agency
            row |= {
                "type": referral.type,
                "agency": {"id": agency.pk, "name": agency.name, "phone": agency.phone} if agency else None,
                "notes": referral.notes,
                "made_by": referral.made_by.display_name,
            }
        rows.append(row)
    return rows


def encounter_care_counts(encounter: Encounter) -> tuple[int, int]:
    """(referrals, follow-ups) of the encounter, whoever may read them: what the prompts ask for."""
    return Referral.objects.filter(encounter=encounter).count(), FollowUp.objects.filter(encounter=encounter).count()


def _encounter_scope(user: User, readers: frozenset[str] = ENCOUNTER_READERS) -> Q | None:
    """A filter on ``encounter`` for the records this user may see; None: nothing at all."""
    if not user.roles & readers:
        return None
    scope = encounter_scope_q(user)
    if scope is None:
        return None
    if not scope:  # every encounter: no subquery needed
        return Q()
    return Q(encounter__in=Encounter.objects.filter(scope).values("pk"))


def _log_reads(actor: Actor, record_type: str, rows: list[tuple[object, uuid.UUID, uuid.UUID | None]]) -> None:
    """One access-log row per record read with details (one INSERT for a whole list)."""
    user = actor.user
    AccessLog.objects.bulk_create(
        [
            AccessLog(
                user=user,
                roles=",".join(sorted(user.roles)),
                action=AccessLog.Action.READ,
                record_type=record_type,
                record_id=str(record_id)[:64],
                encounter_id=encounter_id,
                person_id=person_id,
                categories=Category.NARRATIVE,
                ip=actor.ip,
                user_agent=actor.user_agent[:300],
            )
            for record_id, encounter_id, person_id in rows
        ]
    )


# --- referrals -------------------------------------------------------------------------------------


def _referral_qs() -> QuerySet[Referral]:
    return Referral.objects.select_related("agency", "made_by", "status_changed_by", "encounter")


def referral_list(
    *, actor: Actor, encounter_id: uuid.UUID | None = None, person_id: uuid.UUID | None = None
) -> tuple[list[Referral], bool]:
    """Referrals in the user's scope, newest first (at most 200), and whether details are shown."""
    scope = _encounter_scope(actor.user)
    if scope is None:
        return [], False
    qs = _referral_qs().filter(scope)
    if encounter_id is not None:
        qs = qs.filter(encounter_id=encounter_id)
    if person_id is not None:
        qs = qs.filter(person_id=person_id)
    referrals = list(qs.order_by("-made_at", "id")[:LIST_LIMIT])
    details = shows_details(actor.user)
    if details and referrals:
        _log_reads(actor, "referral_list", [(r.pk, r.encounter_id, r.person_id) for r in referrals])
    return referrals, details


def referral_get(*, actor: Actor, referral_id: uuid.UUID | str) -> tuple[Referral, bool]:
    scope = _encounter_scope(actor.user)
    if scope is None:
        raise NotFound("Referral not found.")
    try:
        referral = (
            _referral_qs()
            .prefetch_related(Prefetch("changes", queryset=ReferralStatusChange.objects.select_related("by")))
            .filter(scope)
            .get(pk=referral_id)
        )
    except (Referral.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("Referral not found.") from exc
    details = shows_details(actor.user)
    if details:
        _log_reads(actor, "referral", [(referral.pk, referral.encounter_id, referral.person_id)])
    return referral, details


def referral_for_write(*, user: User, referral_id: uuid.UUID | str) -> Referral:
    scope = _encounter_scope(user, WRITER_ROLES)
    if scope is None:
        raise NotFound("Referral not found.")
    try:
        return _referral_qs().filter(scope).get(pk=referral_id)
    except (Referral.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("Referral not found.") from exc


# --- follow-ups --------------------------------------------------------------------------------------


def _followup_qs(*, attempts: bool = True) -> QuerySet[FollowUp]:
    qs = FollowUp.objects.select_related("assignee", "person", "referral", "referral__agency").annotate(
        attempt_count=Count("attempts")
    )
    # For clinical roles the attempts come along (one more query per page): the navigator's card
    # shows the history. Roles that see no details do not load them.
    return (
        qs.prefetch_related(Prefetch("attempts", queryset=FollowUpAttempt.objects.select_related("by")))
        if attempts
        else qs
    )


def bucket_filter(bucket: str, now: dt.datetime) -> Q:
    """Disjoint buckets of open follow-ups: overdue (due before now), due today (from now to the end of
    today in America/New_York) and upcoming (after today)."""
    _start, end_of_today = local_day_bounds(to_local(now).date())
    if bucket == "overdue":
        return Q(due_at__lt=now)
    if bucket == "due_today":
        return Q(due_at__gte=now, due_at__lt=end_of_today)
    if bucket == "upcoming":
        return Q(due_at__gte=end_of_today)
    raise ValueError(bucket)


def followup_queue(
    *,
    user: User,
    bucket: str | None = None,
    assignee_id: int | None = None,
    status: str = FollowUp.Status.OPEN,
    now: dt.datetime | None = None,
) -> QuerySet[FollowUp]:
    """The care-navigation queue: follow-ups in the user's scope, by due time."""
    scope = _encounter_scope(user, QUEUE_ROLES)
    if scope is None:
        return FollowUp.objects.none()
    qs = _followup_qs(attempts=shows_details(user)).filter(scope, status=status)
    if bucket is not None:
        qs = qs.filter(bucket_filter(bucket, now or timezone.now()))
    if assignee_id is not None:
        qs = qs.filter(assignee_id=assignee_id)
    return qs.order_by("due_at", "id")


def followups_overdue(*, user: User, now: dt.datetime | None = None) -> QuerySet[FollowUp]:
    """The supervisors' view: every open overdue follow-up across the program."""
    if not user.roles & SUPERVISOR_ROLES:
        return FollowUp.objects.none()
    return followup_queue(user=user, bucket="overdue", now=now)


def followup_get(*, actor: Actor, followup_id: int) -> tuple[FollowUp, bool]:
    scope = _encounter_scope(actor.user, QUEUE_ROLES)
    if scope is None:
        raise NotFound("Follow-up not found.")
    try:
        followup = _followup_qs().filter(scope).get(pk=followup_id)
    except (FollowUp.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("Follow-up not found.") from exc
    details = shows_details(actor.user)
    if details:
        _log_reads(actor, "followup", [(followup.pk, followup.encounter_id, followup.person_id)])
    return followup, details


def followup_for_write(*, user: User, followup_id: int) -> FollowUp:
    """The follow-up, locked for the rest of the transaction (two attempts at once count correctly)."""
    scope = _encounter_scope(user, QUEUE_ROLES)
    if scope is None:
        raise NotFound("Follow-up not found.")
    try:
        return (
            FollowUp.objects.select_for_update(of=("self",))
            .select_related("encounter", "assignee")
            .filter(scope)
            .get(pk=followup_id)
        )
    except (FollowUp.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("Follow-up not found.") from exc
