"""Every write to referrals and follow-ups. Each checks access (the clinical scope, so a record the
user may not see is a 404), validates everything before writing, and runs in one transaction: a
refused write leaves nothing behind, and the reminders it schedules roll back with it.

``grep -n "^def " apps/referrals/services.py`` lists every way these records change.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.clinical.audit import access_log_record
from apps.clinical.models import AccessLog, Disposition, Encounter, IvcRecord, Person
from apps.clinical.policy import Actor, Category
from apps.clinical.selectors import encounter_for_write
from apps.core.errors import Conflict, Invalid, NotFound
from apps.realtime.services import event_emit
from apps.reminders.models import Reminder
from apps.reminders.services import reminder_cancel_for, reminder_schedule

from .models import Agency, FollowUp, FollowUpAttempt, Referral, ReferralStatusChange, ReferralType
from .policy import ASSIGNABLE_ROLES, ED_TRANSPORT_CODES, SUPERVISOR_ROLES, WRITER_ROLES, followup_rules
from .selectors import followup_for_write, referral_for_write

log = logging.getLogger(__name__)

NOTE_MAX = 2000
REASON_MAX = 500
FUTURE_SLACK = dt.timedelta(minutes=5)  # phone clocks drift
REMINDER_TITLE = "Follow-up due"  # shown in the app's event log: never clinical
ESCALATION_TITLE = "Follow-up overdue"


def _require_writer(user: User) -> None:
    if not user.roles & WRITER_ROLES:
        raise NotFound("Encounter not found.")


def _text(errors: dict[str, list[str]], name: str, value: str, limit: int) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        errors[name] = [f"At most {limit} characters."]
    return value


def _log_write(actor: Actor, record: Referral | FollowUp | FollowUpAttempt, encounter: Encounter) -> None:
    access_log_record(
        actor=actor,
        action=AccessLog.Action.WRITE,
        record_type=record._meta.model_name or "record",
        record_id=record.pk,
        categories={Category.NARRATIVE},
        encounter_id=encounter.pk,
        person_id=encounter.person_id,
    )


# --- referrals -------------------------------------------------------------------------------------


@transaction.atomic
def referral_create(
    *,
    actor: Actor,
    encounter_id: uuid.UUID,
    type: str,
    referral_id: uuid.UUID | None = None,
    agency_id: int | None = None,
    person_id: uuid.UUID | None = None,
    notes: str = "",
    made_at: dt.datetime | None = None,
) -> Referral:
    """A clinician refers the person of an encounter; the follow-up policy runs right away."""
    _require_writer(actor.user)
    encounter = encounter_for_write(user=actor.user, encounter_id=encounter_id).encounter
    errors: dict[str, list[str]] = {}
    if type not in ReferralType.values:
        errors["type"] = ["Unknown referral type."]
    agency = None
    if agency_id is not None:
        agency = Agency.objects.filter(pk=agency_id, is_active=True).first()
        if agency is None:
            errors["agency_id"] = ["No such active agency."]
    person: Person | None = encounter.person
    if person_id is not None:
        if person is not None and person.pk != person_id:
            errors["person_id"] = ["The encounter is about another person."]
        else:
            person = Person.objects.filter(pk=person_id, merged_into__isnull=True).first()
            if person is None:
                errors["person_id"] = ["No such person (or merged: use the surviving record)."]
    elif person is None:
        errors["person_id"] = ["The encounter has no person yet: give person_id."]
    notes = _text(errors, "notes", notes, NOTE_MAX)
    now = timezone.now()
    if made_at is not None:
        if made_at > now + FUTURE_SLACK:
            errors["made_at"] = ["Cannot be in the future."]
        elif made_at < encounter.started_at - FUTURE_SLACK:
            errors["made_at"] = ["Cannot precede the encounter."]
    if errors:
        raise Invalid("The referral is not valid.", errors=errors)
    if person is None:  # pragma: no cover - reported as a field error above
        raise Invalid("The referral is not valid.", errors={"person_id": ["Required."]})
    rid = referral_id or uuid.uuid4()
    if Referral.objects.filter(pk=rid).exists():
        raise Conflict("A referral with this id already exists.", current={"id": str(rid)})
    moment = made_at or now
    try:
        with transaction.atomic():  # a savepoint: the same client id arriving twice at once is a 409
            referral = Referral.objects.create(
                id=rid,
                person=person,
                encounter=encounter,
                type=type,
                agency=agency,
                notes=notes,
                made_at=moment,
                made_by=actor.user,
                status_changed_at=moment,
                status_changed_by=actor.user,
            )
    except IntegrityError as exc:
        raise Conflict("A referral with this id already exists.", current={"id": str(rid)}) from exc
    ReferralStatusChange.objects.create(
        referral=referral, from_status="", to_status=Referral.Status.MADE, by=actor.user
    )
    _log_write(actor, referral, encounter)
    followup_policy_apply(encounter=encounter, referral=referral)
    return referral


def _transition(referral_id: uuid.UUID, *, to: str, by: User, reason: str = "", **changes: object) -> str | None:
    """Move a referral to ``to`` if its current status allows it (a conditional UPDATE, safe against a
    concurrent change). Returns the status it came from, or None if it was not allowed."""
    for current in Referral.OPEN:
        if to not in Referral.TRANSITIONS[current]:
            continue
        updated = Referral.objects.filter(pk=referral_id, status=current).update(
            status=to, status_reason=reason, status_changed_at=timezone.now(), status_changed_by=by, **changes
        )
        if updated:
            ReferralStatusChange.objects.create(
                referral_id=referral_id, from_status=current, to_status=to, reason=reason, by=by
            )
            return current
    return None


@transaction.atomic
def referral_status_set(
    *,
    actor: Actor,
    referral_id: uuid.UUID,
    status: str,
    reason: str = "",
    scheduled_for: dt.datetime | None = None,
) -> Referral:
    referral = referral_for_write(user=actor.user, referral_id=referral_id)
    errors: dict[str, list[str]] = {}
    if status not in Referral.Status.values:
        errors["status"] = [f"One of {', '.join(Referral.Status.values)}."]
    reason = _text(errors, "reason", reason, REASON_MAX)
    if status == Referral.Status.CLOSED and not reason:
        errors["reason"] = ["A reason is required to close a referral."]
    if scheduled_for is not None and status != Referral.Status.SCHEDULED:
        errors["scheduled_for"] = ["Only with status 'scheduled'."]
    if errors:
        raise Invalid("The status change is not valid.", errors=errors)
    extra: dict[str, object] = {"scheduled_for": scheduled_for} if status == Referral.Status.SCHEDULED else {}
    if _transition(referral.pk, to=status, by=actor.user, reason=reason, **extra) is None:
        current = Referral.objects.values_list("status", flat=True).get(pk=referral.pk)
        raise Conflict(
            f"A referral cannot go from {current!r} to {status!r}.",
            errors={"status": [f"Allowed from {current!r}: {sorted(Referral.TRANSITIONS[current]) or 'none'}."]},
            current={"status": current},
        )
    referral.refresh_from_db()
    _log_write(actor, referral, referral.encounter)
    return referral


# --- follow-ups: creation by policy, assignment, reminders --------------------------------------------


def followup_pick_assignee(*, fallback: User | None) -> User | None:
    """The least-loaded active care navigator (fewest open follow-ups; ties by id), else ``fallback``."""
    navigator = (
        User.objects.filter(is_active=True, groups__name=Role.CARE_NAVIGATOR)
        .annotate(load=Count("followups", filter=Q(followups__status=FollowUp.Status.OPEN), distinct=True))
        .order_by("load", "id")
        .first()
    )
    return navigator or fallback


def _escalation_recipients() -> list[User]:
    """Overdue follow-ups escalate to the clinical supervisors, else to the supervisors."""
    for role in (Role.CLINICAL_SUPERVISOR, Role.SUPERVISOR):
        users = list(User.objects.filter(is_active=True, groups__name=role).order_by("id"))
        if users:
            return users
    return []


def _key(followup: FollowUp, stage: str) -> str:
    version = "" if followup.assignment_version == 1 else f":v{followup.assignment_version}"
    return f"followup:{followup.pk}:{stage}{version}"


def followup_schedule_reminders(*, followup: FollowUp) -> list[Reminder]:
    """Before due and at due to the assignee; after the grace, an escalation to the supervisors.

    Idempotent (dedupe keys); titles and links carry no health information.
    """
    url = f"/followups/{followup.pk}"
    now = timezone.now()
    before = followup.due_at - dt.timedelta(hours=settings.REFERRALS_REMINDER_BEFORE_HOURS)
    overdue = followup.due_at + dt.timedelta(hours=settings.REFERRALS_OVERDUE_GRACE_HOURS)
    scheduled: list[Reminder] = []
    if before > now:  # a "coming due" reminder for a moment already past is noise
        scheduled.append(
            reminder_schedule(
                recipient=followup.assignee,
                kind=Reminder.Kind.FOLLOW_UP_BEFORE_DUE,
                due_at=before,
                subject=followup,
                title="Follow-up coming due",
                url=url,
                dedupe_key=_key(followup, "before"),
            )
        )
    scheduled.append(
        reminder_schedule(
            recipient=followup.assignee,
            kind=Reminder.Kind.FOLLOW_UP_DUE,
            due_at=followup.due_at,
            subject=followup,
            title=REMINDER_TITLE,
            url=url,
            dedupe_key=_key(followup, "due"),
        )
    )
    for user in _escalation_recipients():
        scheduled.append(
            reminder_schedule(
                recipient=user,
                kind=Reminder.Kind.FOLLOW_UP_OVERDUE_ESCALATION,
                due_at=overdue,
                subject=followup,
                title=ESCALATION_TITLE,
                url=url,
                # Not versioned: a reassignment does not move the escalation.
                dedupe_key=f"followup:{followup.pk}:overdue:{user.pk}",
            )
        )
    return scheduled


def _emit_assigned(followup: FollowUp) -> None:
    """Tell the assignee's PWA to refresh its queue: ids and the due time only, never the reason."""
    event_emit(
        type="followup.assigned",
        recipients=[followup.assignee],
        data={"followup_id": followup.pk, "due_at": followup.due_at.isoformat(), "url": f"/followups/{followup.pk}"},
    )


