"""Passwords: Argon2 first (older PBKDF2 hashes upgraded at sign-in), Django's validators plus an
offline zxcvbn check, and the change-password API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import get_default_password_validators, validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from apps.security.models import SecurityEvent
from apps.security.passwords import ZxcvbnValidator
from apps.security.testing import confirmed_device, sign_in

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"
CHANGE = "/api/v1/auth/password/"
ME = "/api/v1/me/"


def production_settings() -> Any:
    from durham_coresponse import settings as production

    return production


def test_the_production_hashers_start_with_argon2_and_still_read_pbkdf2() -> None:
    hashers = production_settings().PASSWORD_HASHERS
    assert hashers[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in hashers
    assert not any("MD5" in h or "Unsalted" in h for h in hashers)


def test_a_sign_in_upgrades_an_old_pbkdf2_hash_to_argon2(clinician_a: Any, settings: Any) -> None:
    settings.PASSWORD_HASHERS = production_settings().PASSWORD_HASHERS
    clinician_a.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    clinician_a.save(update_fields=["password"])
    confirmed_device(clinician_a)
    assert sign_in(Client(enforce_csrf_checks=True), "clinician_a", PASSWORD).status_code == 200
    clinician_a.refresh_from_db()
    assert clinician_a.password.startswith("argon2$argon2id$")
    assert clinician_a.check_password(PASSWORD)


def test_the_validators_are_djangos_four_and_zxcvbn() -> None:
    names = [v["NAME"].rsplit(".", 1)[-1] for v in production_settings().AUTH_PASSWORD_VALIDATORS]
    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
        "ZxcvbnValidator",
    ]
    assert any(isinstance(v, ZxcvbnValidator) for v in get_default_password_validators())


@pytest.mark.parametrize("password", ["password123", "P@ssw0rd", "drowssap", "qwertyuiop", "iloveyou"])
def test_zxcvbn_refuses_known_passwords_and_says_why(password: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ZxcvbnValidator().validate(password)
    assert caught.value.code == "password_known"
    assert "commonly used" in caught.value.messages[0]


@pytest.mark.parametrize("password", ["monkey12345", "Password1!", "abcabcabcabc", "aaaaaaaaaaaa"])
def test_zxcvbn_refuses_easy_to_guess_passwords_with_the_reason(password: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ZxcvbnValidator().validate(password)
    assert caught.value.code in {"password_too_guessable", "password_known"}
    assert caught.value.messages[0]


def test_zxcvbn_counts_the_persons_own_name_as_known(clinician_a: Any) -> None:
    ZxcvbnValidator().validate("claire-clinician_a-2024!")  # fine for someone else
    clinician_a.first_name = "Claire"
    with pytest.raises(ValidationError) as caught:
        ZxcvbnValidator(min_score=4).validate("Claire-clinician_a", clinician_a)
    assert "strength" in caught.value.messages[0]


@pytest.mark.parametrize("password", ["correct horse battery staple", "ambulance-Mango-47-tulip", "Tr0ub4dor&3x!"])
def test_zxcvbn_accepts_strong_passwords(password: str) -> None:
    ZxcvbnValidator().validate(password)
    validate_password(password)


def test_zxcvbn_judges_very_long_input_without_crashing() -> None:
    # zxcvbn itself raises ValueError past 72 characters: that must not become a 500.
    ZxcvbnValidator().validate("ambulance-Mango-47-tulip " + "".join(chr(97 + (i * 7) % 26) for i in range(500)))
    with pytest.raises(ValidationError):
        ZxcvbnValidator().validate("Vx9!" * 500)


# --- the change-password API ----------------------------------------------------------------------------


def post(client: Client, data: dict[str, Any]) -> Any:
    return client.post(
        CHANGE, data, content_type="application/json", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value
    )


def test_changing_my_password_needs_the_old_one_and_a_strong_new_one(clinician_a: Any) -> None:
    confirmed_device(clinician_a)
    me = Client(enforce_csrf_checks=True)
    assert sign_in(me, "clinician_a", PASSWORD).status_code == 200
    wrong = post(me, {"old_password": "nope", "new_password": "ambulance-Mango-47-tulip"})
    assert wrong.status_code == 400 and set(wrong.json()["errors"]) == {"old_password"}
    weak = post(me, {"old_password": PASSWORD, "new_password": "password123"})
    assert weak.status_code == 400
    assert any("commonly used" in m or "too common" in m for m in weak.json()["errors"]["new_password"])
    missing = post(me, {})
    assert set(missing.json()["errors"]) == {"old_password", "new_password"}
    clinician_a.refresh_from_db()
    assert clinician_a.check_password(PASSWORD)


def test_a_password_change_keeps_this_session_and_ends_the_others(clinician_a: Any) -> None:
    confirmed_device(clinician_a)
    phone = Client(enforce_csrf_checks=True)
    laptop = Client(enforce_csrf_checks=True)
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        assert sign_in(phone, "clinician_a", PASSWORD).status_code == 200
    with time_machine.travel(now + dt.timedelta(seconds=31), tick=False):
        assert sign_in(laptop, "clinician_a", PASSWORD).status_code == 200
    assert laptop.get(ME).status_code == 200
    response = post(phone, {"old_password": PASSWORD, "new_password": "ambulance-Mango-47-tulip"})
    assert response.status_code == 204, response.content
    assert phone.get(ME).status_code == 200
    assert laptop.get(ME).status_code in (401, 403)
    clinician_a.refresh_from_db()
    assert clinician_a.check_password("ambulance-Mango-47-tulip")
    event = SecurityEvent.objects.get(kind="password.changed")
    assert event.user_id == clinician_a.pk
    assert "ambulance" not in str(event.details)


def test_a_password_change_needs_a_signed_in_user() -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/api/v1/auth/csrf/")
    assert post(client, {"old_password": "a", "new_password": "b"}).status_code in (401, 403)
