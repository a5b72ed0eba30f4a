"""Field-level authenticated encryption for clinical content (HIPAA 164.312(a)(2)(iv)).

Keys come from ``settings.NOTE_ENCRYPTION_KEYS``: a list of Fernet keys, newest first. The newest
encrypts; every key decrypts, so a new key can be put in front and old rows still read until
``manage.py rotate_note_keys`` re-encrypts them with the newest. The keys are dedicated to notes
(not derived from SECRET_KEY), so rotating one never touches the other.

The column holds the Fernet token (AES-128-CBC + HMAC-SHA256, versioned and timestamped), never
plaintext. A token that fails authentication raises instead of returning garbage.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


def parse_keys(raw: str | list[str] | tuple[str, ...] | None) -> list[str]:
    if raw is None:
        return []
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    return [k.strip() for k in items if k and k.strip()]


def build_fernet(keys: list[str]) -> MultiFernet:
    """A MultiFernet over ``keys`` (newest first); ImproperlyConfigured with a clear message if unusable."""
    if not keys:
        raise ImproperlyConfigured(
            "NOTE_ENCRYPTION_KEYS is empty. Set the NOTE_ENCRYPTION_KEYS environment variable to one or more "
            "comma-separated Fernet keys, newest first (generate one with: python -c "
            '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())").'
        )
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode()))
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                f"NOTE_ENCRYPTION_KEYS entry #{position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes). Clinical content cannot be read or written without it."
            ) from exc
    return MultiFernet(fernets)


@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    return build_fernet(list(keys))


def note_fernet() -> MultiFernet:
    # Keyed on the current setting, so tests that override it (rotation) get the right instance.
    return _fernet_for(tuple(parse_keys(getattr(settings, "NOTE_ENCRYPTION_KEYS", None))))


def check_note_keys() -> None:
    """Raise ImproperlyConfigured unless the configured keys are present and valid (called at startup)."""
    note_fernet()


def encrypt_text(plaintext: str) -> str:
    return note_fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt_text(token: str) -> str:
    try:
        return note_fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        # Wrong key list (a key removed before rotation finished) or a tampered column.
        raise InvalidToken("Clinical field could not be decrypted with any configured key.") from exc


def rotate_token(token: str) -> str:
    """Re-encrypt ``token`` under the newest key (MultiFernet.rotate keeps the original timestamp)."""
    return note_fernet().rotate(token.encode("ascii")).decode("ascii")


def token_is_current(token: str) -> bool:
    """Whether ``token`` decrypts with the newest key alone (nothing to rotate)."""
    keys = parse_keys(getattr(settings, "NOTE_ENCRYPTION_KEYS", None))
    try:
        Fernet(keys[0].encode()).decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A text column that stores a Fernet token; Python code sees the plaintext ``str``.

    Not searchable or orderable in SQL by design. ``None`` stays NULL (no content at all).
    """

    description = "Text encrypted with the note keys (Fernet)"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None:
            return None
        return decrypt_text(str(value))

    def to_python(self, value: Any) -> str | None:
        if value is None or not isinstance(value, str):
            return value
        return value

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return encrypt_text(str(value))


class EncryptedJSONField(models.TextField):  # type: ignore[type-arg]
    """Structured content (dict/list) serialized to JSON, then encrypted like EncryptedTextField."""

    description = "JSON encrypted with the note keys (Fernet)"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return json.loads(decrypt_text(str(value)))

    def to_python(self, value: Any) -> Any:
        return value

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return encrypt_text(json.dumps(value, sort_keys=True, separators=(",", ":")))

    def value_to_string(self, obj: models.Model) -> str:
        return json.dumps(self.value_from_object(obj))
