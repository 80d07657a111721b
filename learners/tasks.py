from celery import shared_task

from .feed.importer import mark_abandoned_runs


@shared_task(name="learners.mark_abandoned_imports", ignore_result=True)
def mark_abandoned_imports() -> int:
    """Hourly: an import whose process was killed is marked failed, not "running" for ever."""
    return mark_abandoned_runs()
