"""The overnight rebuild of the snapshot the Overview and Detail read (DOMAIN.md 4.4).

The same loaders and rules as the live ILR, streamed over every learner in chunks and
written with COPY under a new run. Readers use the latest run that succeeded, so the
switch to the new snapshot is the one UPDATE that marks the run succeeded; a run that
fails or is killed leaves the previous snapshot in place. Two rebuilds never run at once:
on PostgreSQL an advisory lock decides, and the loser records itself as skipped.
"""

import contextlib
import itertools
import logging
import threading
from collections.abc import Iterator

from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from learners import diploma
from learners.changes import forget_before, last_committed
from learners.feed.bulk import copy_rows
from learners.models import Learner

from . import codes
from .changes import record_changes
from .clock import today
from .loaders import iter_learners, load_catalogue
from .models import COMPONENT_FIELDS, DetailLine, OverviewRow, RebuildRun, SnapshotChange
from .rules import LearnerFlags, evaluate_or_report

logger = logging.getLogger(__name__)

CHUNK_SIZE = 5000
_LOCK_KEY = 0x4C54_5242  # "LTRB": the advisory lock of the rebuild
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


def current_run() -> RebuildRun | None:
    """The snapshot readers should use: the latest rebuild that succeeded."""
    return (
        RebuildRun.objects.filter(outcome=RebuildRun.Outcome.SUCCEEDED)
        .order_by("-finished_at")
        .first()
    )


@contextlib.contextmanager
def _rebuild_lock() -> Iterator[bool]:
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


@scopes_disabled()
def rebuild(chunk_size: int = CHUNK_SIZE) -> RebuildRun:
    """Build a new snapshot of every learner now; the run says how it went (every centre's:
    unscoped)."""
    day = today()
    with _rebuild_lock() as acquired:
        if not acquired:
            now = timezone.now()
            logger.warning("Rebuild skipped: another rebuild is running")
            return RebuildRun.objects.create(
                started_at=now, finished_at=now, built_for=day, outcome=RebuildRun.Outcome.SKIPPED
            )
        # Before reading anything: a change committed from here on may be missed, so it counts
        # as received since this snapshot (DOMAIN.md 4.4).
        seen = last_committed()
        previous = current_run()
        run = RebuildRun.objects.create(started_at=timezone.now(), built_for=day, changes_seen=seen)
        try:
            run.learners = _write_snapshot(run, day, chunk_size)
            _refresh_statistics("ANALYZE")
            with transaction.atomic():
                # A learner an import moved after this run read them goes to their centre now.
                follow_learners_to_their_centres()
                # With the switch, so that a build that fails or is skipped changes nothing.
                record_changes(previous, run)
                run.outcome = RebuildRun.Outcome.SUCCEEDED
                run.finished_at = timezone.now()
                run.save(update_fields=["outcome", "finished_at", "learners"])
        except BaseException as exc:
            # Killed or failed: the previous snapshot stays the current one.
            RebuildRun.objects.filter(pk=run.pk).update(
                outcome=RebuildRun.Outcome.FAILED,
                finished_at=timezone.now(),
                error=f"{type(exc).__name__}: {exc}"[:2000],
            )
            logger.exception("Rebuild %s failed", run.pk)
            raise
        _discard_old_snapshots(run)
        try:
            _refresh_statistics("VACUUM (ANALYZE)")
        except DatabaseError:
            # The new snapshot is already current; autovacuum will get there.
            logger.warning("Vacuum after rebuild %s failed", run.pk, exc_info=True)
        logger.info("Rebuild %s: %s learners in %s", run.pk, run.learners, run.duration)
        return run


# A few learners whose data the rules cannot read are their own problem (shown as not
# checked); more than this is the rules' or the catalogue's fault, and the run fails so that
# the previous snapshot stays current.
NOT_CHECKED_ALLOWED = 10
NOT_CHECKED_SHARE = 0.01
# Tracebacks logged per run; the rest are counted.
NOT_CHECKED_LOGGED = 5


class TooManyNotChecked(Exception):
    pass


def _write_snapshot(run: RebuildRun, day, chunk_size: int) -> int:
    catalogue = load_catalogue()
    count = not_checked = 0
    learners = iter_learners(chunk_size)
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
            # One transaction a chunk: SQLite would otherwise commit (and sync) every row.
            with transaction.atomic():
                copy_rows(cursor, OverviewRow._meta.db_table, OVERVIEW_COLUMNS, overview)
                copy_rows(cursor, DetailLine._meta.db_table, DETAIL_COLUMNS, detail)
            count += len(chunk)
    run.not_checked = not_checked
    RebuildRun.objects.filter(pk=run.pk).update(not_checked=not_checked)
    if not_checked > max(NOT_CHECKED_ALLOWED, count * NOT_CHECKED_SHARE):
        raise TooManyNotChecked(f"the rules failed on {not_checked} of {count} learners")
    return count


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


_MOVES_KEY = "snapshot:moves"


def snapshot_version(run: RebuildRun) -> str:
    """For keys of what is worked out from a snapshot: the run, and the moves made to it
    since (which change its counts per centre)."""
    return f"{run.pk}.{cache.get(_MOVES_KEY, 0)}"


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
            transaction.on_commit(_count_a_move)
    return len(moved)


def _count_a_move() -> None:
    try:
        cache.incr(_MOVES_KEY)
    except ValueError:  # not set yet
        cache.set(_MOVES_KEY, 1, timeout=None)


def _refresh_statistics(command: str) -> None:
    """Tell PostgreSQL what the snapshot tables now hold, rather than wait for autovacuum.

    Without fresh statistics the planner takes a centre of 5,000 rows for one row and
    sorts where it should walk an index; without a vacuum, index-only scans (the page
    counts) visit the table for every row. VACUUM cannot run inside a transaction, so
    there (in tests) the statistics alone are refreshed.
    """
    if connection.vendor != "postgresql":
        return
    if connection.in_atomic_block:
        command = "ANALYZE"
    tables = f"{OverviewRow._meta.db_table}, {DetailLine._meta.db_table}"
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
    for model in (OverviewRow, DetailLine):
        model.objects.filter(run_id__in=stale_ids).delete()
    # A run still marked running was killed; its rows can go once it is old.
    killed = RebuildRun.objects.filter(
        outcome=RebuildRun.Outcome.RUNNING, started_at__lt=current.started_at
    )
    for model in (OverviewRow, DetailLine):
        model.objects.filter(run_id__in=killed.values("pk")).delete()
    killed.update(outcome=RebuildRun.Outcome.FAILED, error="Did not finish (killed?)")
