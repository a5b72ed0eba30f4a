"""The telephone stages of an offer's escalation: plan, claim, send once, record what the provider says.

Runs in the beat task ``notifications.sweep`` (every ``NOTIFICATIONS_SWEEP_SECONDS``), after
apps.realtime's own stages (push at 20 s, the dispatcher alert at 60 s):

1. **plan** — for every offer nobody has seen (``apps.realtime.selectors.escalations_pending``) whose
   SMS (40 s) or voice (90 s) time has come, one ``Notification`` row per member and channel
   (unique per offer, person and channel: two sweeps plan it once);
2. **recover** — a row left in ``sending`` longer than ``NOTIFICATIONS_SENDING_TIMEOUT_SECONDS`` (its
   worker died) goes back to ``scheduled`` marked *needs reconcile*;
3. **claim** — due rows ``scheduled`` → ``sending`` (``SELECT … FOR UPDATE SKIP LOCKED`` + the status
   condition), committed before any network I/O;
4. **send** — re-check right before sending (still unseen and open, still on the team's shift, a
   verified number, not opted out, under the caps); a row that *needs reconcile* first asks the
   provider whether a text / call to that number already exists since the claim, and takes its id
   instead of sending again. Transient errors (5xx, 429, timeouts) go back with a doubling back-off
   and *needs reconcile*; refusals fail the row.

Status callbacks (``notification_status_record``) name the row by the token in their URL, so they
work even when the worker died before it stored the provider's id.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from apps.incidents.models import Assignment
from apps.incidents.services import team_member_ids
from apps.realtime.selectors import EscalationView, escalation_view, escalations_pending
from apps.realtime.services import dispatcher_recipients, event_emit

from . import wording
from .events import STAGE_EVENT
from .models import Notification, PhoneNumber
from .phones import phone_opt_out
from .provider import Provider, ProviderError, Sent, provider, public_url

log = logging.getLogger(__name__)

N = Notification
Status = Notification.Status
Channel = Notification.Channel
SUBJECT_PREFIX = "assignment:"
REF_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"  # no look-alikes (0/O, 1/I, 5/S, 8/B, 2/Z)
# When reconciling, the provider's clock and ours may differ a little.
CLOCK_SKEW = dt.timedelta(seconds=60)

# Provider statuses in the order they happen; a late callback never moves a row back.
SMS_ORDER = {"accepted": 1, "queued": 1, "sending": 2, "sent": 3, "delivered": 4, "undelivered": 4, "failed": 4}
SMS_ORDER["read"] = 5
CALL_ORDER = {"queued": 1, "initiated": 1, "ringing": 2, "in-progress": 3, "answered": 3}
CALL_ORDER |= {"completed": 4, "busy": 4, "no-answer": 4, "failed": 4, "canceled": 4}


def _stage_delays() -> dict[str, dt.timedelta]:
    return {
        Channel.SMS: dt.timedelta(seconds=settings.NOTIFICATIONS_SMS_AFTER_SECONDS),
        Channel.VOICE: dt.timedelta(seconds=settings.NOTIFICATIONS_VOICE_AFTER_SECONDS),
    }


def _ref() -> str:
    return "".join(secrets.choice(REF_ALPHABET) for _ in range(4))


def assignment_id_of(subject: str) -> int | None:
    if not subject.startswith(SUBJECT_PREFIX):
        return None
    ident = subject[len(SUBJECT_PREFIX) :]
    return int(ident) if ident.isdigit() else None


@dataclass
class SweepResult:
    planned: int = 0
    recovered: int = 0
    claimed: int = 0
    sent: int = 0
    reconciled: int = 0
    skipped: int = 0
    cancelled: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int)}


# --- events to the dispatchers ---------------------------------------------------------------------


def stage_frame(row: Notification) -> dict[str, Any]:
    """What the board learns: ids, channel and status. Never the number, never the text."""
    return {
        "subject": row.subject,
        "event_id": str(row.event_uid),
        "user_id": row.user_id,
        "channel": row.channel,
        "status": row.status,
        "provider_status": row.provider_status,
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
        "answered_at": row.answered_at.isoformat() if row.answered_at else None,
        "replied_at": row.replied_at.isoformat() if row.replied_at else None,
        "reply": row.reply,
        "detail": row.detail if row.status in (Status.SKIPPED, Status.FAILED) else "",
    }


def emit_stage(row_id: int) -> None:
    """Inside the transaction that changed the row: one ``notification.stage`` to the board."""
    row = Notification.objects.get(pk=row_id)
    event_emit(type=STAGE_EVENT, recipients=dispatcher_recipients(), data=stage_frame(row))


def _update(row: Notification, *, token: uuid.UUID | None, **changes: Any) -> bool:
    """Change a row we hold (``token``: only while it is still ours), with its board event."""
    with transaction.atomic():
        rows = Notification.objects.filter(pk=row.pk)
        if token is not None:
            rows = rows.filter(claim_token=token, status=Status.SENDING)
        if not rows.update(**changes):
            return False
        emit_stage(row.pk)
    return True


# --- 1. plan ------------------------------------------------------------------------------------------


def notifications_plan(*, now: dt.datetime | None = None) -> int:
    """Create the rows of every telephone stage that has come due for an offer nobody has seen."""
    now = now or timezone.now()
    delays = _stage_delays()
    since = now - dt.timedelta(minutes=settings.NOTIFICATIONS_LOOKBACK_MINUTES)
    views = [v for v in escalations_pending(since=since, subject_prefix=SUBJECT_PREFIX) if v.offered_at <= now]
    if not views:
        return 0
    existing = set(
        Notification.objects.filter(event_uid__in=[v.event_uid for v in views]).values_list(
            "event_uid", "user_id", "channel"
        )
    )
    new: list[Notification] = []
    for view in views:
        for channel, delay in delays.items():
            due = view.offered_at + delay
            if due > now:
                continue
            for user_id in view.recipients:
                if user_id in view.seen_by or (view.event_uid, user_id, channel) in existing:
                    continue
                new.append(
                    Notification(
                        subject=view.subject,
                        event_uid=view.event_uid,
                        user_id=user_id,
                        channel=channel,
                        ref=_ref(),
                        due_at=due,
                        next_attempt_at=due,
                    )
                )
    if new:
        # ignore_conflicts: a racing sweep planned the same (offer, person, channel) first.
        Notification.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


# --- 2. recover ---------------------------------------------------------------------------------------


def notifications_recover_stuck(*, now: dt.datetime | None = None) -> int:
    """Rows whose worker died in ``sending``: back to ``scheduled``, reconciled before any new send."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.NOTIFICATIONS_SENDING_TIMEOUT_SECONDS)
    recovered = Notification.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff).update(
        status=Status.SCHEDULED,
        claim_token=None,
        needs_reconcile=True,
        attempts=F("attempts") + 1,
        next_attempt_at=now,
        detail="recovered: the worker was lost while sending",
    )
    if recovered:
        log.warning("notifications: recovered %d row(s) stuck in sending", recovered)
    return recovered


