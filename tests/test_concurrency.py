"""Nothing lost when things happen at once: real processes and threads on PostgreSQL.

Each test starts the operations for real (`manage.py import_feed` in other processes, or
threads with their own connections) and reads the database afterwards.
"""

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from accounts.models import Membership
from learners.feed.importer import import_delivery, mark_abandoned_runs
from learners.models import Entry, ImportRun, Learner, Result
from nonedexcel.models import NonEdexcelQualification, PendingUpload

from .factories import (
    LearnerFactory,
    MembershipFactory,
    UserFactory,
    uln_for,
)
from .processes import ROOT, shared_database_env, wait_for

VALID = Path(__file__).parent / "data" / "valid_delivery"
LEARNERS = 3000
UNITS = ("ENG301", "ENG302", "ENG303")
# An import started in another process, warmed up (Django loaded) and waiting for a line on
# its standard input, so the test decides when each import begins.
WARM_IMPORT = """
import sys, django
django.setup()
from learners.feed.importer import import_delivery
print("ready", flush=True)
if sys.stdin.readline() != "go\\n":
    sys.exit(2)  # the test went away
sys.exit(0 if import_delivery(sys.argv[1]).imported else 1)
"""


def _write(folder: Path, name: str, header: str, rows) -> None:
    folder.mkdir(exist_ok=True)
    with (folder / name).open("w", encoding="utf-8") as handle:
        handle.write(header + "\n")
        handle.writelines(",".join(map(str, row)) + "\n" for row in rows)


def _results(ulns, series: str) -> tuple[str, str, object]:
    """A long results file: it keeps its import's transaction open for a while."""
    return (
        "results.csv",
        "uln,series,code,grade,points,published_on",
        ((uln, series, unit, "B", 24, "2010-08-19") for uln in ulns for unit in UNITS),
    )


@pytest.fixture
def deliveries(tmp_path):
    """The catalogue and centres; A registers learners; B brings their entries. Each also
    brings many results, so that the two overlap for certain when started together."""
    base = tmp_path / "base"
    base.mkdir()
    for name in ("series.csv", "qualifications.csv", "units.csv", "centres.csv"):
        shutil.copy(VALID / name, base / name)
    ulns = [uln_for(5000 + n) for n in range(LEARNERS)]
    a, b = tmp_path / "a", tmp_path / "b"
    _write(
        a,
        "learners.csv",
        "uln,forename,surname,date_of_birth,centre,line,level,registered_on",
        (
            (u, "Sam", f"Learner{n:04d}", "1993-01-02", "12345", "ENG", "A", "2008-09-15")
            for n, u in enumerate(ulns)
        ),
    )
    _write(a, *_results(ulns, "2010-01"))
    _write(
        b,
        "entries.csv",
        "centre,candidate_number,uln,forename,surname,series,code,type,received_at",
        (
            (
                "12345",
                f"{n:04d}",
                u,
                "Sam",
                f"Learner{n:04d}",
                "2010-06",
                code,
                kind,
                "2010-02-20T10:00:00+00:00",
            )
            for n, u in enumerate(ulns)
            for code, kind in (("DPL3ENG", "CASHIN"), ("ENG301", "UNIT"), ("ENG302", "UNIT"))
        ),
    )
    _write(b, *_results(ulns, "2010-06"))
    return base, a, b


def _state() -> tuple[list, list, int]:
    entries = sorted(
        Entry.objects.values_list(
            "centre_id", "candidate_number", "series_id", "code", "learner_id"
        )
    )
    return entries, sorted(Learner.objects.values_list("uln", flat=True)), Result.objects.count()


def _forget_deliveries() -> None:
    Entry.objects.all().delete()
    Result.objects.all().delete()
    Learner.objects.all().delete()


