"""Settings for the test suite: the environment's database, a fast hasher, eager Celery."""

import os

# The tests run as development does; the production settings are tested in subprocesses.
os.environ.setdefault("DEBUG", "1")


def _redis_of_this_test_process(url: str, worker: str) -> str:
    """Under pytest-xdist each test process (gw0, gw1, ...) has a Redis database of its own,
    counted down from the one given: their Celery workers take tasks from a queue of that
    process's own, not another's, whose tasks name another test database."""
    if not url or not worker.startswith("gw"):
        return url
    base, _, number = url.rpartition("/")
    database = int(number or 0) - int(worker[2:])
    if database < 0:
        raise RuntimeError(f"REDIS_URL {url}: too few Redis databases below it for {worker}")
    return f"{base}/{database}"


# In the environment, so that the test modules and the processes they start see it too.
REDIS_URL_GIVEN = os.environ.get("REDIS_URL", "")
if REDIS_URL_GIVEN:
    os.environ["REDIS_URL"] = _redis_of_this_test_process(
        os.environ["REDIS_URL"], os.environ.get("PYTEST_XDIST_WORKER", "")
    )

from .settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# One process: counters (throttles) start empty in each test (conftest clears the cache).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "progress": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "progress",
    },
}
