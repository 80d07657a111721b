"""The overnight rebuild of the snapshot the Overview and Detail read (DOMAIN.md 4.4).

The same loaders and rules as the live ILR, streamed over every learner in chunks and
written with COPY under a new run. The learners are split into shards (ranges of ULNs);
each is built in one transaction by whichever process claims it: one process in turn (the
command, the embedded default), or as many Celery workers as there are (flags.tasks), each
taking the next shard nobody holds. A worker killed half-way loses its shard's rows with its
transaction, and the shard is pending again for the others.

Readers use the latest run that succeeded, so the switch to the new snapshot is the one
UPDATE that marks the run succeeded, made once by the process that finds every shard done; a
run that fails or is killed leaves the previous snapshot in place. Two rebuilds never run at
once: a second finds the first alive (its builders hold a lock; its queued tasks have not gone
quiet) and records itself as skipped, or finds it dead and marks it failed.
"""

import contextlib
import datetime
import itertools
import logging
import threading
import time
from collections.abc import Iterator
from typing import TextIO

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, OperationalError, connection, models, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from base.progress import Progress
from learners import diploma
from learners.changes import (
    every_row_learners,
    forget_before,
    last_committed,
    wrote_every_entry,
)
from learners.feed.bulk import copy_rows
from learners.models import ChangedComponent, DataChange, Entry, Learner
from learners.signals import learner_data_committed

from . import codes
from .changes import record_changes
from .clock import today
from .loaders import iter_learners, load_catalogue
from .models import (
    COMPONENT_FIELDS,
    DetailLine,
    OverviewRow,
    RebuildRun,
    RebuildShard,
    SnapshotChange,
)
from .rules import LearnerFlags, evaluate_or_report

logger = logging.getLogger(__name__)

CHUNK_SIZE = 5000
# Learners a shard: small enough that two or more workers share the work evenly, large
# enough that each shard's fixed cost (its transaction, its catalogue) is small.
SHARD_LEARNERS = 10_000
# A run on workers whose tasks wait in the queue is alive this long after its last sign of
# life (its start, or a worker claiming a shard); then the next rebuild takes over.
QUIET_ALLOWED = datetime.timedelta(minutes=5)
# Tries of a shard that raises before its run fails, the previous snapshot staying current.
SHARD_ATTEMPTS = 3
_LOCK_KEY = 0x4C54_5242  # "LTRB": the advisory lock of the rebuild
_RUN_CLASS = 0x4C54_5253  # "LTRS", with a run's id: held (shared) by its builders
_CURRENT_KEY = 0x4C54_4355  # "LTCU": held by a switch or a refresh of the current snapshot
_PROCESS_LOCK = threading.Lock()  # SQLite: one process serves the embedded default

# Who the row is about, first in both tables (_overview_row and _detail_lines give them).
_LEARNER_COLUMNS = ("run_id", "uln", "centre_id", "surname", "forename", "line", "level")
OVERVIEW_COLUMNS = (
    *_LEARNER_COLUMNS,
    "award_series",
    "problems",
    "points",
    "grade",
    "grade_is_estimate",
    "asl_percent",
    *itertools.chain.from_iterable(
        (f"{name}_entry", f"{name}_assessment", f"{name}_rank")
        for name in COMPONENT_FIELDS.values()
    ),
)
DETAIL_COLUMNS = (
    *_LEARNER_COLUMNS,
    "award_series",
    "component",
    "component_order",
    "component_line",
    "ready",
    "element",
    "issue",
    "action",
    "deadline",
    "severity",
    "severity_rank",
    "flag",
    "points",
    "grade",
    "grade_is_estimate",
)
_ORDER = {code: i for i, code in enumerate(diploma.COMPONENTS)}


# Room for every assessment rank, and none, under each entry flag.
_PER_ENTRY_FLAG = 10
assert codes.NO_ASSESSMENT_RANK < _PER_ENTRY_FLAG


def status_rank(entry: str, assessment: str | None) -> int:
    """One sort key for a component's status, worst first: by entry flag, then assessment."""
    return codes.ENTRY_RANK[entry] * _PER_ENTRY_FLAG + codes.assessment_sort_key(assessment)


# The sort key of a component the learner's Diploma does not have (a Progression Diploma's
# ASL): after every status.
NO_COMPONENT_RANK = 99


def _succeeded_newest_first():
    return RebuildRun.objects.filter(outcome=RebuildRun.Outcome.SUCCEEDED).order_by("-finished_at")


_LOST_SAID: set[int] = set()


def current_run() -> RebuildRun | None:
    """The snapshot readers should use: the latest rebuild that succeeded; None before the
    first, and once PostgreSQL has lost its rows (the tables are unlogged, so a crash empties
    them): the pages then say no snapshot is built yet, not that no learner matches."""
    run, lost = newest_snapshot()
    return None if lost else run