def _start_import(folder: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "import_feed", str(folder)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _warm_import(folder: Path, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", WARM_IMPORT, str(folder)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "ready"
    return process


def _go(process: subprocess.Popen) -> None:
    process.stdin.write("go\n")
    process.stdin.flush()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["learners first", "entries first"])
def test_two_deliveries_at_once_end_as_if_run_one_after_the_other(deliveries, first):
    env = shared_database_env()
    base, a, b = deliveries
    assert import_delivery(base).imported
    one, two = (a, b) if first == "learners first" else (b, a)

    started, second = _warm_import(one, env), _warm_import(two, env)
    try:
        _go(started)
        assert wait_for(lambda: ImportRun.objects.filter(directory=str(one)).exists())
        _go(second)
        for process in (started, second):
            assert process.wait(timeout=120) == 0
    finally:
        for process in (started, second):
            if process.poll() is None:
                process.kill()

    runs = {run.directory: run for run in ImportRun.objects.filter(directory__in=[str(a), str(b)])}
    # They overlapped: the second began before the first had finished.
    assert runs[str(two)].started_at < runs[str(one)].finished_at
    assert {run.outcome for run in runs.values()} == {ImportRun.Outcome.IMPORTED}
    concurrent = _state()
    assert all(learner for *_, learner in concurrent[0]), "an entry was left unlinked"

    _forget_deliveries()
    assert import_delivery(one).imported
    assert import_delivery(two).imported
    assert _state() == concurrent


@pytest.mark.django_db
def test_a_failed_import_records_the_database_error_itself(tmp_path, monkeypatch):
    """After an error the transaction can run nothing more: no cleanup statement may hide it."""
    from learners.feed import bulk

    folder = tmp_path / "delivery"
    shutil.copytree(VALID, folder)
    merge = bulk.merge

    def failing(cursor, spec_merge, stage, change, rows):
        if spec_merge.table == Learner._meta.db_table:
            cursor.execute("SELECT * FROM no_such_table_here")
        return merge(cursor, spec_merge, stage, change, rows)

    monkeypatch.setattr(bulk, "merge", failing)

    outcome = import_delivery(folder)

    run = outcome.run
    assert run.outcome == ImportRun.Outcome.FAILED
    [error] = run.errors
    assert "no_such_table_here" in error
    assert "current transaction is aborted" not in error
    assert not Learner.objects.exists()


@pytest.fixture
def running_import(deliveries):
    """Delivery A being imported by a real `import_feed` process, caught while running."""
    env = shared_database_env()
    base, a, _ = deliveries
    assert import_delivery(base).imported
    process = _start_import(a, env)
    try:
        assert wait_for(
            lambda: ImportRun.objects.filter(directory=str(a), outcome="running").exists()
        )
        yield ImportRun.objects.get(directory=str(a)), process
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.django_db(transaction=True)
def test_an_import_killed_half_way_is_not_running_for_ever(running_import):
    killed, process = running_import
    process.kill()
    process.wait(timeout=10)
    killed.refresh_from_db()
    assert killed.outcome == ImportRun.Outcome.RUNNING  # it never got to say otherwise

    # What the next import, or the hourly task, does once the server has seen the kill.
    assert wait_for(lambda: mark_abandoned_runs() == 1)

    killed.refresh_from_db()
    assert killed.outcome == ImportRun.Outcome.FAILED
    assert "did not finish" in killed.errors[0]
    assert not Learner.objects.exists()  # nothing half-written


@pytest.mark.django_db(transaction=True)
def test_a_live_import_is_not_taken_for_dead(running_import):
    run, process = running_import
    assert mark_abandoned_runs() == 0
    assert process.wait(timeout=120) == 0
    run.refresh_from_db()
    assert run.outcome == ImportRun.Outcome.IMPORTED


@pytest.mark.django_db
def test_the_embedded_default_takes_a_run_running_for_hours_for_dead(monkeypatch):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL asks the run's lock instead")
    import datetime

    from django.utils import timezone

    old = ImportRun.objects.create(directory="/old", files=[])
    ImportRun.objects.filter(pk=old.pk).update(
        started_at=timezone.now() - datetime.timedelta(hours=7)
    )
    recent = ImportRun.objects.create(directory="/recent", files=[])

    assert mark_abandoned_runs() == 1
    assert ImportRun.objects.get(pk=old.pk).outcome == ImportRun.Outcome.FAILED
    assert ImportRun.objects.get(pk=recent.pk).outcome == ImportRun.Outcome.RUNNING


# --- people clicking at once ------------------------------------------------------------------


def _at_once(*calls):
    """Run the calls in threads released together; their results, in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(10)
            results[index] = call()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def _release_when_someone_waits_on_a_lock(release: threading.Event) -> None:
    """Set `release` once another session of this database waits for a lock (its own
    connection: a transaction sees pg_stat_activity as it was when it first looked)."""
    try:
        with connection.cursor() as cursor:
            for _ in range(400):
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    release.set()
                    return
                time.sleep(0.05)
    finally:
        connection.close()


def _client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.mark.django_db(transaction=True)
def test_a_double_clicked_remove_is_told_the_role_is_already_removed(centre, administrator):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL)")
    for attempt in range(8):
        viewer = UserFactory(username=f"viewer{attempt}@example.org")
        membership = MembershipFactory(user=viewer, centre=centre)
        url = reverse("revoke_role", args=[centre.number, membership.pk])
        clicks = [_client_for(administrator), _client_for(administrator)]

        responses = _at_once(
            *(lambda c=c, url=url: c.post(url, {"confirmed": "yes"}, follow=True) for c in clicks)
        )

        assert [r.status_code for r in responses] == [200, 200], responses
        # The pages, not `context`: the test client's context signal is shared by threads.
        said = sorted(
            next(m for m in ("already been removed", "no longer has a role") if m in text)
            for text in (r.content.decode() for r in responses)
        )
        assert said == ["already been removed", "no longer has a role"]
        assert not Membership.objects.filter(pk=membership.pk).exists()


def _demote(centre, actor, membership):
    url = reverse("change_role", args=[centre.number, membership.pk])
    return _client_for(actor).post(url, {"role": "viewer"}, follow=True)


def _remove(centre, actor, membership):
    url = reverse("revoke_role", args=[centre.number, membership.pk])
    return _client_for(actor).post(url, {"confirmed": "yes"}, follow=True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("change", "left"),
    # Removing each other deadlocked into a 500 on PostgreSQL (issue 16).
    [(_demote, ["administrator", "viewer"]), (_remove, ["administrator"])],
    ids=["demoting", "removing"],
)
def test_two_administrators_changing_each_other_end_as_if_one_came_first(centre, change, left):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL)")
    for attempt in range(8):
        ann = UserFactory(username=f"ann{attempt}@example.org")
        bob = UserFactory(username=f"bob{attempt}@example.org")
        # Centre users: the last-administrator rule locks the centre's other administrators.
        ann_role, bob_role = (
            MembershipFactory(user=u, centre=centre, role="administrator", is_centre_user=True)
            for u in (ann, bob)
        )

        responses = _at_once(
            lambda ann=ann, bob_role=bob_role: change(centre, ann, bob_role),
            lambda bob=bob, ann_role=ann_role: change(centre, bob, ann_role),
        )

        # Never a 500 or a deadlock; one change, and the other refused because its
        # administrator had just lost the role (a removed one now reaches the centre as an
        # outsider would, 404), as when one comes after the other.
        assert {getattr(r, "status_code", r) for r in responses} <= {200, 403, 404}, responses
        roles = Membership.objects.filter(pk__in=[ann_role.pk, bob_role.pk])
        assert sorted(roles.values_list("role", flat=True)) == left, attempt
        roles.delete()


# --- a bulk upload and the ILR at once ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_row_recorded_on_the_ilr_meanwhile_is_named_and_the_rest_recorded(
    centre, administrator, client
):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL)")
    learners = [LearnerFactory(centre=centre, uln=uln_for(9000 + n)) for n in range(30)]
    rows = "".join(f"{lr.uln},600/{n:04d}/1,ASL,AQA,\n" for n, lr in enumerate(learners))
    client.force_login(administrator)
    client.post(
        reverse("nonedexcel_upload"),
        {
            "file": SimpleUploadedFile(
                "q.csv", ("uln,qan,component,awarding_body,title\n" + rows).encode()
            )
        },
    )
    pending = PendingUpload.objects.get()
    colleague = UserFactory(username="colleague@example.org")
    in_ilr, release = threading.Event(), threading.Event()

    def another_administrator_on_the_ilr():
        # Their row is written and not yet committed when the confirm begins; they commit
        # once the confirm is waiting on it.
        watcher = threading.Thread(target=_release_when_someone_waits_on_a_lock, args=(release,))
        with transaction.atomic():
            NonEdexcelQualification.objects.create(
                learner=learners[7], qan="600/0007/1", component="ASL", added_by=colleague
            )
            in_ilr.set()
            watcher.start()
            assert release.wait(20), "the confirm never waited on the row"
        watcher.join(5)

    def confirm():
        in_ilr.wait(10)
        return _client_for(administrator).post(
            reverse("nonedexcel_confirm", args=[pending.pk]), follow=True
        )

    _, response = _at_once(another_administrator_on_the_ilr, confirm)

    text = response.content.decode()
    assert "This upload was already recorded" not in text
    assert "Recorded 29 non-Edexcel qualifications." in text
    assert f"line 9 ({learners[7].uln}, 600/0007/1)" in text
    assert NonEdexcelQualification.objects.count() == 30
    pending.refresh_from_db()
    assert (pending.rows_added, pending.confirmed_at is not None) == (29, True)


@pytest.mark.django_db
def test_a_failure_outside_the_database_is_the_runs_recorded_cause(tmp_path, monkeypatch):
    from learners.feed import importer

    folder = tmp_path / "delivery"
    shutil.copytree(VALID, folder)

    def unreadable(*args, **kwargs):
        raise OSError("the delivery's disk went away")

    monkeypatch.setattr(importer, "_write", unreadable)
    run = import_delivery(folder).run

    assert run.outcome == ImportRun.Outcome.FAILED
    assert "the delivery's disk went away" in run.errors[0]
    assert not Learner.objects.exists()


@pytest.mark.django_db
def test_invitations_that_cannot_be_sent_are_a_warning_on_an_imported_run(tmp_path, monkeypatch):
    from learners.feed import importer

    folder = tmp_path / "delivery"
    shutil.copytree(VALID, folder)

    def no_mail_server():
        raise ConnectionRefusedError("SMTP is down")

    monkeypatch.setattr(importer, "invite_new_centre_users", no_mail_server)
    run = import_delivery(folder).run

    assert run.outcome == ImportRun.Outcome.IMPORTED
    assert run.warnings == [
        "centre_users.csv: -: invitations not sent: ConnectionRefusedError('SMTP is down')"
    ]
    assert Learner.objects.count() == 2
