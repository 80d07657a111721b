"""Import a delivery folder: every file checked, then everything written or nothing.

Rows stream from each file through the checks into a staging table (COPY on PostgreSQL)
and are merged into the real tables by natural key, all inside one transaction. If any
row of any file is bad, the transaction is rolled back and every bad row is reported.
"""

import contextlib
import csv
import datetime
import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.emails import invite_new_centre_users
from base.delivery import DIGEST, FileSpec, RowError
from base.progress import Progress
from learners.changes import recorded_change
from learners.csvfiles import NotUTF8, check_header, utf8_lines
from learners.models import DataChange, DeliveredFile, ImportRun
from learners.signals import catalogue_delivered, learners_delivered

from . import ahead, bulk, byvalue
from .spec import Known, build_specs

logger = logging.getLogger(__name__)

# Errors kept in memory and on the run; beyond this they are counted, not listed.
MAX_ERRORS_LISTED = 100_000
MAX_ERRORS_STORED = 1_000


@dataclass(frozen=True)
class FeedError:
    file: str
    line: int | None
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.column}: {self.reason}"


@dataclass
class ImportOutcome:
    run: ImportRun
    errors: list[FeedError] = field(default_factory=list)
    error_count: int = 0
    # Ignored without stopping the import: a newer feed must not stop a night's delivery.
    warnings: list[FeedError] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def imported(self) -> bool:
        return self.run.outcome == ImportRun.Outcome.IMPORTED


class _Rejected(Exception):
    pass


class _Errors:
    """The errors found, in the feed's order of files (`order`, by name) whatever order the
    files were checked in (`_in_writing_order`), then those of no file of the feed (the
    folder, the database), as found; the first MAX_ERRORS_LISTED listed, all counted."""

    def __init__(self, order: dict[str, int] | None = None) -> None:
        self._of_file: dict[str, list[FeedError]] = {}
        self._kept = 0
        self.count = 0
        self.warnings: list[FeedError] = []
        self.order = order or {}

    def add(self, file: str, line: int | None, column: str, reason: str) -> None:
        self.count += 1
        self._of_file.setdefault(file, []).append(FeedError(file, line, column, reason))
        self._kept += 1
        if self._kept > MAX_ERRORS_LISTED:
            # The last in the feed's order goes (a file checked later may come before it).
            *_, last = (kept for kept in self._files() if kept)
            last.pop()
            self._kept -= 1

    def _files(self) -> list[list[FeedError]]:
        names = sorted(self._of_file, key=lambda name: self.order.get(name, len(self.order)))
        return [self._of_file[name] for name in names]

    @property
    def listed(self) -> list[FeedError]:
        return [error for kept in self._files() for error in kept]

    def room(self, file: str) -> int:
        """How many more errors of the file could be listed rather than only counted."""
        return MAX_ERRORS_LISTED - len(self._of_file.get(file, ()))

    def in_file_order(self, found: list[FeedError]) -> list[FeedError]:
        return sorted(found, key=lambda error: self.order.get(error.file, len(self.order)))


@scopes_disabled()
def import_delivery(directory: str | Path, stream: TextIO | None = None) -> ImportOutcome:
    """Import the delivery folder; the outcome says whether it was imported or rejected.

    The feed is every centre's: unscoped. Its progress, file by file, goes to `stream` (a
    bar on a terminal; standard error by default), the log and the admin (base.progress).
    """
    directory = Path(directory)
    specs = build_specs()
    by_name = {spec.name: spec for spec in specs}
    errors = _Errors(order={spec.name: index for index, spec in enumerate(specs)})
    present: list[str] = []
    if not directory.is_dir():
        errors.add(str(directory), None, "-", "not a folder")
    else:
        for path in sorted(directory.glob("*.csv")):
            if path.name in by_name:
                present.append(path.name)
            else:
                errors.add(path.name, None, "-", "not a file of the feed; nothing was imported")
        if not present and not errors.count:
            errors.add(str(directory), None, "-", "no feed files found")

    if errors.count:
        run = ImportRun.objects.create(directory=str(directory), files=present)
        return _finish(ImportOutcome(run=run), errors, ImportRun.Outcome.REJECTED)
    with _alive(directory, present) as run:
        mark_abandoned_runs(but=run)
        ahead.drop_abandoned(_running)
        progress = Progress("import", run.pk, stream)
        try:
            return _import(directory, specs, present, ImportOutcome(run=run), errors, progress)
        finally:
            progress.finish()