def newest_snapshot() -> tuple[RebuildRun | None, bool]:
    """The latest rebuild that succeeded, and whether its rows are gone. The first time a
    process finds them gone it says so in the log and queues a rebuild, so that the pages
    are empty for the rebuild's minutes rather than until the night's."""
    # Whether the run has any row at all, for anyone (tasks and commands ask outside a
    # request's scope): unscoped, and it says nothing of whose rows they are.
    rows = OverviewRow._base_manager.filter(run_id=models.OuterRef("pk"))
    run = _succeeded_newest_first().annotate(has_rows=models.Exists(rows)).first()
    lost = run is not None and bool(run.learners) and not run.has_rows
    if lost and run.pk not in _LOST_SAID:  # once a process, not on every request
        _LOST_SAID.add(run.pk)
        logger.warning("The rows of snapshot %s are gone (a database crash?)", run.pk)
        _rebuild_now()
    return run, lost


def _rebuild_now() -> None:
    """Queue a rebuild for the workers (a second one queued by another process meanwhile is
    skipped: the first is alive). Not in-process: a page must not wait for it."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return  # the embedded default (SQLite) keeps its rows: nothing was lost
    from .tasks import rebuild_overview  # the tasks module imports this one

    try:
        rebuild_overview.delay()
    except Exception:
        logger.exception("Could not queue a rebuild for the lost snapshot")


@contextlib.contextmanager
def _rebuild_lock() -> Iterator[bool]:
    """Held while a rebuild starts, and by a rebuild in one process for as long as it runs."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK_KEY])
            acquired = cursor.fetchone()[0]
        try:
            yield acquired
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])
        return
    acquired = _PROCESS_LOCK.acquire(blocking=False)
    try:
        yield acquired
    finally:
        if acquired:
            _PROCESS_LOCK.release()


