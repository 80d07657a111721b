"""The rebuild through real Celery workers and Redis, the way production runs it: shared by
two workers, one of them killed (SIGKILL) or frozen (SIGSTOP) half-way through a shard, and
with every worker killed.

Needs PostgreSQL and Redis (CI has both: `.ci/run` sets REDIS_URL); skipped elsewhere.
"""

import datetime
import os
import signal
import subprocess
import sys
import time

import pytest
from celery import Celery
from django.db import connection

from flags import snapshot
from flags.models import OverviewRow, RebuildRun
from flags.snapshot import current_run, rebuild, start_on_workers

from .factories import LearnerFactory
from .processes import ROOT, shared_database_env, wait_for

REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (CI sets it)"),
]


WORKER_ARGS = [
    "worker",
    "--pool=solo",
    "--concurrency=1",
    "--without-heartbeat",
    "--without-mingle",
    "--without-gossip",
    "-l",
    "warning",
]

# A worker whose rebuild is slowed down (a fifth of a second a learner), so that it can be
# killed half-way through a shard.
SLOW_WORKER = """
import sys, time, django
django.setup()
from flags import snapshot
evaluate = snapshot.evaluate_or_report
def slow(*args):
    time.sleep(0.2)
    return evaluate(*args)
snapshot.evaluate_or_report = slow
from learnertracking.celery import app
app.worker_main(sys.argv[1:])
"""


def start_worker(queue: str, slow: bool = False, **env: str) -> subprocess.Popen:
    env = shared_database_env(REDIS_URL=REDIS_URL, **env)
    command = (
        [sys.executable, "-c", SLOW_WORKER]
        if slow
        else [sys.executable, "-m", "celery", "-A", "learnertracking"]
    )
    return subprocess.Popen([*command, *WORKER_ARGS, "-Q", queue], cwd=ROOT, env=env)


def _running_shards(run) -> bool:
    """Whether a worker holds one of the run's shards (its row is locked) right now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM flags_rebuildshard WHERE run_id = %s AND NOT done "
            "AND id NOT IN (SELECT id FROM flags_rebuildshard WHERE run_id = %s "
            "FOR UPDATE SKIP LOCKED)",
            [run.pk, run.pk],
        )
        return cursor.fetchone()[0] > 0


def _stop(sender: Celery, workers: list[subprocess.Popen]) -> None:
    sender.close()
    for worker in workers:
        worker.kill()
        worker.wait(timeout=20)


def _assert_current_with_every_learner_once(run, learners: int, shards: int) -> None:
    run.refresh_from_db()
    assert current_run() == run
    assert run.learners == learners
    assert run.shards.count() == shards and not run.shards.filter(done=False).exists()
    rows = OverviewRow.objects.filter(run=run)
    assert rows.count() == learners and rows.values("uln").distinct().count() == learners


def test_two_workers_share_the_rebuild_and_one_killed_mid_shard_loses_nothing(centre):
    """Two workers build the shards; one is killed (SIGKILL) half-way through one. Its shard
    goes back to pending with its rows, the other worker builds it, and the run becomes
    current with every learner exactly once. A rebuild started meanwhile is skipped."""
    if connection.vendor != "postgresql":
        pytest.skip("the workers must share the test database: PostgreSQL only")
    for n in range(24):
        LearnerFactory(centre=centre, surname=f"Shard{n:02d}")
    old = rebuild()
    queue = f"test-shards-{os.getpid()}"
    sender = Celery("sender", broker=REDIS_URL, set_as_current=False)
    shards = {"REBUILD_SHARD_LEARNERS": "4"}  # six shards, about a second each
    workers = [start_worker(queue, slow=True, **shards) for _ in range(2)]
    try:
        sender.send_task("flags.rebuild_overview", queue=queue)
        assert wait_for(lambda: RebuildRun.objects.filter(outcome="running").exists(), 60)
        run = RebuildRun.objects.get(outcome="running")
        assert wait_for(lambda: run.shards.filter(done=True).exists() and _running_shards(run), 60)

        assert start_on_workers().outcome == RebuildRun.Outcome.SKIPPED  # it is alive
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(timeout=20)
        assert current_run() == old  # not yet

        assert wait_for(lambda: current_run() != old, 60), "the other worker did not finish"
    finally:
        _stop(sender, workers)

    _assert_current_with_every_learner_once(run, learners=24, shards=6)


def _state_of(application: str) -> str | None:
    """What the database session of the process named `application` is doing."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT state FROM pg_stat_activity WHERE application_name = %s", [application]
        )
        row = cursor.fetchone()
    return row[0] if row else None


def test_a_worker_frozen_mid_shard_holds_it_only_until_the_database_ends_its_session(centre):
    """One of two workers freezes (SIGSTOP) while it builds a shard, its transaction open and
    its shard locked, as a process stopped by its machine or cut off from the database
    would. PostgreSQL ends its session once it has been idle in its transaction for the
    configured time (three seconds here, five minutes by default); its shard goes back to
    pending, the other worker builds it, and the run becomes current."""
    if connection.vendor != "postgresql":
        pytest.skip("the workers must share the test database: PostgreSQL only")
    for n in range(24):
        LearnerFactory(centre=centre, surname=f"Frozen{n:02d}")
    old = rebuild()
    queue = f"test-frozen-{os.getpid()}"
    sender = Celery("sender", broker=REDIS_URL, set_as_current=False)
    settings = {"REBUILD_SHARD_LEARNERS": "4", "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT": "3"}
    frozen_name = f"lt-frozen-{os.getpid()}"
    workers = [
        start_worker(queue, slow=True, PGAPPNAME=frozen_name, **settings),
        start_worker(queue, slow=True, **settings),
    ]
    try:
        sender.send_task("flags.rebuild_overview", queue=queue)
        assert wait_for(lambda: RebuildRun.objects.filter(outcome="running").exists(), 60)
        run = RebuildRun.objects.get(outcome="running")

        def frozen_holding_a_shard() -> bool:
            # Stopped between two statements of a shard's transaction: while its rules run
            # (nearly all the time), not in the middle of a COPY.
            workers[0].send_signal(signal.SIGSTOP)
            time.sleep(0.3)
            if _state_of(frozen_name) == "idle in transaction" and _running_shards(run):
                return True
            workers[0].send_signal(signal.SIGCONT)
            return False

        assert wait_for(frozen_holding_a_shard, 60), "never caught holding a shard"
        assert current_run() == old

        assert wait_for(lambda: current_run() != old, 60), "the frozen worker's shard was not built"
        assert _state_of(frozen_name) is None  # its session was ended
    finally:
        _stop(sender, workers)

    _assert_current_with_every_learner_once(run, learners=24, shards=6)