# --- 3. claim -----------------------------------------------------------------------------------------


def _claim(*, now: dt.datetime, limit: int) -> tuple[uuid.UUID, list[Notification]]:
    token = uuid.uuid4()
    with transaction.atomic():
        due = Notification.objects.filter(status=Status.SCHEDULED, next_attempt_at__lte=now).order_by(
            "next_attempt_at", "id"
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("id", flat=True)[:limit])
        if ids:
            claimed_at = timezone.now()
            Notification.objects.filter(id__in=ids, status=Status.SCHEDULED).update(
                status=Status.SENDING,
                claim_token=token,
                claimed_at=claimed_at,
                first_claimed_at=Coalesce(F("first_claimed_at"), claimed_at),
            )
    if not ids:
        return token, []
    rows = Notification.objects.filter(id__in=ids, claim_token=token, status=Status.SENDING).order_by("id")
    return token, list(rows)


# --- 4. send ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    assignment_id: int
    status: str
    call_sign: str
    priority: int
    members: frozenset[int]


def _offer(subject: str) -> Offer | None:
    assignment_id = assignment_id_of(subject)
    if assignment_id is None:
        return None
    assignment = Assignment.objects.select_related("team", "incident").filter(pk=assignment_id).first()
    if assignment is None:
        return None
    return Offer(
        assignment_id=assignment.pk,
        status=assignment.status,
        call_sign=assignment.team.call_sign,
        priority=assignment.incident.priority,
        members=frozenset(team_member_ids(assignment)),
    )


def _why_not(row: Notification, view: EscalationView | None, offer: Offer | None) -> str:
    """Why this stage should no longer go out (empty: it should)."""
    if view is None or offer is None:
        return "offer not found"
    if view.acknowledged_at is not None or view.seen_by or offer.status == Assignment.Status.ACKNOWLEDGED:
        return "seen in the app"
    if view.resolved_at is not None or offer.status != Assignment.Status.OFFERED:
        return f"offer {offer.status}"
    if row.user_id not in offer.members:
        return "no longer on the team's shift"
    return ""