@contextlib.contextmanager
def _building(run_id: int) -> Iterator[None]:
    """Held (shared) by every process building the run's shards: a run nobody holds and whose
    workers have gone quiet is dead."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock_shared(%s, %s)", [_RUN_CLASS, run_id])
    try:
        yield
    finally:
        # A broken connection has lost the lock already: do not hide the real error.
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_shared(%s, %s)", [_RUN_CLASS, run_id])


def _alive(run: RebuildRun) -> bool:
    """Whether a run still marked running is being built (or about to be, by queued tasks)."""
    if connection.vendor != "postgresql":
        return False  # one process: the lock this process holds says nobody else builds
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_RUN_CLASS, run.pk])
        if not cursor.fetchone()[0]:
            return True  # a process is building it now
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_RUN_CLASS, run.pk])
    quiet_since = run.heartbeat_at or run.started_at
    return run.on_workers and timezone.now() - quiet_since < QUIET_ALLOWED


def _skipped(day) -> RebuildRun:
    now = timezone.now()
    logger.warning("Rebuild skipped: another rebuild is running")
    return RebuildRun.objects.create(
        started_at=now, finished_at=now, built_for=day, outcome=RebuildRun.Outcome.SKIPPED
    )


def _start(on_workers: bool, shard_size: int) -> RebuildRun:
    """The run and its shards, under the rebuild lock; a skipped run if another is alive."""
    day = today()
    for running in RebuildRun.objects.filter(outcome=RebuildRun.Outcome.RUNNING):
        if _alive(running):
            return _skipped(day)
        # Killed (its processes gone): the next snapshot starts clean; its rows go once the
        # new one is current.
        RebuildRun.objects.filter(pk=running.pk).update(
            outcome=RebuildRun.Outcome.FAILED,
            finished_at=timezone.now(),
            error="Did not finish (killed?)",
        )
    # Before reading anything: a change committed from here on may be missed, so it counts
    # as received since this snapshot (DOMAIN.md 4.4).
    seen = last_committed()
    now = timezone.now()
    run = RebuildRun.objects.create(
        started_at=now, built_for=day, changes_seen=seen, on_workers=on_workers, heartbeat_at=now
    )
    _create_partitions(run)
    _plan_shards(run, shard_size)
    return run


def _plan_shards(run: RebuildRun, shard_size: int) -> None:
    """Ranges of `shard_size` learners by ULN, the last open-ended (a learner registered
    while the run builds may fall in any range, as they would in one process)."""
    bounds, number = [], 0
    ulns = Learner.objects.order_by("uln").values_list("uln", flat=True)
    for number, uln in enumerate(ulns.iterator(chunk_size=50_000), start=1):
        if number % shard_size == 0:
            bounds.append(uln)
    if bounds and number % shard_size == 0:
        bounds.pop()  # the last learner: the open-ended shard takes the last range
    shards, after = [], ""
    for number, upto in enumerate([*bounds, ""]):
        shards.append(RebuildShard(run=run, number=number, after_uln=after, upto_uln=upto))
        after = upto
    RebuildShard.objects.bulk_create(shards)


@scopes_disabled()
def rebuild(
    chunk_size: int = CHUNK_SIZE, shard_size: int = SHARD_LEARNERS, stream: TextIO | None = None
) -> RebuildRun:
    """Build a new snapshot of every learner now, in this process; the run says how it went
    (every centre's: unscoped). Its progress, shard by shard, goes to `stream` (a bar on a
    terminal), the log and the admin."""
    with _rebuild_lock() as acquired:
        if not acquired:
            return _skipped(today())
        run = _start(on_workers=False, shard_size=shard_size)
        if run.outcome == RebuildRun.Outcome.RUNNING:
            progress = Progress("rebuild", run.pk, stream)
            try:
                build_shards(run.pk, chunk_size, progress)
            finally:
                progress.finish()
            run.refresh_from_db()
        return run


@scopes_disabled()
def start_on_workers(shard_size: int = SHARD_LEARNERS) -> RebuildRun:
    """The nightly rebuild's first step: the run and its shards, for workers to build
    (flags.tasks); a skipped run if another rebuild is alive."""
    with _rebuild_lock() as acquired:
        if not acquired:
            return _skipped(today())
        return _start(on_workers=True, shard_size=shard_size)


@scopes_disabled()
def build_shards(
    run_id: int, chunk_size: int = CHUNK_SIZE, progress: Progress | None = None
) -> int:
    """Build the run's pending shards one after another until none is left, waiting for
    those other workers hold (and taking over one whose worker died); then, if every shard
    is done, make the run current, once. The number of shards built here."""
    built = 0
    with _building(run_id):
        catalogue = None
        while RebuildRun.objects.filter(pk=run_id, outcome=RebuildRun.Outcome.RUNNING).update(
            heartbeat_at=timezone.now()
        ):
            run = RebuildRun.objects.get(pk=run_id)
            shard = None
            try:
                with transaction.atomic():
                    shard = _claim(run_id)
                    if shard is None:
                        break
                    catalogue = catalogue or load_catalogue()
                    if progress is not None:
                        shards = RebuildShard.objects.filter(run_id=run_id).count()
                        progress.stage(
                            f"Shard {shard.number + 1} of {shards}",
                            _learners_in(shard),
                            "learners",
                        )
                    shard.learners, shard.not_checked = _write_shard(
                        run, shard, catalogue, chunk_size, progress
                    )
                    shard.done, shard.finished_at = True, timezone.now()
                    shard.save(update_fields=["learners", "not_checked", "done", "finished_at"])
            except Exception as exc:
                if shard is None or isinstance(exc, SoftTimeLimitExceeded):
                    _fail(run_id, exc)
                    raise
                if not _tried_again(run_id, shard.pk, exc):
                    raise
                continue
            except BaseException as exc:
                _fail(run_id, exc)
                raise
            built += 1
            logger.info("Rebuild %s: %s", run_id, describe_progress(run, *shard_counts(run_id)))
        else:
            return built  # failed, or made current, by another worker
        # Still holding the run: while it switches, it is alive to a rebuild starting.
        _switch_when_done(run_id)
    return built


def _tried_again(run_id: int, shard_id: int, exc: Exception) -> bool:
    """After a shard raised (its transaction rolled back, its rows gone): whether it is left
    pending for this or another worker to try again; after SHARD_ATTEMPTS the run fails.
    A lost connection or a deadlock then costs one shard's time, not the night's snapshot."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    logger.warning("Rebuild %s: shard %s failed: %s", run_id, shard_id, error)
    if not connection.in_atomic_block:
        # A broken connection is opened afresh to record it.
        connection.close_if_unusable_or_obsolete()
    tried = RebuildShard.objects.filter(pk=shard_id, done=False)
    tried.update(attempts=models.F("attempts") + 1, last_error=error)
    if tried.filter(attempts__lt=SHARD_ATTEMPTS).exists():
        return True
    _fail(run_id, exc)
    return False


def _learners_in(shard: RebuildShard) -> int:
    learners = Learner.objects.filter(uln__gt=shard.after_uln)
    return (learners.filter(uln__lte=shard.upto_uln) if shard.upto_uln else learners).count()


def _claim(run_id: int) -> RebuildShard | None:
    """A pending shard, locked for this transaction; None when every shard is done."""
    pending = RebuildShard.objects.filter(run_id=run_id, done=False).order_by("number")
    if not connection.features.has_select_for_update_skip_locked:
        return pending.first()  # SQLite: one process builds them all
    while True:
        shard = pending.select_for_update(skip_locked=True).first()
        if shard is not None or not pending.exists():
            return shard
        # Every pending shard is another worker's: wait for one. Still pending once it is
        # ours, its worker died half-way (its rows went with its transaction).
        shard = pending.select_for_update().first()
        if shard is not None:
            return shard


