"""Settings, read from the environment.

With nothing set, the project runs on its embedded default: an SQLite file beside the code
and Celery tasks run in-process. Production sets DATABASE_URL, REDIS_URL, SECRET_KEY,
ALLOWED_HOSTS and DEBUG=0.
"""

import datetime
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent

# Only the process environment: docker compose passes .env through it, and a .env file
# for compose in the working tree must not change what tests and manage.py run against.
env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)

# An insecure key is only acceptable for the embedded default; production must set one.
_INSECURE_KEY = "django-insecure-embedded-default-do-not-use-in-production"
SECRET_KEY = env("SECRET_KEY", default=_INSECURE_KEY if DEBUG else None)
if not SECRET_KEY or (not DEBUG and SECRET_KEY.startswith("django-insecure")):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Set a real SECRET_KEY when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_filters",
    "django_tables2",
    "axes",
    "csp",
    "accounts",
    "learners",
    "flags",
    "nonedexcel",
    "support",
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
    "csp.middleware.CSPMiddleware",
    "learnertracking.middleware.NoStoreForSignedInUsers",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "learnertracking.urls"

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
                "learners.context_processors.support",
            ],
        },
    },
]

WSGI_APPLICATION = "learnertracking.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'learnertracking.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # An unreachable database fails a request in seconds rather than hanging a worker.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves one person; a busy timeout avoids "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.UsernameOrAddressBackend",
]

# Failed sign-ins are throttled per username and address together, with a cool-off rather
# than a permanent lock: many staff of one school share one address.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind a proxy, the client address is the last one the proxies appended.
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    if env.int("PROXY_COUNT", default=0)
    else ["REMOTE_ADDR"]
)

# Sessions end after this many idle minutes (every request renews the cookie).
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", default=60) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env("TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "var" / "static")))
# WhiteNoise warns about a missing root before the first collectstatic.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Email: the console in the embedded default, an SMTP server (EMAIL_URL) in production.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Learner Tracking <noreply@localhost>")
# The support team, shown on Contact and in the footer.
SUPPORT_EMAIL = env("SUPPORT_EMAIL", default="diplomaops@example.org")
SUPPORT_PHONE = env("SUPPORT_PHONE", default="020 7190 4223")
SUPPORT_HOURS = env("SUPPORT_HOURS", default="Monday to Friday, 9am to 5pm (UK time)")
# Live chat: when support officers answer (outside these hours the page says they will
# answer by email), and how long a closed conversation is kept before it is deleted.
CHAT_OFFICE_HOURS = {
    "weekdays": env.list("CHAT_WEEKDAYS", cast=int, default=[0, 1, 2, 3, 4]),  # Monday is 0
    "opens": env("CHAT_OPENS", default="09:00"),
    "closes": env("CHAT_CLOSES", default="17:00"),
    "timezone": env("CHAT_TIMEZONE", default="Europe/London"),
}
CHAT_RETENTION_DAYS = env.int("CHAT_RETENTION_DAYS", default=365)
# The address links in emails point at.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# Celery: without a broker every task runs in-process, so the embedded default needs no Redis.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Longer than any task may run, so Redis never hands a running task to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
# Nightly, outside the 01:00-03:00 window in which the clocks change.
CELERY_BEAT_SCHEDULE = {
    "rebuild-overview": {
        "task": "flags.rebuild_overview",
        "schedule": crontab(
            hour=env.int("REBUILD_HOUR", default=4), minute=env.int("REBUILD_MINUTE", default=15)
        ),
    },
    "delete-old-conversations": {
        "task": "support.delete_old_conversations",
        "schedule": crontab(hour=5, minute=30),
    },
    "mark-abandoned-imports": {
        "task": "learners.mark_abandoned_imports",
        "schedule": crontab(minute=40),
    },
}

# Security. SECURE_SSL_REDIRECT is off behind a proxy that terminates TLS and redirects itself.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Content Security Policy: everything from this site only, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SILENCED_SYSTEM_CHECKS = [] if DEBUG or SECURE_HSTS_PRELOAD else ["security.W021"]

# Logs: one handler, on standard error, that scrubs learners' personal data from every record
# (learnertracking/logs.py); every logger, gunicorn's too (gunicorn.conf.py), writes through
# it. A JSON object a line in production, plain lines in development.
LOG_LEVEL = env("LOG_LEVEL", default="INFO").upper()
LOG_FORMAT = env("LOG_FORMAT", default="") or ("plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("LOG_FORMAT is json or plain.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "learnertracking.logs.ScrubPersonalData"}},
    "formatters": {
        "json": {"()": "learnertracking.logs.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["scrub"]}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own handlers (console under DEBUG, mail_admins, runserver's) would write
        # around the scrubbing one: none of them, and everything propagates to the root.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.server": {"handlers": [], "propagate": True},
        # SQL debug lines quote query parameters: learners' names, dates of birth.
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        # Celery gives its task logger a handler of its own unless it already has one.
        "celery.task": {"handlers": ["console"], "propagate": False},
        # gunicorn sets its access logger to INFO; LOG_LEVEL=WARNING silences it like the rest.
        "gunicorn.access": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "gunicorn.error": {"handlers": [], "propagate": True},
    },
}
# Otherwise the worker replaces the root handler, and its scrubbing, with Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
