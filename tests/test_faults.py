"""Killed processes and services that stop under the app.

The rebuild test kills a real process mid-rebuild (PostgreSQL only: it must share the
test database); the Redis test starts its own redis-server on a spare port and stops it;
the PostgreSQL test starts a cluster of its own under a real gunicorn, stops and restarts it.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.db import connection

from flags import snapshot
from flags.models import OverviewRow, RebuildRun, RebuildShard
from flags.snapshot import current_run, rebuild

from .factories import LearnerFactory
from .processes import ROOT, shared_database_env, wait_for

SLOW_REBUILD = """
import time, django
django.setup()
from flags import snapshot
evaluate = snapshot.evaluate_or_report
def slow(*args):
    time.sleep(0.05)
    return evaluate(*args)
snapshot.evaluate_or_report = slow
snapshot.rebuild(chunk_size=2, shard_size=10)
"""


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_killed_half_way_leaves_the_old_snapshot_and_the_next_succeeds(centre):
    env = shared_database_env()
    for n in range(40):
        LearnerFactory(centre=centre, surname=f"Fault{n:02d}")
    first = rebuild()
    worker = subprocess.Popen([sys.executable, "-c", SLOW_REBUILD], cwd=ROOT, env=env)
    try:
        # Killed once a shard (ten learners, committed with its rows) is done and the next
        # is being built.
        started = wait_for(
            lambda: RebuildShard.objects.filter(run__outcome="running", done=True).exists()
        )
        assert started, "the rebuild never got going"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()

    killed = RebuildRun.objects.exclude(pk=first.pk).get()
    assert killed.outcome == RebuildRun.Outcome.RUNNING  # it never got to say otherwise
    # The shards it finished, in the table of its own it was writing.
    own_table = snapshot._tables_of(killed)[0]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {own_table} WHERE run_id = %s", [killed.pk])
        assert 10 <= cursor.fetchone()[0] < 40
    assert current_run() == first
    assert OverviewRow.objects.filter(run=first).count() == 40

    # The advisory lock dies with the process, once the server has seen it go: the next
    # rebuild runs and tidies up.
    assert wait_for(rebuild_lock_released), "the killed rebuild's lock was never released"
    after = rebuild()
    assert after.outcome == RebuildRun.Outcome.SUCCEEDED
    assert current_run() == after
    killed.refresh_from_db()
    assert killed.outcome == RebuildRun.Outcome.FAILED
    assert not OverviewRow.objects.filter(run=killed).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [own_table])
        assert cursor.fetchone()[0] is None  # dropped with its rows


def rebuild_lock_released() -> bool:
    if connection.vendor != "postgresql":
        return True  # one process: the lock was the killed process's own
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid = %s AND objid = %s AND objsubid = 1)",
            [snapshot._LOCK_KEY >> 32, snapshot._LOCK_KEY & 0xFFFFFFFF],
        )
        return cursor.fetchone()[0]


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


# --- PostgreSQL stopping under the app -----------------------------------------------------

PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)

SIGNED_IN_SESSION = """
import django
django.setup()
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from accounts.models import Centre, Membership, User
centre = Centre.objects.create(number="12345", name="Fault Test School")
user = User.objects.create_user("fault-viewer", "fault@example.org", "x" * 16)
Membership.objects.create(user=user, centre=centre, role="viewer")
store = SessionStore()
store[SESSION_KEY] = str(user.pk)
store[BACKEND_SESSION_KEY] = "accounts.backends.UsernameOrAddressBackend"
store[HASH_SESSION_KEY] = user.get_session_auth_hash()
store.create()
print(store.session_key)
"""


class ThrowawayPostgres:
    """A PostgreSQL cluster of the test's own, on a spare port, that it can stop and start
    without touching the server the rest of the suite uses."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = spare_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/faults"

    def _run(self, *args: str) -> None:
        # PostgreSQL refuses to run as root: as root, run it as the postgres user.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=60)

    def create(self) -> None:
        self.folder.chmod(0o777)
        self._run(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "--no-sync", "-E", "UTF8", "--locale=C",
        )  # fmt: skip
        self.start()
        import psycopg2

        admin = psycopg2.connect(f"postgres://postgres@127.0.0.1:{self.port}/postgres")
        admin.autocommit = True
        admin.cursor().execute("CREATE DATABASE faults")
        admin.close()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.folder / "log"), "-w", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


