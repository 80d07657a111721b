"""A centre's deadlines as an iCalendar feed (issue 20): each deadline of the last build's
Detail, the last day on which acting is in time, with how many learners it concerns and a
link to them. Never a learner's name: a calendar is shared and synced far beyond the service."""

import datetime
import hashlib
from urllib.parse import urlencode

import icalendar
from django.conf import settings
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from accounts.permissions import roles
from base.scoping import CENTRE
from flags.models import DetailLine
from flags.snapshot import current_run
from learners import diploma

# Deadlines just gone stay a fortnight: a calendar that drops them at once looks as if
# they were met.
KEPT_AFTER = datetime.timedelta(days=14)
MOST_EVENTS = 2000


def deadlines(user, day: datetime.date) -> bytes:
    """The calendar of the user's centres (those they hold a role on)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Learner Tracking//Centre deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Learner Tracking deadlines")
    run, centres = current_run(), sorted(roles(user))
    if run is None or not centres:
        return calendar.to_ical()
    with scope(**{CENTRE: centres}):
        rows = (
            DetailLine.objects.filter(run=run, ready=False, deadline__gte=day - KEPT_AFTER)
            .values("centre_id", "component", "element", "deadline")
            .annotate(learners=Count("uln", distinct=True))
            .order_by("deadline", "centre_id", "component", "element")[:MOST_EVENTS]
        )
        rows = list(rows)
    stamp = timezone.now()
    for row in rows:
        calendar.add_component(_event(row, stamp))
    return calendar.to_ical()


def _event(row: dict, stamp: datetime.datetime) -> icalendar.Event:
    centre, component, element = row["centre_id"], row["component"], row["element"]
    deadline, learners = row["deadline"], row["learners"]
    name = diploma.COMPONENT_NAMES.get(component, component)
    who = f"{learners} learner{'s' if learners != 1 else ''}"
    query = urlencode({"centre": centre, "component": component, "show_info": "on"})
    url = f"{settings.SITE_URL.rstrip('/')}{reverse('detail')}?{query}"
    key = f"{centre}|{component}|{element}|{deadline.isoformat()}"
    event = icalendar.Event()
    event.add("uid", f"{hashlib.sha256(key.encode()).hexdigest()[:32]}@learner-tracking")
    event.add("dtstamp", stamp)
    event.add("dtstart", deadline)
    event.add("dtend", deadline + datetime.timedelta(days=1))
    event.add("summary", f"Last day: {name}{f' – {element}' if element else ''} ({who}, {centre})")
    event.add(
        "description",
        f"{who} at centre {centre} have this to do for {name}"
        f"{f' ({element})' if element else ''}; {deadline:%-d %B %Y} is the last day on which "
        f"acting is in time. See them on the Detail: {url}",
    )
    event.add("url", url)
    return event
