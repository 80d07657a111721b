"""Office hours of the live chat, from settings.CHAT_OFFICE_HOURS."""

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class OfficeHours:
    weekdays: tuple[int, ...]
    opens: datetime.time
    closes: datetime.time
    zone: ZoneInfo

    def is_open(self, at: datetime.datetime | None = None) -> bool:
        local = (at or timezone.now()).astimezone(self.zone)
        return local.weekday() in self.weekdays and self.opens <= local.time() < self.closes

    def describe(self) -> str:
        """For example "Monday to Friday, 9am to 5pm (UK time)"."""
        times = f"{_clock(self.opens)} to {_clock(self.closes)}"
        return f"{_days(self.weekdays)}, {times} ({_zone(self.zone)})"


def office_hours() -> OfficeHours:
    config = settings.CHAT_OFFICE_HOURS
    return OfficeHours(
        weekdays=tuple(sorted(int(day) for day in config["weekdays"])),
        opens=datetime.time.fromisoformat(config["opens"]),
        closes=datetime.time.fromisoformat(config["closes"]),
        zone=ZoneInfo(config["timezone"]),
    )


def _days(weekdays: tuple[int, ...]) -> str:
    if not weekdays:
        return "No days"
    contiguous = list(weekdays) == list(range(weekdays[0], weekdays[-1] + 1))
    if contiguous and len(weekdays) > 2:
        return f"{DAY_NAMES[weekdays[0]]} to {DAY_NAMES[weekdays[-1]]}"
    names = [DAY_NAMES[day] for day in weekdays]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _clock(time: datetime.time) -> str:
    hour = time.hour % 12 or 12
    suffix = "am" if time.hour < 12 else "pm"
    return f"{hour}{suffix}" if time.minute == 0 else f"{hour}:{time.minute:02d}{suffix}"


def _zone(zone: ZoneInfo) -> str:
    return "UK time" if zone.key == "Europe/London" else zone.key
