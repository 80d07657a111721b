"""How pressing a line of the Detail is, in four words a person works through: overdue, due
soon, action, for information. Worked out from the snapshot's deadline and severity and
today's date, so a line moves from due soon to overdue on the day, not the next night."""

import datetime
from dataclasses import dataclass

from django.db.models import Q

from flags import codes

DUE_SOON_DAYS = 30
OVERDUE, DUE_SOON, ACTION, INFORMATION = "overdue", "due-soon", "action", "info"


@dataclass(frozen=True)
class Urgency:
    code: str
    label: str
    symbol: str
    tone: str


URGENCIES = (
    Urgency(OVERDUE, "Overdue", "!", "bad"),
    Urgency(DUE_SOON, f"Due within {DUE_SOON_DAYS} days", "◷", "warning"),
    Urgency(ACTION, "Action needed", "→", "info"),
    Urgency(INFORMATION, "For information", "i", "none"),
)
BY_CODE = {u.code: u for u in URGENCIES}


def _soon(day: datetime.date) -> datetime.date:
    return day + datetime.timedelta(days=DUE_SOON_DAYS)


def due_within(day: datetime.date) -> Q:
    return Q(ready=False, deadline__gte=day, deadline__lte=_soon(day)) & ~Q(severity=codes.INFO)


def condition(code: str, day: datetime.date) -> Q:
    """The lines of that urgency on `day`, as of() would name them one by one."""
    problem = Q(ready=False) & ~Q(severity=codes.INFO)
    overdue = problem & (Q(deadline__lt=day) | Q(flag=codes.OVERDUE))
    soon = due_within(day) & ~Q(flag=codes.OVERDUE)
    if code == OVERDUE:
        return overdue
    if code == DUE_SOON:
        return soon
    if code == ACTION:
        return problem & ~overdue & ~soon
    return Q(ready=False, severity=codes.INFO)


def of(
    *, ready: bool, severity: str, flag: str, deadline: datetime.date | None, day: datetime.date
) -> Urgency | None:
    """One line's urgency; None for a line with nothing to do."""
    if ready:
        return None
    if severity == codes.INFO:
        return BY_CODE[INFORMATION]
    if flag == codes.OVERDUE or (deadline is not None and deadline < day):
        return BY_CODE[OVERDUE]
    if deadline is not None and deadline <= _soon(day):
        return BY_CODE[DUE_SOON]
    return BY_CODE[ACTION]
