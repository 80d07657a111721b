"""The Overview within minutes of the data (issue 21): once an import or an edit commits, the
snapshot rows of just the learners it touched are worked out again, by the same loaders and
rules as the rebuild, and replace theirs in the current snapshot, in one transaction with the
changes they make (on /changes/, like a build's).

Their data is then no longer "received since the last overnight update" (DOMAIN.md 4.4): the
components the refreshed changes listed are let go, unless a rebuild is running, whose new
snapshot may have read those learners before the change; the rule still holds for whatever
no refresh has reached. The nightly rebuild stays: dates move flags, and it is the check
that the refreshed rows are what a full build gives.
"""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from learners.changes import last_committed, list_every_entry, touched_learners
from learners.feed.importer import wait_for_imports
from learners.models import ChangedComponent, DataChange

from .changes import record_changes
from .clock import today
from .loaders import learners_by_uln, load_catalogue
from .models import DetailLine, OverviewRow, RebuildRun, SnapshotChange
from .snapshot import (
    analyse_working_rows,
    current_run,
    hold_the_current_snapshot,
    note_snapshot_changed,
    write_learners,
)

logger = logging.getLogger(__name__)

# Learners a refresh task takes: a large delivery's touched learners are split into tasks
# of this many, which the workers share as they share a rebuild's shards.
BATCH = 5000
# A change that touched more learners than this (a national delivery on results day) is left
# to the nightly rebuild: refreshing a whole cohort batch by batch would cost more than
# building it, and hold the snapshot for a long time.
AT_MOST = 50_000


@scopes_disabled()
def refresh(ulns: Iterable[str]) -> int:
    """Work the learners' rows out again in the current snapshot; the number refreshed.

    Every centre's learners: unscoped (a task's, not a request's)."""
    ulns = sorted(set(ulns))
    if not ulns:
        return 0
    with transaction.atomic():
        # No import writes while the learners are read and their rows replaced: one that
        # moved a learner in between would see its move undone by the rows written here.
        wait_for_imports()
        hold_the_current_snapshot()
        # Before reading anything, as a rebuild notes it: changes numbered up to here are in
        # the rows this refresh writes.
        seen = last_committed()
        catalogue = load_catalogue()
        run = current_run()
        if run is None:
            return 0  # nothing built yet: the first build will have them
        # The new rows are written under a working run of this transaction's own (no one
        # else sees it), compared with the current rows by the build's own rule, then moved
        # into the current run.
        now = timezone.now()
        working = RebuildRun.objects.create(started_at=now, built_for=today())
        learners = list(learners_by_uln(ulns))
        refreshed = [registration["uln"] for registration, _ in learners]
        count, _ = write_learners(working, iter(learners), catalogue, working.built_for)
        analyse_working_rows()
        record_changes(run, working, only_current_learners=True)
        for model in (OverviewRow, DetailLine):
            model.objects.filter(run=run, uln__in=refreshed).delete()
        for model in (OverviewRow, DetailLine, SnapshotChange):
            model.objects.filter(run=working).update(run=run)
        working.delete()
        # A rebuild reading now may have read these learners before their change: its
        # snapshot needs the "received since" marks, so they stay until it is current.
        if not RebuildRun.objects.filter(outcome=RebuildRun.Outcome.RUNNING).exists():
            # A first load's components, listed first, so that these learners' can go.
            list_first_loads(run, up_to=seen)
            ChangedComponent.objects.filter(uln__in=refreshed, change__committed__lte=seen).delete()
        note_snapshot_changed()
    logger.info("Refreshed %s learners in the current snapshot", count)
    return count


def list_first_loads(run: RebuildRun, up_to: int | None = None) -> None:
    """List the notes of each first load of the entries that is late for the run (up to the
    change numbered `up_to`): the run's pages then look their components up in the notes,
    not in every entry (several times a Detail page), and a refresh can let a learner's go.
    One that is not late is never read: it is left as it is until forgotten."""
    late = DataChange.objects.filter(wrote_every_entry=True, committed__gt=run.changes_seen)
    if up_to is not None:
        late = late.filter(committed__lte=up_to)
    for change in late.order_by("committed").values_list("pk", flat=True):
        list_every_entry(change)


def learners_of_change(change_id: int) -> list[str]:
    """The learners a committed change to learner data touched."""
    return touched_learners(change_id)
