import logging

from celery import shared_task
from django.conf import settings

from .refresh import AT_MOST, BATCH, learners_of_change, list_first_loads, refresh
from .snapshot import build_shards, current_run, rebuild, start_on_workers

logger = logging.getLogger(__name__)

# Acknowledged on receipt (acks_late off): a task that outlives the broker's visibility
# timeout is not delivered again. A shard whose worker is killed is taken over by the other
# workers building the run; if every worker dies, the run waits for the next night's, which
# finds it dead and starts clean.
HARD_LIMIT = 60 * 60


@shared_task(
    bind=True,
    name="flags.rebuild_overview",
    acks_late=False,
    soft_time_limit=HARD_LIMIT - 60,
    time_limit=HARD_LIMIT,
    ignore_result=True,
)
def rebuild_overview(self) -> int:
    """The nightly rebuild of the Overview snapshot: the run and its shards, then one task
    per worker that may take them (REBUILD_TASKS). In-process (the embedded default), the
    whole rebuild at once, as the rebuild_overview command runs it."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return rebuild(shard_size=settings.REBUILD_SHARD_LEARNERS).pk
    run = start_on_workers(shard_size=settings.REBUILD_SHARD_LEARNERS)
    # To the workers of the queue the rebuild came from.
    queue = (self.request.delivery_info or {}).get("routing_key")
    for _ in range(min(run.shards.count(), settings.REBUILD_TASKS)):
        build_rebuild_shards.apply_async((run.pk,), queue=queue)
    return run.pk


@shared_task(
    name="flags.build_rebuild_shards",
    acks_late=False,
    soft_time_limit=HARD_LIMIT - 60,
    time_limit=HARD_LIMIT,
    ignore_result=True,
)
def build_rebuild_shards(run_id: int) -> int:
    """Shards of the run until none is left; the last worker to finish makes it current."""
    return build_shards(run_id)


@shared_task(name="flags.refresh_change", acks_late=False, ignore_result=True)
def refresh_change(change_id: int) -> int:
    """The learners a committed change touched, in tasks of BATCH that workers share."""
    run = current_run()
    if run is None:
        return 0  # nothing built yet: the first build will have them
    # A first load late for the snapshot, listed at once (458,000 notes in about 3 s, after
    # the import's commit rather than in it), whether or not it is refreshed.
    list_first_loads(run)
    ulns = learners_of_change(change_id)
    if len(ulns) > AT_MOST:
        logger.info(
            "Change %s touched %s learners: left to the nightly rebuild", change_id, len(ulns)
        )
        return 0
    for start in range(0, len(ulns), BATCH):
        refresh_learners.delay(ulns[start : start + BATCH])
    return len(ulns)


@shared_task(name="flags.refresh_learners", acks_late=False, ignore_result=True)
def refresh_learners(ulns: list[str]) -> int:
    return refresh(ulns)


def refresh_soon(sender=None, change: int | None = None, ulns=None, **kwargs) -> None:
    """After a commit (learners.signals.learner_data_committed): queue the refresh. It must
    not raise: the change is made; the Overview says "received since" until a refresh or
    the next rebuild reaches it."""
    if not settings.REFRESH_SNAPSHOT:
        return
    try:
        if change is not None:
            refresh_change.delay(change)
        else:
            ulns = sorted(ulns)
            for start in range(0, len(ulns), BATCH):
                refresh_learners.delay(ulns[start : start + BATCH])
    except Exception:
        logger.exception("Could not refresh the snapshot after a change")