def _import(
    directory: Path,
    specs,
    present: list[str],
    outcome: ImportOutcome,
    errors: _Errors,
    progress: Progress,
) -> ImportOutcome:
    # The learner files read ahead on a second connection (PostgreSQL), and the tables it
    # wrote dropped once the transaction, which reads them, is over: not inside a caller's
    # transaction, which would keep them (its drop undone if it is rolled back).
    reader = (
        ahead.Reader(outcome.run.pk)
        if connection.vendor == "postgresql" and not connection.in_atomic_block
        else None
    )
    try:
        try:
            with transaction.atomic():
                # One import at a time, waiting for the one before: a delivery that brings
                # entries must see the learners an earlier one registered (they link only
                # then), and two deliveries never lock the same rows in opposite orders.
                _wait_for_other_imports()
                _room_to_compare()
                with recorded_change(DataChange.Kind.IMPORT) as change:
                    _write(directory, specs, present, outcome, errors, change, progress, reader)
        finally:
            # The headers' warnings in the feed's order, as its errors (`_Errors`).
            errors.warnings = errors.in_file_order(errors.warnings)
            if reader is not None:
                reader.close()
    except _Rejected:
        return _finish(outcome, errors, ImportRun.Outcome.REJECTED)
    except DatabaseError as exc:
        # A constraint the row checks did not foresee: still nothing is written. The
        # database's words can quote a row's values: they go to the run, not the log.
        logger.error("Import of %s failed: %s", directory, type(exc).__name__)
        errors.add(str(directory), None, "-", f"the database refused the delivery: {exc}")
        return _finish(outcome, errors, ImportRun.Outcome.FAILED)
    except Exception as exc:
        logger.exception("Import of %s failed", directory)
        errors.add(str(directory), None, "-", f"the import stopped, writing nothing: {exc!r}")
        return _finish(outcome, errors, ImportRun.Outcome.FAILED)
    if "centre_users.csv" in present:
        try:
            invite_new_centre_users()
        except Exception as exc:
            logger.exception("Invitations after the import of %s failed", directory)
            errors.warnings.append(
                FeedError("centre_users.csv", None, "-", f"invitations not sent: {exc!r}")
            )
    return _finish(outcome, errors, ImportRun.Outcome.IMPORTED)


def _write(
    directory: Path,
    specs,
    present: list[str],
    outcome: ImportOutcome,
    errors: _Errors,
    change: int,
    progress: Progress,
    reader: "ahead.Reader | None" = None,
) -> None:
    """Every file, in order; raises _Rejected, so that nothing is kept, if any row is bad."""
    known = Known.from_database()
    parsed: dict = {}  # cells parsed, by parser, for every file (byvalue)
    # Each learner file's SHA-256 and, if delivered before byte for byte, its rows: found
    # once, before reading ahead (`_read_ahead`), not again as the import comes to it.
    seen: dict[str, tuple[str, int | None]] = {}
    ordered = _in_writing_order(specs, directory, present)
    with connection.cursor() as cursor:
        reading = False
        for index, spec in enumerate(ordered):
            if reader is not None and spec.skips_unchanged_lines and not reading:
                # The catalogue and the centres are written: what the learner files' checks
                # know is now as it stays.
                _read_ahead(
                    cursor, reader, ordered[index:], directory, present, known, seen, parsed
                )
                reading = True
            if spec.name in present:
                outcome.counts[spec.name] = _import_file(
                    cursor,
                    spec,
                    directory / spec.name,
                    known,
                    errors,
                    change,
                    progress,
                    parsed,
                    run=outcome.run,
                    reader=reader,
                    seen=seen,
                )
    if errors.count:
        raise _Rejected
    if "learners.csv" in present:
        learners_delivered.send(sender=import_delivery)
    if CATALOGUE_FILES.intersection(present):
        catalogue_delivered.send(sender=import_delivery)


