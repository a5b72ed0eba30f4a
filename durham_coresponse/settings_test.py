"""Test overrides: the same settings, made fast and deterministic."""

from __future__ import annotations

from .settings import *  # noqa: F403
from .settings import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; never in production
CELERY_TASK_ALWAYS_EAGER = True  # reliability tests use a real worker through celery.contrib.pytest
CELERY_TASK_EAGER_PROPAGATES = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WHITENOISE_AUTOREFRESH = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["NAME"] = ":memory:"
    DATABASES["default"]["OPTIONS"] = {}

# Clinical field encryption: a fixed key, so tests never write a dev key under var/.
NOTE_ENCRYPTION_KEYS = ["LuyGO5Qb_bw3m9zhqHUMhVQTfOQZLSA7cdBqNFK1ZD8="]

# --- Security: http+keys ---
# No 429s for the rest of the suite; the throttle tests lower these with the settings fixture.
SECURITY_RATE_LOGIN = "100000/min"
SECURITY_RATE_LOGIN_IP = "100000/min"
SECURITY_RATE_CAD = "100000/min"
SECURITY_RATE_WRITE = "100000/min"
# Static files (admin, Swagger UI from the sidecar) from the apps' folders, as in development: tests
# run with DEBUG off and no collectstatic.
WHITENOISE_USE_FINDERS = True

# --- SMS and voice: no provider unless a test configures its local fake; webhooks unthrottled ---
TWILIO_ACCOUNT_SID = TWILIO_AUTH_TOKEN = TWILIO_FROM_NUMBER = TWILIO_MESSAGING_SERVICE_SID = ""
TWILIO_API_BASE_URL = ""
NOTIFICATIONS_WEBHOOK_RATE = "100000/min"

# --- Real-time: an event type nobody declared is refused (apps/realtime/registry.py) ---
REALTIME_EVENTS_STRICT = True
