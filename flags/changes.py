"""What a build changed against the build before it (issue 20): set-based SQL over the two
snapshots, run in the transaction that makes the new one current.

Only learners in both snapshots are compared: a learner new to the service has no "before",
and one who left has no "after". A problem is a Detail line that is not ready and not for
information, known by its learner, component and element; its words may change from day to
day (deadlines come nearer) without it being a new problem.
"""

import datetime

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
    written = 0
    with connection.cursor() as cursor:
        for component, name in COMPONENT_FIELDS.items():
            for kind, column in (
                (SnapshotChange.Kind.ENTRY_FLAG, f"{name}_entry"),
                (SnapshotChange.Kind.ASSESSMENT_FLAG, f"{name}_assessment"),
            ):
                cursor.execute(
                    f"INSERT INTO {table} ({_COLUMNS}) "
                    f"SELECT %s, %s, %s, {_WHO}, %s, %s, p.{column}, n.{column} "
                    f"FROM {overview} n JOIN {overview} p ON p.uln = n.uln AND p.run_id = %s "
                    f"WHERE n.run_id = %s AND n.{column} <> p.{column}",
                    [
                        current.pk,
                        current.built_for,
                        now,
                        component,
                        kind.value,
                        previous.pk,
                        current.pk,
                    ],
                )
                written += cursor.rowcount
        problem = "NOT {alias}.ready AND {alias}.severity <> %s"
        # The previous build's lines of the current one's learners only: the current build
        # holds no others. (Not asked of the current build's own lines: the planner, which has
        # no figures for a run this new, would join them to it row by row.)
        of_learners = (
            f" AND {{alias}}.uln IN (SELECT uln FROM {overview} WHERE run_id = {int(current.pk)})"
            if only_current_learners
            else ""
        )

        def lines_of(run: RebuildRun, alias: str) -> str:
            where = problem + (of_learners if run == previous else "")
            return where.format(alias=alias)

        said = "n.element || ': ' || n.issue"
        for kind, new, old, words in (
            (SnapshotChange.Kind.NEW_PROBLEM, current, previous, f"'', {said}"),
            (SnapshotChange.Kind.RESOLVED, previous, current, f"{said}, ''"),
        ):
            # The learner as the current snapshot has them (name, centre), whichever side the
            # problem is on.
            # The lines of one build that the other lacks, by EXCEPT: a sort or a hash in both
            # databases, where NOT EXISTS was a scan of the other build for each line on SQLite.
            cursor.execute(
                f"INSERT INTO {table} ({_COLUMNS}) "
                f"SELECT %s, %s, %s, o.uln, o.centre_id, o.surname, o.forename, o.line, o.level, "
                f"o.award_series, n.component, %s, {words} "
                f"FROM {detail} n "
                f"JOIN (SELECT uln, component, element FROM {detail} m "
                f"WHERE m.run_id = %s AND {lines_of(new, 'm')} "
                f"EXCEPT SELECT uln, component, element FROM {detail} m "
                f"WHERE m.run_id = %s AND {lines_of(old, 'm')}) k "
                f"ON k.uln = n.uln AND k.component = n.component AND k.element = n.element "
                f"JOIN {overview} o ON o.uln = n.uln AND o.run_id = %s "
                f"JOIN {overview} b ON b.uln = n.uln AND b.run_id = %s "
                f"WHERE n.run_id = %s AND {lines_of(new, 'n')}",
                [
                    current.pk,
                    current.built_for,
                    now,
                    kind.value,
                    new.pk,
                    codes.INFO,
                    old.pk,
                    codes.INFO,
                    current.pk,
                    previous.pk,
                    new.pk,
                    codes.INFO,
                ],
            )
            written += cursor.rowcount
    SnapshotChange.objects.filter(changed_on__lte=current.built_for - KEPT_FOR).delete()
    return written