def followup_reminder_is_obsolete(reminder: Reminder) -> bool:
    """For the reminder sweep: a reminder about a finished follow-up, or one for a former assignee,
    is cancelled instead of sent."""
    row = FollowUp.objects.filter(pk=reminder.subject_id).values_list("status", "assignee_id").first()
    if row is None:
        # Follow-ups are never deleted; a reminder naming no row was scheduled by someone else under
        # our subject type. Like a failing check, "unknown" sends (a needless reminder beats a missed one).
        return False
    status, assignee_id = row
    if status != FollowUp.Status.OPEN:
        return True
    if reminder.kind == Reminder.Kind.FOLLOW_UP_OVERDUE_ESCALATION:
        return False
    return bool(assignee_id != reminder.recipient_id)


@transaction.atomic
def followup_policy_apply(*, encounter: Encounter, referral: Referral | None = None) -> list[FollowUp]:
    """Create the follow-ups the policy calls for that do not exist yet (see apps/referrals/policy.py)."""
    created: list[FollowUp] = []
    rules = followup_rules(encounter, referral)
    if not rules:
        return created
    existing = set(FollowUp.objects.filter(policy_key__in=[r.key for r in rules]).values_list("policy_key", flat=True))
    fallback = (referral.made_by if referral else None) or encounter.clinician or encounter.created_by
    person_id = referral.person_id if referral else encounter.person_id
    for rule in rules:
        if rule.key in existing:
            continue
        assignee = followup_pick_assignee(fallback=fallback)
        if assignee is None:  # pragma: no cover - created_by is never null
            continue
        try:
            with transaction.atomic():
                followup = FollowUp.objects.create(
                    person_id=person_id,
                    encounter=encounter,
                    referral=rule.referral,
                    reason=rule.reason,
                    policy_key=rule.key,
                    due_at=rule.due_at,
                    assignee=assignee,
                )
        except IntegrityError:
            continue  # a concurrent application created it first
        followup_schedule_reminders(followup=followup)
        _emit_assigned(followup)
        created.append(followup)
    return created