def test_every_worker_killed_leaves_the_old_snapshot_and_the_next_run_starts_clean(
    centre, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("the worker must share the test database: PostgreSQL only")
    for n in range(12):
        LearnerFactory(centre=centre, surname=f"Killed{n}")
    old = rebuild()
    queue = f"test-kill-{os.getpid()}"
    sender = Celery("sender", broker=REDIS_URL, set_as_current=False)
    worker = start_worker(queue, slow=True, REBUILD_SHARD_LEARNERS="4")
    try:
        sender.send_task("flags.rebuild_overview", queue=queue)
        assert wait_for(lambda: RebuildRun.objects.filter(outcome="running").exists(), 60)
        killed = RebuildRun.objects.get(outcome="running")
        assert wait_for(lambda: _running_shards(killed), 60), "the slow rebuild never started"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=20)
    finally:
        sender.close()
        worker.kill()
        worker.wait(timeout=20)

    assert current_run() == old
    assert OverviewRow.objects.filter(run=old).count() == 12
    assert not OverviewRow.objects.filter(run=killed).exists()  # its shard rolled back
    assert snapshot._runs_with_tables([killed.pk]) == {killed.pk}  # its empty tables
    # While its tasks might still be queued it counts as alive; once it has been quiet for
    # QUIET_ALLOWED it is dead, and the next rebuild marks it failed and starts clean.
    assert rebuild().outcome == RebuildRun.Outcome.SKIPPED
    monkeypatch.setattr(snapshot, "QUIET_ALLOWED", datetime.timedelta(0))
    after = rebuild()
    assert after.outcome == RebuildRun.Outcome.SUCCEEDED
    assert current_run() == after
    killed.refresh_from_db()
    assert killed.outcome == RebuildRun.Outcome.FAILED
    assert OverviewRow.objects.filter(run=after).count() == 12
    assert snapshot._runs_with_tables([killed.pk]) == set()  # dropped as it switched


def test_a_worker_runs_the_rebuild_sent_through_the_broker(centre):
    for n in range(3):
        LearnerFactory(centre=centre, surname=f"Worker{n}")
    queue = f"test-{os.getpid()}"
    worker = start_worker(queue)
    # A client of its own: the project's app may already hold a connection to the
    # in-memory broker the other tests use.
    sender = Celery("sender", broker=REDIS_URL, set_as_current=False)
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


def test_a_worker_sends_the_access_request_and_unread_answer_emails(
    tmp_path, centre, administrator, viewer, staff
):
    """The event emails of issue 20, point 3, sent through Redis as production sends them:
    the request's by the page (on commit), the answers' by beat each minute, by name."""
    import datetime

    from django.conf import settings
    from django.utils import timezone

    from accounts.models import AccessRequest
    from support import chat
    from support.models import Message

    from .factories import UserFactory
    from .processes import mails_in, start_mail_worker

    if connection.vendor != "postgresql":
        pytest.skip("the worker must share the test database: PostgreSQL only")
    asker = UserFactory(username="asker@example.org", first_name="Ada", last_name="Asker")
    request = AccessRequest.objects.create(user=asker, centre=centre, role="viewer")
    conversation = chat.open_conversation(viewer, "Award date will not save", "Hello")
    answer = chat.post_message(conversation, staff, "Use the ILR's award date form.")
    Message.objects.filter(pk=answer.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=6)
    )
    queue = f"test-mail-{os.getpid()}"
    sender = Celery("sender", broker=REDIS_URL, set_as_current=False)
    worker = start_mail_worker(tmp_path, queue)
    try:
        sender.send_task("accounts.tell_administrators_of_request", args=[request.pk], queue=queue)
        beat_sends = settings.CELERY_BEAT_SCHEDULE["email-unread-chat-answers"]["task"]
        sender.send_task(beat_sends, queue=queue)
        sender.send_task(beat_sends, queue=queue)  # the next minute: nothing new to send
        assert wait_for(lambda: len(mails_in(tmp_path)) >= 2, 60), "the emails did not come"
        assert wait_for(lambda: sender.connection().default_channel.client.llen(queue) == 0)
        time.sleep(1)
    finally:
        sender.close()
        worker.terminate()
        worker.wait(timeout=20)

    mails = {address: (subject, body) for address, subject, body in mails_in(tmp_path)}
    assert len(mails_in(tmp_path)) == 2
    subject, body = mails["admin@la.example.org"]
    assert "Ada Asker" in body and "/centres/12345/users/" in body
    subject, body = mails["viewer@consortium.example.org"]
    assert subject == "Support has answered: Award date will not save"
    assert "Use the ILR's award date form." in body
    assert Message.objects.get(pk=answer.pk).emailed_at is not None
