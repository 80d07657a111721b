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

# Off unless asked for: `make demo`, the tests and the benchmarks turn it on themselves.
DEBUG = env.bool("DEBUG", default=False)
# The embedded default (no DATABASE_URL): one process tree on one machine, SQLite.
EMBEDDED = not env("DATABASE_URL", default="")


def _generated_key(path: Path) -> str:
    """This installation's own key, made on first run: never one from the repository.

    Written to a temporary file and linked into place, so two processes starting at once
    agree on one key and neither reads a half-written file.
    """
    import contextlib
    import os
    import secrets
    import tempfile

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(64))
            with contextlib.suppress(FileExistsError):  # another process's key stands
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return path.read_text().strip()


def weak_key_reason(key: str) -> str | None:
    """Why a key is too weak to sign sessions and links in production (Django's own measure
    in `check --deploy`, made a refusal to start)."""
    if len(key) < 50:
        return "it is shorter than 50 characters"
    if len(set(key)) < 5:
        return "it has fewer than 5 different characters"
    if key.startswith("django-insecure"):
        return "it is a placeholder"
    return None


SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY and (EMBEDDED or DEBUG):
    SECRET_KEY = _generated_key(
        Path(env("SECRET_KEY_FILE", default=str(BASE_DIR / "var" / "secret_key")))
    )
if not DEBUG and (not SECRET_KEY or weak_key_reason(SECRET_KEY)):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "Set SECRET_KEY to 50 or more random characters: "
        + (weak_key_reason(SECRET_KEY) or "it is not set")
        + "."
    )

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
    "screens",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the body or the session cookie.
    "learnertracking.middleware.LimitRequestBody",
    "learnertracking.middleware.CleanInput",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Inside CommonMiddleware, so the length it sets counts the longer title.
    "learnertracking.middleware.ErrorTitle",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Every learner query from here on is scoped to the user's centres (base.scoping).
    "accounts.scoping.CentreScope",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.throttle.FailedSignInLimit",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "learnertracking.middleware.NoStoreForSignedInUsers",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "learnertracking.urls"

# Django's form templates, but a select's options rendered in Python (base.forms).
FORM_RENDERER = "base.forms.FormRenderer"

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
                "support.context_processors.inbox",
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
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    # An unreachable database fails a request in seconds rather than hanging a worker.
    _options.setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5))
    # A client that vanished (its machine lost, the network cut: the connection left half
    # open) or froze while holding locks: PostgreSQL notices within minutes and rolls its
    # transaction back, so the rebuild shard or the import lock it held goes to another
    # worker, instead of waiting for the kernel's two hours or for ever. Each side probes
    # the other after a minute of silence.
    _options.setdefault("keepalives", 1)
    _options.setdefault("keepalives_idle", 60)
    _options.setdefault("keepalives_interval", 10)
    _options.setdefault("keepalives_count", 6)
    _server = (
        "-c tcp_keepalives_idle=60 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=6 "
        "-c idle_in_transaction_session_timeout="
        f"{env.int('DATABASE_IDLE_IN_TRANSACTION_TIMEOUT', default=300)}s"
    )
    # After PGOPTIONS, which the options given here would otherwise replace.
    _options.setdefault("options", f"{env.str('PGOPTIONS', default='')} {_server}".strip())
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
    "accounts.hashers.BoundedArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

# How many password hashes one process computes at once (each takes about 100 MiB).
PASSWORD_HASHING_CONCURRENCY = env.int("PASSWORD_HASHING_CONCURRENCY", default=2)

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.UsernameOrAddressBackend",
    # Does nothing unless OIDC_ENABLED (below).
    "accounts.oidc.AwardingBodyBackend",
]

# Signing in with the awarding body's account (OpenID Connect; accounts/oidc.py), offered
# when the provider's issuer and this service's client id and secret are set. The endpoints
# come from the issuer's discovery document unless set one by one (OIDC_OP_*_ENDPOINT).
OIDC_OP_ISSUER = env("OIDC_OP_ISSUER", default="")
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET", default="")
OIDC_ENABLED = bool(OIDC_OP_ISSUER and OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET)
for _endpoint in ("AUTHORIZATION", "TOKEN", "USER", "JWKS", "LOGOUT"):
    vars()[f"OIDC_OP_{_endpoint}_ENDPOINT"] = env(f"OIDC_OP_{_endpoint}_ENDPOINT", default="")
# The claim that carries the awarding-body username the feed delivers for each centre user.
OIDC_USERNAME_CLAIM = env("OIDC_USERNAME_CLAIM", default="preferred_username")
OIDC_RP_SCOPES = env("OIDC_RP_SCOPES", default="openid profile")
OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_TIMEOUT = env.int("OIDC_TIMEOUT", default=10)
OIDC_CREATE_USER = False
OIDC_USE_PKCE = True
# Kept for signing out at the provider too (RP-initiated logout).
OIDC_STORE_ID_TOKEN = True

