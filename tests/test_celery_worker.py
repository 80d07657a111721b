"""The rebuild through a real Celery worker and Redis, the way production runs it.

Needs PostgreSQL and Redis (CI has both: `.ci/run` sets REDIS_URL); skipped elsewhere.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from flags.models import RebuildRun

from .factories import LearnerFactory

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (CI sets it)"),
]


def test_a_worker_runs_the_rebuild_sent_through_the_broker(centre):
    if connection.vendor != "postgresql":
        pytest.skip("the worker must share the test database: PostgreSQL only")
    for n in range(3):
        LearnerFactory(centre=centre, surname=f"Worker{n}")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "learnertracking.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": REDIS_URL,
        "DEBUG": "1",
    }
    queue = f"test-{os.getpid()}"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "learnertracking",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    # A client of its own: the project's app may already hold a connection to the
    # in-memory broker the other tests use.
    sender = Celery("sender", broker=REDIS_URL)
    try:
        sender.send_task("flags.rebuild_overview", queue=queue)
        deadline = time.monotonic() + 60
        run = None
        while time.monotonic() < deadline:
            run = RebuildRun.objects.filter(outcome=RebuildRun.Outcome.SUCCEEDED).first()
            if run is not None or worker.poll() is not None:
                break
            time.sleep(0.5)
        assert worker.poll() is None, "the worker stopped"
        assert run is not None, "no rebuild completed through the broker within 60 s"
        assert run.learners == 3
    finally:
        sender.close()
        worker.terminate()
        worker.wait(timeout=20)