def _over_cap(row: Notification, now: dt.datetime) -> str:
    spent = Q(status__in=[Status.SENT, Status.SENDING]) & ~Q(pk=row.pk)
    if Notification.objects.filter(spent, event_uid=row.event_uid).count() >= settings.NOTIFICATIONS_MAX_PER_OFFER:
        return f"cap of {settings.NOTIFICATIONS_MAX_PER_OFFER} per offer reached"
    hour = now - dt.timedelta(hours=1)
    if Notification.objects.filter(spent, claimed_at__gte=hour).count() >= settings.NOTIFICATIONS_MAX_PER_HOUR:
        return f"cap of {settings.NOTIFICATIONS_MAX_PER_HOUR} per hour reached"
    return ""


def _callback_urls(row: Notification) -> tuple[str, str]:
    status_url = public_url(reverse("notifications-twilio-status", kwargs={"notification_token": row.token}))
    answer_url = public_url(reverse("notifications-twilio-voice", kwargs={"notification_token": row.token}))
    return status_url, answer_url


def _mark_sent(row: Notification, token: uuid.UUID, sent: Sent, now: dt.datetime) -> bool:
    with transaction.atomic():
        # Only while the row is ours (a status callback may have marked it sent already: that is fine).
        if not Notification.objects.filter(pk=row.pk, claim_token=token).update(
            status=Status.SENT,
            provider_sid=sent.sid[:64],
            sent_at=Coalesce(F("sent_at"), now),
            needs_reconcile=False,
            claim_token=None,
            detail="",
        ):
            return False
        # The provider's first status, unless a callback already recorded a later one.
        Notification.objects.filter(pk=row.pk, provider_status="").update(
            provider_status=sent.status[:20], provider_status_at=now
        )
        emit_stage(row.pk)
    return True


def _reconcile(row: Notification, sender: Provider) -> Sent | None:
    """Did an earlier, unconfirmed try reach the provider? Its text / call to this number since the
    first claim (and not already another row's) is this row's."""
    if not row.to_number:
        return None  # the earlier try died before it chose a number: nothing can have been sent
    since = (row.first_claimed_at or row.created_at) - CLOCK_SKEW
    if row.channel == Channel.SMS:
        found = sender.find_sms(to=row.to_number, since=since, containing=f"Ref {row.ref}")
    else:
        found = sender.find_call(to=row.to_number, since=since)
    if found is None or Notification.objects.filter(provider_sid=found.sid).exclude(pk=row.pk).exists():
        return None
    return found


def _retry_or_fail(row: Notification, token: uuid.UUID, exc: ProviderError, now: dt.datetime, r: SweepResult) -> None:
    attempts = row.attempts + 1
    message = str(exc)[:300]
    r.errors.append(f"{row.pk}: {message}")
    if exc.transient and attempts < settings.NOTIFICATIONS_MAX_ATTEMPTS:
        delay = settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2 ** (attempts - 1)
        _update(
            row,
            token=token,
            status=Status.SCHEDULED,
            claim_token=None,
            attempts=attempts,
            needs_reconcile=True,
            next_attempt_at=now + dt.timedelta(seconds=delay),
            detail=message,
        )
        r.retried += 1
        return
    if exc.opted_out and row.to_number:
        phone_opt_out(number=row.to_number, at=now)
    _update(row, token=token, status=Status.FAILED, claim_token=None, attempts=attempts, detail=message)
    r.failed += 1


