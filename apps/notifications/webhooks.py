"""Twilio's webhooks: inbound texts, call answers, keypad digits, status callbacks. TwiML out.

Every request is checked before anything else: rate limit per client address, then the
``X-Twilio-Signature`` over the *configured public URL* (``NOTIFICATIONS_PUBLIC_BASE_URL`` + the path
and query Twilio called; behind a TLS-terminating proxy the request's own URL is not the one Twilio
signed) and the POST parameters. A forged or altered request is refused (403) and audited; a
replayed one is harmless: replies are idempotent on the provider's id, statuses only move forward.

These are plain Django views (no session, no CSRF: the signature is the credential), not part of the
JSON API or its schema.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.security.audit import Kind, record
from apps.security.ip import client_ip
from apps.security.throttles import hit, parse_rate

from . import wording
from .models import Notification
from .provider import provider, public_url
from .replies import inbound_digits, inbound_sms, voice_caller, voice_offer_open
from .services import notification_answered, notification_status_record

log = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


def _error(status: int, message: str, **headers: str) -> HttpResponse:
    response = JsonResponse({"message": message, "errors": {}}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def twiml(body: str) -> HttpResponse:
    return HttpResponse(body, content_type="text/xml; charset=utf-8")


def _message(text: str) -> HttpResponse:
    from twilio.twiml.messaging_response import MessagingResponse

    response = MessagingResponse()
    if text:
        response.message(text)
    return twiml(str(response))


def twilio_webhook(view: View) -> View:
    """Rate limit, provider configured, signature valid; then the view."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        ip = client_ip(request) or "unknown"
        wait = hit(f"twilio-webhook:{ip}", parse_rate(settings.NOTIFICATIONS_WEBHOOK_RATE))
        if wait:
            return _error(429, f"Too many requests. Try again in {wait} seconds.", **{"Retry-After": str(wait)})
        sender = provider()
        if sender is None:
            return _error(503, "SMS and voice are not configured on this server.")
        signature = request.headers.get("X-Twilio-Signature", "")
        url = public_url(request.get_full_path())
        valid = sender.signature_valid(url=url, params=request.POST, signature=signature)
        if not valid or request.POST.get("AccountSid", "") != settings.TWILIO_ACCOUNT_SID:
            record(Kind.SIGNATURE_FAILED, request=request, source="twilio", signed=bool(signature))
            log.warning("twilio webhook refused: bad signature on %s from %s", request.path, ip)
            return _error(403, "Invalid request signature.")
        return view(request, *args, **kwargs)

    # POST only (outermost, so the authorization matrix can read the allowed methods); no CSRF: the
    # signature is the credential and there is no session.
    return require_POST(csrf_exempt(wrapped))


@twilio_webhook
def sms_inbound(request: HttpRequest) -> HttpResponse:
    """A text to our number (set as the number's / messaging service's "A message comes in" URL)."""
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid") or ""
    if not sid:
        return _error(400, "MessageSid is missing.")
    reply = inbound_sms(
        sid=sid,
        from_number=request.POST.get("From", ""),
        body=request.POST.get("Body", ""),
        opt_out_type=request.POST.get("OptOutType", ""),
    )
    return _message(reply.answer)


def _notification(token: uuid.UUID) -> Notification | None:
    return Notification.objects.filter(token=token).first()


@twilio_webhook
def status_callback(request: HttpRequest, notification_token: uuid.UUID) -> HttpResponse:
    """Delivery status of a text, progress of a call (``StatusCallback`` of the row ``token``)."""
    sid = request.POST.get("MessageSid") or request.POST.get("CallSid") or ""
    status = request.POST.get("MessageStatus") or request.POST.get("SmsStatus") or request.POST.get("CallStatus")
    if not sid or not status:
        return _error(400, "MessageSid / CallSid and a status are required.")
    notification_status_record(token=notification_token, sid=sid, status=status)
    return twiml("<Response/>")


def _gather(notification: Notification, *, prompt: str) -> HttpResponse:
    from django.urls import reverse
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    action = public_url(reverse("notifications-twilio-gather", kwargs={"notification_token": notification.token}))
    gather = response.gather(num_digits=1, action=action, method="POST", timeout=8)
    gather.say(prompt)
    gather.pause(length=1)
    gather.say(prompt)
    response.say(wording.VOICE_NO_INPUT)
    response.hangup()
    return twiml(str(response))


def _say_and_hang_up(text: str) -> HttpResponse:
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    if text:
        response.say(text)
    response.hangup()
    return twiml(str(response))


def _offer_prompt(notification: Notification) -> str:
    from apps.incidents.models import Assignment

    from .services import assignment_id_of

    assignment_id = assignment_id_of(notification.subject)
    if assignment_id is None:
        return wording.VOICE_NOT_OPEN
    row = Assignment.objects.filter(pk=assignment_id).values("team__call_sign", "incident__priority").first()
    if row is None:
        return wording.VOICE_NOT_OPEN
    return wording.offer_voice(call_sign=row["team__call_sign"], priority=row["incident__priority"])


@twilio_webhook
def voice_answer(request: HttpRequest, notification_token: uuid.UUID) -> HttpResponse:
    """Our call was picked up: read the offer and gather one digit."""
    notification = _notification(notification_token)
    call_sid = request.POST.get("CallSid", "")
    if notification is None or not call_sid:
        return _say_and_hang_up("")
    notification_answered(row=notification, sid=call_sid)
    if voice_caller(notification, to_number=request.POST.get("To", "")) is None:
        return _say_and_hang_up(wording.UNKNOWN_SENDER)
    if not voice_offer_open(notification):
        return _say_and_hang_up(wording.VOICE_NOT_OPEN)
    return _gather(notification, prompt=_offer_prompt(notification))


@twilio_webhook
def voice_gather(request: HttpRequest, notification_token: uuid.UUID) -> HttpResponse:
    """The digit pressed during our call."""
    notification = _notification(notification_token)
    call_sid = request.POST.get("CallSid", "")
    if notification is None or not call_sid:
        return _say_and_hang_up("")
    if notification.provider_sid and notification.provider_sid != call_sid:
        return _say_and_hang_up(wording.UNKNOWN_SENDER)
    reply = inbound_digits(
        notification=notification,
        call_sid=call_sid,
        to_number=request.POST.get("To", ""),
        digits=request.POST.get("Digits", ""),
    )
    if reply.inbound.command in ("other", "none") and reply.inbound.outcome == "not_understood":
        if voice_offer_open(notification):
            return _gather(notification, prompt=wording.VOICE_REPROMPT)
        return _say_and_hang_up(wording.VOICE_NOT_OPEN)
    return _say_and_hang_up(reply.answer + " Goodbye.")
