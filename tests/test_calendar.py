"""Deadlines in the calendar people use (issue 20, point 4): a secret, revocable link."""

import datetime
import re

import icalendar
import pytest
from django.urls import reverse

from accounts.models import CalendarLink
from flags.models import DetailLine

from .builders import snapshot_of

pytestmark = pytest.mark.django_db


def _make_link(client) -> str:
    page = client.post(reverse("calendar_link"), {"action": "make"}).content.decode()
    return re.search(r'value="(http://testserver/calendar/[^"]+\.ics)"', page).group(1)


@pytest.fixture
def deadlines(centre, other_centre):
    snapshot_of(centre, [(2, 0), (1, 0)])  # PL lines due today and in a week
    run = DetailLine.objects.order_by("run").first().run
    DetailLine.objects.create(
        run=run,
        uln="9999999990",
        centre=other_centre,
        surname="Elsewhere",
        forename="Eve",
        line="ENG",
        level="A",
        component="PL",
        component_order=0,
        element="Unit at another centre",
        issue="Not ours.",
        deadline=datetime.date.today(),
        severity="action",
        flag="missing",
    )


def test_it_gives_the_centres_deadlines_with_counts_and_never_a_name(client, viewer, deadlines):
    client.force_login(viewer)
    url = _make_link(client)
    client.logout()  # a calendar program has no session

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    summaries = sorted(str(e["SUMMARY"]) for e in events)
    assert summaries == [
        "Last day: Principal learning – Unit 0 (2 learners, 12345)",
        "Last day: Principal learning – Unit 1 (1 learner, 12345)",
    ]
    assert all("/detail/?centre=12345&component=PL" in str(e["URL"]) for e in events)
    text = response.content.decode()
    assert "Snapshot" not in text and "Sam" not in text  # no learner named
    assert "Elsewhere" not in text and "another centre" not in text


def test_a_new_link_ends_the_old_one_and_stopping_ends_both(client, viewer, deadlines):
    client.force_login(viewer)
    first = _make_link(client)
    second = _make_link(client)

    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    assert CalendarLink.objects.filter(user=viewer).count() == 1
    shown = client.get(reverse("calendar_link")).content.decode()
    assert second not in shown  # shown once, when made

    client.post(reverse("calendar_link"), {"action": "stop"})

    assert client.get(second).status_code == 404
    assert not CalendarLink.objects.exists()


def test_guessing_links_is_limited(client, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "calendar": ("3/h", None)}
    statuses = [
        client.get(reverse("calendar_feed", args=[f"guess{n}"])).status_code for n in range(5)
    ]

    assert statuses[:3] == [404, 404, 404]
    assert statuses[3:] == [429, 429]


def test_an_address_that_guessed_too_often_waits_even_with_a_right_link(
    client, viewer, deadlines, settings
):
    client.force_login(viewer)
    url = _make_link(client)
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "calendar": ("2/h", None)}
    for n in range(2):
        client.get(reverse("calendar_feed", args=[f"guess{n}"]))

    assert client.get(url).status_code == 429


def test_the_link_never_reaches_the_logs():
    from learnertracking.logs import scrub

    assert scrub("GET /calendar/AbC-123_xyz.ics HTTP/1.1") == "GET /calendar/[token].ics HTTP/1.1"
