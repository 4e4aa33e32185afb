"""Settings, read from the environment.

With no DATABASE_URL the app runs on SQLite; with no CELERY_BROKER_URL Celery tasks run inline.
Production sets both (PostgreSQL and Redis) and runs a worker and one beat.
"""
from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
import xstatic.pkg.bootstrap

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_flag("DJANGO_DEBUG", default=False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and os.environ.get("CRAM_REQUIRE_SECRET_KEY"):
        raise RuntimeError("DJANGO_SECRET_KEY must be set in production")
    # Only for the embedded default and tests; production sets DJANGO_SECRET_KEY.
    SECRET_KEY = "embedded-default-not-for-production"  # noqa: S105
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "auditlog",
    "pgtrigger",
    "rules.apps.AutodiscoverRulesConfig",
    "axes",
    "cram_site",
    "referrals",
    "risk",
    "conferences",
    "supervision",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "cram_site.middleware.RefusalAuditMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cram_site.urls"
WSGI_APPLICATION = "cram_site.wsgi.application"

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

# --- Database: SQLite by default, PostgreSQL when DATABASE_URL is set --------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # IMMEDIATE takes the write lock at BEGIN, so two requests writing at once queue
            # instead of failing with "database is locked" half-way through.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
# Every request is one transaction: a record change and its audit event commit together or not at all.
DATABASES["default"]["ATOMIC_REQUESTS"] = True
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
if IS_POSTGRES:
    # A second connection to the same database, in autocommit: the legacy referral-log import runs
    # in one long transaction on "default" (all or nothing) and writes its progress counters through
    # this one, so the upload page can read them while it runs. SQLite has one writer at a time, so
    # there the counters appear when the import ends.
    # In tests it mirrors the test database, outside the test's own transaction.
    DATABASES["import_progress"] = {**DATABASES["default"], "ATOMIC_REQUESTS": False, "CONN_MAX_AGE": 0,
                                    "TEST": {"MIRROR": "default"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- People and sign-in ------------------------------------------------------------------------
AUTH_USER_MODEL = "cram_site.Officer"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "cram_site.backends.PasswordBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
SESSION_COOKIE_AGE = 60 * 60 * 9  # one shift
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_flag("DJANGO_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Password guessing: five failures lock the username from that address for an hour.
AXES_ENABLED = env_flag("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 1
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

# --- Time: stored in UTC, shown in London time -------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["cram_site.formats"]

# --- Static files: served by the app itself, never from a CDN ---------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("bootstrap", xstatic.pkg.bootstrap.BASE_DIR),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Export files and uploaded spreadsheets: kept outside the static and media roots, so nothing but the
# views that check who is asking can serve them.
PRIVATE_FILES_ROOT = Path(os.environ.get("PRIVATE_FILES_ROOT", str(BASE_DIR / "private")))

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Audit: django-auditlog writes into our own append-only table -----------------------------
AUDITLOG_LOGENTRY_MODEL = "cram_site.AuditEvent"
AUDITLOG_DISABLE_ON_RAW_SAVE = True
# auditlog's own migrations would create its default table even though AuditEvent replaces it;
# an orphan table referencing officers would then block the test database's flush.
MIGRATION_MODULES = {"auditlog": None}

# --- Celery: inline without a broker, Redis with one -------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Every 15 minutes: derive what is due from the database and prompt, escalate or resolve.
    # Safe to run twice (two beats, retries): reminders and notifications are unique.
    "sweep-reminders": {"task": "supervision.sweep_reminders", "schedule": crontab(minute="*/15")},
    # 07:00 London time, Monday to Friday: each officer's digest (bank holidays skipped in the task).
    "send-digests": {"task": "supervision.send_digests", "schedule": crontab(hour=7, minute=0,
                                                                           day_of_week="mon-fri")},
    # Hourly at five past: remove export files and jobs older than a day (they hold children's
    # records), and run any export job that was never picked up. Safe to run twice.
    "tidy-exports": {"task": "cram_site.tidy_exports", "schedule": crontab(minute=5)},
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "cram@localhost")

# The demo password for `seed_demo`; printed by the command and given in the README.
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "cram-demo-2026")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint narrates every step of a PDF at INFO; only its warnings matter here.
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}