def describe_progress(run: RebuildRun, shards: int, done: int, learners: int) -> str:
    """How far a run has got, as its shards commit: for the log and the admin."""
    said = f"{done} of {shards} shards, {learners:,} learners"
    if run.outcome != RebuildRun.Outcome.RUNNING or not done:
        return said
    elapsed = max((timezone.now() - run.started_at).total_seconds(), 0.001)
    left = (shards - done) * elapsed / done
    return f"{said}, {learners / elapsed:,.0f} learners/s, about {left:,.0f} s left"


def shard_counts(run_id: int) -> tuple[int, int, int]:
    """(shards, shards done, learners done) of a run."""
    totals = RebuildShard.objects.filter(run_id=run_id).aggregate(
        all_shards=models.Count("pk"),
        shards_done=models.Count("pk", filter=models.Q(done=True)),
        learners_done=models.Sum("learners", filter=models.Q(done=True)),
    )
    return totals["all_shards"], totals["shards_done"], totals["learners_done"] or 0


def _changes_since(run: RebuildRun) -> list[int]:
    """The changes to learner data committed after the run began reading."""
    return list(
        DataChange.objects.filter(committed__gt=run.changes_seen)
        .order_by("committed")
        .values_list("pk", flat=True)
    )


def _carry_over(previous: RebuildRun, run: RebuildRun, changes: list[int]) -> None:
    """The previous snapshot's rows, in place of the run's, of those changes' learners (those
    the previous snapshot has)."""
    learners = learners_to_carry_over(previous, changes)
    with connection.cursor() as cursor:
        for model, columns in ((OverviewRow, OVERVIEW_COLUMNS), (DetailLine, DETAIL_COLUMNS)):
            table = model._meta.db_table
            cursor.execute(
                f"DELETE FROM {table} WHERE run_id = %s AND uln IN ({learners})", [run.pk]
            )
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"SELECT %s, {', '.join(columns[1:])} FROM {table} "
                f"WHERE run_id = %s AND uln IN ({learners})",
                [run.pk, previous.pk],
            )


def learners_to_carry_over(previous: RebuildRun, changes: list[int]) -> str:
    """SQL selecting those changes' learners that the previous snapshot has."""
    touched = ChangedComponent._meta.db_table
    overview = OverviewRow._meta.db_table
    learners = (
        f"SELECT DISTINCT c.uln FROM {touched} c "
        f"JOIN {overview} p ON p.uln = c.uln AND p.run_id = {int(previous.pk)} "
        f"WHERE c.change_id IN ({', '.join(str(int(c)) for c in changes)})"
    )
    if wrote_every_entry(changes):  # a first load of the entries: each of their learners
        learners += (
            f" UNION SELECT e.learner_id FROM {Entry._meta.db_table} e "
            f"JOIN {overview} p ON p.uln = e.learner_id AND p.run_id = {int(previous.pk)}"
        )
    for every_row in every_row_learners(changes):  # a first load of a learner file
        learners += (
            f" UNION SELECT w.uln FROM ({every_row}) w "
            f"JOIN {overview} p ON p.uln = w.uln AND p.run_id = {int(previous.pk)}"
        )
    return learners


