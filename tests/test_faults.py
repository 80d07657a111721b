"""Killed processes and services that stop under the app.

The rebuild test kills a real process mid-rebuild (PostgreSQL only: it must share the
test database); the Redis test starts its own redis-server on a spare port and stops it.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from flags.models import OverviewRow, RebuildRun
from flags.snapshot import current_run, rebuild

from .factories import LearnerFactory

ROOT = Path(__file__).resolve().parent.parent

SLOW_REBUILD = """
import time, django
django.setup()
from flags import snapshot
evaluate = snapshot.evaluate
def slow(*args):
    time.sleep(0.05)
    return evaluate(*args)
snapshot.evaluate = slow
snapshot.rebuild(chunk_size=2)
"""


def wait_for(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_killed_half_way_leaves_the_old_snapshot_and_the_next_succeeds(centre):
    if connection.vendor != "postgresql":
        pytest.skip("the killed process must share the test database: PostgreSQL only")
    for n in range(40):
        LearnerFactory(centre=centre, surname=f"Fault{n:02d}")
    first = rebuild()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "learnertracking.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DEBUG": "1",
    }
    env.pop("REDIS_URL", None)
    worker = subprocess.Popen([sys.executable, "-c", SLOW_REBUILD], cwd=ROOT, env=env)
    try:
        started = wait_for(
            lambda: OverviewRow.objects.exclude(run=first).filter(run__outcome="running").exists()
        )
        assert started, "the rebuild never got going"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()

    killed = RebuildRun.objects.exclude(pk=first.pk).get()
    assert killed.outcome == RebuildRun.Outcome.RUNNING  # it never got to say otherwise
    assert current_run() == first
    assert OverviewRow.objects.filter(run=first).count() == 40

    # The advisory lock died with the process: the next rebuild runs and tidies up.
    after = rebuild()
    assert after.outcome == RebuildRun.Outcome.SUCCEEDED
    assert current_run() == after
    killed.refresh_from_db()
    assert killed.outcome == RebuildRun.Outcome.FAILED
    assert not OverviewRow.objects.filter(run=killed).exists()


def spare_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db
@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")
def test_the_app_reports_redis_stopping_and_recovers_without_a_restart(client, viewer, settings):
    port = spare_port()
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"

    def start():
        server = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        assert wait_for(lambda: client.get("/health/").json()["broker"] == "ok", 10)
        return server

    server = start()
    try:
        assert client.get("/health/").status_code == 200
        server.terminate()
        server.wait(timeout=10)

        down = client.get("/health/")
        assert down.status_code == 503
        assert down.json()["broker"] == "unavailable"
        client.force_login(viewer)
        assert client.get("/overview/").status_code == 200  # pages do not need the broker

        server = start()
        assert client.get("/health/").status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
