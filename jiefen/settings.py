"""Django settings for Jiefen, all read from the environment (see README "Configuration").

The embedded default (``JIEFEN_MODE=embedded``) needs nothing but Python: SQLite in ``JIEFEN_DATA_DIR`` and
background work run inline. ``JIEFEN_MODE=production`` demands explicit secrets, a database URL and a broker.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from jiefen.conf import env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent

MODE = env_choice("JIEFEN_MODE", "embedded", ("embedded", "production"))
EMBEDDED = MODE == "embedded"
DEBUG = env_bool("JIEFEN_DEBUG", False)

DATA_DIR = Path(env_str("JIEFEN_DATA_DIR", "./var") or "./var").resolve()
try:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
except OSError as exc:
    raise ImproperlyConfigured(f"JIEFEN_DATA_DIR={DATA_DIR} cannot be created: {exc}") from exc


def _secret(name: str, file_name: str) -> str:
    """A secret from the environment; the embedded mode keeps a generated one in the data folder."""
    value = env_str(name)
    if value:
        if len(value) < 32:
            raise ImproperlyConfigured(f"{name} must be at least 32 characters long")
        return value
    if not EMBEDDED:
        raise ImproperlyConfigured(f"{name} must be set when JIEFEN_MODE=production")
    path = DATA_DIR / file_name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret("JIEFEN_SECRET_KEY", "secret_key")
# Key material for personal data at rest (phone and ID numbers): encryption and keyed lookup hashes are
# derived from it. Losing it makes those fields unreadable; keep it apart from database backups.
DATA_KEY = _secret("JIEFEN_DATA_KEY", "data_key")

ALLOWED_HOSTS = env_list("JIEFEN_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("JIEFEN_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "jiefen.core",
    "jiefen.audit",
    "jiefen.org",
    "jiefen.clocks",
    "jiefen.cases",
    "jiefen.mediation",
    "jiefen.routing",
    "jiefen.notify",
    "jiefen.supervision",
    "jiefen.documents",
    "jiefen.web",
    "jiefen.demo",
    "jiefen.intake",
    "jiefen.portal",
    "jiefen.transfer",
    "jiefen.analytics",
    "jiefen.intelligence",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "jiefen.urls"
WSGI_APPLICATION = "jiefen.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jiefen.web.context.navigation",
            ],
        },
    },
]

_default_db = f"sqlite:///{DATA_DIR / 'jiefen.sqlite3'}"
DATABASE_URL = env_str("JIEFEN_DATABASE_URL", _default_db) or _default_db
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("JIEFEN_DB_CONN_MAX_AGE", 60, minimum=0))
except (ValueError, KeyError) as exc:
    raise ImproperlyConfigured(f"JIEFEN_DATABASE_URL is not a database URL: {exc}") from exc
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["ENGINE"] = "jiefen.core.sqlite"  # writers queue at the operating system (see its docstring)
    _db["OPTIONS"] = {
        # IMMEDIATE: a writing transaction takes the write lock at BEGIN, so two writers queue instead of one
        # failing half-way with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    # Tests use a file, not shared-cache memory, so threads lock and wait as they do in production.
    _db["TEST"] = {
        "NAME": env_str("JIEFEN_TEST_SQLITE_NAME", "") or str(DATA_DIR / f"test-{os.getpid()}.sqlite3")
    }
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db["ENGINE"] = "django.db.backends.postgresql"
else:
    raise ImproperlyConfigured(
        f"JIEFEN_DATABASE_URL: only sqlite and postgres are supported, got {_db['ENGINE']}"
    )
DATABASES = {"default": _db}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "org.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = env_str("JIEFEN_LANGUAGE", "zh-hans") or "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"JIEFEN_LANGUAGE must be one of {', '.join(dict(LANGUAGES))}")
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("JIEFEN_TIME_ZONE", "Asia/Shanghai") or "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = Path(env_str("JIEFEN_MEDIA_DIR", str(DATA_DIR / "media")) or DATA_DIR / "media")
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Uploads: files are checked by content and kept outside the database.
ATTACHMENT_MAX_BYTES = env_int("JIEFEN_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
ATTACHMENT_MAX_COUNT = env_int("JIEFEN_ATTACHMENT_MAX_COUNT", 10, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

RECEIPT_PREFIX = env_str("JIEFEN_RECEIPT_PREFIX", "SJS") or "SJS"
OFFICE_NAME = env_str("JIEFEN_OFFICE_NAME", "石景山区信访办公室") or "石景山区信访办公室"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("JIEFEN_SECURE_COOKIES", not EMBEDDED)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

_cache_url = env_str("JIEFEN_CACHE_URL")
if _cache_url:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rate limits of the citizen intake (jiefen.intake.guard) must hold across web processes: Redis when given,
# else a file cache in the data folder.
CACHES["ratelimit"] = (
    {**CACHES["default"], "KEY_PREFIX": "rl"}
    if _cache_url
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "ratelimit"),
    }
)
INTAKE_RATE_CACHE = "ratelimit"
# Off only for load benchmarks (bench/intake.py); the test suite checks it is on by default.
INTAKE_RATE_LIMITS = env_bool("JIEFEN_INTAKE_RATE_LIMITS", True)
# The offline bot challenge: a form posted sooner than this after it was served is refused.
INTAKE_MIN_FILL_SECONDS = env_int("JIEFEN_INTAKE_MIN_FILL_SECONDS", 3, minimum=0)

# E-mail (receipts): SMTP in production; files in the data folder in the embedded mode.
EMAIL_BACKEND = env_str("JIEFEN_EMAIL_BACKEND", "") or (
    "django.core.mail.backends.filebased.EmailBackend"
    if EMBEDDED
    else "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_FILE_PATH = DATA_DIR / "mail"
EMAIL_HOST = env_str("JIEFEN_EMAIL_HOST", "localhost") or "localhost"
EMAIL_PORT = env_int("JIEFEN_EMAIL_PORT", 25, minimum=1)
DEFAULT_FROM_EMAIL = env_str("JIEFEN_EMAIL_FROM", "noreply@localhost") or "noreply@localhost"

# Background work: Celery on a broker in production; run inline in the embedded mode and in tests, so the
# same code path is exercised.
CELERY_BROKER_URL = env_str("JIEFEN_BROKER_URL", "") or "memory://"
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CLOCK_SWEEP_SECONDS = env_int("JIEFEN_CLOCK_SWEEP_SECONDS", 60, minimum=5)
CELERY_BEAT_SCHEDULE = {
    "sweep-clocks": {"task": "jiefen.clocks.tasks.sweep_clocks", "schedule": float(CLOCK_SWEEP_SECONDS)},
    "compact-similar-index": {"task": "jiefen.intelligence.tasks.compact_similar_index", "schedule": 3600.0},
    "retrain-classifier": {"task": "jiefen.intelligence.tasks.retrain_from_history", "schedule": 24 * 3600.0},
    "purge-idempotency-keys": {"task": "jiefen.intake.tasks.purge_idempotency_keys", "schedule": 3600.0},
    # A safety net: each background registration schedules the analysis itself (cases.tasks).
    "enrich-pending-cases": {"task": "jiefen.cases.tasks.enrich_pending", "schedule": 30.0},
    "remind-court-confirmation": {
        "task": "jiefen.mediation.tasks.remind_confirmation_windows",
        "schedule": 6 * 3600.0,
    },
    "notify-clock-alerts": {"task": "jiefen.notify.tasks.notify_clock_events", "schedule": 60.0},
    "deliver-notifications": {"task": "jiefen.notify.tasks.deliver_due", "schedule": 30.0},
    "refresh-rollups": {"task": "jiefen.analytics.tasks.refresh_rollups", "schedule": 300.0},
    "find-hotspots": {"task": "jiefen.analytics.tasks.find_hotspots", "schedule": 3600.0},
}
if not EMBEDDED and CELERY_TASK_ALWAYS_EAGER:
    raise ImproperlyConfigured("JIEFEN_BROKER_URL must be set when JIEFEN_MODE=production")
# The language analysis of a petition registered one at a time (classification, related cases, risk,
# routing): "inline" in the registering request, or "background" — the case is stored and acknowledged at
# once and a worker analyses the waiting cases in batches within a second or two (the emergency check always
# runs inline). Background needs a worker, so it is the default only when a broker is configured.
INTAKE_ENRICHMENT = env_choice(
    "JIEFEN_INTAKE_ENRICHMENT",
    "inline" if CELERY_TASK_ALWAYS_EAGER else "background",
    ("inline", "background"),
)
# How many times a "not satisfied" rating reopens a case to its unit (重办) before it goes to the supervisors.
REOPEN_LIMIT = env_int("JIEFEN_REOPEN_LIMIT", 2, minimum=0, maximum=10)

# Routing: with direct dispatch on, a case in a street's jurisdiction is suggested straight to the street office,
# with the district office copied; off, it goes through the district unit above the street when there is one.
ROUTING_DIRECT_DISPATCH = env_bool("JIEFEN_DIRECT_DISPATCH", False)

# Notifications: one outbox, delivered by transports. A channel whose transport is not configured (no SMS
# gateway URL, no SMTP host, no webhook secret) writes its messages to DATA_DIR/outbox.log instead of sending.
NOTIFY_SMS_URL = env_str("JIEFEN_SMS_URL", "") or ""
NOTIFY_SMS_TOKEN = env_str("JIEFEN_SMS_TOKEN", "") or ""
NOTIFY_SMS_SIGN = env_str("JIEFEN_SMS_SIGN", "") or ""
NOTIFY_TIMEOUT_SECONDS = env_int("JIEFEN_NOTIFY_TIMEOUT_SECONDS", 10, minimum=1)
NOTIFY_WEBHOOK_URLS = env_list("JIEFEN_WEBHOOK_URLS", [])
NOTIFY_WEBHOOK_SECRET = env_str("JIEFEN_WEBHOOK_SECRET", "") or ""
NOTIFY_MAX_ATTEMPTS = env_int("JIEFEN_NOTIFY_MAX_ATTEMPTS", 6, minimum=1, maximum=50)
NOTIFY_BACKOFF_SECONDS = env_int("JIEFEN_NOTIFY_BACKOFF_SECONDS", 30, minimum=1)
NOTIFY_LOG_FILE = DATA_DIR / "outbox.log"
# The notification SMTP server, used through Django's SMTP backend with these values (not the EMAIL_* above).
NOTIFY_SMTP_HOST = env_str("JIEFEN_SMTP_HOST", "") or ""
NOTIFY_SMTP_PORT = env_int("JIEFEN_SMTP_PORT", 587, minimum=1, maximum=65535)
NOTIFY_SMTP_USER = env_str("JIEFEN_SMTP_USER", "") or ""
NOTIFY_SMTP_PASSWORD = env_str("JIEFEN_SMTP_PASSWORD", "") or ""
NOTIFY_SMTP_TLS = env_bool("JIEFEN_SMTP_TLS", True)
NOTIFY_SMTP_FROM = env_str("JIEFEN_SMTP_FROM", "") or DEFAULT_FROM_EMAIL

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("JIEFEN_LOG_LEVEL", "WARNING") or "WARNING"},
}
