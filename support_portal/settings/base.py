"""Settings shared by every environment, read from the environment.

Every knob the portal needs is declared here and switched by environment
variables (documented in `.env.example` and docs/runbook.md). The embedded
defaults need no external service: SQLite, a file cache, an in-process channel
layer, a filesystem Celery broker and a Whoosh index, all under `VAR_DIR`.
Setting `DATABASE_URL` / `REDIS_URL` swaps in PostgreSQL / Redis.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(str(BASE_DIR / ".env"), overwrite=False)

# Everything the embedded defaults write (database, cache, broker, index,
# uploads) lives below one folder so a checkout stays clean and one `rm -rf`
# resets a development machine.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

# GENERAL
# ------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

TIME_ZONE = "UTC"
USE_TZ = True
USE_I18N = True

# The four support languages. Codes are Django's: `zh-hans` for Simplified
# Chinese. English is the fallback for text nobody has translated.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("zh-hans", "简体中文"),
    ("en", "English"),
    ("ja", "日本語"),
    ("ko", "한국어"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "portal_language"
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Visitors' browsers report their zone through this cookie (see static/js/portal.js);
# signed-in users' saved zone wins.
TIME_ZONE_COOKIE_NAME = "portal_tz"

# DATABASES
# ------------------------------------------------------------------------------
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and beat read while one of them writes;
    # IMMEDIATE avoids "database is locked" on read-then-write transactions.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Form choices iterate querysets with .iterator(): on PostgreSQL each would
    # open a server-side cursor (three round trips) for a few dozen rows. Off is
    # also what a transaction-pooling PgBouncer in front of the database needs.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# REDIS: one URL switches the cache, the Celery broker and the channel layer.
# ------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

# URLS
# ------------------------------------------------------------------------------
ROOT_URLCONF = "support_portal.urls"
WSGI_APPLICATION = "support_portal.wsgi.application"
ASGI_APPLICATION = "support_portal.asgi.application"

# APPS
# ------------------------------------------------------------------------------
INSTALLED_APPS = [
    # daphne first: its runserver then serves WebSockets too.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "haystack",
    "axes",
    # The project package is an app only for its management commands
    # (seed_demo, compile_catalogues) and the heartbeat task.
    "support_portal",
    "accounts",
    "helpcenter",
    "tickets",
    "livechat",
    "announcements",
]

# AUTHENTICATION
# ------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses locked-out credentials before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "helpcenter:home"
LOGOUT_REDIRECT_URL = "helpcenter:home"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Email verification and password reset links stay valid this long.
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24
ACCOUNT_VERIFICATION_MAX_AGE = 60 * 60 * 24 * 3

# Brute-force protection on every login form (portal and admin): after five
# failures for one address from one IP, that pair is locked for 15 minutes.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("LOGIN_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_CALLABLE = "accounts.views.login_locked_out"
# Client IPs come from X-Forwarded-For only when that many trusted proxies set
# it; otherwise anyone could forge the header to dodge every per-IP limit.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if TRUSTED_PROXY_COUNT else ["REMOTE_ADDR"]
)
AXES_VERBOSE = False

# MIDDLEWARE
# ------------------------------------------------------------------------------
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Deny by default: every view needs a signed-in user unless it is marked
    # @login_not_required (public help center, announcements, sign-in pages).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

# STATIC AND MEDIA
# ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Private uploads (ticket attachments, chat files). There is deliberately no
# MEDIA_URL route: files are streamed by views that check permissions.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/private-media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750

# TEMPLATES
# ------------------------------------------------------------------------------
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "support_portal.context_processors.portal",
            ],
        },
    }
]

# SECURITY (defaults; production.py tightens transport security)
# ------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# EMAIL
# ------------------------------------------------------------------------------
# EMAIL_URL examples: smtp://user:pass@mail.example.com:587/?tls=True,
# consolemail://, filemail:///path. Default: print emails in the worker's log.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Support <support@example.com>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
EMAIL_TIMEOUT = 30
EMAIL_SUBJECT_PREFIX = "[Support] "

# OUTGOING NOTIFICATIONS (tickets.notifications, docs/notifications.md)
# ------------------------------------------------------------------------------
# Replies come back to this mailbox through plus addresses that name the request
# (support+hd-7k3p9q@example.com), so the mail server must deliver "local+anything"
# to "local" (Postfix recipient_delimiter = +; most hosted mail does it by default).
SUPPORT_REPLY_ADDRESS = env.str("SUPPORT_REPLY_ADDRESS", default="support@example.com")
# Message-IDs of outgoing email end in this domain; incoming replies that quote
# them (In-Reply-To, References) are threaded onto their request.
EMAIL_MESSAGE_ID_DOMAIN = env.str(
    "EMAIL_MESSAGE_ID_DOMAIN", default=SUPPORT_REPLY_ADDRESS.rpartition("@")[2]
)
# A failed send is retried after 1, 2, 4 … minutes (at most the maximum), then
# given up ("failed", retried from the admin) after this many attempts.
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=8)
NOTIFICATION_RETRY_BASE_SECONDS = env.int("NOTIFICATION_RETRY_BASE_SECONDS", default=60)
NOTIFICATION_RETRY_MAX_SECONDS = env.int("NOTIFICATION_RETRY_MAX_SECONDS", default=6 * 3600)
# How long a worker may hold a notification while sending it. Longer than the
# hard task time limit (CELERY_TASK_TIME_LIMIT), so only a dead worker loses its
# claim; then the dispatch beat hands the email to another worker.
NOTIFICATION_LEASE_SECONDS = env.int("NOTIFICATION_LEASE_SECONDS", default=6 * 60)
# The dispatch beat leaves a new notification alone this long: its own on-commit
# task normally sends it within milliseconds.
NOTIFICATION_DISPATCH_GRACE_SECONDS = env.int("NOTIFICATION_DISPATCH_GRACE_SECONDS", default=30)
NOTIFICATION_DISPATCH_BATCH = env.int("NOTIFICATION_DISPATCH_BATCH", default=500)
NOTIFICATION_DISPATCH_INTERVAL = env.float("NOTIFICATION_DISPATCH_INTERVAL", default=60.0)

# INCOMING EMAIL (tickets.mail_ingest, docs/email.md)
# ------------------------------------------------------------------------------
# Larger messages are not read: the sender gets a polite "too large" answer.
INBOUND_EMAIL_MAX_BYTES = env.int("INBOUND_EMAIL_MAX_BYTES", default=25 * 1024 * 1024)
# New requests that arrive by email are filed under this category (slug); it must
# have no required fields, since an email cannot fill them in.
INBOUND_EMAIL_CATEGORY = env.str("INBOUND_EMAIL_CATEGORY", default="other")
# Mail from an address without an account opens a request under a new,
# unverified customer account; off: it is refused with a polite answer.
INBOUND_EMAIL_CREATE_ACCOUNTS = env.bool("INBOUND_EMAIL_CREATE_ACCOUNTS", default=True)
# Other addresses that reach the desk (aliases, the IMAP mailbox): never stored
# as CC, and mail "from" them is a loop, not a customer. SUPPORT_REPLY_ADDRESS
# and DEFAULT_FROM_EMAIL always count.
INBOUND_EMAIL_OWN_ADDRESSES = env.list("INBOUND_EMAIL_OWN_ADDRESSES", default=[])
# Secret that mail providers send to POST /api/v1/tickets/inbound-email/
# (Authorization: Bearer …); empty: the endpoint does not exist (404).
INBOUND_EMAIL_TOKEN = env.str("INBOUND_EMAIL_TOKEN", default="")
INBOUND_EMAIL_RATE = env.str("INBOUND_EMAIL_RATE", default="600/minute")
# IMAP mailbox polled by beat (tickets.mail_imap); empty host: no polling. Read
# mail is marked seen, or moved to the processed folder when one is named.
INBOUND_IMAP_HOST = env.str("INBOUND_IMAP_HOST", default="")
INBOUND_IMAP_PORT = env.int("INBOUND_IMAP_PORT", default=993)
INBOUND_IMAP_SSL = env.bool("INBOUND_IMAP_SSL", default=True)
INBOUND_IMAP_USER = env.str("INBOUND_IMAP_USER", default="")
INBOUND_IMAP_PASSWORD = env.str("INBOUND_IMAP_PASSWORD", default="")
INBOUND_IMAP_FOLDER = env.str("INBOUND_IMAP_FOLDER", default="INBOX")
INBOUND_IMAP_PROCESSED_FOLDER = env.str("INBOUND_IMAP_PROCESSED_FOLDER", default="")
INBOUND_IMAP_POLL_INTERVAL = env.float("INBOUND_IMAP_POLL_INTERVAL", default=60.0)
# At most this many messages per poll; the rest wait for the next one.
INBOUND_IMAP_BATCH = env.int("INBOUND_IMAP_BATCH", default=200)

# SLA (tickets.sla, docs/sla.md)
# ------------------------------------------------------------------------------
# Policies, business hours and holidays are edited in the admin. The sweep that
# records "at risk" and "breached" (and notifies) runs this often, in seconds;
# a minute late is the most a warning or breach is recorded after it happens.
SLA_SWEEP_INTERVAL = env.float("SLA_SWEEP_INTERVAL", default=60.0)
# Requests handled per transaction by the sweep and by recomputing deadlines.
SLA_SWEEP_BATCH_SIZE = env.int("SLA_SWEEP_BATCH_SIZE", default=500)

# CACHES
# ------------------------------------------------------------------------------
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "portal",
        }
    }
else:
    # A file cache, not locmem: the web server, the worker and beat are separate
    # processes and share the worker heartbeat and login throttles through it.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "KEY_PREFIX": "portal",
        }
    }

# CHANNELS
# ------------------------------------------------------------------------------
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "capacity": 1500, "expiry": 60},
        }
    }
else:
    # In-process only: fine for one daphne process; Celery tasks cannot push to
    # sockets on this layer (set REDIS_URL for that).
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# CELERY
# ------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")


def filesystem_broker_options(var_dir: Path) -> dict:
    """Transport options of the server-less broker: message files in one folder
    shared by the web server, the worker and beat (one machine, not a cluster)."""
    folder = var_dir / "celery"
    return {
        "data_folder_in": str(folder / "broker"),
        "data_folder_out": str(folder / "broker"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
        # Exchange tables; kombu's default is ./control in the working directory.
        "control_folder": str(folder / "control"),
    }


if CELERY_BROKER_URL == "filesystem://":
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(VAR_DIR)
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A message not acknowledged within this window is redelivered; it must
        # exceed the longest task (see CELERY_TASK_TIME_LIMIT).
        "visibility_timeout": 3600,
        # A publisher (a web request after its commit, beat) that finds Redis
        # away fails at once instead of retrying for seconds: notifications wait
        # in their outbox for the dispatch beat. Workers reconnect on their own
        # schedule (CELERY_BROKER_CONNECTION_MAX_RETRIES), unaffected by this.
        "max_retries": 0,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = "UTC"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
# Every periodic job is declared here, one commented entry each.
CELERY_BEAT_SCHEDULE = {
    # Proves beat and a worker are alive: /healthz reads the timestamp it writes.
    "worker-heartbeat": {
        "task": "support_portal.heartbeat",
        "schedule": env.float("CELERY_HEARTBEAT_INTERVAL", default=15.0),
        "options": {"expires": env.float("CELERY_HEARTBEAT_INTERVAL", default=15.0) - 1},
    },
    # Safety net for the help-center index: changes that bypassed the services.
    "helpcenter-search-index-refresh": {
        "task": "helpcenter.search_index_refresh",
        "schedule": 30 * 60.0,
    },
    # Outbox safety net: sends notifications whose on-commit task never ran or
    # failed (broker down, worker killed, SMTP refused), see tickets.notifications.
    "notifications-dispatch": {
        "task": "tickets.notifications_dispatch",
        "schedule": NOTIFICATION_DISPATCH_INTERVAL,
        "options": {"expires": NOTIFICATION_DISPATCH_INTERVAL},
    },
    # SLA: records requests at risk of missing, or missing, a target (tickets.sla).
    # A sweep still queued when the next is due is dropped: the next one does its work.
    "tickets-sla-sweep": {
        "task": "tickets.sla_sweep",
        "schedule": SLA_SWEEP_INTERVAL,
        "options": {"expires": SLA_SWEEP_INTERVAL},
    },
    # Reminders, auto-solve and auto-close of requests (tickets.automations).
    "tickets-automations": {
        "task": "tickets.automations_run",
        "schedule": env.float("TICKET_AUTOMATION_INTERVAL", default=5 * 60.0),
    },
}
# Incoming email: read the IMAP mailbox (tickets.mail_imap), when one is configured.
if INBOUND_IMAP_HOST:
    CELERY_BEAT_SCHEDULE["inbound-imap-poll"] = {
        "task": "tickets.imap_poll",
        "schedule": INBOUND_IMAP_POLL_INTERVAL,
        "options": {"expires": INBOUND_IMAP_POLL_INTERVAL},
    }
# How stale the heartbeat may be before /healthz reports the worker down.
CELERY_HEARTBEAT_MAX_AGE = env.int("CELERY_HEARTBEAT_MAX_AGE", default=60)

# SEARCH (django-haystack)
# ------------------------------------------------------------------------------
# SEARCH_URL: whoosh:///absolute/path (default: VAR_DIR/whoosh) or an
# Elasticsearch URL (see docs/runbook.md for the analyzers to use).
SEARCH_URL = env.str("SEARCH_URL", default=f"whoosh://{VAR_DIR / 'whoosh'}")


def haystack_connection(url: str) -> dict:
    """Return a haystack connection dict for `SEARCH_URL`."""
    scheme, _, rest = url.partition("://")
    if scheme == "whoosh":
        return {
            "ENGINE": "helpcenter.search.backend.PortalWhooshEngine",
            "PATH": rest,
            # rebuild_index/update_index write this many documents per writer
            # session: one large segment searches much faster than many.
            "BATCH_SIZE": 20000,
        }
    if scheme in {"elasticsearch", "elasticsearch7", "http", "https"}:
        endpoint, _, index = rest.rpartition("/")
        protocol = "https" if scheme == "https" else "http"
        return {
            "ENGINE": "haystack.backends.elasticsearch7_backend.Elasticsearch7SearchEngine",
            "URL": f"{protocol}://{endpoint}",
            "INDEX_NAME": index or "support_portal",
        }
    raise ValueError(f"Unsupported SEARCH_URL scheme: {scheme!r}")


HAYSTACK_CONNECTIONS = {"default": haystack_connection(SEARCH_URL)}
# Index updates go through Celery, never inline in a request.
HAYSTACK_SIGNAL_PROCESSOR = "haystack.signals.BaseSignalProcessor"

# REST FRAMEWORK
# ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_CLASSES": [
        "support_portal.throttling.AnonThrottle",
        "support_portal.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_ANON_RATE", default="120/minute"),
        "user": env.str("API_USER_RATE", default="600/minute"),
        "ticket_write": env.str("API_TICKET_WRITE_RATE", default="20/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Support Portal API",
    "DESCRIPTION": "Help center, tickets, live chat and announcements.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "LanguageEnum": "support_portal.settings.base.LANGUAGES",
        "RequestFieldTypeEnum": "tickets.models.FieldType",
    },
}

# HELP CENTER
# ------------------------------------------------------------------------------
# Videos in articles may come only from these hosts (rendered as privacy-friendly embeds).
HELPCENTER_VIDEO_HOSTS = env.list(
    "HELPCENTER_VIDEO_HOSTS",
    default=[
        "www.youtube.com",
        "youtube.com",
        "youtu.be",
        "www.youtube-nocookie.com",
        "vimeo.com",
        "player.vimeo.com",
    ],
)
# Article images are public: they are served by helpcenter.views.article_image.
HELPCENTER_IMAGE_URL_PREFIX = "/help-images/"
HELPCENTER_IMAGE_MAX_BYTES = env.int("HELPCENTER_IMAGE_MAX_BYTES", default=5 * 1024 * 1024)
HELPCENTER_IMAGE_MAX_PIXELS = 40_000_000
HELPCENTER_PAGE_SIZE = 20
# Whoosh allows one writer at a time; index writes take this lock first.
SEARCH_INDEX_LOCK = str(VAR_DIR / "search-index.lock")

# PORTAL
# ------------------------------------------------------------------------------
# Absolute address of the portal, for links in emails sent by the worker.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
SUPPORT_BRAND_NAME = env.str("SUPPORT_BRAND_NAME", default="Example Exchange")
# Shown in the footer and on the anti-phishing pages: the only genuine channels.
OFFICIAL_CHANNELS = [
    {"kind": "website", "label": "example-exchange.com", "url": "https://www.example-exchange.com"},
    {"kind": "x", "label": "@ExampleExchange", "url": "https://x.com/ExampleExchange"},
    {"kind": "telegram", "label": "t.me/ExampleExchange", "url": "https://t.me/ExampleExchange"},
    {"kind": "email", "label": "support@example.com", "url": "mailto:support@example.com"},
]

# LOGGING
# ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "jieba": {"level": "WARNING"},
        # Django adds its own console handler when DEBUG is on: do not print twice.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# TICKETS
# ------------------------------------------------------------------------------
# A customer may reopen a solved request this many days after it was solved;
# later replies open a linked follow-up request instead. Agents may reopen any time.
TICKET_REOPEN_WINDOW_DAYS = env.int("TICKET_REOPEN_WINDOW_DAYS", default=7)
TICKET_ATTACHMENT_MAX_BYTES = env.int("TICKET_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
TICKET_ATTACHMENTS_PER_MESSAGE = 5
# Block-explorer links per network code, overriding tickets.networks' defaults:
# {"ERC20": "https://etherscan.io/tx/{txid}"} or
# {"ERC20": {"tx": "…/tx/{txid}", "address": "…/address/{address}"}}.
TICKET_EXPLORER_URLS = env.json("TICKET_EXPLORER_URLS", default={})

# AUTOMATIONS (tickets.automations)
# ------------------------------------------------------------------------------
# Waiting on the customer: one reminder after N days, solved by the system after M.
TICKET_REMIND_AFTER_DAYS = env.float("TICKET_REMIND_AFTER_DAYS", default=3)
TICKET_AUTO_SOLVE_AFTER_DAYS = env.float("TICKET_AUTO_SOLVE_AFTER_DAYS", default=7)
# Solved requests are closed by the system this many days after being solved.
TICKET_AUTO_CLOSE_AFTER_DAYS = env.float("TICKET_AUTO_CLOSE_AFTER_DAYS", default=7)
# At most this many requests per step and run; the rest wait for the next run.
TICKET_AUTOMATION_BATCH = env.int("TICKET_AUTOMATION_BATCH", default=500)
# The name of an SLA calendar (admin, "Business hours") holding support's hours:
# email arriving outside them is answered with the time support opens. Empty:
# support answers round the clock and sends no such reply.
SUPPORT_HOURS_CALENDAR = env.str("SUPPORT_HOURS_CALENDAR", default="")
