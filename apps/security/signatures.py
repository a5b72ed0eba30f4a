"""HMAC request signatures for machine clients (issue 8 item 5).

A key with ``requires_signature`` must send, on every request:

    X-Signature-Timestamp: <unix seconds>
    X-Signature: sha256=<hex HMAC-SHA256(signing_secret, "<timestamp>." + raw body)>

The timestamp must be within ``SECURITY_SIGNATURE_MAX_AGE_SECONDS`` (300) of the server's clock,
either way; a signature already accepted is refused if it comes again (replay), remembered for twice
that window in ``accounts.SignatureNonce`` (the database: works in every deployment, embedded too).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http.request import RawPostDataException
from rest_framework.request import Request

TIMESTAMP_HEADER = "X-Signature-Timestamp"
SIGNATURE_HEADER = "X-Signature"
SCHEME = "sha256="


class SignatureError(Exception):
    """The request's signature is missing, malformed, stale, wrong or replayed (``reason`` says which)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def sign(signing_secret: str, timestamp: str | int, body: bytes) -> str:
    """The ``X-Signature`` header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(signing_secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return SCHEME + mac.hexdigest()


def max_age() -> int:
    return int(getattr(settings, "SECURITY_SIGNATURE_MAX_AGE_SECONDS", 300))


def verify(request: Request, *, api_key_id: int, signing_secret: str, now: float | None = None) -> None:
    """Raise SignatureError unless the request is signed with ``signing_secret`` and not replayed."""
    from apps.accounts.models import SignatureNonce

    if not signing_secret:
        raise SignatureError("no_secret", "This key has no signing secret yet: rotate it to get one.")
    timestamp = request.headers.get(TIMESTAMP_HEADER, "").strip()
    signature = request.headers.get(SIGNATURE_HEADER, "").strip()
    if not timestamp or not signature:
        raise SignatureError("missing", f"This key requires signed requests ({TIMESTAMP_HEADER}, {SIGNATURE_HEADER}).")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureError("bad_timestamp", f"{TIMESTAMP_HEADER} must be a Unix time in seconds.")
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > max_age():
        raise SignatureError("stale", f"{TIMESTAMP_HEADER} is more than {max_age()} seconds from the server's clock.")
    try:
        body = bytes(request._request.body)
    except RawPostDataException as exc:  # the body was consumed before authentication: cannot check
        raise SignatureError("unreadable", "The request body could not be read to check its signature.") from exc
    expected = sign(signing_secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
        raise SignatureError("mismatch", "The request signature does not match.")
    digest = hashlib.sha256(f"{api_key_id}:{expected}".encode()).hexdigest()
    try:
        with transaction.atomic():
            SignatureNonce.objects.create(digest=digest, api_key_id=api_key_id)
    except IntegrityError as exc:
        raise SignatureError("replayed", "This signed request was already received (replay refused).") from exc