# Failed sign-ins are throttled per username and address together, with a cool-off rather
# than a permanent lock: many staff of one school share one address.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The account, however its name or address is spelt (accounts.backends.lockout_username).
AXES_USERNAME_CALLABLE = "accounts.backends.lockout_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# How many reverse proxies stand in front of the app, each appending to X-Forwarded-For: the
# client address is the one the outermost appended (base.clientaddress), for the
# sign-in lockout and for every other throttle.
PROXY_COUNT = env.int("PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "base.clientaddress.client_address"

REDIS_URL = env("REDIS_URL", default="")
# Shared by every process in production, so that throttles count across gunicorn workers.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
    # How far a running import or rebuild has got (base/progress.py), for the admin pages:
    # shared between processes, so on the embedded default a folder of small files.
    "progress": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(BASE_DIR / "var" / "progress"),
        }
    ),
}

# Throttles (accounts/throttle.py): attempts per client address and per account, each as
# "count/period" (s, m, h, d). Generous for a school's staff behind one address, tight for
# one account. "sign-in" counts failed sign-ins from an address whatever the names tried;
# per account django-axes locks after AXES_FAILURE_LIMIT.
THROTTLE_RATES = {
    "register": ("20/h", "3/h"),
    "resend-confirmation": ("20/h", "3/h"),
    "password-reset": ("20/h", "3/h"),
    "confirm-email": ("20/h", "5/h"),
    "change-password": ("20/h", "5/h"),
    "request-access": ("30/h", "10/h"),
    "sign-in": ("30/h", None),
    "chat-conversation": ("30/h", "10/h"),
    "chat-message": ("240/h", "60/h"),
    "chat-transcript": ("20/h", "3/h"),
    # Calendar links that no one has, per address: guessing one is guessing a password.
    "calendar": ("30/h", None),
}

# The largest request body accepted: the bulk upload's 2 MB file with room for the form
# around it. Anything larger is refused before it is read.
MAX_REQUEST_BYTES = env.int("MAX_REQUEST_BYTES", default=3 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES

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

# Email: an SMTP server (EMAIL_URL) in production; the console with DEBUG on. With DEBUG off
# the console is refused: it would write live sign-in links and learners' details into the
# log stream. The embedded default with DEBUG off and no EMAIL_URL (a plain `manage.py` in a
# fresh checkout) writes mail to files in var/mail instead, which no log reads.
_EMAIL_URL = env("EMAIL_URL", default="")
if not _EMAIL_URL and not DEBUG and EMBEDDED:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))
else:
    EMAIL_CONFIG = environ.Env.email_url_config(_EMAIL_URL or "consolemail://")
    vars().update(EMAIL_CONFIG)
    if not DEBUG and EMAIL_BACKEND != "django.core.mail.backends.smtp.EmailBackend":
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "Set EMAIL_URL to an SMTP server (smtp://, smtp+tls:// or smtp+ssl://) when DEBUG "
            "is off."
        )
# Seconds to wait on the mail server: a stuck one must not hold a worker, or the row a digest
# is written with, for ever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
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
# How many conversations one person may have open (not closed) at once.
CHAT_OPEN_CONVERSATIONS = env.int("CHAT_OPEN_CONVERSATIONS", default=3)
# The address links in emails point at.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# Celery: without a broker every task runs in-process, so the embedded default needs no Redis.
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
# The nightly rebuild sends one task per worker process that may build its shards at once:
# more than the processes there are costs nothing (the extra ones find no shard left).
REBUILD_TASKS = env.int("REBUILD_TASKS", default=8)
REBUILD_SHARD_LEARNERS = env.int("REBUILD_SHARD_LEARNERS", default=10_000)
# After each import and edit, the snapshot rows of the learners it touched are worked out
# again at once (flags.refresh): the Overview is seconds behind the data, not a night.
REFRESH_SNAPSHOT = env.bool("REFRESH_SNAPSHOT", default=True)
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
    "delete-expired-registrations": {
        "task": "accounts.delete_expired_registrations",
        "schedule": crontab(minute=50),
    },
    "delete-expired-uploads": {
        "task": "nonedexcel.delete_expired_uploads",
        "schedule": crontab(minute=55),
    },
    "email-unread-chat-answers": {
        "task": "support.email_unread_answers",
        "schedule": crontab(),  # every minute
    },
    # Monday 07:00, then each hour until noon for anyone a dead worker or a refused send
    # left out: screens.digest sends each person one a week however often it runs.
    "send-weekly-digests": {
        "task": "screens.send_weekly_digests",
        "schedule": crontab(minute=0, hour="7-12", day_of_week="mon"),
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
        # A sign-out form redirects to the provider's end-session page.
        "form-action": ["'self'", *([OIDC_OP_ISSUER] if OIDC_ENABLED else [])],
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
