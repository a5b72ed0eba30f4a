"""Every write to reminders: schedule, cancel, and the sweep that delivers them.

The sweep is safe to run twice at once (two beats, an overlapping slow run): rows are claimed with a
status transition ``scheduled`` → ``sending`` (under ``SELECT … FOR UPDATE SKIP LOCKED`` where the
database has it; the conditional UPDATE alone is enough on SQLite, whose writers are serialised), and
each channel is recorded in a ``Delivery`` row unique per (reminder, channel).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import Invalid
from apps.realtime.push import push_send_to_user
from apps.realtime.services import event_emit

from . import channels
from .events import REMINDER_DUE
from .models import Delivery, Reminder
from .registry import reminder_is_obsolete

log = logging.getLogger(__name__)

EVENT_TYPE = REMINDER_DUE.name
TITLE_MAX = 120
EVENT_CHUNK = 20  # reminder events written per transaction


@dataclass(frozen=True)
class SubjectRef:
    """A subject that is not (or not yet) a model instance: ``SubjectRef("clinical.note", "17")``."""

    type: str
    id: str


Subject = models.Model | SubjectRef


def subject_ref(subject: Subject) -> SubjectRef:
    if isinstance(subject, SubjectRef):
        return subject
    if subject.pk is None:
        raise Invalid("The reminder's subject must be saved first.", errors={"subject": ["Unsaved object."]})
    return SubjectRef(type=subject._meta.label_lower, id=str(subject.pk))


# --- schedule / cancel ----------------------------------------------------------------------------


def _validate(*, due_at: dt.datetime, title: str, url: str, dedupe_key: str, kind: str) -> None:
    errors: dict[str, list[str]] = {}
    if timezone.is_naive(due_at):
        errors["due_at"] = ["Must be timezone-aware (UTC)."]
    if kind not in Reminder.Kind.values:
        errors["kind"] = [f"Unknown kind {kind!r}."]
    if not title.strip() or len(title) > TITLE_MAX:
        errors["title"] = ["Give a short title (1–120 characters)."]
    # An app path only: an absolute URL in a reminder e-mail is a phishing vector.
    if not url.startswith("/") or url.startswith("//") or len(url) > 300 or any(c.isspace() for c in url):
        errors["url"] = ["Must be an app path starting with '/', e.g. /referrals/42."]
    if not dedupe_key or len(dedupe_key) > 200:
        errors["dedupe_key"] = ["Required, at most 200 characters."]
    if errors:
        raise Invalid("The reminder is not valid.", errors=errors)


def reminder_schedule(
    *,
    recipient: User,
    kind: str,
    due_at: dt.datetime,
    subject: Subject,
    title: str,
    url: str,
    dedupe_key: str,
) -> Reminder:
    """Schedule a reminder; idempotent by ``dedupe_key``.

    Scheduling the same key again returns the existing row unchanged (whatever its state), so a
    retried caller never schedules a reminder twice. Runs in the caller's transaction if there is one.
    Use keys like ``"referral:42:followup:7:due"`` so that ``reminder_cancel_by_key_prefix`` can
    cancel a whole family.
    """
    _validate(due_at=due_at, title=title, url=url, dedupe_key=dedupe_key, kind=kind)
    ref = subject_ref(subject)
    due_utc = due_at.astimezone(dt.UTC)
    with transaction.atomic():
        reminder, _created = Reminder.objects.get_or_create(
            dedupe_key=dedupe_key,
            defaults={
                "recipient": recipient,
                "kind": kind,
                "due_at": due_utc,
                "next_attempt_at": due_utc,
                "subject_type": ref.type,
                "subject_id": ref.id,
                "title": title.strip(),
                "url": url,
            },
        )
    return reminder


def _cancel(qs: models.QuerySet[Reminder], reason: str) -> int:
    # Only rows not yet claimed: a row in "sending" is past the point of no return, and the sweep asks
    # the obsolescence registry right before it sends.
    return qs.filter(status=Reminder.Status.SCHEDULED).update(
        status=Reminder.Status.CANCELLED, cancelled_at=timezone.now(), last_error=reason[:300]
    )


def reminder_cancel_for(*, subject: Subject, kinds: list[str] | None = None, reason: str = "cancelled") -> int:
    """Cancel the scheduled reminders about ``subject`` (optionally only ``kinds``). Returns how many."""
    ref = subject_ref(subject)
    qs = Reminder.objects.filter(subject_type=ref.type, subject_id=ref.id)
    if kinds is not None:
        qs = qs.filter(kind__in=kinds)
    return _cancel(qs, reason)


def reminder_cancel_by_key_prefix(*, prefix: str, reason: str = "cancelled") -> int:
    """Cancel the scheduled reminders whose dedupe key starts with ``prefix``. Returns how many."""
    if not prefix:
        raise Invalid("A prefix is required.", errors={"prefix": ["Required."]})
    return _cancel(Reminder.objects.filter(dedupe_key__startswith=prefix), reason)


def reminders_cancel(*, ids: list[int], reason: str = "cancelled") -> int:
    """Cancel the given reminders that are still scheduled. Returns how many."""
    return _cancel(Reminder.objects.filter(id__in=ids), reason)


# --- the sweep ------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    recovered: int = 0
    claimed: int = 0
    sent: int = 0
    cancelled: int = 0
    retried: int = 0
    failed: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)


def reminders_recover_stuck(*, now: dt.datetime | None = None) -> int:
    """Put rows stuck in ``sending`` (their worker died) back to ``scheduled``, attempts + 1.

    Their ``Delivery`` rows survive, so the next sweep sends only the channels that did not go out.
    A row that has used up its attempts is marked ``failed`` instead (visible in the admin).
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.REMINDERS_SENDING_TIMEOUT_SECONDS)
    stuck = Reminder.objects.filter(status=Reminder.Status.SENDING, claimed_at__lt=cutoff)
    failed = stuck.filter(attempts__gte=settings.REMINDERS_MAX_ATTEMPTS - 1).update(
        status=Reminder.Status.FAILED,
        attempts=F("attempts") + 1,
        claim_token=None,
        last_error="worker lost while sending; attempts exhausted",
    )
    recovered = stuck.update(
        status=Reminder.Status.SCHEDULED,
        attempts=F("attempts") + 1,
        claim_token=None,
        next_attempt_at=now,
        last_error="recovered: worker lost while sending",
    )
    if recovered or failed:
        log.warning("reminders: recovered %d stuck row(s), %d failed for good", recovered, failed)
    return recovered


