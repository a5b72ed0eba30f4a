"""The telephony provider behind one small interface, and its Twilio adapter (official ``twilio``).

The rest of the app speaks only ``Provider``: send a text, place a call, find what was already sent
to a number (reconciling after a crash or an ambiguous error), and check a webhook's signature.
``provider()`` is None when no provider is configured: the telephone stages are then skipped.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings

log = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"
# Twilio error codes that say "this recipient cannot get texts from us" (opted out / not a mobile).
OPTED_OUT_CODES = frozenset({21610})


class ProviderError(Exception):
    """A send that failed. ``transient``: worth retrying (5xx, 429, network); the provider may or may
    not have accepted it, so the caller reconciles before the retry. Otherwise the provider refused."""

    def __init__(self, message: str, *, transient: bool, status: int | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.status = status
        self.code = code

    @property
    def opted_out(self) -> bool:
        return self.code in OPTED_OUT_CODES


@dataclass(frozen=True)
class Sent:
    sid: str
    status: str


class Provider(Protocol):
    name: str

    def send_sms(self, *, to: str, body: str, status_callback: str | None) -> Sent: ...

    def place_call(self, *, to: str, answer_url: str, status_callback: str) -> Sent: ...

    def find_sms(self, *, to: str, since: dt.datetime, containing: str) -> Sent | None: ...

    def find_call(self, *, to: str, since: dt.datetime) -> Sent | None: ...

    def signature_valid(self, *, url: str, params: dict[str, str], signature: str) -> bool: ...


def provider_configured() -> bool:
    """Account, token, a sender, and the public address Twilio calls back (signatures need it)."""
    return bool(
        settings.TWILIO_ACCOUNT_SID
        and settings.TWILIO_AUTH_TOKEN
        and (settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID)
        and settings.NOTIFICATIONS_PUBLIC_BASE_URL
    )


def provider_missing() -> list[str]:
    """The settings still to set (for the admin's banner)."""
    missing = [name for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN") if not getattr(settings, name)]
    if not (settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID):
        missing.append("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
    if not settings.NOTIFICATIONS_PUBLIC_BASE_URL:
        missing.append("PUBLIC_BASE_URL")
    return missing


def provider() -> Provider | None:
    if not provider_configured():
        return None
    return TwilioProvider(
        account_sid=settings.TWILIO_ACCOUNT_SID,
        auth_token=settings.TWILIO_AUTH_TOKEN,
        from_number=settings.TWILIO_FROM_NUMBER,
        messaging_service_sid=settings.TWILIO_MESSAGING_SERVICE_SID,
        api_base_url=settings.TWILIO_API_BASE_URL,
        timeout=settings.TWILIO_TIMEOUT_SECONDS,
    )


def public_url(path: str) -> str:
    """The absolute URL Twilio calls for ``path`` (also the URL its signature is computed over)."""
    return f"{settings.NOTIFICATIONS_PUBLIC_BASE_URL}{path}"


# --- Twilio -------------------------------------------------------------------------------------------


def _http_client(api_base_url: str, timeout: float) -> Any:
    from twilio.http.http_client import TwilioHttpClient

    class Client(TwilioHttpClient):  # type: ignore[misc]
        """Twilio's own HTTP client; with a base URL set, the requests go there (the tests' fake)."""

        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            if api_base_url and url.startswith(TWILIO_API):
                url = api_base_url.rstrip("/") + url[len(TWILIO_API) :]
            return super().request(method, url, *args, **kwargs)

    # No automatic retries in the HTTP layer: a retried POST could send a second text. Ours reconcile.
    return Client(timeout=timeout, max_retries=0)


def _error(exc: Exception) -> ProviderError:
    from twilio.base.exceptions import TwilioRestException

    if isinstance(exc, TwilioRestException):
        status = int(exc.status)
        transient = status >= 500 or status == 429 or exc.code == 20429
        return ProviderError(
            f"Twilio {status} ({exc.code}): {exc.msg}"[:300], transient=transient, status=status, code=exc.code
        )
    # Timeouts and dropped connections: the request may have been accepted. Retry after reconciling.
    return ProviderError(f"{type(exc).__name__}: {exc}"[:300], transient=True)


def _aware(value: Any) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class TwilioProvider:
    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        messaging_service_sid: str,
        api_base_url: str = "",
        timeout: float = 15.0,
    ) -> None:
        from twilio.request_validator import RequestValidator
        from twilio.rest import Client

        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.client = Client(account_sid, auth_token, http_client=_http_client(api_base_url, timeout))
        self.validator = RequestValidator(auth_token)

    def _call(self, what: str, fn: Any, **kwargs: Any) -> Any:
        from twilio.base.exceptions import TwilioException

        try:
            return fn(**kwargs)
        except (TwilioException, OSError) as exc:  # requests' errors are OSErrors
            error = _error(exc)
            log.warning("twilio %s failed: %s", what, error)
            raise error from exc

    def send_sms(self, *, to: str, body: str, status_callback: str | None) -> Sent:
        sender: dict[str, str] = (
            {"messaging_service_sid": self.messaging_service_sid}
            if self.messaging_service_sid
            else {"from_": self.from_number}
        )
        message = self._call(
            "send_sms", self.client.messages.create, to=to, body=body, status_callback=status_callback, **sender
        )
        return Sent(sid=str(message.sid), status=str(message.status or "queued"))

    def place_call(self, *, to: str, answer_url: str, status_callback: str) -> Sent:
        call = self._call(
            "place_call",
            self.client.calls.create,
            to=to,
            from_=self.from_number,
            url=answer_url,
            method="POST",
            status_callback=status_callback,
            status_callback_method="POST",
            status_callback_event=["initiated", "ringing", "answered", "completed"],
            timeout=30,  # seconds of ringing before "no-answer"
        )
        return Sent(sid=str(call.sid), status=str(call.status or "queued"))

    def find_sms(self, *, to: str, since: dt.datetime, containing: str) -> Sent | None:
        """The newest text to ``to`` created at or after ``since`` whose body holds ``containing``."""
        messages = self._call("find_sms", self.client.messages.list, to=to, limit=20)
        for message in messages:
            created = _aware(message.date_created)
            if created is not None and created >= since and containing in (message.body or ""):
                return Sent(sid=str(message.sid), status=str(message.status or ""))
        return None

    def find_call(self, *, to: str, since: dt.datetime) -> Sent | None:
        """The newest call to ``to`` from our number created at or after ``since``."""
        calls = self._call("find_call", self.client.calls.list, to=to, from_=self.from_number, limit=20)
        for call in calls:
            created = _aware(call.date_created)
            if created is not None and created >= since:
                return Sent(sid=str(call.sid), status=str(call.status or ""))
        return None

    def signature_valid(self, *, url: str, params: dict[str, str], signature: str) -> bool:
        return bool(signature) and bool(self.validator.validate(url, params, signature))
