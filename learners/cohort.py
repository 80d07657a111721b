"""The snapshot rows a user may see, and which of their components arrived too late for it.

Shared by the Overview, the Detail, their exports and the readiness picture.
"""

import datetime
import hashlib
from collections import defaultdict
from collections.abc import Iterable

from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone

from accounts.permissions import roles, visible_centre_numbers
from flags.models import DetailLine, OverviewRow, RebuildRun
from flags.snapshot import snapshot_version
from nonedexcel.models import NonEdexcelQualification

from .models import Entry

STALE_AFTER = datetime.timedelta(hours=26)


def scoped(model, run: RebuildRun | None, user) -> QuerySet:
    """Rows of the run for the user's centres only; staff read every centre."""
    if run is None or not user.is_authenticated:
        return model.objects.none()
    rows = model.objects.filter(run=run)
    centres = visible_centre_numbers(user)
    return rows if centres is None else rows.filter(centre_id__in=centres)


def overview_rows(run, user) -> QuerySet[OverviewRow]:
    return scoped(OverviewRow, run, user)


def detail_lines(run, user) -> QuerySet[DetailLine]:
    return scoped(DetailLine, run, user)


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


def late_components(run: RebuildRun | None, ulns: Iterable[str]) -> dict[str, set[str]]:
    """ULN -> components with entries or non-Edexcel records stored since the snapshot."""
    late: dict[str, set[str]] = defaultdict(set)
    ulns = list(ulns)
    if run is None or not ulns:
        return late
    for uln, component in (
        Entry.objects.filter(learner_id__in=ulns, stored_at__gt=run.started_at)
        .values_list("learner_id", "qualification__component")
        .distinct()
    ):
        late[uln].add(component)
    for uln, component in (
        NonEdexcelQualification.objects.filter(learner_id__in=ulns, added_at__gt=run.started_at)
        .values_list("learner_id", "component")
        .distinct()
    ):
        late[uln].add(component)
    return late


def is_stale(run: RebuildRun | None) -> bool:
    return run is None or timezone.now() - run.finished_at > STALE_AFTER