def followup_policy_sweep(*, now: dt.datetime | None = None) -> int:
    """Apply the policy to encounters whose triggers were recorded in the clinical app recently (high
    risk, IVC release, ED transport). Safe to run twice: each rule creates its task once."""
    now = now or timezone.now()
    since = now - dt.timedelta(hours=settings.REFERRALS_POLICY_LOOKBACK_HOURS)
    ids = set(
        Encounter.objects.filter(risk_level=Encounter.Risk.HIGH, updated_at__gte=since).values_list("id", flat=True)
    )
    ids |= set(
        IvcRecord.objects.filter(outcome=IvcRecord.Outcome.RELEASED, updated_at__gte=since).values_list(
            "encounter_id", flat=True
        )
    )
    ids |= set(
        Disposition.objects.filter(code__in=ED_TRANSPORT_CODES, recorded_at__gte=since).values_list(
            "encounter_id", flat=True
        )
    )
    count = 0
    for encounter in Encounter.objects.filter(pk__in=ids).select_related("clinician", "created_by"):
        count += len(followup_policy_apply(encounter=encounter))
    return count


# --- follow-ups: work ----------------------------------------------------------------------------------


def _finish(followup: FollowUp, *, status: str, reason: str, by: User, why: str) -> None:
    followup.status = status
    followup.closed_reason = reason
    followup.closed_at = timezone.now()
    followup.closed_by = by
    followup.save(update_fields=["status", "closed_reason", "closed_at", "closed_by", "failed_attempts"])
    reminder_cancel_for(subject=followup, reason=why)


def _not_open(followup: FollowUp) -> Conflict:
    return Conflict(
        "This follow-up is no longer open.",
        current={"status": followup.status, "closed_reason": followup.closed_reason},
    )


