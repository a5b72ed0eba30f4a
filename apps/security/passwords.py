"""Passwords: the change service, and an offline password-strength validator on zxcvbn (no
breached-password service is reachable from an agency network, and none may see our users' passwords)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from zxcvbn import zxcvbn

from apps.core.errors import Invalid

from . import sessions
from .audit import Kind, record
from .models import UserSession

# zxcvbn's frequency lists: the passwords list is built from leaked-password corpora.
_KNOWN_PASSWORDS = "passwords"
_MAX_CHECKED = 72


class ZxcvbnValidator:
    """Refuses a password zxcvbn scores below ``min_score`` (0-4), and any password that is, as a
    whole, one of the common passwords in zxcvbn's list (also reversed or in l33t spelling).
    The user's own name, username and e-mail count as known words."""

    def __init__(self, min_score: int = 3) -> None:
        self.min_score = min_score

    def validate(self, password: str, user: Any = None) -> None:
        inputs = [
            str(getattr(user, name, "") or "")
            for name in ("username", "first_name", "last_name", "email")
            if getattr(user, name, "")
        ]
        # zxcvbn refuses input over 72 characters (ValueError) and is slow on long input; a password
        # whose first 72 characters are strong is strong.
        checked = password[:_MAX_CHECKED]
        result = zxcvbn(checked, user_inputs=inputs, max_length=_MAX_CHECKED)
        for match in result.get("sequence", []):
            if (
                match.get("pattern") == "dictionary"
                and match.get("dictionary_name") == _KNOWN_PASSWORDS
                and match.get("i") == 0
                and match.get("j") == len(checked) - 1
            ):
                raise ValidationError(
                    "This password is on lists of commonly used and leaked passwords.",
                    code="password_known",
                )
        score = int(result.get("score", 0))
        if score < self.min_score:
            feedback = result.get("feedback") or {}
            reasons = [str(feedback.get("warning") or "")] + [str(s) for s in feedback.get("suggestions") or []]
            why = " ".join(r for r in reasons if r)
            raise ValidationError(
                "This password is too easy to guess (strength %(score)d of 4, needs %(min)d).%(why)s",
                code="password_too_guessable",
                params={"score": score, "min": self.min_score, "why": f" {why}" if why else ""},
            )

    def get_help_text(self) -> str:
        return "Your password must be hard to guess: not a common password, name or simple pattern."


def password_change(*, request: HttpRequest, user: Any, new_password: str) -> int:
    """Set ``user``'s new password (the caller checked the old one). This session stays signed in (new
    key, new auth hash); every other session of the user ends at once (their sockets close), instead
    of waiting for Django's auth-hash check on their next request. One transaction with its audit row.
    Returns how many other sessions ended."""
    try:
        validate_password(new_password, user=user)
    except ValidationError as exc:
        raise Invalid("Choose a stronger password.", errors={"new_password": list(exc.messages)}) from None
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        current = sessions.current_row(request)
        update_session_auth_hash(request, user)  # cycles this session's key
        if current is not None:
            sessions.session_rekey(row=current, session_key=request.session.session_key or "")
        ended = sessions.sessions_end_others(user_id=user.pk, keep=current, reason=UserSession.EndReason.REVOKED)
        record(Kind.PASSWORD_CHANGED, request=request, user=user, other_sessions_ended=ended)
    return ended
