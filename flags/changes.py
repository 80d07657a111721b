"""What a build changed against the build before it (issue 20): set-based SQL over the two
snapshots, run in the transaction that makes the new one current.

Only learners in both snapshots are compared: a learner new to the service has no "before",
and one who left has no "after". A problem is a Detail line that is not ready and not for
information, known by its learner, component and element; its words may change from day to
day (deadlines come nearer) without it being a new problem.
"""

import datetime
import sqlite3

from django.db import connection
from django.utils import timezone

from . import codes
from .models import COMPONENT_FIELDS, DetailLine, OverviewRow, RebuildRun, SnapshotChange

KEPT_FOR = datetime.timedelta(days=14)
_WHO = "n.uln, n.centre_id, n.surname, n.forename, n.line, n.level, n.award_series"
_COLUMNS = (
    "run_id, changed_on, recorded_at, uln, centre_id, surname, forename, line, level, "
    "award_series, component, kind, before, after"
)


def _flag_changes(table: str, overview: str) -> str:
    """Every flag of every component of the learners in both builds: the two builds' rows
    joined once, then one row a flag (by a CASE over the columns); the flags that differ.

    The join comes first, on its own: planned with the flags, PostgreSQL looked the previous
    build's row up once per flag, 1.6 M index scans (5.2 s) where one hash join does."""
    flags = [
        (component, kind, f"{name}_{side}")
        for component, name in COMPONENT_FIELDS.items()
        for kind, side in (
            (SnapshotChange.Kind.ENTRY_FLAG, "entry"),
            (SnapshotChange.Kind.ASSESSMENT_FLAG, "assessment"),
        )
    ]
    which = ", ".join(
        f"({number}, '{component}', '{kind.value}')"
        for number, (component, kind, _) in enumerate(flags)
    )
    pairs = ", ".join(
        f"p.{column} AS p{number}, n.{column} AS n{number}"
        for number, (*_, column) in enumerate(flags)
    )

    def of(side: str) -> str:
        cases = " ".join(f"WHEN {number} THEN b.{side}{number}" for number in range(len(flags)))
        return f"CASE f.column1 {cases} END"

    # SQLite, the embedded default, before 3.35 knows no MATERIALIZED (nor needs it).
    materialized = "MATERIALIZED " if connection.vendor == "postgresql" else ""
    # INSERT first: SQLite counts the rows of a statement that starts so.
    return (
        f"INSERT INTO {table} ({_COLUMNS}) "
        f"WITH b AS {materialized}(SELECT {_WHO}, {pairs} "
        f"FROM {overview} n JOIN {overview} p ON p.uln = n.uln AND p.run_id = %s "
        f"WHERE n.run_id = %s) "
        f"SELECT * FROM (SELECT %s, %s, %s, {_WHO.replace('n.', 'b.')}, f.column2, f.column3, "
        f"{of('p')} AS before, {of('n')} AS after "
        f"FROM b CROSS JOIN (VALUES {which}) f "
        f"ORDER BY f.column1) c WHERE c.before <> c.after"
    )


def _full_join_problems(table: str, overview: str, detail: str, of_learners: str) -> str:
    """The problems of one build that the other lacks, both ways in one full join of the two
    builds' problem lines (a hash join, where EXCEPT was a sort of both on disk and a join
    back): new in the current build's words, resolved in the previous build's; the learner
    as the current build has them (name, centre), for learners in both builds."""
    lines = _problem_lines(detail)
    return (
        f"INSERT INTO {table} ({_COLUMNS}) "
        f"SELECT %s, %s, %s, o.uln, o.centre_id, o.surname, o.forename, o.line, o.level, "
        f"o.award_series, COALESCE(n.component, p.component), "
        f"CASE WHEN p.uln IS NULL THEN %s ELSE %s END, "
        f"CASE WHEN p.uln IS NULL THEN '' ELSE p.element || ': ' || p.issue END, "
        f"CASE WHEN p.uln IS NULL THEN n.element || ': ' || n.issue ELSE '' END "
        f"FROM ({lines}) n FULL JOIN ({lines}{of_learners}) p "
        f"ON p.uln = n.uln AND p.component = n.component AND p.element = n.element "
        f"JOIN {overview} o ON o.uln = COALESCE(n.uln, p.uln) AND o.run_id = %s "
        f"JOIN {overview} b ON b.uln = COALESCE(n.uln, p.uln) AND b.run_id = %s "
        f"WHERE n.uln IS NULL OR p.uln IS NULL "
        f"ORDER BY p.uln IS NOT NULL"
    )