def fetch(url: str, session: str = "") -> tuple[int, str, dict]:
    import urllib.error
    import urllib.request

    # Production sits behind TLS: the proxy's header, so no redirect to https.
    headers = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
    if session:
        headers["Cookie"] = f"sessionid={session}"
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - http to loopback
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


@pytest.mark.skipif(
    PG_BIN is None or (os.geteuid() == 0 and not shutil.which("runuser")),
    reason="needs PostgreSQL's server binaries",
)
def test_the_app_reports_postgresql_stopping_and_recovers_without_a_restart():
    # Not under pytest's temporary folder: the postgres user must be able to reach it.
    folder = Path(tempfile.mkdtemp(prefix="lt-pg-"))
    postgres = ThrowawayPostgres(folder)
    static = folder / "static"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "learnertracking.settings",
        "DATABASE_URL": postgres.url,
        "DEBUG": "0",
        "EMAIL_URL": "smtp://127.0.0.1:25",
        "SECRET_KEY": "faults-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "USE_X_FORWARDED_PROTO": "1",
        "STATIC_ROOT": str(static),
        "DATABASE_CONNECT_TIMEOUT": "2",
        "LOG_LEVEL": "CRITICAL",
    }
    env.pop("REDIS_URL", None)
    gunicorn = None
    try:
        postgres.create()
        for args in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"]):
            subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)
        session = subprocess.run(
            [sys.executable, "-c", SIGNED_IN_SESSION],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        port = spare_port()
        base = f"http://127.0.0.1:{port}"
        gunicorn = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "learnertracking.wsgi:application",
                "--bind", f"127.0.0.1:{port}", "--workers", "1",
                "--worker-class", "gthread", "--threads", "2",
            ],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        assert wait_for(lambda: _answers(f"{base}/health/"), 30)

        status, _, _ = fetch(f"{base}/health/")
        assert status == 200
        status, page, _ = fetch(f"{base}/overview/", session)
        assert status == 200 and "Fault Test School" in page

        postgres.stop()

        status, body, _ = fetch(f"{base}/health/")
        assert status == 503
        assert '"database": "unavailable"' in body
        status, page, headers = fetch(f"{base}/overview/", session)
        assert status == 503
        assert "Learner Tracking is unavailable for a moment" in page
        assert "half-saved" in page
        assert headers["Retry-After"] == "60"
        assert "OperationalError" not in page and "Traceback" not in page

        postgres.start()

        # The same gunicorn, never restarted: its next requests reconnect.
        assert wait_for(lambda: fetch(f"{base}/health/")[0] == 200, 30)
        status, page, _ = fetch(f"{base}/overview/", session)
        assert status == 200 and "Fault Test School" in page
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
        # It may never have started, or be stopped already.
        with contextlib.suppress(subprocess.CalledProcessError, FileNotFoundError):
            postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _answers(url: str) -> bool:
    try:
        fetch(url)
    except OSError:
        return False
    return True


@pytest.mark.django_db
def test_a_session_tells_postgresql_to_end_it_once_its_client_is_gone_or_frozen():
    """A worker whose machine vanished (the connection left half open, which only probes
    reveal) or that froze in a transaction must not hold its locks for hours: every session
    asks the server to probe a silent client after a minute, and to end a transaction left
    idle for five minutes (the frozen worker's test in test_celery_worker shows the rest)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's settings")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN ('tcp_keepalives_idle', "
            "'tcp_keepalives_interval', 'tcp_keepalives_count', "
            "'idle_in_transaction_session_timeout')"
        )
        settings = dict(cursor.fetchall())
    assert settings == {
        "tcp_keepalives_idle": "60",
        "tcp_keepalives_interval": "10",
        "tcp_keepalives_count": "6",
        "idle_in_transaction_session_timeout": "300000",  # milliseconds
    }