def hold_the_current_snapshot() -> None:
    """Until this transaction ends, no other switch or refresh changes which snapshot is
    current or what it holds (a refresh reads the learners and writes their rows in one
    go). A few milliseconds for a switch, a few seconds for a refresh of thousands."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CURRENT_KEY])


def _fail(run_id: int, exc: BaseException) -> None:
    # Killed or failed: the previous snapshot stays the current one.
    RebuildRun.objects.filter(pk=run_id, outcome=RebuildRun.Outcome.RUNNING).update(
        outcome=RebuildRun.Outcome.FAILED,
        finished_at=timezone.now(),
        error=f"{type(exc).__name__}: {exc}"[:2000],
    )
    logger.exception("Rebuild %s failed", run_id)


def _switch_when_done(run_id: int) -> None:
    claimed = (
        RebuildRun.objects.filter(pk=run_id, outcome=RebuildRun.Outcome.RUNNING, switching=False)
        .exclude(shards__done=False)
        .update(switching=True)
    )
    if claimed:
        _switch(RebuildRun.objects.get(pk=run_id))


def _switch(run: RebuildRun) -> None:
    """Make the built run the current snapshot, in one transaction with its changes."""
    totals = run.shards.aggregate(
        learners=models.Sum("learners"), not_checked=models.Sum("not_checked")
    )
    run.learners, run.not_checked = totals["learners"] or 0, totals["not_checked"] or 0
    try:
        # The shards say they are done in a logged table, their rows are in unlogged ones: a
        # crash between two shards loses the rows of those before it, not their record.
        # (Counted in the run's own table: before it is indexed and attached for nothing.)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {_tables_of(run)[0]} WHERE run_id = %s", [run.pk])
            (written,) = cursor.fetchone()
        if written != run.learners:
            raise SnapshotRowsLost(f"{written} of {run.learners} learners' rows are there")
        if run.not_checked > max(NOT_CHECKED_ALLOWED, run.learners * NOT_CHECKED_SHARE):
            RebuildRun.objects.filter(pk=run.pk).update(not_checked=run.not_checked)
            raise TooManyNotChecked(
                f"the rules failed on {run.not_checked} of {run.learners} learners"
            )
        _attach_partitions(run)
        # The figures the switch's joins are planned on, now; the rest after the switch.
        _refresh_statistics("ANALYZE", run, _SWITCH_COLUMNS)
        with transaction.atomic():
            hold_the_current_snapshot()
            previous = current_run()
            # A learner an import moved after this run read them goes to their centre now.
            follow_learners_to_their_centres()
            late = _changes_since(run) if settings.REFRESH_SNAPSHOT else []
            if late and previous is not None:
                # Learners whose data changed after this run began reading may have been
                # refreshed in the previous snapshot meanwhile: their rows there are newer
                # than this run's, so they carry over, and the refresh queued below (when
                # this run is current) works them out for today.
                _carry_over(previous, run, late)
            # With the switch, so that a build that fails or is skipped changes nothing.
            record_changes(previous, run)
            for change in late:
                transaction.on_commit(
                    lambda change=change: learner_data_committed.send(
                        sender=RebuildRun, change=change
                    )
                )
            run.outcome = RebuildRun.Outcome.SUCCEEDED
            run.finished_at = timezone.now()
            made_current = RebuildRun.objects.filter(
                pk=run.pk, outcome=RebuildRun.Outcome.RUNNING
            ).update(
                outcome=run.outcome,
                finished_at=run.finished_at,
                learners=run.learners,
                not_checked=run.not_checked,
            )
            if not made_current:  # another rebuild took it for dead meanwhile
                raise RunTakenForDead(f"rebuild {run.pk} was marked failed while it switched")
    except BaseException as exc:
        _fail(run.pk, exc)
        raise
    _discard_old_snapshots(run)
    try:
        _refresh_statistics("VACUUM (ANALYZE)", run)
        # The default partitions too: the figures a refresh plans on.
        analyse_working_rows("VACUUM (ANALYZE)")
    except DatabaseError:
        # The new snapshot is already current; autovacuum will get there.
        logger.warning("Vacuum after rebuild %s failed", run.pk, exc_info=True)
    logger.info("Rebuild %s: %s learners in %s", run.pk, run.learners, run.duration)


# A few learners whose data the rules cannot read are their own problem (shown as not
# checked); more than this is the rules' or the catalogue's fault, and the run fails so that
# the previous snapshot stays current.
NOT_CHECKED_ALLOWED = 10
NOT_CHECKED_SHARE = 0.01
# Tracebacks logged per run; the rest are counted.
NOT_CHECKED_LOGGED = 5


class TooManyNotChecked(Exception):
    pass


class RunTakenForDead(Exception):
    pass


class SnapshotRowsLost(Exception):
    pass


def _write_shard(
    run: RebuildRun, shard: RebuildShard, catalogue, chunk_size: int, progress=None
) -> tuple:
    """The snapshot rows of the shard's learners, into the run's own tables; (learners, not
    checked)."""
    learners = iter_learners(chunk_size, after=shard.after_uln, upto=shard.upto_uln)
    return write_learners(
        run, learners, catalogue, run.built_for, chunk_size, progress, into=_tables_of(run)
    )


def write_learners(
    run: RebuildRun,
    learners,
    catalogue,
    day,
    chunk_size: int = CHUNK_SIZE,
    progress: Progress | None = None,
    into: tuple[str, str] | None = None,
):
    """Snapshot rows under `run` of the (registration, input) pairs, by the rules as they
    stand on `day`, written with COPY a chunk at a time into the snapshot tables, or `into`
    the run's own (Overview, Detail) tables; (learners, not checked)."""
    overview_table, detail_table = into or (OverviewRow._meta.db_table, DetailLine._meta.db_table)
    count = not_checked = 0
    with connection.cursor() as cursor:
        while chunk := list(itertools.islice(learners, chunk_size)):
            overview, detail = [], []
            for registration, data in chunk:
                flags, error = evaluate_or_report(data, catalogue, day)
                if error is not None:
                    not_checked += 1
                    # Named by the error's type: its words may quote the learner's data.
                    logger.error(
                        "Rebuild %s: the rules failed on a learner (%s); shown as not checked",
                        run.pk,
                        type(error).__name__,
                        exc_info=error if not_checked <= NOT_CHECKED_LOGGED else None,
                    )
                overview.append(_overview_row(run.pk, registration, data, flags))
                detail.extend(_detail_lines(run.pk, registration, data, flags))
            copy_rows(cursor, overview_table, OVERVIEW_COLUMNS, overview)
            copy_rows(cursor, detail_table, DETAIL_COLUMNS, detail)
            count += len(chunk)
            if progress is not None:
                progress.advance(len(chunk))
    return count, not_checked


