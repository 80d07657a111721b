"""Issue 21: on PostgreSQL, the learner files are read ahead of the import on a second
connection (learners.feed.ahead): COPY, statistics and, for a first load, the checks and the
staged rows, while the import checks and writes the file before. Whatever was read ahead,
the outcome must be what the import reading every file itself gives, and nothing read ahead
outlives the import. The second connection sees only what is committed: these tests commit
(and the import reads nothing ahead inside a caller's transaction)."""

import concurrent.futures
import shutil
import time
from pathlib import Path

import psycopg2
import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection, transaction

from learners.feed import ahead, bulk, byvalue, importer
from learners.feed.importer import import_delivery
from learners.feed.spec import build_specs
from learners.models import DASStatus, Entry, ImportRun, Learner, MarkSubmission, Result, VQStatus

VALID = Path(__file__).parent / "data" / "valid_delivery"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="read ahead on PostgreSQL only (SQLite: one)"
    ),
]

LEARNER_TABLES = (Learner, Entry, MarkSubmission, Result, VQStatus, DASStatus)


def _written() -> dict[str, list[tuple]]:
    """Every row of the learner files' tables, but their ids, in order."""
    return {
        model.__name__: sorted(
            model.objects.values_list(
                *(
                    f.attname
                    for f in model._meta.concrete_fields
                    if not f.primary_key or f.name == "uln"
                )
            ),
            key=repr,
        )
        for model in LEARNER_TABLES
    }


def _outcome_of(folder: Path) -> tuple[str, list[str], dict, dict]:
    """The import's outcome, errors, counts and rows; then every table emptied again."""
    outcome = import_delivery(folder)
    seen = (outcome.run.outcome, [str(e) for e in outcome.errors], outcome.counts, _written())
    call_command("flush", interactive=False, verbosity=0)
    return seen


def _other_connection():
    """A connection of its own to the test database (what another process would see)."""
    settings = connection.settings_dict
    return psycopg2.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"],
    )


def _taken(monkeypatch) -> list[str]:
    """The files the import took as read ahead, as it takes them: "entries.csv checked" (the
    checks done ahead), or "entries.csv read" (the raw table)."""
    taken = []
    load = byvalue.FileChecks.load

    def watched(self, path, positions, width, ahead=None):
        checks = load(self, path, positions, width, ahead)
        if checks is not self:
            taken.append(f"{path.name} checked")
        elif checks.taken_ahead:
            taken.append(f"{path.name} read")
        return checks

    monkeypatch.setattr(byvalue.FileChecks, "load", watched)
    return taken


def _read_before_taken(monkeypatch) -> list[tuple[str, bool]]:
    """Every file read ahead before the import goes on (else, the files being small, the
    import may come to one before the reading thread has started on it, and read it
    itself); the files started, as (name, whether checked too)."""
    started = []
    start = ahead.Reader.start

    def waited(self, files, known, header, parsed=None):
        started.extend((spec.name, check) for spec, _path, check in files)
        start(self, files, known, header, parsed)
        concurrent.futures.wait(self._futures.values())

    monkeypatch.setattr(ahead.Reader, "start", waited)
    return started


def _without_reading_ahead(monkeypatch) -> None:
    monkeypatch.setattr(ahead.Reader, "start", lambda self, *args: None)


def _schemas() -> list[str]:
    """The schemas of tables read ahead that another connection sees (committed)."""
    other = _other_connection()
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s) ORDER BY 1",
                [ahead.SCHEMA_PREFIX],
            )
            return [name for (name,) in cursor.fetchall()]
    finally:
        other.close()


