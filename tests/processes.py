"""Other processes on the test database: for tests of real concurrency and of kills.

PostgreSQL only: a second process cannot share SQLite's test database with the test's open
transaction, and the embedded default runs one process anyway.
"""

import os
import time
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def shared_database_env(**extra: str) -> dict[str, str]:
    """The environment for a process (manage.py, a worker) that uses the test's database."""
    if connection.vendor != "postgresql":
        pytest.skip("another process must share the test database: PostgreSQL only")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "learnertracking.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DEBUG": "1",
        **extra,
    }
    if "REDIS_URL" not in extra:
        env.pop("REDIS_URL", None)
    return env


def wait_for(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


# A Celery worker on the test database that writes its mail to files in a folder (argv[1]);
# with SLOW_DIGEST set, each weekly digest takes a second to write, so that it can be killed
# between one person's and the next.
MAIL_WORKER = """
import os, sys, time, django
django.setup()
from django.conf import settings
settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
settings.EMAIL_FILE_PATH = sys.argv.pop(1)
from screens import digest
if os.environ.get("SLOW_DIGEST"):
    render = digest.render
    def slow(*args):
        time.sleep(1)
        return render(*args)
    digest.render = slow
from learnertracking.celery import app
app.worker_main(sys.argv[1:])
"""


def start_mail_worker(folder: Path, queue: str, **env: str):
    """A worker (solo pool) on `queue`, through Redis, its mail written under `folder`."""
    import subprocess
    import sys

    environment = shared_database_env(REDIS_URL=os.environ["REDIS_URL"], **env)
    args = ["worker", "--pool=solo", "--without-heartbeat", "--without-mingle"]
    args += ["--without-gossip", "-l", "warning", "-Q", queue]
    return subprocess.Popen(
        [sys.executable, "-c", MAIL_WORKER, str(folder), *args], cwd=ROOT, env=environment
    )


def mails_in(folder: Path) -> list[tuple[str, str, str]]:
    """(address, subject, plain text) of each mail a mail worker wrote."""
    import email

    found = []
    for path in sorted(folder.iterdir()):
        for raw in path.read_bytes().split(b"-" * 79):
            if raw.strip():
                message = email.message_from_bytes(raw.lstrip())
                part = message.get_payload()[0] if message.is_multipart() else message
                text = part.get_payload(decode=True).decode()
                found.append((message["To"], message["Subject"], text))
    return found