def _claim(*, now: dt.datetime, limit: int) -> tuple[uuid.UUID, list[Reminder]]:
    token = uuid.uuid4()
    with transaction.atomic():
        due = Reminder.objects.due(now)
        if connection.features.has_select_for_update_skip_locked:
            # Rows another sweep is claiming right now are skipped, not waited for.
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("id", flat=True)[:limit])
        if ids:
            # The status condition makes the claim safe by itself: a row already taken is not taken again.
            Reminder.objects.filter(id__in=ids, status=Reminder.Status.SCHEDULED).update(
                status=Reminder.Status.SENDING, claimed_at=timezone.now(), claim_token=token
            )
    if not ids:
        return token, []
    return token, list(
        # By primary key (claim_token has no index); the token keeps only the rows this sweep won.
        Reminder.objects.filter(id__in=ids, claim_token=token, status=Reminder.Status.SENDING)
        .select_related("recipient")
        .order_by("next_attempt_at", "id")
    )


def _finish(reminder: Reminder, token: uuid.UUID, **changes: object) -> bool:
    """Leave ``sending`` only if the row is still ours (a recovered-and-reclaimed row is not)."""
    return bool(
        Reminder.objects.filter(pk=reminder.pk, status=Reminder.Status.SENDING, claim_token=token).update(
            claim_token=None, **changes
        )
    )


