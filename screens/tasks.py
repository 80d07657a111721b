import datetime

from celery import shared_task
from django.utils import timezone

from . import digest


@shared_task(name="screens.send_weekly_digests", ignore_result=True)
def send_weekly_digests(at: str | None = None) -> int:
    """Monday 07:00 (Europe/London) and each hour after until noon: the week's digest to
    whoever is still owed it. `at`, an ISO time, stands for now (a test's clock, or a
    catch-up run by hand); beat gives none."""
    moment = datetime.datetime.fromisoformat(at) if at else None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return digest.send_weekly_digests(moment)