def _overview_row(run_id: int, registration: dict, data, flags: LearnerFlags) -> tuple:
    learner = data.learner
    by_component = {c.component: c for c in flags.components}
    component_values = []
    for code in COMPONENT_FIELDS:
        c = by_component.get(code)
        if c is None:  # a Progression Diploma has no ASL
            component_values += ["", "", NO_COMPONENT_RANK]
        else:
            component_values += [c.entry, c.assessment or "", status_rank(c.entry, c.assessment)]
    return (
        run_id,
        learner.uln,
        registration["centre"],
        registration["surname"],
        registration["forename"],
        learner.line,
        learner.level,
        learner.award_series,
        flags.problem_count,
        flags.points,
        flags.grade or "",
        flags.grade_is_estimate,
        flags.asl_percent_complete,
        *component_values,
    )


def _detail_lines(run_id: int, registration: dict, data, flags: LearnerFlags) -> Iterator[tuple]:
    learner = data.learner
    common = (
        run_id,
        learner.uln,
        registration["centre"],
        registration["surname"],
        registration["forename"],
        learner.line,
        learner.level,
        learner.award_series,
    )
    grade = (flags.points, flags.grade or "", flags.grade_is_estimate)
    for c in flags.components:
        order = _ORDER[c.component]
        if not c.problems:
            yield (
                *common,
                c.component,
                order,
                0,
                True,
                "",
                "",
                "",
                None,
                "",
                codes.READY_RANK,
                c.entry,
                *grade,
            )
            continue
        for number, p in enumerate(c.problems):
            yield (
                *common,
                c.component,
                order,
                number,
                False,
                p.element,
                p.issue,
                p.action,
                p.deadline,
                p.severity,
                codes.SEVERITY_RANK[p.severity],
                p.flag,
                *grade,
            )


def snapshot_version(run: RebuildRun) -> str:
    """For keys of what is worked out from a snapshot: the run, and how many moves and
    refreshes have changed it since it was built (its counts per centre change with them)."""
    return f"{run.pk}.{run.revision}"


def follow_learners_to_their_centres() -> int:
    """Move snapshot rows to the centre each learner is now registered at; learners moved.

    Called by the feed import in its transaction (and by the rebuild as it switches, for a
    learner moved while it ran): a learner who moves centre leaves the
    old centre's Overview and Detail at once rather than at the next rebuild, since that
    centre may no longer see them. Their flags stay the snapshot's until then.
    """
    learners = Learner._meta.db_table
    overview, detail = OverviewRow._meta.db_table, DetailLine._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {overview} SET centre_id = {learners}.centre_id FROM {learners} "
            f"WHERE {overview}.uln = {learners}.uln "
            f"AND {overview}.centre_id <> {learners}.centre_id RETURNING {overview}.uln"
        )
        moved = {uln for (uln,) in cursor.fetchall()}
        if moved:
            # One join over the Detail's lines: it has no index that starts with the ULN.
            # The changes of 14 days go with them: the old centre may no longer see them.
            for table in (detail, SnapshotChange._meta.db_table):
                cursor.execute(
                    f"UPDATE {table} SET centre_id = {learners}.centre_id FROM {learners} "
                    f"WHERE {table}.uln = {learners}.uln "
                    f"AND {table}.centre_id <> {learners}.centre_id"
                )
            note_snapshot_changed()
    return len(moved)


def note_snapshot_changed() -> None:
    """In the transaction of a move or a refresh: what every process worked out from the
    current snapshot is out of date once it commits."""
    current = models.Subquery(_succeeded_newest_first().values("pk")[:1])
    RebuildRun.objects.filter(pk=current).update(revision=models.F("revision") + 1)


# The columns record_changes and follow_learners_to_their_centres join and filter on.
_SWITCH_COLUMNS = {
    OverviewRow: ("run_id", "uln", "centre_id"),
    DetailLine: ("run_id", "uln", "ready", "severity", "component", "element"),
}


