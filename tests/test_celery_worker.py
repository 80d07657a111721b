"""The rebuild through a real Celery worker and Redis, the way production runs it, and a
worker killed (SIGKILL) half-way through one.

Needs PostgreSQL and Redis (CI has both: `.ci/run` sets REDIS_URL); skipped elsewhere.
"""

import os
import signal
import subprocess
import sys
import time

import pytest
from celery import Celery
from django.db import connection

from flags.models import OverviewRow, RebuildRun
from flags.snapshot import current_run, rebuild

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

# A worker whose rebuild is slowed down, two learners a chunk, so it can be killed half-way.
SLOW_WORKER = """
import sys, time, django
django.setup()
from flags import snapshot, tasks
evaluate = snapshot.evaluate_or_report
def slow(*args):
    time.sleep(0.2)
    return evaluate(*args)
snapshot.evaluate_or_report = slow
tasks.rebuild = lambda: snapshot.rebuild(chunk_size=2)
from learnertracking.celery import app
app.worker_main(sys.argv[1:])
"""


def start_worker(queue: str, slow: bool = False) -> subprocess.Popen:
    env = shared_database_env(REDIS_URL=REDIS_URL)
    command = (
        [sys.executable, "-c", SLOW_WORKER]
        if slow
        else [sys.executable, "-m", "celery", "-A", "learnertracking"]
    )
    return subprocess.Popen([*command, *WORKER_ARGS, "-Q", queue], cwd=ROOT, env=env)


def test_a_worker_killed_mid_rebuild_leaves_the_old_snapshot_and_the_next_run_succeeds(centre):
    if connection.vendor != "postgresql":
        pytest.skip("the worker must share the test database: PostgreSQL only")
    for n in range(12):
        LearnerFactory(centre=centre, surname=f"Killed{n}")
    old = rebuild()
    queue = f"test-kill-{os.getpid()}"
    sender = Celery("sender", broker=REDIS_URL)
    worker = start_worker(queue, slow=True)
    try:
        sender.send_task("flags.rebuild_overview", queue=queue)
        # Killed once it has written part of the new snapshot.
        assert wait_for(
            lambda: OverviewRow.objects.filter(run__outcome=RebuildRun.Outcome.RUNNING).exists()
        ), "the slow rebuild never started"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=20)
        killed = RebuildRun.objects.get(outcome=RebuildRun.Outcome.RUNNING)
        assert OverviewRow.objects.filter(run=killed).count() < 12

        assert current_run() == old
        assert OverviewRow.objects.filter(run=old).count() == 12

        # The next rebuild sent (the next night's) runs on a fresh worker and clears the killed
        # run away. (Whether the killed task would be delivered again is not seen here: Redis
        # would redeliver an unacknowledged task only after an hour.)
        worker = start_worker(queue)
        sender.send_task("flags.rebuild_overview", queue=queue)
        assert wait_for(lambda: current_run() != old), "the next rebuild did not complete"
        time.sleep(1)  # nothing else starts
        assert RebuildRun.objects.count() == 3
        assert RebuildRun.objects.filter(outcome=RebuildRun.Outcome.SUCCEEDED).count() == 2
        assert OverviewRow.objects.filter(run=current_run()).count() == 12
        killed.refresh_from_db()
        assert killed.outcome == RebuildRun.Outcome.FAILED
        assert not OverviewRow.objects.filter(run=killed).exists()
    finally:
        sender.close()
        worker.kill()
        worker.wait(timeout=20)


def test_a_worker_runs_the_rebuild_sent_through_the_broker(centre):
    for n in range(3):
        LearnerFactory(centre=centre, surname=f"Worker{n}")
    queue = f"test-{os.getpid()}"
    worker = start_worker(queue)
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
    sender = Celery("sender", broker=REDIS_URL)
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
