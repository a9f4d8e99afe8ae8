"""What every environment shares. Not a settings module of its own: use one of

- ``config.settings.local``: ``make run`` and ``manage.py`` (DEBUG off, plain HTTP on this
  machine, a secret key generated once into ``var/``); ``DEBUG=1`` on top is ``make dev``;
- ``config.settings.production``: the image, compose and any deployment (refuses to start
  without a real ``SECRET_KEY`` and ``ALLOWED_HOSTS``);
- ``config.settings.test``: pytest.

Everything comes from the environment (or a ``.env`` file beside manage.py; real variables
win). With nothing set, the portal runs embedded: SQLite, a filesystem Celery broker and
email written to files, all under ``var/`` (``VAR_DIR``). ``DATABASE_URL`` and
``REDIS_URL`` switch to PostgreSQL and Redis.
"""

import contextlib
from email.utils import parseaddr
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

# Runtime state of an embedded run: database, broker, mail, media, beat schedule, the
# generated secret key of the local settings.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Off unless asked for: a deployment that forgets the variable serves no debug pages.
DEBUG = env.bool("DEBUG", default=False)

# Each settings module decides where the key comes from; production requires one.
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])

# Public base URL, for links in emails; also the default trusted origin of a POST.
SITE_URL = env.str("SITE_URL", default="http://localhost:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "core.apps.CoreConfig",
    "web.apps.WebConfig",
    "accounts.apps.AccountsConfig",
    "cases.apps.CasesConfig",
    "followups.apps.FollowupsConfig",
    "escalations.apps.EscalationsConfig",
    "inbound.apps.InboundConfig",
    "demo.apps.DemoConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.TenantScopeMiddleware",
    "core.middleware.PrivateAnswersMiddleware",
]

# The API's base views (core/api.py) enter the same scope as the middleware, after DRF
# has authenticated the caller.
TENANT_SCOPE_FOR_USER = "accounts.middleware.enter_scope_for"
# The tenant model, named for the ground floor (the audit log), which imports no app.
TENANT_MODEL = "accounts.Organization"
# Error reports hide the credentials that URL settings carry (core/reporting.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "core.reporting.ReporterFilter"
# Who may still receive a case email when the outbox sends it (N-1): the outbox (core)
# names no app, so it calls this checker by its setting.
OUTBOX_RECIPIENT_CHECK = "accounts.notifications.entitled_recipients"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "web.context_processors.portal",
            ],
        },
    },
    {
        # Only the hot partials, named *.jinja and asked for by name (list rows, the case
        # feed and history): cases.web.responses.render_partial. See config/jinja2.py.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "config.jinja2.environment"},
    },
]

# Database: embedded SQLite by default, PostgreSQL with DATABASE_URL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: WAL lets readers run beside one writer, and
    # IMMEDIATE transactions take the write lock up front instead of failing mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    # Persistent connections, checked before reuse after a request ended.
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Values travel apart from the statement, so a statement the connection has run five
    # times is prepared: PostgreSQL stops planning it again (planning the case page's join
    # of six tables cost more than running it). Off behind a pooler in transaction mode,
    # which cannot keep prepared statements: DB_PREPARED=0.
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
        "DB_PREPARED", default=True
    ):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=5
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# SQLite ignores the non-key columns of the covering list index (case_org_recent), as
# intended: PostgreSQL keeps them, and SQLite still has the key columns.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.EmailBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# whitenoise warns when it is missing; a read-only image already holds the collected files.
with contextlib.suppress(OSError):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# With DEBUG off the collected, hashed files are served (run collectstatic first: make run
# and the image do); with DEBUG on, straight from the finders.
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"  # never served directly: attachments go through an access-checked view