def _refresh_statistics(command: str, run: RebuildRun, columns: dict | None = None) -> None:
    """Tell PostgreSQL what the run's tables now hold, rather than wait for autovacuum.

    Without fresh statistics the planner takes a centre of 5,000 rows for one row and
    sorts where it should walk an index; without a vacuum, index-only scans (the page
    counts) visit the table for every row. VACUUM cannot run inside a transaction, so
    there (in tests) the statistics alone are refreshed.
    """
    if connection.vendor != "postgresql":
        return
    if connection.in_atomic_block:
        command = "ANALYZE"
    tables = ", ".join(
        table + (f" ({', '.join(columns[model])})" if columns else "")
        for model, table in zip((OverviewRow, DetailLine), _tables_of(run), strict=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"{command} {tables}")


def _discard_old_snapshots(current: RebuildRun) -> None:
    """Keep this snapshot and the one before (a page may still be reading it)."""
    kept = list(
        RebuildRun.objects.filter(outcome=RebuildRun.Outcome.SUCCEEDED)
        .order_by("-finished_at")
        .values_list("pk", "changes_seen")[:2]
    )
    keep = [pk for pk, _ in kept]
    # Every snapshot still kept has seen these changes: no page will ask about them again.
    forget_before(min(seen for _, seen in kept))
    stale = RebuildRun.objects.exclude(pk__in=keep).exclude(outcome=RebuildRun.Outcome.RUNNING)
    stale_ids = list(stale.values_list("pk", flat=True))
    # A run still marked running was killed; its rows can go once it is old.
    killed = RebuildRun.objects.filter(
        outcome=RebuildRun.Outcome.RUNNING, started_at__lt=current.started_at
    )
    _drop_partitions([*stale_ids, *killed.values_list("pk", flat=True)])
    # Rows of runs without tables of their own (before migration 0012); not those of a
    # run whose tables could not be dropped yet, which go with them next time.
    with_tables = _runs_with_tables(stale_ids)
    without_tables = [r for r in stale_ids if r not in with_tables]
    for model in (OverviewRow, DetailLine):
        model.objects.filter(run_id__in=without_tables).delete()
    _drop_the_tables_from_before_partitions()
    for model in (OverviewRow, DetailLine):
        model.objects.filter(run_id__in=killed.values("pk")).delete()
    killed.update(outcome=RebuildRun.Outcome.FAILED, error="Did not finish (killed?)")


# --- Each run's rows in a table of its own (PostgreSQL) ----------------------------------
# The snapshot tables are partitioned by run (migration flags 0012). A rebuild writes into
# tables of its own, without indexes, and the switch indexes them, each index one sort,
# then attaches them as the run's partitions: writing the snapshot with its indexes took
# 32.9 s here, writing it bare and indexing it after 18 s. Rows of a run without tables of
# its own (a refresh's working rows) go to the default partition. SQLite, the embedded
# default, keeps one table.

# Connections that build a run's indexes side by side (each index is one sort on one core).
INDEX_BUILDERS = 2
# Memory for each of those sorts, so that the Detail's fit (PostgreSQL's default is 64 MB).
_INDEX_MEMORY = "256MB"
# How long attaching a run's table, or dropping an old one's, waits for pages still reading
# the snapshot tables (pages asking meanwhile wait behind it); an old one is dropped by the
# next rebuild instead, an attach is tried again, a second apart, _ATTACH_TRIES times.
_LOCK_WAITS = "1s"
_ATTACH_TRIES = 60


def analyse_working_rows(command: str = "ANALYZE") -> None:
    """Statistics of the default partitions, where a refresh writes its working rows: without
    them the planner takes a refresh's 5,000 learners for one and compares them with the
    current snapshot row by row (350 s instead of seconds). Inside a transaction ANALYZE
    counts its own rows."""
    if connection.vendor != "postgresql":
        return
    if connection.in_atomic_block:
        command = "ANALYZE"
    tables = ", ".join(f"{model._meta.db_table}_other" for model in (OverviewRow, DetailLine))
    with connection.cursor() as cursor:
        cursor.execute(f"{command} {tables}")


def _drop_the_tables_from_before_partitions() -> None:
    """The snapshot tables as they were before each run had tables of its own (migration
    0012 made them the partition of the runs they held), dropped once those runs have gone
    from them."""
    if connection.vendor != "postgresql":
        return
    for model in (OverviewRow, DetailLine):
        before = f"{model._meta.db_table}_before"
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [before])
            if not cursor.fetchone()[0]:
                continue
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {before})")
            if cursor.fetchone()[0]:
                continue
        _drop_waiting_briefly(before)


def _runs_with_tables(run_ids: list[int]) -> set[int]:
    """Of these runs (every run ever finished, say), those whose tables are still here."""
    if connection.vendor != "postgresql" or not run_ids:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname = ANY(%s)",
            [[_partition(model, r) for r in run_ids for model in (OverviewRow, DetailLine)]],
        )
        return {int(name.rsplit("_run", 1)[1]) for (name,) in cursor.fetchall()}


def _partition(model, run_id: int) -> str:
    return f"{model._meta.db_table}_run{int(run_id)}"


def _tables_of(run: RebuildRun) -> tuple[str, str]:
    """The (Overview, Detail) tables a rebuild writes its rows into."""
    if connection.vendor != "postgresql":
        return OverviewRow._meta.db_table, DetailLine._meta.db_table
    return _partition(OverviewRow, run.pk), _partition(DetailLine, run.pk)