def _bad_delivery(tmp_path: Path) -> Path:
    folder = tmp_path / "bad"
    shutil.copytree(VALID, folder)
    for name, column, value in (("entries.csv", 6, "NOSUCHCODE"), ("learners.csv", 3, "31/02")):
        lines = (folder / name).read_text(encoding="utf-8-sig").splitlines()
        for number in range(1, len(lines), 2):
            cells = lines[number].split(",")
            cells[column] = value
            lines[number] = ",".join(cells)
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("delivery", ["valid", "bad"])
# 1: every file a first load in bulk (its keys set aside, bulk._in_bulk), as a national one.
@pytest.mark.parametrize("bulk_rows", [bulk.BULK_ROWS, 1], ids=["small", "in bulk"])
def test_it_writes_and_reports_the_same_whether_it_read_ahead_or_not(
    monkeypatch, tmp_path, delivery, bulk_rows
):
    folder = VALID if delivery == "valid" else _bad_delivery(tmp_path)
    monkeypatch.setattr(bulk, "BULK_ROWS", bulk_rows)
    taken = _taken(monkeypatch)
    _read_before_taken(monkeypatch)

    read_ahead = _outcome_of(folder)
    # The largest file, read and checked first, while the import wrote the others.
    assert "entries.csv checked" in taken
    with monkeypatch.context() as patched:
        _without_reading_ahead(patched)
        taken.clear()
        read_by_the_import = _outcome_of(folder)
        assert taken == []

    assert read_ahead == read_by_the_import
    outcome, errors, _counts, written = read_ahead
    if delivery == "valid":
        assert outcome == ImportRun.Outcome.IMPORTED and written["Entry"]
    else:
        assert outcome == ImportRun.Outcome.REJECTED
        assert any(e.startswith("entries.csv:") for e in errors)
        assert any(e.startswith("learners.csv:") for e in errors)


def test_it_reads_a_file_itself_when_reading_it_ahead_fails(monkeypatch):
    def broken(self, *args):
        raise RuntimeError("the reading connection broke")

    expected = _outcome_of(VALID)
    _read_before_taken(monkeypatch)
    monkeypatch.setattr(byvalue.FileChecks, "read_ahead", broken)
    taken = _taken(monkeypatch)

    assert _outcome_of(VALID) == expected
    assert taken == []


def test_it_does_not_take_a_file_read_under_other_checks(monkeypatch):
    """A file read ahead whose lines' digests were made with other checks, or under another
    header, is not taken: the import reads the file itself."""
    table = byvalue.ReadAhead('"s"."t"', 3, {"uln": 0}, 2, b"salt")

    assert table.fits({"uln": 0}, 2, b"salt")
    assert not table.fits({"uln": 0}, 2, b"other checks")
    assert not table.fits({"uln": 1}, 2, b"salt")
    assert not table.fits({"uln": 0}, 3, b"salt")
    expected = _outcome_of(VALID)
    _read_before_taken(monkeypatch)
    monkeypatch.setattr(byvalue.ReadAhead, "fits", lambda self, *args: False)
    taken = _taken(monkeypatch)

    assert _outcome_of(VALID) == expected
    assert taken == []


def test_it_reads_nothing_ahead_inside_a_callers_transaction(monkeypatch):
    """The tables read ahead would outlive a caller's transaction rolled back."""
    started = _read_before_taken(monkeypatch)
    taken = _taken(monkeypatch)

    with transaction.atomic():
        assert import_delivery(VALID).imported

    assert started == [] and taken == []
    assert _schemas() == []


def test_it_keeps_its_connection_alive_while_it_waits_for_a_file(monkeypatch):
    """PostgreSQL ends a session idle in a transaction for too long: the import says a word
    on its own while it waits for a file being read ahead."""
    read_ahead = byvalue.FileChecks.read_ahead

    def slow(self, *args):
        time.sleep(1.0)
        return read_ahead(self, *args)

    monkeypatch.setattr(byvalue.FileChecks, "read_ahead", slow)
    monkeypatch.setattr(ahead, "KEEP_ALIVE", 0.05)
    taken = _taken(monkeypatch)
    with connection.cursor() as cursor:
        cursor.execute("SET idle_in_transaction_session_timeout = '400ms'")
    try:
        outcome = import_delivery(VALID)
    finally:
        connection.close()  # the setting goes with it

    assert outcome.imported, outcome.errors
    assert "entries.csv checked" in taken