@transaction.atomic
def followup_attempt_log(
    *,
    actor: Actor,
    followup_id: int,
    method: str,
    outcome: str,
    at: dt.datetime | None = None,
    note: str = "",
) -> FollowUpAttempt:
    """Log one contact attempt. Reached/linked completes the follow-up (linked also links the referral),
    declined closes it, and the N-th failed attempt closes it as unreachable; the rest of its
    reminders are cancelled."""
    _require_writer(actor.user)
    followup = followup_for_write(user=actor.user, followup_id=followup_id)
    errors: dict[str, list[str]] = {}
    if method not in FollowUpAttempt.Method.values:
        errors["method"] = [f"One of {', '.join(FollowUpAttempt.Method.values)}."]
    if outcome not in FollowUpAttempt.Outcome.values:
        errors["outcome"] = [f"One of {', '.join(FollowUpAttempt.Outcome.values)}."]
    note = _text(errors, "note", note, NOTE_MAX)
    now = timezone.now()
    if at is not None and at > now + FUTURE_SLACK:
        errors["at"] = ["Cannot be in the future."]
    elif at is not None and at < followup.encounter.started_at:
        errors["at"] = ["Cannot precede the encounter."]
    if errors:
        raise Invalid("The attempt is not valid.", errors=errors)
    if not followup.is_open:
        raise _not_open(followup)
    attempt = FollowUpAttempt.objects.create(
        followup=followup, at=at or now, method=method, outcome=outcome, note=note, by=actor.user
    )
    outcomes = FollowUpAttempt.Outcome
    referral_to = None
    if outcome in (outcomes.REACHED, outcomes.LINKED):
        label = outcomes(outcome).label
        _finish(followup, status=FollowUp.Status.DONE, reason=str(label), by=actor.user, why="follow-up done")
        referral_to = Referral.Status.LINKED if outcome == outcomes.LINKED else None
    elif outcome == outcomes.DECLINED:
        _finish(followup, status=FollowUp.Status.CLOSED, reason="Declined", by=actor.user, why="follow-up closed")
        referral_to = Referral.Status.DECLINED
    else:
        followup.failed_attempts += 1
        limit = settings.REFERRALS_MAX_FAILED_ATTEMPTS
        if followup.failed_attempts >= limit:
            reason = f"Unreachable after {followup.failed_attempts} failed attempts"
            _finish(followup, status=FollowUp.Status.CLOSED, reason=reason, by=actor.user, why="follow-up closed")
            referral_to = Referral.Status.UNREACHABLE
        else:
            followup.save(update_fields=["failed_attempts"])
    if referral_to is not None and followup.referral_id is not None:
        # Only an open referral moves; one already linked or closed stays as it is.
        _transition(followup.referral_id, to=referral_to, by=actor.user, reason=f"Follow-up attempt {attempt.pk}")
    _log_write(actor, attempt, followup.encounter)
    return attempt


@transaction.atomic
def followup_close(*, actor: Actor, followup_id: int, reason: str) -> FollowUp:
    _require_writer(actor.user)
    followup = followup_for_write(user=actor.user, followup_id=followup_id)
    errors: dict[str, list[str]] = {}
    reason = _text(errors, "reason", reason, REASON_MAX)
    if not reason and "reason" not in errors:
        errors["reason"] = ["A reason is required to close a follow-up."]
    if errors:
        raise Invalid("The follow-up cannot be closed like this.", errors=errors)
    if not followup.is_open:
        raise _not_open(followup)
    _finish(followup, status=FollowUp.Status.CLOSED, reason=reason, by=actor.user, why="follow-up closed")
    _log_write(actor, followup, followup.encounter)
    return followup


@transaction.atomic
def followup_reassign(*, actor: Actor, followup_id: int, assignee_id: int) -> FollowUp:
    if not actor.user.roles & SUPERVISOR_ROLES:
        raise NotFound("Follow-up not found.")
    followup = followup_for_write(user=actor.user, followup_id=followup_id)
    assignee = User.objects.filter(pk=assignee_id, is_active=True).prefetch_related("groups").first()
    if assignee is None or not assignee.roles & ASSIGNABLE_ROLES:
        raise Invalid(
            "The follow-up cannot be assigned to this user.",
            errors={"assignee_id": ["Not an active care navigator or clinician."]},
        )
    if not followup.is_open:
        raise _not_open(followup)
    if followup.assignee_id == assignee.pk:
        return followup
    reminder_cancel_for(
        subject=followup,
        kinds=[Reminder.Kind.FOLLOW_UP_BEFORE_DUE, Reminder.Kind.FOLLOW_UP_DUE],
        reason="follow-up reassigned",
    )
    followup.assignee = assignee
    followup.assignment_version += 1
    followup.save(update_fields=["assignee", "assignment_version"])
    followup_schedule_reminders(followup=followup)
    _emit_assigned(followup)
    log.info("follow-up %s reassigned to user %s by %s", followup.pk, assignee.pk, actor.user.pk)
    return followup
