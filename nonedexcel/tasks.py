from celery import shared_task

from .records import delete_expired_uploads


@shared_task(name="nonedexcel.delete_expired_uploads", ignore_result=True)
def delete_expired_pending_uploads() -> int:
    """Hourly: bulk uploads never confirmed within a day are deleted."""
    return delete_expired_uploads()
