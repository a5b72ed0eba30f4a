"""Replies from phones: "1" / "2" by text or keypad → accept / decline through the incidents services.

Each reply is recorded once in ``Inbound`` under the provider's id (``sms:<MessageSid>``,
``voice:<CallSid>``): that id is the reply's idempotency key. A webhook delivered twice (Twilio's
retries, a proxy, a replay) finds its record and gets the same answer, and nothing runs again. The
action and its record commit together.

Only a number verified by its owner counts for texts; a keypad answer counts for the call we placed to
that person's verified number. An answer changes the assignment only while the offer is open (the
incidents service decides: a Conflict is a *late* reply). Late, unknown and not-understood replies
get a short answer and are recorded too.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import ApplicationError, Conflict
from apps.incidents.models import Assignment
from apps.incidents.services import assignment_accept, assignment_decline

from . import wording
from .models import Inbound, Notification, PhoneNumber
from .phones import phone_opt_in, phone_opt_out
from .services import assignment_id_of, emit_stage

log = logging.getLogger(__name__)

Command = Inbound.Command
Outcome = Inbound.Outcome

STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"})
START_WORDS = frozenset({"start", "unstop", "yes"})
HELP_WORDS = frozenset({"help", "info"})
ACCEPT_WORDS = frozenset({"1", "accept"})
DECLINE_WORDS = frozenset({"2", "decline"})


def parse_sms(body: str, opt_out_type: str = "") -> str:
    """The command in a text. Twilio's ``OptOutType`` (STOP / START / HELP) wins when present."""
    kind = opt_out_type.strip().lower()
    if kind in ("stop", "start", "help"):
        return kind
    word = body.strip().lower().strip(".!?'\" ")
    if word in ACCEPT_WORDS:
        return Command.ACCEPT
    if word in DECLINE_WORDS:
        return Command.DECLINE
    if word in STOP_WORDS:
        return Command.STOP
    if word in START_WORDS:
        return Command.START
    if word in HELP_WORDS:
        return Command.HELP
    return Command.OTHER


@dataclass(frozen=True)
class Reply:
    inbound: Inbound
    replayed: bool = False

    @property
    def answer(self) -> str:
        return self.inbound.answer


def _existing(dedupe_key: str) -> Inbound | None:
    return Inbound.objects.filter(dedupe_key=dedupe_key).first()


def _record(**fields: object) -> Reply:
    """Write the record; a concurrent twin that committed first wins (and this one's action, rolled
    back with it, never happened)."""
    try:
        with transaction.atomic():
            return Reply(Inbound.objects.create(**fields))
    except IntegrityError:
        winner = _existing(str(fields["dedupe_key"]))
        if winner is None:
            raise
        return Reply(winner, replayed=True)


def _offer_status(notification: Notification) -> str:
    assignment_id = assignment_id_of(notification.subject)
    if assignment_id is None:
        return "gone"
    status = Assignment.objects.filter(pk=assignment_id).values_list("status", flat=True).first()
    return str(status or "gone")


def _call_sign(notification: Notification) -> str:
    assignment_id = assignment_id_of(notification.subject)
    if assignment_id is None:
        return "your team"
    sign = Assignment.objects.filter(pk=assignment_id).values_list("team__call_sign", flat=True).first()
    return str(sign or "your team")


def _latest_offer_to(user: User, channel: str, now: dt.datetime) -> Notification | None:
    """The text (or call) a reply answers: the newest one sent to this person within the reply
    window whose offer is still open, else simply the newest (the reply is then late)."""
    window = now - dt.timedelta(minutes=settings.NOTIFICATIONS_REPLY_WINDOW_MINUTES)
    recent = list(
        Notification.objects.filter(
            user=user, channel=channel, status=Notification.Status.SENT, sent_at__gte=window
        ).order_by("-sent_at", "-id")[:10]
    )
    for notification in recent:
        if _offer_status(notification) in Assignment.PENDING:
            return notification
    return recent[0] if recent else None


def _act(
    *,
    notification: Notification,
    user: User,
    command: str,
    channel: str,
    dedupe_key: str,
    from_number: str,
    now: dt.datetime,
) -> Reply:
    """Accept or decline, and record it, in one transaction."""
    assignment_id = assignment_id_of(notification.subject)
    call_sign = _call_sign(notification)
    try:
        with transaction.atomic():
            if assignment_id is None:
                raise Conflict("Not an assignment.", current={})
            try:
                with transaction.atomic():
                    if command == Command.ACCEPT:
                        assignment_accept(assignment_id=assignment_id, by=user)
                    else:
                        assignment_decline(
                            assignment_id=assignment_id, by=user, reason=settings.NOTIFICATIONS_DECLINE_REASON
                        )
            except Conflict:
                status = _offer_status(notification)
                return _record(
                    received_at=now,
                    channel=channel,
                    dedupe_key=dedupe_key,
                    from_number=from_number,
                    user=user,
                    notification=notification,
                    subject=notification.subject,
                    command=command,
                    outcome=Outcome.LATE,
                    detail=f"assignment is {status}",
                    answer=wording.late(status),
                )
            except (ApplicationError, PermissionDenied) as exc:
                return _record(
                    received_at=now,
                    channel=channel,
                    dedupe_key=dedupe_key,
                    from_number=from_number,
                    user=user,
                    notification=notification,
                    subject=notification.subject,
                    command=command,
                    outcome=Outcome.REFUSED,
                    detail=str(exc)[:200],
                    answer=wording.REFUSED,
                )
            accepted = command == Command.ACCEPT
            Notification.objects.filter(pk=notification.pk).update(
                replied_at=now, reply="accept" if accepted else "decline"
            )
            emit_stage(notification.pk)
            reply = _record(
                received_at=now,
                channel=channel,
                dedupe_key=dedupe_key,
                from_number=from_number,
                user=user,
                notification=notification,
                subject=notification.subject,
                command=command,
                outcome=Outcome.ACCEPTED if accepted else Outcome.DECLINED,
                answer=wording.accepted(call_sign) if accepted else wording.declined(call_sign),
            )
            if reply.replayed:
                # A twin of this very reply committed first: undo ours, answer as it did.
                raise _Replayed(reply)
            return reply
    except _Replayed as replayed:
        return replayed.reply


