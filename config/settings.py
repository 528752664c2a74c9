"""gridgov settings: one file, driven by the environment.

Every knob that differs between the embedded demo and a production deployment is read from an
environment variable here, so nothing needs editing per site.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


DEBUG = env_bool("GRIDGOV_DEBUG", False)
# The demo key is only for `make run`; production sets GRIDGOV_SECRET_KEY.
SECRET_KEY = os.environ.get("GRIDGOV_SECRET_KEY", "gridgov-demo-only-insecure-key-change-me-0123456789")
ALLOWED_HOSTS = [h for h in os.environ.get("GRIDGOV_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("GRIDGOV_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "gridgov.common.apps.GridgovAdminConfig",  # django.contrib.admin, audited site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "django_tasks",
    "simple_history",
    "gridgov.common",
    "gridgov.regions",
    "gridgov.accounts",
    "gridgov.cases",
    "gridgov.integrations",
    "gridgov.registers",
    "gridgov.fieldwork",
    "gridgov.mediation",
    "gridgov.assessment",
    "gridgov.dashboard",
    "gridgov.synth",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "gridgov.common.middleware.SecurityHeadersMiddleware",
    "gridgov.common.middleware.DatabaseUnavailableMiddleware",
    "gridgov.common.middleware.NulCharacterMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "gridgov.accounts.middleware.SessionSecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "gridgov" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "gridgov.common.context_processors.site",
            ],
        },
    },
]

# Embedded SQLite unless DATABASE_URL says otherwise (PostgreSQL in production and CI).
DEFAULT_SQLITE = BASE_DIR / "var" / "gridgov.sqlite3"
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DEFAULT_SQLITE}",
        conn_max_age=env_int("GRIDGOV_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed while one writer commits; IMMEDIATE makes write transactions take
    # the lock up front, so concurrent writers queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get("GRIDGOV_TEST_SQLITE", "")
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # JIT compilation pays off for long analytical queries, not for gridgov's short OLTP ones,
    # where it adds ~70 ms to any query the planner costs as big (a count over a district).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = os.environ.get("GRIDGOV_PG_OPTIONS", "-c jit=off")
    # Statements that gridgov.cases.fastsave sends with server-side binding (the intake path) are
    # prepared on a connection once they ran this many times; Django's own queries bind on the
    # client and are never prepared. 0 turns preparing off (e.g. behind a pgbouncer older than
    # 1.21 in transaction mode, which cannot keep prepared statements).
    _prepare = env_int("GRIDGOV_PG_PREPARE_THRESHOLD", 2)
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = _prepare if _prepare > 0 else None
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3" and env_bool("GRIDGOV_DB_POOL", False):
    # psycopg 3's connection pool (psycopg-pool), one per process: each server worker keeps
    # min_size connections open and lends them to its threads, so a request never pays for a
    # PostgreSQL connection (~5 ms with authentication). Size the pool to the worker's threads;
    # workers × max_size must stay under PostgreSQL's max_connections. Django requires
    # CONN_MAX_AGE = 0 with a pool (the pool owns the connections' lifetime).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("GRIDGOV_DB_POOL_MIN", 2),
        "max_size": env_int("GRIDGOV_DB_POOL_MAX", 8),
        "timeout": env_int("GRIDGOV_DB_POOL_TIMEOUT", 10),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "gridgov.accounts.passwords.CharacterClassValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env_int("GRIDGOV_SESSION_SECONDS", 8 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env_bool("GRIDGOV_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "gridgov" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "gridgov" / "static",
    # Front-end libraries come from the npm registry (package-lock.json) and are served from
    # here, never from a CDN: deployments sit on intranets without internet.
    ("vendor/leaflet", BASE_DIR / "node_modules" / "leaflet" / "dist"),
    ("vendor/echarts", BASE_DIR / "node_modules" / "echarts" / "dist"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("GRIDGOV_MEDIA_ROOT", BASE_DIR / "var" / "media"))

TASKS = {
    "default": {
        "BACKEND": os.environ.get("GRIDGOV_TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend"),
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GRIDGOV_LOG_LEVEL", "WARNING")},
}

# --- gridgov ---------------------------------------------------------------------------------
GRIDGOV = {
    # The district this installation serves (GB/T 2260 code).
    "DISTRICT_CODE": os.environ.get("GRIDGOV_DISTRICT_CODE", "330109"),
    # Map tiles: empty means no basemap (polygons on a plain background) so an offline intranet
    # never tries the internet. Set to an intranet tile server, e.g. http://tiles.local/{z}/{x}/{y}.png
    "MAP_TILE_URL": os.environ.get("GRIDGOV_MAP_TILE_URL", ""),
    "MAP_TILE_ATTRIBUTION": os.environ.get("GRIDGOV_MAP_TILE_ATTRIBUTION", ""),
    # Tolerances for polygon validation, in degrees (~1e-5 deg is about 1 m).
    "POLYGON_CONTAINMENT_TOLERANCE": float(os.environ.get("GRIDGOV_POLYGON_TOLERANCE", "0.0002")),
    # Siblings may overlap by at most this fraction of the smaller one's area (digitising slop).
    "SIBLING_OVERLAP_RATIO": float(os.environ.get("GRIDGOV_OVERLAP_RATIO", "0.01")),
    # --- cases (the case loop) ---
    # Daily working windows for working-hour limits; working days follow the statutory calendar.
    "CASE_WORKING_HOURS": os.environ.get("GRIDGOV_CASE_WORKING_HOURS", "09:00-12:00,13:00-18:00"),
    # A step turns yellow when this share of its allotted (working) time is left.
    "CASE_YELLOW_RATIO": float(os.environ.get("GRIDGOV_CASE_YELLOW_RATIO", "0.25")),
    # Working hours a centre has for each of its own steps (accept, dispatch, verify, close).
    "CASE_DISPATCH_LIMIT_HOURS": env_int("GRIDGOV_CASE_CENTER_STEP_HOURS", 4),
    # Ratings at or above this count as satisfied (3 = 基本满意); below reopens the case.
    "CASE_SATISFIED_MIN": env_int("GRIDGOV_CASE_SATISFIED_MIN", 3),
    # PostgreSQL: a report outside any transaction is written as one statement (case, timeline,
    # live row, day rows; gridgov.cases.fastsave.one_statement). Off: BEGIN … COMMIT, 8 round trips.
    "CASE_INTAKE_ONE_STATEMENT": env_bool("GRIDGOV_INTAKE_ONE_STATEMENT", True),
    # Duplicate suggestion on intake: same category, open, within this distance and time.
    "CASE_DUPLICATE_METRES": env_int("GRIDGOV_CASE_DUPLICATE_METRES", 200),
    "CASE_DUPLICATE_DAYS": env_int("GRIDGOV_CASE_DUPLICATE_DAYS", 7),
    "CASE_PHOTO_MAX_BYTES": env_int("GRIDGOV_CASE_PHOTO_MAX_BYTES", 8 * 1024 * 1024),
    "CASE_PHOTO_MAX_PIXELS": env_int("GRIDGOV_CASE_PHOTO_MAX_PIXELS", 40_000_000),
    "CASE_PHOTO_MAX_SIDE": env_int("GRIDGOV_CASE_PHOTO_MAX_SIDE", 2560),
    "CASE_PHOTOS_PER_ACTION": env_int("GRIDGOV_CASE_PHOTOS_PER_ACTION", 6),
    # Public (no-login) report page: reports per client IP per hour.
    "CITIZEN_REPORTS_PER_HOUR": env_int("GRIDGOV_CITIZEN_REPORTS_PER_HOUR", 5),
    # Extra notification channels besides the in-app inbox (dotted paths), e.g.
    # "gridgov.cases.notify.WebhookChannel,gridgov.cases.notify.DingTalkRobotChannel".
    "NOTIFICATION_CHANNELS": [c for c in os.environ.get("GRIDGOV_NOTIFICATION_CHANNELS", "").split(",") if c],
    "NOTIFY_WEBHOOK_URL": os.environ.get("GRIDGOV_NOTIFY_WEBHOOK_URL", ""),
    "DINGTALK_WEBHOOK": os.environ.get("GRIDGOV_DINGTALK_WEBHOOK", ""),
}

SITE_NAME = _("网格化基层治理平台")

# --- security: sign-in, sessions, audit, backups (等保 2.0) --------------------------------------
GRIDGOV.update(
    {
        # Lock a username after this many failures within the window, for the lock-out period;
        # an address is refused after LOGIN_IP_FAILURE_LIMIT failures (many names from one place).
        "LOGIN_FAILURE_LIMIT": env_int("GRIDGOV_LOGIN_FAILURE_LIMIT", 5),
        "LOGIN_FAILURE_WINDOW_SECONDS": env_int("GRIDGOV_LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60),
        "LOGIN_LOCKOUT_SECONDS": env_int("GRIDGOV_LOGIN_LOCKOUT_SECONDS", 15 * 60),
        "LOGIN_IP_FAILURE_LIMIT": env_int("GRIDGOV_LOGIN_IP_FAILURE_LIMIT", 30),
        # Admins and leaders must use TOTP two-factor authentication (demo accounts ship with a
        # documented device, see README). Turn off only for a closed test installation.
        "REQUIRE_2FA": env_bool("GRIDGOV_REQUIRE_2FA", True),
        # A session ends after this long without a request; SESSION_COOKIE_AGE
        # (GRIDGOV_SESSION_SECONDS) is the absolute lifetime counted from the login.
        "SESSION_IDLE_SECONDS": env_int("GRIDGOV_SESSION_IDLE_SECONDS", 30 * 60),
        # Audit rows older than this are archived and removed by `gridgov audit_archive`
        # (never below 183 days: 等保 2.0 asks for at least six months).
        "AUDIT_RETENTION_DAYS": env_int("GRIDGOV_AUDIT_RETENTION_DAYS", 365),
        "AUDIT_ARCHIVE_DIR": os.environ.get("GRIDGOV_AUDIT_ARCHIVE_DIR", str(BASE_DIR / "var" / "audit-archive")),
        "BACKUP_DIR": os.environ.get("GRIDGOV_BACKUP_DIR", str(BASE_DIR / "var" / "backups")),
        # A full Content-Security-Policy to use instead of the built one (script-src 'self').
        "CSP": os.environ.get("GRIDGOV_CSP", ""),
    }
)
AUTHENTICATION_BACKENDS = ["gridgov.accounts.backends.LockoutModelBackend"]
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Personal data at rest (ID and phone numbers in the registers): the secret the AES-GCM and HMAC
# keys are derived from. THE DEFAULT IS FOR THE DEMO ONLY — anyone with this source can read a
# database sealed with it; production sets GRIDGOV_DATA_KEY (a system check warns otherwise).
# Rotation: put the new secret here, the old one in GRIDGOV_DATA_KEYS_PREVIOUS, run
# `manage.py rotate_data_key`, then drop the old one.
GRIDGOV_DEMO_DATA_KEY = "gridgov-DEMO-ONLY-data-key-do-not-use-in-production"
GRIDGOV_DATA_KEY = os.environ.get("GRIDGOV_DATA_KEY", GRIDGOV_DEMO_DATA_KEY)
GRIDGOV_DATA_KEYS_PREVIOUS = [k for k in os.environ.get("GRIDGOV_DATA_KEYS_PREVIOUS", "").split(",") if k]

# --- integrations: Open311, 12345/110 work orders, sensor alerts, outbound webhooks -------------
GRIDGOV.update(
    {
        # What Open311 `jurisdiction_id` names this installation (besides region codes), e.g.
        # "xiaoshan.gov.cn"; discovery's contact and where to ask for an api_key.
        "OPEN311_JURISDICTION_ID": os.environ.get("GRIDGOV_OPEN311_JURISDICTION_ID", ""),
        "OPEN311_CONTACT": os.environ.get("GRIDGOV_OPEN311_CONTACT", ""),
        "OPEN311_KEY_SERVICE": os.environ.get("GRIDGOV_OPEN311_KEY_SERVICE", ""),
        # Main categories never published through Open311 (disputes, security clues, special
        # groups, individual welfare requests).
        "OPEN311_PRIVATE_CATEGORIES": os.environ.get("GRIDGOV_OPEN311_PRIVATE_CATEGORIES", "01,04,09,10").split(","),
        # Signed inbound webhooks: accepted clock skew (seconds) and body size.
        "WEBHOOK_TIMESTAMP_TOLERANCE": env_int("GRIDGOV_WEBHOOK_TIMESTAMP_TOLERANCE", 300),
        "WEBHOOK_MAX_BODY_BYTES": env_int("GRIDGOV_WEBHOOK_MAX_BODY_BYTES", 256 * 1024),
        # Outbound deliveries: attempts, exponential back-off base and cap (seconds), timeout.
        "OUTBOX_MAX_ATTEMPTS": env_int("GRIDGOV_OUTBOX_MAX_ATTEMPTS", 8),
        "OUTBOX_BACKOFF_SECONDS": env_int("GRIDGOV_OUTBOX_BACKOFF_SECONDS", 30),
        "OUTBOX_BACKOFF_MAX_SECONDS": env_int("GRIDGOV_OUTBOX_BACKOFF_MAX_SECONDS", 6 * 3600),
        "OUTBOX_TIMEOUT_SECONDS": env_int("GRIDGOV_OUTBOX_TIMEOUT_SECONDS", 5),
        # 12345/110 push-back client (dotted path): the HTTP one, or a site's own.
        "HOTLINE_CLIENT": os.environ.get(
            "GRIDGOV_HOTLINE_CLIENT", "gridgov.integrations.hotline_12345.clients.HttpHotlineClient"
        ),
    }
)
