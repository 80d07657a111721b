"""The only place that reads the clock: rules take the date as an argument."""

import datetime

from django.utils import timezone


def today() -> datetime.date:
    """Today in the service's time zone (Europe/London unless TIME_ZONE says otherwise)."""
    return timezone.localdate()
