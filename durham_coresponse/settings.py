"""One settings module, driven by the environment.

With no environment at all this is the *embedded default*: SQLite, an in-process channel layer and
Celery's filesystem broker under ``var/``, so ``make run`` works on a fresh machine. ``DATABASE_URL``
and ``REDIS_URL`` switch to PostgreSQL and Redis. See docs/settings.md for every variable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


DEBUG = env_bool("DJANGO_DEBUG", default=True)
# Demo mode: seed_demo may create users with printed passwords. Never on in production.
DEMO_MODE = env_bool("DEMO_MODE", default=DEBUG)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "insecure-dev-only-key-do-not-use-in-production"  # noqa: S105 - dev only, refused above

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "channels",
    "apps.core",
    "apps.accounts",
    "apps.teams",
    "apps.shifts",
    "apps.realtime",
    "apps.incidents",
    "apps.clinical",
    "apps.referrals",
    "apps.reminders",
    "apps.security",
    "apps.notifications",
    "apps.insights",
    "apps.demo",
]

MIDDLEWARE = [
    # Outermost: every answer under /api/ in the API's JSON error shape, a too-large body a 413 (docs/security.md).
    "apps.core.middleware.ApiErrorShapeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "durham_coresponse.urls"
ASGI_APPLICATION = "durham_coresponse.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    _db: dict[str, Any] = dict(dj_database_url.parse(DATABASE_URL))
    if _db["ENGINE"] == "django.db.backends.postgresql":
        # Under ASGI every request would otherwise open a new connection (~12 ms here, PITFALLS.md).
        # Django 5.2's psycopg pool keeps them; CONN_MAX_AGE must stay 0 with a pool.
        _db["CONN_MAX_AGE"] = 0
        _db.setdefault("OPTIONS", {})["pool"] = {
            "min_size": int(os.environ.get("DB_POOL_MIN", "2")),
            "max_size": int(os.environ.get("DB_POOL_MAX", "20")),
            "timeout": 10,
        }
    DATABASES = {"default": _db}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # Web, worker and beat share the file: wait for the write lock instead of failing at once.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- Redis: channel layer and Celery broker -------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
EMBEDDED = not REDIS_URL

if REDIS_URL:
    CHANNEL_LAYERS: dict[str, Any] = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # socket_timeout None: redis-py 8 defaults to 5 s, equal to channels-redis' blocking
                # pop, which cuts idle sockets after ~5 s (PITFALLS.md, channels_redis #422).
                # max_connections: redis-py 8's async pool allows 100 by default and raises
                # MaxConnectionsError beyond; a few hundred sockets connecting at once each run a
                # group_add (issue 18's chaos run hit it).
                "hosts": [{"address": REDIS_URL, "socket_timeout": None, "max_connections": 1000}],
                "capacity": 1500,
                "expiry": 30,
            },
        }
    }
    CELERY_BROKER_URL = REDIS_URL
else:
    # One web process only: the in-memory layer does not cross processes. Events made by the
    # Celery worker reach the web process through the database event log (apps.realtime.bridge).
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    _broker_dir = VAR_DIR / "celery-broker"
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    # A hostname, though the folders below are what count: without one kombu warns on every connect.
    CELERY_BROKER_URL = "filesystem://localhost//"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),  # default is ./control in the working directory
        "store_processed": False,
    }

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict[str, Any] = {}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Real time ------------------------------------------------------------------------------------
# How often a socket re-reads its stream from the database even without a doorbell (safety net for
# a dropped channel-layer message), and the embedded bridge's poll interval.
EVENTS_CATCHUP_SECONDS = env_float("EVENTS_CATCHUP_SECONDS", 15.0)
# While the channel layer is down (Redis away), each process reads its sockets' streams this often
# and probes the layer by re-joining their groups (apps/realtime/sweeper.py, docs/realtime.md).
EVENTS_DEGRADED_POLL_SECONDS = env_float("EVENTS_DEGRADED_POLL_SECONDS", 1.0)
EVENTS_BRIDGE_POLL_SECONDS = env_float("EVENTS_BRIDGE_POLL_SECONDS", 0.25)
EVENTS_HEARTBEAT_SECONDS = env_float("EVENTS_HEARTBEAT_SECONDS", 20.0)
EVENTS_PAGE_SIZE = 200

# --- Internationalisation: UTC stored, America/New_York shown --------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/New_York"
USE_I18N = True
USE_TZ = True

# --- Static files and the PWA ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
FRONTEND_DIST = BASE_DIR / "frontend" / "dist"
# The built PWA is served at the site root (/sw.js must be at / for its scope to be /).
WHITENOISE_ROOT = FRONTEND_DIST if FRONTEND_DIST.is_dir() else None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Sessions and security ------------------------------------------------------------------------
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(12 * 3600)))  # re-auth every 12 h
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGIN_URL = "/admin/login/"

# --- REST framework -------------------------------------------------------------------------------
REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.security.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "apps.security.errors.exception_handler",  # core's error shape + denial audit
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON only, bounded in size (DATA_UPLOAD_MAX_MEMORY_SIZE) and depth (API_JSON_MAX_DEPTH): apps/core/parsers.py.
    "DEFAULT_PARSER_CLASSES": ["apps.core.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Request bodies: at most this many bytes (413 above) and this many levels of JSON nesting (400 deeper).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("API_MAX_BODY_BYTES", str(2_621_440)))
API_JSON_MAX_DEPTH = int(os.environ.get("API_JSON_MAX_DEPTH", "32"))
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SPECTACULAR_SETTINGS = {
    "TITLE": "Durham co-response API",
    "DESCRIPTION": "Dispatch and crisis documentation for police / mental-health co-response.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per shared choice set (the PWA's generated types use them: scripts/export_contracts.py).
    "ENUM_NAME_OVERRIDES": {
        "EncounterKindEnum": "apps.clinical.models.Encounter.Kind",
        "RiskLevelEnum": "apps.clinical.models.Encounter.Risk",
        "DispositionCodeEnum": "apps.clinical.models.Disposition.Code",
        "IvcOutcomeEnum": "apps.clinical.models.IvcRecord.Outcome",
        "AddendumKindEnum": "apps.clinical.models.Addendum.Kind",
        "ReferralTypeEnum": "apps.referrals.models.ReferralType",
        "ReferralStatusEnum": "apps.referrals.models.Referral.Status",
        "FollowUpStatusEnum": "apps.referrals.models.FollowUp.Status",
        "FollowUpReasonEnum": "apps.referrals.models.FollowUp.Reason",
        "AttemptMethodEnum": "apps.referrals.models.FollowUpAttempt.Method",
        "AttemptOutcomeEnum": "apps.referrals.models.FollowUpAttempt.Outcome",
    },
}

# --- E-mail (reminders) ---------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "apps.core.mail.ConsoleSummaryBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "coresponse@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# ==================================================================================================
# Per-subsystem settings. Each subsystem appends its own block below, under its own header.
# ==================================================================================================

# --- Clinical documentation (apps.clinical, apps.core.crypto, apps.core.idempotency) ---------------
# Field encryption keys for clinical content: comma-separated Fernet keys, newest first (docs/privacy.md).
# With none set in DEBUG/demo mode, one is generated once under VAR_DIR (loudly); outside DEBUG a
# missing or invalid key stops startup (apps.clinical.apps.ClinicalConfig.ready).
NOTE_ENCRYPTION_KEYS = [k.strip() for k in os.environ.get("NOTE_ENCRYPTION_KEYS", "").split(",") if k.strip()]
if not NOTE_ENCRYPTION_KEYS and DEBUG:
    import sys as _sys

    from cryptography.fernet import Fernet as _Fernet

    _note_key_file = VAR_DIR / "note_encryption_key.dev"
    if not _note_key_file.exists():
        _note_key_file.write_text(_Fernet.generate_key().decode() + "\n")
        _note_key_file.chmod(0o600)
    NOTE_ENCRYPTION_KEYS = [_note_key_file.read_text().strip()]
    _sys.stderr.write(
        f"WARNING: NOTE_ENCRYPTION_KEYS is not set; using the DEVELOPMENT key in {_note_key_file}. "
        "Never use it for real clinical data.\n"
    )
# Hours after an encounter closed before an unsigned note gets a reminder (DOMAIN.md §4, configurable).
CLINICAL_UNSIGNED_NOTE_REMINDER_HOURS = env_float("CLINICAL_UNSIGNED_NOTE_REMINDER_HOURS", 24.0)
# Hours after a custody order with no custody recorded before a reminder (warns before the 24 h limit).
CLINICAL_IVC_CUSTODY_REMINDER_HOURS = env_float("CLINICAL_IVC_CUSTODY_REMINDER_HOURS", 18.0)
# How long a break-glass grant lasts.
CLINICAL_BREAK_GLASS_MINUTES = env_float("CLINICAL_BREAK_GLASS_MINUTES", 60.0)

# --- Real-time delivery: receipts, escalation, Web Push (apps.realtime; docs/realtime.md) ------------
# Every event type is declared with its payload schema in apps/<app>/events.py (apps.realtime.registry).
# Strict: event_emit refuses a type nobody declared (on in DEBUG and in the tests; off in production,
# where an undeclared type is still delivered rather than lost).
REALTIME_EVENTS_STRICT = env_bool("REALTIME_EVENTS_STRICT", default=DEBUG)
# Event types whose acknowledgements are recorded per device (delivered / seen) and shown to dispatchers.
REALTIME_RECEIPT_EVENT_TYPES = ["assignment.offered"]
# An offer no device of the team has *seen* within PUSH_AFTER is pushed to the team's phones; within
# ALERT_AFTER the dispatchers are alerted; not resolved (accepted, declined ...) within REASSIGN_AFTER
# it is flagged for reassignment. The beat sweep below drives them; each stage fires once (DB rows).
REALTIME_ESCALATION_PUSH_AFTER_SECONDS = env_float("REALTIME_ESCALATION_PUSH_AFTER_SECONDS", 20.0)
REALTIME_ESCALATION_ALERT_AFTER_SECONDS = env_float("REALTIME_ESCALATION_ALERT_AFTER_SECONDS", 60.0)
REALTIME_ESCALATION_REASSIGN_AFTER_SECONDS = env_float("REALTIME_ESCALATION_REASSIGN_AFTER_SECONDS", 120.0)
REALTIME_ESCALATION_SWEEP_SECONDS = env_float("REALTIME_ESCALATION_SWEEP_SECONDS", 2.0)
CELERY_BEAT_SCHEDULE["realtime-escalation-sweep"] = {
    "task": "apps.realtime.tasks.escalation_sweep_task",
    "schedule": REALTIME_ESCALATION_SWEEP_SECONDS,
    "options": {"expires": REALTIME_ESCALATION_SWEEP_SECONDS * 2},
}
# VAPID keys: from the environment, else from the file `manage.py generate_vapid_keys` writes.
WEBPUSH_VAPID_PUBLIC_KEY = os.environ.get("WEBPUSH_VAPID_PUBLIC_KEY", "")
WEBPUSH_VAPID_PRIVATE_KEY = os.environ.get("WEBPUSH_VAPID_PRIVATE_KEY", "")
WEBPUSH_VAPID_KEY_FILE = Path(os.environ.get("WEBPUSH_VAPID_KEY_FILE", VAR_DIR / "vapid.json"))
WEBPUSH_VAPID_SUBJECT = os.environ.get("WEBPUSH_VAPID_SUBJECT", "mailto:coresponse-ops@localhost")
# pywebpush defaults to ttl=0 (dropped if the phone is unreachable that instant): keep a day.
WEBPUSH_TTL_SECONDS = int(os.environ.get("WEBPUSH_TTL_SECONDS", "86400"))
WEBPUSH_TIMEOUT_SECONDS = env_float("WEBPUSH_TIMEOUT_SECONDS", 10.0)

# --- Incidents and assignments (apps.incidents; docs/incidents.md) --------------------------------
# An offer nobody accepted within this many seconds (offered or acknowledged only) expires: the
# incident is back to Active for another team, the dispatchers and the team are told. The beat sweep
# below is the timer; each offer is claimed by a conditional UPDATE, so it expires exactly once.
INCIDENTS_OFFER_EXPIRE_SECONDS = env_float("INCIDENTS_OFFER_EXPIRE_SECONDS", 300.0)
INCIDENTS_OFFER_EXPIRE_SWEEP_SECONDS = env_float("INCIDENTS_OFFER_EXPIRE_SWEEP_SECONDS", 10.0)
CELERY_BEAT_SCHEDULE["incidents-offers-expire"] = {
    "task": "incidents.assignments_expire_due",
    "schedule": INCIDENTS_OFFER_EXPIRE_SWEEP_SECONDS,
    "options": {"expires": INCIDENTS_OFFER_EXPIRE_SWEEP_SECONDS * 2},
}


# A call eligible for co-response that no dispatcher offered within this many seconds raises an
# alert on the dispatch console and the supervisor's board (once per wait, cleared when offered).
# "priority:seconds" pairs: the entry with the highest priority at or below the call's applies
# (default: P8-P10 after 1 minute, P5-P7 after 3, below P5 after 10).
def _priority_seconds(text: str) -> dict[int, float]:
    pairs: dict[int, float] = {}
    for part in text.split(","):
        if part.strip():
            priority, _, seconds = part.partition(":")
            pairs[int(priority)] = float(seconds)
    if 0 not in pairs:
        raise ImproperlyConfigured("INCIDENTS_UNASSIGNED_ALERT_SECONDS needs an entry for priority 0 (0:<seconds>).")
    return dict(sorted(pairs.items()))


INCIDENTS_UNASSIGNED_ALERT_SECONDS = _priority_seconds(
    os.environ.get("INCIDENTS_UNASSIGNED_ALERT_SECONDS", "8:60,5:180,0:600")
)
INCIDENTS_UNASSIGNED_SWEEP_SECONDS = env_float("INCIDENTS_UNASSIGNED_SWEEP_SECONDS", 10.0)
CELERY_BEAT_SCHEDULE["incidents-unassigned-alerts"] = {
    "task": "incidents.unassigned_alerts_raise",
    "schedule": INCIDENTS_UNASSIGNED_SWEEP_SECONDS,
    "options": {"expires": INCIDENTS_UNASSIGNED_SWEEP_SECONDS * 2},
}

# --- Reminders (apps.reminders; docs/reminders.md) ------------------------------------------------
# A row stuck in "sending" longer than this (its worker died) is put back to "scheduled" by the sweep.
REMINDERS_SENDING_TIMEOUT_SECONDS = env_float("REMINDERS_SENDING_TIMEOUT_SECONDS", 300.0)
REMINDERS_EMAIL_TIMEOUT_SECONDS = env_float("REMINDERS_EMAIL_TIMEOUT_SECONDS", 30.0)
REMINDERS_BATCH_SIZE = int(os.environ.get("REMINDERS_BATCH_SIZE", "100"))
REMINDERS_MAX_ATTEMPTS = int(os.environ.get("REMINDERS_MAX_ATTEMPTS", "5"))
# One sweep stops claiming after this long; the next beat tick carries on (overlap is safe anyway).
REMINDERS_SWEEP_BUDGET_SECONDS = env_float("REMINDERS_SWEEP_BUDGET_SECONDS", 50.0)
# Links in reminder e-mails: the app's public address (the e-mail carries only this link).
REMINDERS_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))  # for the filebased backend
CELERY_BEAT_SCHEDULE["reminders-sweep"] = {
    "task": "reminders.sweep",
    "schedule": 60.0,
    "options": {"expires": 55},  # a tick queued while the worker was down is dropped, not piled up
}
CELERY_BEAT_SCHEDULE["reminders-recover-stuck"] = {
    "task": "reminders.recover_stuck",
    "schedule": 60.0,
    "options": {"expires": 55},
}

# --- Foundation: OpenAPI component names (apps.core.schema) ----------------------------------------
# Nested Input/Output serializers are named after their api class, so apps never collide.
REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "apps.core.schema.AutoSchema"

# --- Referrals and care navigation (apps.referrals; docs/referrals.md) -----------------------------
# The follow-up policy (DOMAIN.md §5, configurable): hours until first contact, days for linkage checks.
REFERRALS_FOLLOWUP_POLICY = {
    "high_risk_contact_hours": env_float("REFERRALS_HIGH_RISK_CONTACT_HOURS", 24.0),
    "ivc_released_contact_hours": env_float("REFERRALS_IVC_RELEASED_CONTACT_HOURS", 24.0),
    "referral_contact_hours": env_float("REFERRALS_REFERRAL_CONTACT_HOURS", 48.0),
    "ed_linkage_check_days": [7, 30],
}
# Failed attempts (no answer, wrong number) after which a follow-up is closed as unreachable.
REFERRALS_MAX_FAILED_ATTEMPTS = int(os.environ.get("REFERRALS_MAX_FAILED_ATTEMPTS", "3"))
# Reminder to the assignee this long before the due time; escalation to supervisors this long after.
REFERRALS_REMINDER_BEFORE_HOURS = env_float("REFERRALS_REMINDER_BEFORE_HOURS", 4.0)
REFERRALS_OVERDUE_GRACE_HOURS = env_float("REFERRALS_OVERDUE_GRACE_HOURS", 4.0)
# The policy sweep picks up triggers recorded in the clinical app (high risk, IVC release, ED transport)
# within this look-back; each rule creates its task once (unique policy key), so overlap is harmless.
REFERRALS_POLICY_LOOKBACK_HOURS = env_float("REFERRALS_POLICY_LOOKBACK_HOURS", 72.0)
CELERY_BEAT_SCHEDULE["referrals-followup-policy-sweep"] = {
    "task": "referrals.followup_policy_sweep",
    "schedule": 300.0,
    "options": {"expires": 290},
}

# --- Core housekeeping ----------------------------------------------------------------------------
CELERY_BEAT_SCHEDULE["core-idempotency-purge"] = {"task": "core.idempotency_purge", "schedule": 24 * 3600.0}

# --- Security (apps.security; docs/security.md) ---------------------------------------------------
# Security events (sign-ins, failures, MFA, lockouts, revocations, API-key use, denials) are kept at
# least this many days (DOMAIN.md §6: audit logs ≥ 1 year); the purge never goes below 365.
SECURITY_AUDIT_RETENTION_DAYS = max(365, int(os.environ.get("SECURITY_AUDIT_RETENTION_DAYS", "400")))
# Reverse proxies in front of the app that append to X-Forwarded-For (0: use the socket address).
SECURITY_TRUSTED_PROXY_COUNT = int(os.environ.get("SECURITY_TRUSTED_PROXY_COUNT", "0"))
# CSRF failures on Django forms (the admin) are audited as permission denials.
CSRF_FAILURE_VIEW = "apps.security.views.csrf_failure"
CELERY_BEAT_SCHEDULE["security-audit-purge"] = {"task": "security.audit_purge", "schedule": 24 * 3600.0}

# --- Security: fuzz+matrix (part C) ---------------------------------------------------------------
# Every operation documents the shared error responses (apps.core.schema.add_error_responses), so
# clients and the schemathesis conformance checks can rely on them.
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "apps.core.schema.add_error_responses",
]

# --- Security: sign-in (part A1: MFA, lockout, passwords; docs/security.md) -----------------------
# Two-factor sign-in with django-otp: TOTP authenticators and single-use recovery codes.
INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static"]
# The admin site asks username + password + 6-digit code (apps.security.admin_site).
INSTALLED_APPS[INSTALLED_APPS.index("django.contrib.admin")] = "apps.security.admin_config.MfaAdminConfig"
_auth_mw = MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware")
MIDDLEWARE.insert(_auth_mw + 1, "django_otp.middleware.OTPMiddleware")
# The one backend: Django's ModelBackend behind the per-account / per-IP lockout (apps.security.backends).
AUTHENTICATION_BACKENDS = ["apps.security.backends.LockoutModelBackend"]
OTP_TOTP_ISSUER = "Durham Co-Response"
# How long "password verified, second factor pending" lasts in the session before sign-in starts over.
SECURITY_MFA_PENDING_SECONDS = int(os.environ.get("SECURITY_MFA_PENDING_SECONDS", "300"))
# Lockout: N failed attempts (password, MFA code, unlock) within the window lock the account / the
# address for SECURITY_LOCKOUT_SECONDS. The per-IP threshold is higher: a 911 centre shares one NAT.
SECURITY_LOCKOUT_ACCOUNT_FAILURES = int(os.environ.get("SECURITY_LOCKOUT_ACCOUNT_FAILURES", "5"))
SECURITY_LOCKOUT_IP_FAILURES = int(os.environ.get("SECURITY_LOCKOUT_IP_FAILURES", "30"))
SECURITY_LOCKOUT_WINDOW_SECONDS = int(os.environ.get("SECURITY_LOCKOUT_WINDOW_SECONDS", "900"))
SECURITY_LOCKOUT_SECONDS = int(os.environ.get("SECURITY_LOCKOUT_SECONDS", "900"))
# Hourly: forget counters with no failure for a window and no lockout (the audit keeps the history).
CELERY_BEAT_SCHEDULE["security-lockout-purge"] = {"task": "security.lockout_purge", "schedule": 3600.0}
# Argon2id first; PBKDF2 stays to read (and upgrade on the next sign-in) older hashes.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Django's four validators plus an offline zxcvbn strength check (score >= 3, not a known password).
AUTH_PASSWORD_VALIDATORS += [
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "apps.security.passwords.ZxcvbnValidator", "OPTIONS": {"min_score": 3}},
]

# --- Security: http+keys (apps.security.headers/throttles/signatures; docs/security.md) -------------
# Security headers on every response, placed before WhiteNoise so the built PWA gets them too.
MIDDLEWARE.insert(
    MIDDLEWARE.index("whitenoise.middleware.WhiteNoiseMiddleware"), "apps.security.headers.SecurityHeadersMiddleware"
)
SECURITY_CSP_REPORT_ONLY = env_bool("SECURITY_CSP_REPORT_ONLY", default=False)
SECURITY_CSP_REPORT_URI = os.environ.get("SECURITY_CSP_REPORT_URI", "")
SECURITY_CSP_EXTRA: dict[str, str] = {}  # {directive: extra sources}, e.g. a tile server in img-src
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Swagger UI and its assets from the sidecar package (self-hosted: no CDN, no inline script).
INSTALLED_APPS.append("drf_spectacular_sidecar")
SPECTACULAR_SETTINGS.update(
    {"SWAGGER_UI_DIST": "SIDECAR", "SWAGGER_UI_FAVICON_HREF": "SIDECAR", "REDOC_DIST": "SIDECAR"}
)
if not DEBUG:
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURITY_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURITY_HSTS_INCLUDE_SUBDOMAINS", default=True)
    # Preloading is a commitment for the whole domain (hstspreload.org); the owner decides.
    SECURE_HSTS_PRELOAD = env_bool("SECURITY_HSTS_PRELOAD", default=False)
    SECURE_SSL_REDIRECT = env_bool("SECURITY_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SECURITY_CSP_UPGRADE_INSECURE_REQUESTS = True
    if not SECURE_HSTS_PRELOAD:
        # W021 only asks for the preload flag, which is the domain owner's decision (documented).
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
# The PWA reads the csrftoken cookie (frontend/src/lib/api.ts), so it stays readable by script.
CSRF_COOKIE_HTTPONLY = False

# Cache for rate-limit counters: Redis when configured, else this process's memory (embedded mode
# runs one web process, so the counters are exact there too).
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "cr"}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "coresponse"}}

# Rate limits ("N/s|min|hour|day"), read on every request (apps.security.throttles): "login" per
# submitted username and (looser, a station shares one address) per IP; "cad" per API key; "write"
# per user for every unsafe method elsewhere. Safe methods are not limited.
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = ["apps.security.throttles.SecurityRateThrottle"]
SECURITY_RATE_LOGIN = os.environ.get("SECURITY_RATE_LOGIN", "10/min")
SECURITY_RATE_LOGIN_IP = os.environ.get("SECURITY_RATE_LOGIN_IP", "60/min")
SECURITY_RATE_CAD = os.environ.get("SECURITY_RATE_CAD", "600/min")
SECURITY_RATE_WRITE = os.environ.get("SECURITY_RATE_WRITE", "120/min")

# API keys: after a rotation the old secret keeps working this long (0: stops at once).
SECURITY_APIKEY_ROTATION_GRACE_SECONDS = int(os.environ.get("SECURITY_APIKEY_ROTATION_GRACE_SECONDS", "14400"))
# Signed requests: timestamps older/newer than this are refused; seen signatures are kept 2x as long.
SECURITY_SIGNATURE_MAX_AGE_SECONDS = int(os.environ.get("SECURITY_SIGNATURE_MAX_AGE_SECONDS", "300"))
CELERY_BEAT_SCHEDULE["security-signature-nonce-purge"] = {
    "task": "security.signature_nonce_purge",
    "schedule": 300.0,
    "options": {"expires": 290},
}

# --- Security: sessions (part A2; apps.security.sessions / middleware) -----------------------------
# CJIS-style session rules (DOMAIN.md §6): a signed-in session locks after this long without activity
# (requests with X-Background: 1 do not count) and ends this long after sign-in, whatever the activity.
SECURITY_IDLE_LOCK_SECONDS = int(os.environ.get("SECURITY_IDLE_LOCK_SECONDS", "1800"))
SECURITY_SESSION_MAX_SECONDS = int(os.environ.get("SECURITY_SESSION_MAX_SECONDS", str(SESSION_COOKIE_AGE)))
# The Django session (and its cookie) lives an hour past the rule, so a late request meets the rule
# (401 session_expired, audited) instead of a session that silently vanished; the rule ends it.
SESSION_COOKIE_AGE = SECURITY_SESSION_MAX_SECONDS + 3600
# Activity is written to the session record at most this often (the lock may come this much early).
SECURITY_ACTIVITY_WRITE_SECONDS = int(os.environ.get("SECURITY_ACTIVITY_WRITE_SECONDS", "30"))
# Wrong passwords on the lock screen after which the session ends (each also counts toward lockout).
SECURITY_UNLOCK_MAX_FAILURES = int(os.environ.get("SECURITY_UNLOCK_MAX_FAILURES", "5"))
MIDDLEWARE.append("apps.security.middleware.SessionRulesMiddleware")
CELERY_BEAT_SCHEDULE["security-sessions-sweep"] = {
    "task": "security.sessions_sweep",
    "schedule": 60.0,
    "options": {"expires": 55},
}

# --- SMS and voice escalation (apps.notifications; docs/notifications.md) -------------------------
# The telephony provider (Twilio). With no account, token and sender, the SMS and voice stages are
# skipped (escalation ends with Web Push and the dispatcher alert) and the admin says so.
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")  # E.164; calls always come from it
TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID", "")  # texts use it when set
# Only for tests: send the REST calls to a local fake of Twilio instead of https://api.twilio.com.
TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL", "")
TWILIO_TIMEOUT_SECONDS = env_float("TWILIO_TIMEOUT_SECONDS", 15.0)
# The exact public address Twilio calls (scheme, host, port): webhook signatures are computed over
# it, so behind a TLS-terminating proxy it cannot be rebuilt from the request (PITFALLS.md).
NOTIFICATIONS_PUBLIC_BASE_URL = (
    os.environ.get("NOTIFICATIONS_PUBLIC_BASE_URL") or os.environ.get("PUBLIC_BASE_URL", "")
).rstrip("/")
# Seconds after the offer: a text to the team's members if no device has seen it, then a call.
NOTIFICATIONS_SMS_AFTER_SECONDS = env_float("NOTIFICATIONS_SMS_AFTER_SECONDS", 40.0)
NOTIFICATIONS_VOICE_AFTER_SECONDS = env_float("NOTIFICATIONS_VOICE_AFTER_SECONDS", 90.0)
# Cost guards: texts + calls per offer, and across the whole installation per rolling hour.
NOTIFICATIONS_MAX_PER_OFFER = int(os.environ.get("NOTIFICATIONS_MAX_PER_OFFER", "6"))
NOTIFICATIONS_MAX_PER_HOUR = int(os.environ.get("NOTIFICATIONS_MAX_PER_HOUR", "200"))
# Transient provider errors (5xx, 429, timeouts) are retried with this back-off (doubling), at most
# MAX_ATTEMPTS times; a row stuck in "sending" longer than SENDING_TIMEOUT is reconciled and retried.
NOTIFICATIONS_RETRY_BASE_SECONDS = env_float("NOTIFICATIONS_RETRY_BASE_SECONDS", 5.0)
NOTIFICATIONS_MAX_ATTEMPTS = int(os.environ.get("NOTIFICATIONS_MAX_ATTEMPTS", "4"))
NOTIFICATIONS_SENDING_TIMEOUT_SECONDS = env_float("NOTIFICATIONS_SENDING_TIMEOUT_SECONDS", 60.0)
NOTIFICATIONS_SWEEP_SECONDS = env_float("NOTIFICATIONS_SWEEP_SECONDS", 5.0)
NOTIFICATIONS_BATCH_SIZE = int(os.environ.get("NOTIFICATIONS_BATCH_SIZE", "50"))  # rows claimed at a time
# Only offers this recent get telephone stages (older ones are the dispatcher's already).
NOTIFICATIONS_LOOKBACK_MINUTES = env_float("NOTIFICATIONS_LOOKBACK_MINUTES", 10.0)
# A reply "1"/"2" counts for the newest text or call sent to that person within this window.
NOTIFICATIONS_REPLY_WINDOW_MINUTES = env_float("NOTIFICATIONS_REPLY_WINDOW_MINUTES", 30.0)
# The reason recorded when someone declines by text or keypad (the app asks for details later).
NOTIFICATIONS_DECLINE_REASON = os.environ.get("NOTIFICATIONS_DECLINE_REASON", "Declined by phone reply")
# Numbers typed without a country code are read in this region.
NOTIFICATIONS_DEFAULT_REGION = os.environ.get("NOTIFICATIONS_DEFAULT_REGION", "US")
# Verification codes: lifetime, wrong tries per code, codes texted per person per hour.
NOTIFICATIONS_VERIFY_CODE_TTL_SECONDS = int(os.environ.get("NOTIFICATIONS_VERIFY_CODE_TTL_SECONDS", "600"))
NOTIFICATIONS_VERIFY_MAX_ATTEMPTS = int(os.environ.get("NOTIFICATIONS_VERIFY_MAX_ATTEMPTS", "5"))
NOTIFICATIONS_VERIFY_MAX_PER_HOUR = int(os.environ.get("NOTIFICATIONS_VERIFY_MAX_PER_HOUR", "5"))
# Webhooks from the provider, per client address (apps.security.throttles' counters).
NOTIFICATIONS_WEBHOOK_RATE = os.environ.get("NOTIFICATIONS_WEBHOOK_RATE", "300/min")
CELERY_BEAT_SCHEDULE["notifications-sweep"] = {
    "task": "notifications.sweep",
    "schedule": NOTIFICATIONS_SWEEP_SECONDS,
    "options": {"expires": NOTIFICATIONS_SWEEP_SECONDS * 2},
}

# --- Program insight (apps.insights; docs/insights.md) ---------------------------------------------
# The monthly rollup is recomputed from the source tables: the recent months (still changing) this
# often, every month with data once a day, and a quarter's months before it is frozen.
INSIGHTS_ROLLUP_REFRESH_SECONDS = env_float("INSIGHTS_ROLLUP_REFRESH_SECONDS", 300.0)
INSIGHTS_ROLLUP_RECENT_DAYS = int(os.environ.get("INSIGHTS_ROLLUP_RECENT_DAYS", "62"))
# Open calls at or above this common priority with no active assignment are flagged on the live panel.
INSIGHTS_HIGH_PRIORITY = int(os.environ.get("INSIGHTS_HIGH_PRIORITY", "7"))
CELERY_BEAT_SCHEDULE["insights-rollup-recent"] = {
    "task": "insights.rollup_refresh_recent",
    "schedule": INSIGHTS_ROLLUP_REFRESH_SECONDS,
    "options": {"expires": INSIGHTS_ROLLUP_REFRESH_SECONDS * 0.9},
}
CELERY_BEAT_SCHEDULE["insights-rollup-all"] = {"task": "insights.rollup_refresh_all", "schedule": 24 * 3600.0}
