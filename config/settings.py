"""xiaodai settings. Everything that differs between a laptop demo and a bank's production comes from
environment variables (see docs/operations.md); the defaults run the embedded set-up: SQLite, no server."""

from __future__ import annotations

import secrets
from datetime import time as _time
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("XIAODAI_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

PRODUCTION = env_bool("XIAODAI_PRODUCTION", False)
DEBUG = env_bool("XIAODAI_DEBUG", False)


def _secret_key() -> str:
    key = env_str("XIAODAI_SECRET_KEY", "")
    if key:
        return key
    if PRODUCTION:
        raise RuntimeError("XIAODAI_SECRET_KEY must be set in production (compliance S-12)")
    # Dev/demo: a random key kept beside the database, never in the repository.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("XIAODAI_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_filters",
    "ninja",
    "axes",
    "huey.contrib.djhuey",
    "xiaodai.core",
    "xiaodai.audit",
    "xiaodai.org",
    "xiaodai.customers",
    "xiaodai.ingest",
    "xiaodai.pipeline",
    "xiaodai.pools",
    "xiaodai.signals",
    "xiaodai.scoring",
    "xiaodai.allocation",
    "xiaodai.outreach",
    "xiaodai.plans",
    "xiaodai.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "xiaodai.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "xiaodai.audit.middleware.AuditDeniedMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
                "xiaodai.core.context_processors.staff",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("XIAODAI_DATABASE_URL", f"sqlite:///{VAR_DIR / 'xiaodai.sqlite3'}"),
        conn_max_age=env_int("XIAODAI_DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while a writer works; IMMEDIATE avoids lock-upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
elif "postgresql" in DATABASES["default"]["ENGINE"]:
    # A web app's queries are short: PostgreSQL's JIT would spend about a second compiling the call list's
    # query (its estimated cost passes jit_above_cost), far longer than running it (docs/benchmarks.md).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout (compliance S-03): 5 failures per username+IP, 30 minutes.
AXES_FAILURE_LIMIT = env_int("XIAODAI_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Sessions (S-02): idle timeout, refreshed on every request; cleared when the browser closes.
SESSION_COOKIE_AGE = env_int("XIAODAI_SESSION_IDLE_SECONDS", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True

# Security headers (S-07). The CSP allows only this origin: nothing loads from a CDN.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

if PRODUCTION:
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# How long a click-to-reveal of a masked field stays open (compliance P-04: time-boxed).
XIAODAI_REVEAL_SECONDS = env_int("XIAODAI_REVEAL_SECONDS", 300)
XIAODAI_PAGE_SIZE = env_int("XIAODAI_PAGE_SIZE", 25)
# The landing area the bank's scheduler delivers drop folders into, the time (Beijing) by which the day
# before's drop of each expected source must be there, and those sources (none: no cut-off alerts).
XIAODAI_LANDING_DIR = Path(env_str("XIAODAI_LANDING_DIR", str(VAR_DIR / "ingest" / "landing")))
XIAODAI_DROP_CUTOFF = env_str("XIAODAI_DROP_CUTOFF", "08:00")
XIAODAI_EXPECTED_SOURCES = env_list("XIAODAI_EXPECTED_SOURCES", [])
try:
    _time.fromisoformat(XIAODAI_DROP_CUTOFF)
except ValueError:
    raise ImproperlyConfigured(
        f"XIAODAI_DROP_CUTOFF must be a time like 08:00, not {XIAODAI_DROP_CUTOFF!r}"
    ) from None

# Jobs (imports, pipeline runs, training) go through huey: a SQLite queue file beside the database by default,
# Redis when XIAODAI_REDIS_URL is set; only this block changes. `xiaodai serve` starts the consumer.
# XIAODAI_JOBS_IMMEDIATE runs jobs inline in the request (tests, debugging): nothing needs a consumer then.
_REDIS_URL = env_str("XIAODAI_REDIS_URL", "")
HUEY: dict[str, object] = {
    "huey_class": "huey.RedisHuey" if _REDIS_URL else "huey.SqliteHuey",
    "name": "xiaodai",
    "immediate": env_bool("XIAODAI_JOBS_IMMEDIATE", False),
    "consumer": {"workers": 1, "worker_type": "thread"},
}
if _REDIS_URL:
    HUEY["connection"] = {"url": _REDIS_URL}
else:
    HUEY["filename"] = str(VAR_DIR / "jobs.sqlite3")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "xiaodai.core.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": env_str("XIAODAI_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
