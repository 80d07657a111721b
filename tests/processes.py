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
