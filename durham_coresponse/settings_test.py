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