def _send_one(row: Notification, token: uuid.UUID, sender: Provider, now: dt.datetime, r: SweepResult) -> None:
    view = escalation_view(event_uid=row.event_uid)
    offer = _offer(row.subject)
    reason = _why_not(row, view, offer)
    if reason or offer is None:
        _update(row, token=token, status=Status.CANCELLED, claim_token=None, detail=reason or "offer not found")
        r.cancelled += 1
        return
    phone = PhoneNumber.objects.filter(user_id=row.user_id).first()
    if phone is None or not phone.is_verified:
        _update(row, token=token, status=Status.SKIPPED, claim_token=None, detail="no verified phone number")
        r.skipped += 1
        return
    if row.channel == Channel.SMS and phone.sms_opted_out_at is not None:
        _update(row, token=token, status=Status.SKIPPED, claim_token=None, detail="opted out of texts (STOP)")
        r.skipped += 1
        return
    try:
        found = _reconcile(row, sender) if row.needs_reconcile else None
    except ProviderError as exc:
        _retry_or_fail(row, token, exc, now, r)
        return
    if found is not None:
        if _mark_sent(row, token, found, now):
            r.reconciled += 1
            log.info("notification %s: already at the provider as %s; not sent again", row.pk, found.sid)
        return
    cap = _over_cap(row, now)
    if cap:
        _update(row, token=token, status=Status.SKIPPED, claim_token=None, detail=cap)
        r.skipped += 1
        return
    # The number is written before the send: a crash after it leaves enough to reconcile with.
    if not Notification.objects.filter(pk=row.pk, claim_token=token, status=Status.SENDING).update(
        to_number=phone.number
    ):
        return  # no longer ours (recovered after a stall and taken by another sweep)
    row.to_number = phone.number
    status_url, answer_url = _callback_urls(row)
    try:
        if row.channel == Channel.SMS:
            body = wording.offer_sms(call_sign=offer.call_sign, priority=offer.priority, ref=row.ref)
            sent = sender.send_sms(to=phone.number, body=body, status_callback=status_url)
        else:
            sent = sender.place_call(to=phone.number, answer_url=answer_url, status_callback=status_url)
    except ProviderError as exc:
        _retry_or_fail(row, token, exc, now, r)
        return
    if _mark_sent(row, token, sent, timezone.now()):
        r.sent += 1


def notifications_sweep(*, now: dt.datetime | None = None, batch: int | None = None) -> SweepResult:
    """Plan, recover, claim and send every due telephone stage. Safe to run concurrently."""
    batch = batch or settings.NOTIFICATIONS_BATCH_SIZE
    result = SweepResult()
    sender = provider()
    if sender is None:
        return result  # no provider configured: the stages are skipped (the admin says so)
    now = now or timezone.now()
    result.planned = notifications_plan(now=now)
    result.recovered = notifications_recover_stuck(now=now)
    while True:
        token, rows = _claim(now=now, limit=batch)
        if not rows:
            break
        result.claimed += len(rows)
        for row in rows:
            try:
                _send_one(row, token, sender, now, result)
            except Exception as exc:
                # A bug or a database hiccup for one row: leave it in "sending"; recovery takes it back.
                log.exception("notification %s: send failed unexpectedly", row.pk)
                result.errors.append(f"{row.pk}: {type(exc).__name__}")
        if len(rows) < batch:
            break
    if result.claimed or result.planned:
        log.info("notifications sweep: %s", result.as_dict())
    return result


# --- status callbacks ---------------------------------------------------------------------------------


def _order(channel: str, status: str) -> int:
    return (SMS_ORDER if channel == Channel.SMS else CALL_ORDER).get(status, 0)


def notification_status_record(*, token: uuid.UUID, sid: str, status: str, at: dt.datetime | None = None) -> bool:
    """A status callback for the row named by ``token``. Adopts ``sid`` if the row has none yet (its
    worker died before storing it: the callback proves the provider accepted it). Statuses only move
    forward. Returns whether anything changed."""
    at = at or timezone.now()
    status = status.strip().lower()[:20]
    with transaction.atomic():
        row = Notification.objects.select_for_update().filter(token=token).first()
        if row is None or (row.provider_sid and row.provider_sid != sid):
            return False
        changes: dict[str, Any] = {}
        if not row.provider_sid:
            changes["provider_sid"] = sid[:64]
        if row.status in (Status.SENDING, Status.SCHEDULED):
            changes |= {"status": Status.SENT, "sent_at": row.sent_at or at, "needs_reconcile": False}
            changes["claim_token"] = None if row.status == Status.SCHEDULED else row.claim_token
        if _order(row.channel, status) > _order(row.channel, row.provider_status):
            changes |= {"provider_status": status, "provider_status_at": at}
        if row.channel == Channel.SMS and status in ("delivered", "read") and row.delivered_at is None:
            changes["delivered_at"] = at
        if row.channel == Channel.VOICE and status in ("in-progress", "answered") and row.answered_at is None:
            changes["answered_at"] = at
        if not changes:
            return False
        Notification.objects.filter(pk=row.pk).update(**changes)
        emit_stage(row.pk)
    return True


def notification_answered(*, row: Notification, sid: str, at: dt.datetime | None = None) -> None:
    """The call's TwiML was fetched: somebody picked up."""
    notification_status_record(token=row.token, sid=sid, status="in-progress", at=at)
