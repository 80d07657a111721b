"""The snapshot rows a user may see, and which of their components arrived too late for it.

Shared by the Overview, the Detail, their exports and the readiness picture.
"""

import datetime
import hashlib
import itertools
from collections import defaultdict
from collections.abc import Iterable

from django.core.cache import cache
from django.db import connection
from django.db.models import BooleanField, Exists, ExpressionWrapper, Q, QuerySet, Value
from django.utils import timezone

from accounts.permissions import reads_every_centre, roles
from flags import codes
from flags.models import DetailLine, OverviewRow, RebuildRun
from flags.snapshot import snapshot_version
from learners import diploma
from learners.changes import (
    LEARNER_ONLY,
    committed_after,
    every_entry_component,
    wrote_every_entry,
)
from learners.models import ChangedComponent, DataChange

STALE_AFTER = datetime.timedelta(hours=26)
# What the Detail says of a component whose data arrived after the snapshot was built.
LATE_ISSUE = (
    "Entries or records received since the last overnight update: this component's status "
    "will be worked out overnight."
)
LATE_ACTION = (
    "Nothing to do until then. The learner's Individual Learner Record shows the status now."
)


def of_run(model, run: RebuildRun | None) -> QuerySet:
    """The run's rows, of the centres in the request's scope."""
    return model.objects.none() if run is None else model.objects.filter(run=run)


def overview_rows(run) -> QuerySet[OverviewRow]:
    return of_run(OverviewRow, run)


def detail_lines(run, changes: tuple[int, ...] = ()) -> QuerySet[DetailLine]:
    """The Detail's lines; a component with data from `changes` is one `late` line."""
    lines = of_run(DetailLine, run)
    if not changes:
        return lines.annotate(late=Value(False))
    late = is_late_line(changes)
    return lines.annotate(late=ExpressionWrapper(late, output_field=BooleanField())).exclude(
        late & Q(component_line__gt=0)
    )


def award_series_offered(run: RebuildRun | None, user) -> list[str]:
    """The award dates of the user's learners, for the filter's choices.

    The same all night for the same centres, so it is worked out once per snapshot.
    """
    if run is None or not user.is_authenticated:
        return []
    centres = "all" if reads_every_centre(user) else ",".join(sorted(roles(user)))
    key = (
        f"award-series:{snapshot_version(run)}:{hashlib.sha256(centres.encode()).hexdigest()[:16]}"
    )
    offered = cache.get(key)
    if offered is None:
        rows = overview_rows(run).order_by().values_list("award_series", flat=True)
        offered = sorted(set(rows.distinct()) - {""})
        cache.set(key, offered, timeout=STALE_AFTER.total_seconds())
    return offered


def late_changes(run: RebuildRun | None) -> tuple[int, ...]:
    """The changes to learner data the snapshot did not see (DOMAIN.md 4.4): usually none,
    else one per import or edit since the rebuild began reading."""
    return () if run is None else committed_after(run.changes_seen)


def late_components(changes: tuple[int, ...], ulns: Iterable[str]) -> dict[str, set[str]]:
    """ULN -> components those changes wrote entries or non-Edexcel records for."""
    late: dict[str, set[str]] = defaultdict(set)
    ulns = list(ulns)
    if not changes or not ulns:
        return late
    # The flag before the notes: a refresh that lists them in between then shows a mark
    # twice, never none.
    every_entry = wrote_every_entry(changes)
    for uln, component in (
        ChangedComponent.objects.filter(change_id__in=changes, uln__in=ulns)
        .exclude(component=LEARNER_ONLY)
        .values_list("uln", "component")
    ):
        late[uln].add(component)
    if every_entry:
        for uln, component in every_entry_component().filter(learner_id__in=ulns):
            late[uln].add(component)
    return late


def stale_problems(
    run: RebuildRun, late: dict[str, set[str]], rows: Iterable[tuple[str, str, str]]
) -> dict[str, int]:
    """ULN -> the snapshot's problems on components whose data arrived since: the Overview
    takes them off its count, as the Detail shows such a component as one line, not a problem.

    `rows` are the (ULN, centre, surname) of the snapshot rows shown, so the lines are found
    through the Detail's (run, centre, surname, ULN) index rather than by reading the run.
    """
    keys = [(centre, surname, uln) for uln, centre, surname in rows if uln in late]
    if not keys:
        return {}
    # Plain SQL: the ORM takes longer to build 50 three-column conditions than to run them.
    rows_sql = ", ".join(["(%s, %s, %s)"] * len(keys))
    counts: dict[str, int] = defaultdict(int)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT uln, component FROM {DetailLine._meta.db_table} "
            f"WHERE run_id = %s AND NOT ready AND severity <> %s "
            f"AND (centre_id, surname, uln) IN ({rows_sql})",
            [run.pk, codes.INFO, *itertools.chain.from_iterable(keys)],
        )
        for uln, component in cursor.fetchall():
            if component in late[uln]:
                counts[uln] += 1
    return counts


def _late_learners(changes: tuple[int, ...], component: str) -> QuerySet:
    return ChangedComponent.objects.filter(change_id__in=changes, component=component).values("uln")


def is_late(changes: tuple[int, ...], component: str) -> Q:
    """Snapshot rows whose `component` has data from those changes: the same rule as
    `late_components`, as SQL. The subqueries do not depend on the row, so PostgreSQL works
    them out once and looks each row up in a hash (the entries only if a change wrote them
    all)."""
    every_entry = DataChange.objects.filter(pk__in=changes, wrote_every_entry=True)
    entered = every_entry_component().filter(qualification__component=component)
    return Q(uln__in=_late_learners(changes, component)) | (
        Q(Exists(every_entry)) & Q(uln__in=entered.values("learner_id"))
    )


def is_late_line(changes: tuple[int, ...]) -> Q:
    """Detail lines (one component each) whose component has data from those changes."""
    return Q(*(Q(component=c) & is_late(changes, c) for c in diploma.COMPONENTS), _connector=Q.OR)


def is_stale(run: RebuildRun | None) -> bool:
    return run is None or timezone.now() - run.finished_at > STALE_AFTER