class _Replayed(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__("replayed")
        self.reply = reply


def inbound_sms(*, sid: str, from_number: str, body: str, opt_out_type: str = "") -> Reply:
    """An inbound text (webhook already verified). Returns the record with the answer to send back."""
    dedupe_key = f"sms:{sid}"[:100]
    existing = _existing(dedupe_key)
    if existing is not None:
        return Reply(existing, replayed=True)
    now = timezone.now()
    command = parse_sms(body, opt_out_type)
    from_number = from_number.strip()[:16]
    base: dict[str, object] = {
        "received_at": now,
        "channel": Inbound.Channel.SMS,
        "dedupe_key": dedupe_key,
        "from_number": from_number,
        "command": command,
    }
    phone = PhoneNumber.objects.filter(number=from_number, verified_at__isnull=False).select_related("user").first()
    user = phone.user if phone is not None else None
    if command == Command.STOP:
        # Twilio answers STOP itself and blocks our texts to this number until START; we stop
        # counting on texts for whoever has it (calls still work). No answer of ours would arrive.
        phone_opt_out(number=from_number, at=now)
        return _record(**base, user=user, outcome=Outcome.OPTED_OUT, answer="")
    if command == Command.START:
        phone_opt_in(number=from_number)
        return _record(**base, user=user, outcome=Outcome.OPTED_IN, answer="")
    if command == Command.HELP:
        return _record(**base, user=user, outcome=Outcome.HELP, answer=wording.HELP)
    if user is None or not user.is_active:
        return _record(**base, outcome=Outcome.UNKNOWN_SENDER, answer=wording.UNKNOWN_SENDER)
    if command == Command.OTHER:
        return _record(**base, user=user, outcome=Outcome.NOT_UNDERSTOOD, answer=wording.NOT_UNDERSTOOD)
    notification = _latest_offer_to(user, Notification.Channel.SMS, now)
    if notification is None:
        return _record(**base, user=user, outcome=Outcome.NO_OFFER, answer=wording.NO_OFFER)
    return _act(
        notification=notification,
        user=user,
        command=command,
        channel=Inbound.Channel.SMS,
        dedupe_key=dedupe_key,
        from_number=from_number,
        now=now,
    )


def voice_caller(notification: Notification, *, to_number: str) -> User | None:
    """The person a keypad answer counts for: the call must be the one we placed to their number,
    and that number must still be theirs and verified."""
    if notification.channel != Notification.Channel.VOICE or not notification.to_number:
        return None
    if to_number.strip() != notification.to_number:
        return None
    phone = PhoneNumber.objects.filter(user_id=notification.user_id).select_related("user").first()
    if phone is None or not phone.is_verified or phone.number != notification.to_number:
        return None
    return phone.user if phone.user.is_active else None


def voice_offer_open(notification: Notification) -> bool:
    return _offer_status(notification) in Assignment.PENDING


def inbound_digits(*, notification: Notification, call_sid: str, to_number: str, digits: str) -> Reply:
    """A keypad answer during our call. One action per call (``voice:<CallSid>``); other keys are
    recorded under their own key and answered with the prompt again."""
    now = timezone.now()
    digit = digits.strip()[:1]
    command = {"1": Command.ACCEPT, "2": Command.DECLINE}.get(digit, Command.OTHER if digit else Command.NONE)
    actionable = command in (Command.ACCEPT, Command.DECLINE)
    dedupe_key = (f"voice:{call_sid}" if actionable else f"voice:{call_sid}:{digits.strip()[:8] or 'none'}")[:100]
    existing = _existing(dedupe_key)
    if existing is not None:
        return Reply(existing, replayed=True)
    user = voice_caller(notification, to_number=to_number)
    base: dict[str, object] = {
        "received_at": now,
        "channel": Inbound.Channel.VOICE,
        "dedupe_key": dedupe_key,
        "from_number": to_number.strip()[:16],
        "notification": notification,
        "subject": notification.subject,
        "command": command,
    }
    if user is None:
        return _record(**base, outcome=Outcome.UNKNOWN_SENDER, answer=wording.UNKNOWN_SENDER)
    if not actionable:
        return _record(**base, user=user, outcome=Outcome.NOT_UNDERSTOOD, answer="")
    return _act(
        notification=notification,
        user=user,
        command=command,
        channel=Inbound.Channel.VOICE,
        dedupe_key=dedupe_key,
        from_number=to_number.strip()[:16],
        now=now,
    )