def _in_writing_order(specs, directory: Path, present: list[str]) -> list:
    """The files in the order they are checked and written: the feed's (each after those it
    refers to), but the learner files after the learners' smallest first. Those refer to the
    learners and the catalogue, never to one another; the largest (the entries), read ahead
    meanwhile on the second connection (`_read_ahead`), then comes last. Their errors are
    still given in the feed's order (`_Errors`)."""
    learner_files = [index for index, spec in enumerate(specs) if spec.skips_unchanged_lines]
    if not learner_files or learner_files != list(range(learner_files[0], len(specs))):
        return list(specs)
    first = learner_files[0] + 1

    def size(spec) -> int:
        return (directory / spec.name).stat().st_size if spec.name in present else 0

    return [*specs[:first], *sorted(specs[first:], key=size)]


def _read_ahead(
    cursor, reader: "ahead.Reader", specs, directory: Path, present, known: Known, seen, parsed
) -> None:
    """Start reading ahead the learner files among `specs` that the import will read: not
    one delivered before byte for byte (skipped unread). They are checked too, unless their
    table remembers lines: the import first leaves out those unchanged, which only its own
    transaction sees as they are."""
    files = []
    for spec in specs:
        if spec.name not in present or not spec.skips_unchanged_lines:
            continue
        path = directory / spec.name
        table = spec.merges[0].table
        sha256 = _sha256(path)
        version = DeliveredFile(name=spec.name, sha256=sha256, checks=known.fingerprint())
        seen[spec.name] = (sha256, _rows_delivered_before(cursor, version, table))
        if seen[spec.name][1] is None:
            files.append((spec, path, not _remembers_lines(cursor, table)))
    reader.start(files, known, lambda spec, path: _read_header(spec, path, _Errors()), parsed)


def _remembers_lines(cursor, table: str) -> bool:
    q = connection.ops.quote_name
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {q(table)} WHERE {q(DIGEST)} IS NOT NULL)")
    return cursor.fetchone()[0]


CATALOGUE_FILES = frozenset(
    {"series.csv", "qualifications.csv", "units.csv", "mark_windows.csv", "grade_thresholds.csv"}
)

# PostgreSQL advisory locks: one key for "an import is writing", and one per import run,
# held by its process for as long as it lives (so a run nobody holds was killed).
_IMPORT_KEY = 0x4C54_494D  # "LTIM"
_RUN_CLASS = 0x4C54_5255  # "LTRU", with the run's id
# SQLite (the embedded default, one machine) has no such locks: a run still "running" after
# this long is taken for dead.
ABANDONED_AFTER = datetime.timedelta(hours=6)