def _deliver_events(reminders: list[Reminder], done: dict[int, set[str]]) -> None:
    """Write the reminder events of a batch to the event log, exactly once each.

    Each event commits together with its ``Delivery`` row, so the event log gets it once however the
    worker dies. Several reminders share one transaction (far fewer commits under load), in small
    chunks so the recipients' stream locks are held only briefly; if a chunk fails, its reminders
    are retried one by one so one bad row cannot hold back the others.
    """
    pending = [r for r in reminders if Delivery.Channel.EVENT not in done[r.pk]]
    for start in range(0, len(pending), EVENT_CHUNK):
        chunk = pending[start : start + EVENT_CHUNK]
        try:
            _emit_events(chunk)
        except Exception:
            for reminder in chunk:
                try:
                    _emit_events([reminder])
                except IntegrityError:
                    # Another sweep recorded it first (only after a recovery race): not sent twice.
                    log.info("reminder %s: event already delivered by another sweep", reminder.pk)
                except Exception:
                    log.warning("reminder %s: event log write failed", reminder.pk, exc_info=True)
                    continue
                done[reminder.pk].add(Delivery.Channel.EVENT)
            continue
        for reminder in chunk:
            done[reminder.pk].add(Delivery.Channel.EVENT)


def _emit_events(reminders: list[Reminder]) -> None:
    now = timezone.now()
    with transaction.atomic():
        for reminder in reminders:
            event_emit(type=EVENT_TYPE, recipients=[reminder.recipient], data=channels.event_payload(reminder))
        Delivery.objects.bulk_create(
            [
                Delivery(reminder=r, channel=Delivery.Channel.EVENT, outcome=Delivery.Outcome.SENT, at=now)
                for r in reminders
            ]
        )


def _record(reminder: Reminder, channel: str, outcome: str, detail: str = "") -> None:
    # ignore_conflicts: if a racing sweep recorded the channel first, keep its row.
    Delivery.objects.bulk_create(
        [Delivery(reminder=reminder, channel=channel, outcome=outcome, detail=detail[:200], at=timezone.now())],
        ignore_conflicts=True,
    )


def _deliver_push(reminder: Reminder, done: set[str]) -> None:
    if Delivery.Channel.PUSH in done:
        return
    outcome = push_send_to_user(reminder.recipient, channels.push_payload(reminder))
    if outcome.sent:
        _record(reminder, Delivery.Channel.PUSH, Delivery.Outcome.SENT, f"{outcome.sent} device(s)")
    elif outcome.failed:
        # Every device failed (push service down): raise so the reminder is retried with back-off;
        # the event log entry already went out and is not repeated.
        raise RuntimeError(f"push failed for all {outcome.failed} device(s)")
    else:
        _record(reminder, Delivery.Channel.PUSH, Delivery.Outcome.SKIPPED, "no push subscriptions")


def _deliver_email(reminder: Reminder, done: set[str]) -> None:
    if Delivery.Channel.EMAIL in done:
        return
    address = reminder.recipient.email
    if not address:
        _record(reminder, Delivery.Channel.EMAIL, Delivery.Outcome.SKIPPED, "no e-mail address")
        return
    # A bounded timeout: a hung SMTP server must not outlive the "sending" timeout and get the row
    # recovered while we are still inside send_mail.
    conn = get_connection(timeout=settings.REMINDERS_EMAIL_TIMEOUT_SECONDS)
    send_mail(
        subject=channels.EMAIL_SUBJECT,
        message=channels.email_body(reminder),
        from_email=None,
        recipient_list=[address],
        connection=conn,
    )
    # The window between send_mail returning and this row committing is the one place a crash can
    # repeat a channel (at-least-once): better a second e-mail than a missed follow-up.
    _record(reminder, Delivery.Channel.EMAIL, Delivery.Outcome.SENT)


