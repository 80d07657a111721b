from celery import shared_task

from .snapshot import rebuild

# Acknowledged on receipt (acks_late off): a rebuild that outlives the broker's visibility
# timeout is not delivered again, and a killed one waits for the next night.
HARD_LIMIT = 60 * 60


@shared_task(
    name="flags.rebuild_overview",
    acks_late=False,
    soft_time_limit=HARD_LIMIT - 60,
    time_limit=HARD_LIMIT,
    ignore_result=True,
)
def rebuild_overview() -> int:
    """The nightly rebuild of the Overview snapshot (the rebuild_overview command runs it now)."""
    return rebuild().pk