def _anti_join_problems(table: str, overview: str, detail: str, of_learners: str) -> str:
    """The same rows by two anti-joins, for SQLite before 3.39 (no full join). (On
    PostgreSQL the refresh's anti-joins were planned row by row: 43 s for 5,000 learners.)"""
    lines = _problem_lines(detail)
    said = "n.element || ': ' || n.issue"

    def lacking(words: str, of_new: str, of_old: str) -> str:
        return (
            f"SELECT %s, %s, %s, o.uln, o.centre_id, o.surname, o.forename, o.line, o.level, "
            f"o.award_series, n.component, %s, {words} "
            f"FROM ({lines}{of_new}) n LEFT JOIN ({lines}{of_old}) p "
            f"ON p.uln = n.uln AND p.component = n.component AND p.element = n.element "
            f"JOIN {overview} o ON o.uln = n.uln AND o.run_id = %s "
            f"JOIN {overview} b ON b.uln = n.uln AND b.run_id = %s "
            f"WHERE p.uln IS NULL"
        )

    new = lacking(f"'', {said}", of_new="", of_old=of_learners)
    resolved = lacking(f"{said}, ''", of_new=of_learners, of_old="")
    return f"INSERT INTO {table} ({_COLUMNS}) {new} UNION ALL {resolved}"


def _problem_lines(detail: str) -> str:
    return (
        f"SELECT uln, component, element, issue FROM {detail} "
        "WHERE run_id = %s AND NOT ready AND severity <> %s"
    )


def has_full_join() -> bool:
    return connection.vendor != "sqlite" or sqlite3.sqlite_version_info >= (3, 39)


def record_changes(
    previous: RebuildRun | None, current: RebuildRun, *, only_current_learners: bool = False
) -> int:
    """Write the changes from `previous` to `current`; the number written.

    `only_current_learners`: `current` holds a few learners (a refresh's), and only their
    lines are compared, found through the (run, ULN) index rather than by reading `previous`.
    """
    if previous is None:
        return 0
    table = SnapshotChange._meta.db_table
    overview, detail = OverviewRow._meta.db_table, DetailLine._meta.db_table
    now = timezone.now()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and connection.in_atomic_block:
            # Two joins of a million lines each: in memory rather than sorted on disk, and
            # not worth compiling (JIT took half a second a query).
            cursor.execute("SET LOCAL work_mem = '128MB'")
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(
            _flag_changes(table, overview),
            [previous.pk, current.pk, current.pk, current.built_for, now],
        )
        written = cursor.rowcount
        # The previous build's lines of the current one's learners only: the current build
        # holds no others. (Not asked of the current build's own lines: the planner, which has
        # no figures for a run this new, would join them to it row by row.)
        of_learners = (
            f" AND uln IN (SELECT uln FROM {overview} WHERE run_id = {int(current.pk)})"
            if only_current_learners
            else ""
        )
        new = SnapshotChange.Kind.NEW_PROBLEM.value
        resolved = SnapshotChange.Kind.RESOLVED.value
        when = [current.pk, current.built_for, now]
        if has_full_join():
            sql = _full_join_problems(table, overview, detail, of_learners)
            params = [*when, new, resolved, current.pk, codes.INFO, previous.pk, codes.INFO]
            params += [current.pk, previous.pk]
        else:
            sql = _anti_join_problems(table, overview, detail, of_learners)
            params = [*when, new, current.pk, codes.INFO, previous.pk, codes.INFO]
            params += [current.pk, previous.pk]
            params += [*when, resolved, previous.pk, codes.INFO, current.pk, codes.INFO]
            params += [current.pk, previous.pk]
        cursor.execute(sql, params)
        written += cursor.rowcount
    SnapshotChange.objects.filter(changed_on__lte=current.built_for - KEPT_FOR).delete()
    return written