def test_it_drops_what_it_read_ahead_whatever_the_outcome(monkeypatch, tmp_path):
    _read_before_taken(monkeypatch)
    taken = _taken(monkeypatch)

    assert import_delivery(VALID).imported
    assert _schemas() == []
    assert not import_delivery(_bad_delivery(tmp_path)).imported
    assert _schemas() == []
    # Read ahead both times (else there were no tables to drop): checked the first time,
    # only read the second (the entries' table then remembers lines).
    assert {"entries.csv checked", "entries.csv read"} <= set(taken)


def test_it_does_not_read_again_ahead_a_file_delivered_byte_for_byte_before(monkeypatch, tmp_path):
    assert import_delivery(VALID).imported
    started = _read_before_taken(monkeypatch)
    folder = tmp_path / "next"
    shutil.copytree(VALID, folder)
    lines = (folder / "entries.csv").read_text(encoding="utf-8-sig").splitlines()
    (folder / "entries.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")

    taken = _taken(monkeypatch)
    outcome = import_delivery(folder)

    assert outcome.imported and outcome.counts["entries.csv"]["unchanged"] > 0
    # Only the entries came in other bytes; their table remembers its lines, which the
    # import leaves out as unchanged before it checks the others: only read ahead.
    assert started == [("entries.csv", False)]
    assert taken == ["entries.csv read"]


def test_it_drops_the_tables_of_a_killed_import_but_not_of_one_running():
    running = ImportRun.objects.create(directory="elsewhere", files=[])
    killed = ImportRun.objects.create(directory="killed", files=[])
    with connection.cursor() as cursor:
        for run in (running, killed, 987654):
            schema = ahead.schema_of(getattr(run, "pk", run))
            cursor.execute(f"CREATE SCHEMA {schema}")
            cursor.execute(f"CREATE UNLOGGED TABLE {schema}.feed_raw_entries (line integer)")
    # Another process holds the running import's lock (importer._alive).
    other = _other_connection()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [importer._RUN_CLASS, running.pk])

        assert import_delivery(VALID).imported

        assert _schemas() == [ahead.schema_of(running.pk)]
    finally:
        other.close()
        ahead.drop(ahead.schema_of(running.pk))


def test_the_learner_files_after_the_learners_refer_to_none_of_one_another():
    """What lets the import write them in any order (`_in_writing_order`, smallest first)."""
    specs = build_specs()
    first = next(i for i, spec in enumerate(specs) if spec.skips_unchanged_lines)
    later = {spec.merges[0].table for spec in specs[first + 1 :]}
    assert later and all(spec.skips_unchanged_lines for spec in specs[first + 1 :])
    refers = {
        (model._meta.db_table, field.related_model._meta.db_table)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if field.is_relation and model._meta.db_table in later
    }
    assert {target for _table, target in refers} & later == set()


def test_it_writes_the_smallest_learner_files_first_and_reports_in_the_feeds_order(tmp_path):
    folder = _bad_delivery(tmp_path)
    names = [spec.name for spec in importer._in_writing_order(build_specs(), folder, ["x"])]
    present = sorted(p.name for p in folder.glob("*.csv"))
    ordered = [s.name for s in importer._in_writing_order(build_specs(), folder, present)]

    assert ordered[-1] == "entries.csv" and ordered.index("learners.csv") < ordered.index(
        "marks.csv"
    )
    assert names.index("entries.csv") < names.index("marks.csv")  # none present: as the feed's
    outcome = import_delivery(folder)
    files = [error.file for error in outcome.errors]
    assert files.index("learners.csv") < files.index("entries.csv")
    assert files == sorted(files, key=[spec.name for spec in build_specs()].index)
    assert list(outcome.counts) == [name for name in names if name in outcome.counts]
