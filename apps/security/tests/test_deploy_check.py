"""`manage.py check --deploy` is clean with production settings, and production turns the HTTPS rules on."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

MANAGE = Path(settings.BASE_DIR) / "manage.py"


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECURITY_", "DJANGO_", "SECURE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="durham_coresponse.settings",
        DJANGO_DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="coresponse.example",
        CSRF_TRUSTED_ORIGINS="https://coresponse.example",
        NOTE_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        VAR_DIR=str(tmp_path),
    )
    env.update(extra)
    return env


def run_manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, str(MANAGE), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(settings.BASE_DIR),
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = run_manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_when_a_control_is_switched_off(tmp_path: Path) -> None:
    # The check is able to fail: no HTTPS redirect is a warning, and warnings fail it.
    env = production_env(tmp_path, SECURITY_SSL_REDIRECT="0")
    result = run_manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


PRINT_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({k: getattr(s, k, None) for k in ["
    "'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_HSTS_PRELOAD', 'SECURE_SSL_REDIRECT', "
    "'SESSION_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_SAMESITE', "
    "'SECURE_REDIRECT_EXEMPT']}))"
)


@pytest.mark.parametrize("preload", ["0", "1"])
def test_production_turns_on_hsts_for_a_year_secure_cookies_and_the_https_redirect(
    tmp_path: Path, preload: str
) -> None:
    import json

    env = production_env(tmp_path, SECURITY_HSTS_PRELOAD=preload)
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PRINT_SETTINGS],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(settings.BASE_DIR),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is (preload == "1")
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert values["SECURE_REDIRECT_EXEMPT"] == [r"^healthz$"]
