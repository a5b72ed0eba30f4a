"""Idempotent client writes: the same ``Idempotency-Key`` twice runs the write once.

The one way to make a write idempotent is to decorate the APIView method::

    class NoteListApi(APIView):
        @extend_schema(request=Input, responses={201: dict})
        @idempotent()
        def post(self, request: Request, encounter_id: uuid.UUID) -> Response:
            ...
            return Response(body, status=201)

- The key is scoped per user (two users may pick the same UUID). With ``idempotent()`` it is
  required: 400 without it (and the schema documents the header). ``idempotent(required=False)``
  is for writes that desktop clients make without an outbox (dispatch actions): with the header
  they get replay protection, without it they run once as sent.
- The request is fingerprinted (method, path, canonical JSON body). The same key with a different
  fingerprint is a client bug: 422, nothing runs.
- The write and the record commit together, in one transaction. A replay returns the stored status
  and body with ``Idempotent-Replayed: true``. A write that failed (4xx) rolled back, the record
  too, so the client may fix the input and retry with the same key.
- A refused write's exception may carry ``after_rollback`` (a callable): it runs after the rollback,
  e.g. to read and log the server's current version for a 409.
- Two concurrent requests with the same key: the unique (user, key) index makes the second INSERT
  wait for the first transaction; after it commits, the second sees the record and replays it.
- Services called inside must nest (plain ``transaction.atomic``, not durable): the record and the
  write share the outermost transaction.

The model lives in ``apps.core.models.IdempotencyRecord`` (migration ``core.0001``). The user is
``request.user`` after authentication (core imports no app: it only needs the user's id).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from .errors import ApplicationError, Conflict, Invalid, Unprocessable
from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


def request_fingerprint(*, method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method.upper()}\n{path}\n{canonical}".encode()).hexdigest()


def idempotency_key(request: Request) -> str:
    key = (request.headers.get(HEADER) or "").strip()
    if not key:
        raise Invalid(
            f"The {HEADER} header is required for this write.",
            errors={HEADER: ["Send a client-generated unique key (for example a UUID) with every write."]},
        )
    if len(key) > MAX_KEY_LENGTH:
        raise Invalid("Idempotency key too long.", errors={HEADER: [f"At most {MAX_KEY_LENGTH} characters."]})
    return key


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.request_hash != fingerprint:
        raise Unprocessable(
            "This Idempotency-Key was already used with a different request.",
            errors={HEADER: ["Key reused with a different method, path or body; use a new key for a new write."]},
        )
    if record.status_code is None:
        raise Conflict("A request with this Idempotency-Key is still being processed.", current=None)
    response = Response(record.response_body, status=record.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def _user_id(request: Request) -> int:
    user_id = getattr(request.user, "pk", None)
    if not getattr(request.user, "is_authenticated", False) or not isinstance(user_id, int):
        raise NotAuthenticated()
    return user_id


def _run_once(request: Request, execute: Callable[[], tuple[int, Any]]) -> Response:
    """Run ``execute`` (returning ``(status, body)``) at most once per (user, key)."""
    user_id = _user_id(request)
    key = idempotency_key(request)
    fingerprint = request_fingerprint(method=request.method or "", path=request.path, body=request.data)

    existing = IdempotencyRecord.objects.filter(user_id=user_id, key=key).first()
    if existing is not None:
        return _replay(existing, fingerprint)

    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                user_id=user_id,
                key=key,
                method=(request.method or "")[:10],
                path=request.path[:500],
                request_hash=fingerprint,
            )
            status_code, raw_body = execute()
            # Stored exactly as rendered (UUIDs, datetimes and decimals as JSON strings), so a replay
            # is byte-for-byte the first answer.
            body = json.loads(json.dumps(raw_body, cls=JSONEncoder))
            record.status_code = status_code
            record.response_body = body
            record.completed_at = timezone.now()
            record.save(update_fields=["status_code", "response_body", "completed_at"])
    except IntegrityError:
        # Lost the race on the unique (user, key) index: the other request committed first.
        winner = IdempotencyRecord.objects.filter(user_id=user_id, key=key).first()
        if winner is None:
            raise
        return _replay(winner, fingerprint)
    except ApplicationError as exc:
        # The write was refused and rolled back. A refusal may need to do something that must
        # survive that rollback (a 409 that reads the server's current version logs the read).
        hook = getattr(exc, "after_rollback", None)
        if callable(hook):
            hook()
        raise
    return Response(body, status=status_code)


def idempotency_purge(*, older_than: dt.timedelta, now: dt.datetime | None = None) -> int:
    """Delete completed records older than ``older_than`` (a client replays within hours; a week is
    plenty). Returns how many. Meant for a periodic task; safe to run twice at once."""
    cutoff = (now or timezone.now()) - older_than
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff, completed_at__isnull=False).delete()
    return deleted


ViewMethod = Callable[..., Response]

HEADER_PARAMETER = OpenApiParameter(
    HEADER, str, OpenApiParameter.HEADER, required=True, description="Client-generated unique key."
)


def idempotent(*, required: bool = True) -> Callable[[ViewMethod], ViewMethod]:
    """Decorate an APIView write method: it runs at most once per (user, ``Idempotency-Key``).

    ``required=False``: without the header the method runs as sent (see the module docstring).
    A required header is documented in the OpenAPI schema.
    """

    def decorate(method: ViewMethod) -> ViewMethod:
        @functools.wraps(method)
        def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            if not required and not (request.headers.get(HEADER) or "").strip():
                return method(view, request, *args, **kwargs)

            def execute() -> tuple[int, Any]:
                response = method(view, request, *args, **kwargs)
                return response.status_code, response.data

            return _run_once(request, execute)

        if required:
            return extend_schema(parameters=[HEADER_PARAMETER])(wrapper)
        return wrapper

    return decorate