def wait_for_imports() -> None:
    """Until this transaction ends, no import writes (it waits for one that is writing); other
    readers that call this run alongside."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [_IMPORT_KEY])


def _room_to_compare() -> None:
    """Memory for this transaction's hashes and sorts: comparing a national file with the
    stored rows, and finding its duplicates, then stay in memory instead of spilling to
    disk (PostgreSQL's default is 4 MB). No JIT: compiling took 0.8 s of a 4.9 s merge,
    and the import's statements are planned once each."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL jit = off")


def _wait_for_other_imports() -> None:
    """Until this transaction ends, no other import writes. (SQLite, the embedded default,
    has one writer at a time: a second import waits for the busy timeout, then fails
    cleanly, writing nothing.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_KEY])


@contextlib.contextmanager
def _alive(directory: Path, present: list[str]) -> Iterator[ImportRun]:
    """The run, recorded and locked at once, held by this process while it imports: no one
    can see it "running" and unlocked, and a kill lets go of it."""
    with transaction.atomic():
        run = ImportRun.objects.create(directory=str(directory), files=present)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # A session lock: it outlives this transaction, until unlocked or the end.
                cursor.execute("SELECT pg_advisory_lock(%s, %s)", [_RUN_CLASS, run.pk])
    try:
        yield run
    finally:
        if connection.vendor == "postgresql":
            # A broken connection has lost the lock already: do not hide the real error.
            with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_RUN_CLASS, run.pk])


def _running() -> set[int]:
    """The runs still running (their process alive, once `mark_abandoned_runs` has been)."""
    return set(
        ImportRun.objects.filter(outcome=ImportRun.Outcome.RUNNING).values_list("pk", flat=True)
    )


def mark_abandoned_runs(but: ImportRun | None = None) -> int:
    """Mark as failed the runs still "running" whose process is gone; how many.

    Called as each import starts (`but` its own run, whose lock this very session holds, so
    that asking for it would succeed) and by a periodic task, so the admin never shows a
    killed import running for ever.
    """
    running = ImportRun.objects.filter(outcome=ImportRun.Outcome.RUNNING)
    if but is not None:
        running = running.exclude(pk=but.pk)
    if connection.vendor == "postgresql":
        dead = []
        with connection.cursor() as cursor:
            for pk in running.values_list("pk", flat=True):
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_RUN_CLASS, pk])
                if cursor.fetchone()[0]:  # nobody holds it: its process is gone
                    dead.append(pk)
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_RUN_CLASS, pk])
        running = running.filter(pk__in=dead)
    else:
        running = running.filter(started_at__lt=timezone.now() - ABANDONED_AFTER)
    return running.update(
        outcome=ImportRun.Outcome.FAILED,
        finished_at=timezone.now(),
        errors=["The import did not finish: its process stopped (killed?). Nothing was written."],
        error_count=1,
    )


def _finish(outcome: ImportOutcome, errors: _Errors, result: str) -> ImportOutcome:
    outcome.errors = errors.listed
    outcome.error_count = errors.count
    outcome.warnings = errors.warnings
    outcome.counts = {
        name: outcome.counts[name]
        for name in sorted(outcome.counts, key=lambda name: errors.order.get(name, 0))
    }
    run = outcome.run
    run.outcome = result
    run.finished_at = timezone.now()
    run.row_counts = outcome.counts
    run.error_count = errors.count
    run.errors = [str(e) for e in outcome.errors[:MAX_ERRORS_STORED]]
    run.warnings = [str(w) for w in outcome.warnings]
    run.save(
        update_fields=["outcome", "finished_at", "row_counts", "error_count", "errors", "warnings"]
    )
    return outcome


def _import_file(
    cursor,
    spec: FileSpec,
    path: Path,
    known: Known,
    errors: _Errors,
    change: int,
    progress: Progress,
    parsed: dict | None = None,
    run: ImportRun | None = None,
    reader: "ahead.Reader | None" = None,
    seen: dict[str, tuple[str, int | None]] | None = None,
) -> dict:
    counts = {"rows": 0, "written": 0}
    stage = f"feed_stage_{spec.name.removesuffix('.csv')}"
    progress.stage(spec.name, _rows_in(path), "rows")
    version = None
    if spec.skips_unchanged_lines:
        sha256, rows = (seen or {}).get(spec.name, (None, None))
        version = DeliveredFile(
            name=spec.name, sha256=sha256 or _sha256(path), checks=known.fingerprint(), run=run
        )
        if sha256 is None:
            rows = _rows_delivered_before(cursor, version, spec.merges[0].table)
        if rows is not None:
            _read_header(spec, path, errors)  # its warnings, as when it was read
            progress.advance(rows)
            progress.note(f"{spec.name}: as delivered before, byte for byte; not read again")
            return {"rows": rows, "written": 0, "unchanged": rows, "same_file": True}
    # No try/finally: after a database error the transaction can run nothing more, and a
    # cleanup statement would hide the error; rolling back drops the staging tables anyway.
    checks = None
    if spec.by_value:
        checks = _stage_by_value(
            cursor, spec, path, stage, known, errors, counts, progress, parsed, reader
        )
        if checks is None:
            return counts  # its header stopped it (reported)
    else:
        bulk.create_stage(cursor, stage, spec.staged)
        with path.open("rb") as handle:
            lines = _decoded_lines(spec.name, handle, errors)
            rows = _checked_rows(spec, lines, known, errors, counts, progress)
            bulk.fill_stage(cursor, stage, [c for c, _ in spec.staged], rows)
        progress.advance(counts["rows"] % _TELL_EVERY)
    progress.note(f"{spec.name}: {counts['rows']:,} rows read; checking and writing them")
    # A first national load meets the table's unique key on the file's key anyway (as it
    # inserts under the primary key, or builds the unique key again): the search for the
    # lines that repeat a key runs only when that fails.
    # (A file read after a bad one is not written: its lines are searched.)
    by_unique_key = not errors.count and bulk.loads_in_bulk(cursor, spec, counts["rows"])
    if not by_unique_key:
        _report_duplicates(cursor, spec, stage, errors, checks)
    if not errors.count:
        try:
            with transaction.atomic():  # a savepoint: the search can run after a failure
                _merge(cursor, spec, stage, change, counts)
        except IntegrityError:
            if not (by_unique_key and _report_duplicates(cursor, spec, stage, errors, checks)):
                raise
    if checks is not None:
        checks.drop()
    else:
        bulk.drop_stage(cursor, stage)
    if version is not None and not errors.count:
        # In the import's transaction: kept only if the rows are.
        version.rows = counts["rows"]
        version.table_rows = _rows_of(cursor, spec.merges[0].table)
        version.save()
    return counts


def _sha256(path: Path) -> str:
    """The file's SHA-256, read in blocks (memory stays flat), in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _rows_delivered_before(cursor, version: DeliveredFile, table: str) -> int | None:
    """The rows of the file, if the last committed delivery of it was this very file, to
    the same checks, and its table has lost no row since (its rows are then as it would
    write them); else None."""
    before = DeliveredFile.objects.filter(
        name=version.name, sha256=version.sha256, checks=version.checks
    ).first()
    if before is None or _rows_of(cursor, table) != before.table_rows:
        return None
    return before.rows


def _rows_of(cursor, table: str) -> int:
    """The table's rows, counted (the feed's tables are not partitioned or estimated)."""
    cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
    return cursor.fetchone()[0]


def _report_duplicates(
    cursor, spec: FileSpec, stage: str, errors: _Errors, checks: "byvalue.FileChecks | None"
) -> int:
    """Each line whose key an earlier line already used, reported; how many. (A line left out
    unchanged, byvalue, is not staged: its key is its row's.)"""
    first_of: dict[int, int] = {}
    found = bulk.duplicate_lines(cursor, stage, spec.key)
    if checks is not None:
        found += checks.lines_repeating_unchanged()
    for line, first in found:
        first_of[line] = min(first, first_of.get(line, first))
    for line, first in sorted(first_of.items()):
        errors.add(spec.name, line, spec.column_names[0], f"same {spec.key_words} as line {first}")
    return len(first_of)


def _merge(cursor, spec: FileSpec, stage: str, change: int, counts: dict) -> None:
    for step in spec.before:
        step(stage)
    staged = counts["rows"] - counts.get("unchanged", 0)
    for merge in spec.merges:
        counts["written"] += bulk.merge(cursor, merge, stage, change, staged)
    for sql in spec.after:
        bulk.write_entries(cursor, sql.format(stage=connection.ops.quote_name(stage)), change)


def _stage_by_value(
    cursor,
    spec: FileSpec,
    path: Path,
    stage: str,
    known: Known,
    errors: _Errors,
    counts: dict,
    progress: Progress,
    parsed: dict | None = None,
    reader: "ahead.Reader | None" = None,
) -> "byvalue.FileChecks | None":
    """Check the file by its distinct values (byvalue): its problems reported and its good
    rows staged; None when its header stopped it."""
    header = _read_header(spec, path, errors)
    if header is None:
        return None
    positions, width = header
    checks = byvalue.FileChecks(cursor, spec, stage, known, progress, parsed)
    read = reader.take(spec.name) if reader is not None else None
    checks = checks.load(path, positions, width, read)
    counts["rows"] = checks.rows
    if not checks.checked:
        progress.note(f"{spec.name}: {checks.rows:,} rows read; checking their values")
        checks.check(positions)
    if checks.unchanged:
        counts["unchanged"] = checks.unchanged
        progress.note(f"{spec.name}: {checks.unchanged:,} rows as delivered before, left as is")
    reported = 0

    def report(line: int, column: str, reason: str) -> None:
        nonlocal reported
        reported += 1
        errors.add(spec.name, line, column, reason)

    found = checks.report_problems(report, errors.room(spec.name))
    errors.count += found - reported  # beyond those listed: counted
    checks.create_stage()
    return checks


def _read_header(spec: FileSpec, path: Path, errors: _Errors) -> tuple[dict, int] | None:
    """The known columns' positions and the header's width, or None (reported) when the
    header stops the file."""
    with path.open("rb") as handle:
        reader = csv.reader(_decoded_lines(spec.name, handle, errors))
        try:
            header = [cell.strip() for cell in next(reader)]
        except StopIteration:
            errors.add(spec.name, 1, "-", "empty file: no header row")
            return None
        except NotUTF8:
            return None  # reported where it was found
        except csv.Error as exc:
            errors.add(spec.name, reader.line_num, "-", f"not readable as CSV: {exc}")
            return None
    positions = _check_header(spec, header, errors)
    return None if positions is None else (positions, len(header))


def _decoded_lines(name: str, handle, errors: _Errors) -> Iterator[str]:
    return utf8_lines(handle, lambda line, reason: errors.add(name, line, "-", reason))


def _rows_in(path: Path) -> int:
    """The file's lines but its header, counted as bytes (a fraction of a second for a
    national file): so its progress can say how much is left."""
    lines = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            lines += block.count(b"\n")
    return max(lines - 1, 0)


# Rows between two words to the progress: its cost disappears among the rows'.
_TELL_EVERY = 5000


def _checked_rows(
    spec: FileSpec, lines: Iterator[str], known: Known, errors: _Errors, counts, progress
) -> Iterator[tuple]:
    name = spec.name
    reader = csv.reader(lines)
    try:
        try:
            header = [cell.strip() for cell in next(reader)]
        except StopIteration:
            errors.add(name, 1, "-", "empty file: no header row")
            return
        positions = _check_header(spec, header, errors)
        if positions is None:
            return
        width = len(header)
        columns = [(c.name, c.parse, positions.get(c.name)) for c in spec.columns]
        for record in reader:
            if not record:
                continue
            line = reader.line_num
            counts["rows"] += 1
            if not counts["rows"] % _TELL_EVERY:
                progress.advance(_TELL_EVERY)
            if len(record) != width:
                errors.add(name, line, "-", f"expected {width} fields, found {len(record)}")
                continue
            row = {}
            problems = []
            for column, parse, index in columns:
                raw = record[index].strip() if index is not None else ""
                try:
                    row[column] = parse(raw)
                except ValueError as exc:
                    problems.append((column, str(exc)))
            if not problems:
                try:
                    yield (line, *spec.staged_values(row, known))
                    continue
                except RowError as exc:
                    problems = exc.problems
            for column, reason in problems:
                errors.add(name, line, column, reason)
            # The row exists, if faulty: rows that refer to it should not be reported too.
            spec.learn(row, known)
    except NotUTF8:
        pass  # reported where it was found
    except csv.Error as exc:
        errors.add(name, reader.line_num, "-", f"not readable as CSV: {exc}")


def _check_header(spec: FileSpec, header: list[str], errors: _Errors) -> dict[str, int] | None:
    required = [c for c in spec.column_names if c not in spec.optional_columns]
    positions, problems = check_header(header, spec.column_names, required, unknown_ignored=True)
    for problem in problems:
        if problem.fatal:
            errors.add(spec.name, 1, problem.column, problem.reason)
        else:
            errors.warnings.append(FeedError(spec.name, 1, problem.column, problem.reason))
    return positions
