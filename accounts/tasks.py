from celery import shared_task

from .emails import send_account_email  # noqa: F401 - registered with the worker here too
from .registration import delete_expired_registrations


@shared_task(name="accounts.delete_expired_registrations", ignore_result=True)
def delete_expired_unconfirmed_registrations() -> int:
    """Hourly: registrations never confirmed within their link's lifetime are deleted."""
    return delete_expired_registrations()