# Caches. "default": Redis when configured (django-redis: one client per server over a
# connection pool), else per-process memory. "local": always per-process memory, for small
# memos that each process may keep for itself (the case lists' filter options) and that
# must not cost a network round trip.
REDIS_URL = env.str("REDIS_URL", default="")
_MEMORY = "django.core.cache.backends.locmem.LocMemCache"
CACHES = {
    "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": _MEMORY, "LOCATION": "default"},
    "local": {"BACKEND": _MEMORY, "LOCATION": "local"},
}
# With Redis, a signed-in request reads its session from the cache instead of the database
# (writes still go to the database, so a Redis restart signs nobody out).
if REDIS_URL:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Celery: the database is the source of truth, the broker only a doorbell. Without a
# broker URL, kombu's filesystem transport needs no server.
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request must never hang on a broker that is down.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_MAX_RETRIES = 0

# Email: files under var/mail/ by default so a person can read what was sent.
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env.str(
        "EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend"
    )
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Customer Care <care@support-portal.example>"
)
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# Inbound email (N-3, N-4). Replies to case emails reach INBOUND_ADDRESS (every outgoing
# email's Reply-To) and come in by one of three transports: `manage.py receive_email` on
# standard input (an MTA's pipe), an IMAP mailbox polled by beat (INBOUND_IMAP_URL,
# imaps://user:password@host/INBOX), or a Maildir drop folder swept by beat (INBOUND_MAILDIR).
# Empty or unset: the address of DEFAULT_FROM_EMAIL.
INBOUND_ADDRESS = (
    env.str("INBOUND_ADDRESS", default="")
    or parseaddr(DEFAULT_FROM_EMAIL)[1]
    or "care@support-portal.example"
)
INBOUND_IMAP_URL = env.str("INBOUND_IMAP_URL", default="")
# Where handled messages move to on the IMAP server (created if missing).
INBOUND_IMAP_PROCESSED_FOLDER = env.str("INBOUND_IMAP_PROCESSED_FOLDER", default="Processed")
INBOUND_MAILDIR = env.str("INBOUND_MAILDIR", default="")
# The authserv-id your mail server writes in Authentication-Results (RFC 8601). When set, a
# message whose From domain that server did not authenticate (DMARC, DKIM or SPF) is refused
# and never answered; empty: no check (inbound/authentication.py).
INBOUND_AUTHSERV_ID = env.str("INBOUND_AUTHSERV_ID", default="")
# A message larger than this is stored, not posted, and its sender told why.
INBOUND_MAX_BYTES = env.int("INBOUND_MAX_BYTES", default=40 * 1024 * 1024)

# Security. HTTPS redirect, HSTS and Secure-only cookies are on unless the environment turns
# them off (plain-HTTP setups such as compose on localhost); the local and test settings
# serve plain HTTP and turn them off themselves. Behind a proxy that terminates TLS, keep
# them on and set USE_X_FORWARDED_PROTO=1.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)

# REST API v1 (core/api.py holds the base classes and the error handler).
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate challenge makes an unauthenticated request a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",  # DRF's, refusing absurdly nested bodies with a 400
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_THROTTLE_RATES": {"auth-token": env.str("API_TOKEN_RATE", default="30/minute")},
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Support Portal API",
    "DESCRIPTION": "Cases, updates and history for customers and Customer Care.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema generator must not query through the scoped default managers.
    "DEFAULT_QUERY_MANAGER": "_base_manager",
    "ENUM_NAME_OVERRIDES": {
        "PriorityEnum": "cases.models.Priority",
        "LevelEnum": "escalations.models.Level",
    },
}

# Product settings.
PORTAL = {
    "CARE_PHONE_NUMBERS": env.list(
        "CARE_PHONE_NUMBERS",
        default=[
            "North America: +1 800 555 0100",
            "Europe: +49 800 555 0100",
            "Asia Pacific: +61 1800 555 010",
        ],
    ),
    "ATTACHMENT_MAX_BYTES": env.int("ATTACHMENT_MAX_BYTES", default=25 * 1024 * 1024),
}
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="demo-pass-2026")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