def _retry_delay(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


def _cancelled_before_send(reminder: Reminder, token: uuid.UUID) -> bool:
    reason = ""
    if not reminder.recipient.is_active:
        reason = "inactive"
    elif reminder_is_obsolete(reminder):
        reason = "obsolete"
    if reason:
        _finish(reminder, token, status=Reminder.Status.CANCELLED, cancelled_at=timezone.now(), last_error=reason)
    return bool(reason)


def _give_back(reminder: Reminder, token: uuid.UUID, problems: list[str], result: SweepResult) -> None:
    """A channel failed: retry later with back-off (channels already done are not repeated), or mark
    the reminder failed once its attempts are used up."""
    attempts = reminder.attempts + 1
    message = "; ".join(problems)[:300]
    result.errors.append(f"{reminder.pk}: {message}")
    if attempts >= settings.REMINDERS_MAX_ATTEMPTS:
        _finish(reminder, token, status=Reminder.Status.FAILED, attempts=attempts, last_error=message)
        result.failed += 1
    else:
        _finish(
            reminder,
            token,
            status=Reminder.Status.SCHEDULED,
            attempts=attempts,
            last_error=message,
            next_attempt_at=timezone.now() + _retry_delay(attempts),
        )
        result.retried += 1


def reminders_deliver(*, claimed: list[Reminder], token: uuid.UUID, result: SweepResult) -> None:
    """Deliver claimed reminders on every channel not yet done, then mark them sent."""
    live = []
    for reminder in claimed:
        if _cancelled_before_send(reminder, token):
            result.cancelled += 1
        else:
            live.append(reminder)
    done: dict[int, set[str]] = {r.pk: set() for r in live}
    for reminder_id, channel in Delivery.objects.filter(reminder__in=live).values_list("reminder_id", "channel"):
        done[reminder_id].add(channel)

    _deliver_events(live, done)
    delivered: list[int] = []
    for reminder in live:
        problems = [] if Delivery.Channel.EVENT in done[reminder.pk] else ["event: not written"]
        # Each channel on its own: a push service outage must not hold back the e-mail.
        for deliver in (_deliver_push, _deliver_email):
            try:
                deliver(reminder, done[reminder.pk])
            except Exception as exc:
                problems.append(f"{deliver.__name__.removeprefix('_deliver_')}: {type(exc).__name__}: {exc}")
                log.warning("reminder %s: %s failed", reminder.pk, deliver.__name__, exc_info=True)
        if problems:
            _give_back(reminder, token, problems, result)
        else:
            delivered.append(reminder.pk)
    if delivered:
        # Only rows still ours: one recovered and re-claimed by another sweep meanwhile is theirs.
        result.sent += Reminder.objects.filter(
            pk__in=delivered, status=Reminder.Status.SENDING, claim_token=token
        ).update(status=Reminder.Status.SENT, sent_at=timezone.now(), claim_token=None, last_error="")


def reminders_sweep(
    *, now: dt.datetime | None = None, batch_size: int | None = None, budget_seconds: float | None = None
) -> SweepResult:
    """Recover stuck rows, then claim and deliver due reminders in small batches until none are due
    or the time budget is spent (the next beat tick carries on)."""
    result = SweepResult()
    result.recovered = reminders_recover_stuck(now=now)
    batch = batch_size or settings.REMINDERS_BATCH_SIZE
    budget = settings.REMINDERS_SWEEP_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    started = time.monotonic()
    while time.monotonic() - started < budget:
        token, claimed = _claim(now=now or timezone.now(), limit=batch)
        if not claimed:
            break
        result.batches += 1
        result.claimed += len(claimed)
        reminders_deliver(claimed=claimed, token=token, result=result)
    if result.claimed or result.recovered:
        log.info(
            "reminders sweep: claimed=%d sent=%d cancelled=%d retried=%d failed=%d recovered=%d",
            result.claimed,
            result.sent,
            result.cancelled,
            result.retried,
            result.failed,
            result.recovered,
        )
    return result
