"""The snapshot rows a user may see, and which of their components arrived too late for it.

Shared by the Overview, the Detail, their exports and the readiness picture.
"""

import datetime
import hashlib
from collections import defaultdict
from collections.abc import Iterable

from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.utils import timezone

from accounts.permissions import roles, visible_centre_numbers
from flags import codes
from flags.models import DetailLine, OverviewRow, RebuildRun
from flags.snapshot import snapshot_version
from nonedexcel.models import NonEdexcelQualification

from .changes import committed_after
from .models import DataChange, Entry

STALE_AFTER = datetime.timedelta(hours=26)
# What the Detail says of a component whose data arrived after the snapshot was built.
LATE_ISSUE = (
    "Entries or records received since the last overnight update: this component's status "
    "will be worked out overnight."
)
LATE_ACTION = (
    "Nothing to do until then. The learner's Individual Learner Record shows the status now."
)


def scoped(model, run: RebuildRun | None, user) -> QuerySet:
    """Rows of the run for the user's centres only; staff read every centre."""
    if run is None or not user.is_authenticated:
        return model.objects.none()
    rows = model.objects.filter(run=run)
    centres = visible_centre_numbers(user)
    return rows if centres is None else rows.filter(centre_id__in=centres)


def overview_rows(run, user) -> QuerySet[OverviewRow]:
    return scoped(OverviewRow, run, user)


def detail_lines(run, user, changes: tuple[int, ...] = ()) -> QuerySet[DetailLine]:
    """The Detail's lines; a component with data from `changes` is one `late` line."""
    lines = scoped(DetailLine, run, user)
    if not changes:
        return lines.annotate(late=Value(False))
    return lines.annotate(late=is_late(changes, OuterRef("component"))).exclude(
        late=True, component_line__gt=0
    )


def award_series_offered(run: RebuildRun | None, user) -> list[str]:
    """The award dates of the user's learners, for the filter's choices.

    The same all night for the same centres, so it is worked out once per snapshot.
    """
    if run is None or not user.is_authenticated:
        return []
    centres = "all" if user.is_staff else ",".join(sorted(roles(user)))
    key = (
        f"award-series:{snapshot_version(run)}:{hashlib.sha256(centres.encode()).hexdigest()[:16]}"
    )
    offered = cache.get(key)
    if offered is None:
        rows = overview_rows(run, user).order_by().values_list("award_series", flat=True)
        offered = sorted(set(rows.distinct()) - {""})
        cache.set(key, offered, timeout=26 * 3600)
    return offered


def late_changes(run: RebuildRun | None) -> tuple[int, ...]:
    """The changes to learner data the snapshot did not see (DOMAIN.md 4.4): usually none,
    else one per import or edit since the rebuild began reading."""
    return () if run is None else committed_after(run.changes_seen)


def late_components(changes: tuple[int, ...], ulns: Iterable[str]) -> dict[str, set[str]]:
    """ULN -> components with entries or non-Edexcel records from those changes."""
    late: dict[str, set[str]] = defaultdict(set)
    ulns = list(ulns)
    if not changes or not ulns:
        return late
    for uln, component in (
        Entry.objects.filter(learner_id__in=ulns, change_id__in=changes)
        .values_list("learner_id", "qualification__component")
        .distinct()
    ):
        late[uln].add(component)
    for uln, component in (
        NonEdexcelQualification.objects.filter(learner_id__in=ulns, change_id__in=changes)
        .values_list("learner_id", "component")
        .distinct()
    ):
        late[uln].add(component)
    for uln, component in DataChange.objects.filter(
        pk__in=changes, learner_uln__in=ulns
    ).values_list("learner_uln", "component"):
        late[uln].add(component)  # a record removed: no row is left to point at the change
    return late


def stale_problems(run: RebuildRun, late: dict[str, set[str]]) -> dict[str, int]:
    """ULN -> the snapshot's problems on components whose data arrived since: the Overview
    takes them off its count, as the Detail shows such a component as one line, not a problem."""
    if not late:
        return {}
    counts: dict[str, int] = defaultdict(int)
    for uln, component in (
        DetailLine.objects.filter(run=run, uln__in=list(late), ready=False)
        .exclude(severity=codes.INFO)
        .values_list("uln", "component")
    ):
        if component in late[uln]:
            counts[uln] += 1
    return counts


def is_late(changes: tuple[int, ...], component: str | OuterRef) -> Q:
    """Whether a snapshot row's component (a code, or the row's own `component`) has data
    from those changes: the same rule as `late_components`, as SQL for filters and counts."""
    return (
        Exists(
            Entry.objects.filter(
                learner_id=OuterRef("uln"),
                qualification__component=component,
                change_id__in=changes,
            )
        )
        | Exists(
            NonEdexcelQualification.objects.filter(
                learner_id=OuterRef("uln"), component=component, change_id__in=changes
            )
        )
        | Exists(
            DataChange.objects.filter(
                pk__in=changes, learner_uln=OuterRef("uln"), component=component
            )
        )
    )


def is_stale(run: RebuildRun | None) -> bool:
    return run is None or timezone.now() - run.finished_at > STALE_AFTER