def _create_partitions(run: RebuildRun) -> None:
    """The run's own tables, empty, unindexed, and not yet part of the snapshot."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (OverviewRow, DetailLine):
            table, own = model._meta.db_table, _partition(model, run.pk)
            cursor.execute(f"DROP TABLE IF EXISTS {own}")  # a run id used again (tests)
            # Its run in a check: attaching it then reads none of its rows.
            cursor.execute(
                f"CREATE UNLOGGED TABLE {own} (LIKE {table} INCLUDING DEFAULTS "
                "INCLUDING CONSTRAINTS, "
                f"CONSTRAINT {own}_run CHECK (run_id = {int(run.pk)}))"
            )


def _attach_partitions(run: RebuildRun) -> None:
    """Index the run's tables as the snapshot tables are indexed, then make them the run's
    partitions (attaching finds the indexes and builds none)."""
    if connection.vendor != "postgresql":
        return
    builds, constraints = [], []
    with connection.cursor() as cursor:
        # The Detail's first: its indexes take longest, so the builders finish together.
        for model in (DetailLine, OverviewRow):
            own = _partition(model, run.pk)
            cursor.execute(
                "SELECT i.relname, pg_get_indexdef(x.indexrelid), c.contype "
                "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                "LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid "
                "AND c.contype IN ('p', 'u') "
                "WHERE x.indrelid = %s::regclass ORDER BY i.relname",
                [model._meta.db_table],
            )
            for name, definition, key in cursor.fetchall():
                index = f"{own}_{name}"[:63]
                kind = "UNIQUE INDEX" if key else "INDEX"
                builds.append(f"CREATE {kind} {index} ON {own} {_index_body(definition)}")
                if key:
                    # A key's index must be a key for the attach to take it.
                    constraint = "PRIMARY KEY" if key == "p" else "UNIQUE"
                    constraints.append(
                        f"ALTER TABLE {own} ADD CONSTRAINT {index} {constraint} USING INDEX {index}"
                    )
        _side_by_side(builds)
        for statement in constraints:
            cursor.execute(statement)
    for model in (OverviewRow, DetailLine):
        _attach(model._meta.db_table, _partition(model, run.pk), run.pk)


def _attach(table: str, own: str, run_id: int) -> None:
    """Attach the run's table as its partition. It waits for the pages reading the default
    partition (every page's check that the current snapshot has rows reads them all), and
    pages asking meanwhile wait for it: it gives up after a second and tries again."""
    for attempt in range(1, _ATTACH_TRIES + 1):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{_LOCK_WAITS}'")
                cursor.execute(
                    f"ALTER TABLE {table} ATTACH PARTITION {own} FOR VALUES IN ({int(run_id)})"
                )
            return
        except OperationalError as exc:
            if getattr(exc.__cause__, "pgcode", None) != "55P03" or attempt == _ATTACH_TRIES:
                raise  # not the lock's wait (55P03: lock not available), or for too long
            time.sleep(1)


def _index_body(definition: str) -> str:
    """What follows the table in an index's definition: its method, columns, and condition."""
    return definition[definition.index(" USING ") + 1 :]


def _side_by_side(statements: list[str]) -> None:
    """Run the statements on INDEX_BUILDERS connections at once, each taking the next.
    Inside a transaction (tests), where the tables are not yet anyone else's, one by one."""
    if connection.in_atomic_block or INDEX_BUILDERS < 2:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        return
    pending = list(reversed(statements))
    failures: list[BaseException] = []
    lock = threading.Lock()

    def build() -> None:
        try:
            with connection.cursor() as cursor:  # this thread's own connection
                cursor.execute(f"SET maintenance_work_mem = '{_INDEX_MEMORY}'")
                while not failures:
                    with lock:
                        if not pending:
                            return
                        statement = pending.pop()
                    cursor.execute(statement)
        except BaseException as exc:  # noqa: BLE001 - raised in the calling thread
            failures.append(exc)
        finally:
            connection.close()

    builders = [threading.Thread(target=build) for _ in range(INDEX_BUILDERS)]
    for builder in builders:
        builder.start()
    for builder in builders:
        builder.join()
    if failures:
        raise failures[0]


def _drop_partitions(run_ids: list[int]) -> None:
    """The tables of runs whose rows are no longer wanted, dropped with their rows."""
    for run_id in sorted(_runs_with_tables(run_ids)):
        for model in (OverviewRow, DetailLine):
            _drop_waiting_briefly(_partition(model, run_id))


def _drop_waiting_briefly(table: str) -> None:
    """Drop a partition of the snapshot tables. It waits for the pages
    reading the snapshot tables, and pages asking meanwhile wait for it: if that takes more
    than a moment, the table is left to the next rebuild."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{_LOCK_WAITS}'")
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
    except DatabaseError:
        logger.warning("%s is left to the next rebuild", table)
