"""The weekly digest as a mail program shows it (issue 20): its HTML part, with the demo's
news, fits 1280 px and 320 px without scrolling sideways and passes axe-core. (Its links
are followed in tests/test_digest.py.)"""

import datetime
import json
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Centre
from screens import digest

from .conftest import screenshot
from .test_every_page_state import AXE, WIDTHS, problems_with

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not AXE.exists(), reason="axe-core not installed (npm ci)"),
]


def _next_monday_morning() -> datetime.datetime:
    now = timezone.localtime(timezone.now(), ZoneInfo("Europe/London"))
    monday = now.date() + datetime.timedelta(days=(7 - now.weekday()) % 7 or 7)
    return datetime.datetime.combine(monday, digest.SENT_AT, tzinfo=now.tzinfo)


def test_the_digest_mail_renders_at_every_width(browser, demo_delivery):
    centre = Centre.objects.order_by("number").first()
    demo_delivery("admin@la.example.org", centre, "administrator", email="admin@la.example.org")

    digest.send_weekly_digests(_next_monday_morning())
    (message,) = [m for m in mail.outbox if m.to == ["admin@la.example.org"]]
    ((html, _),) = message.alternatives
    assert f"({centre.number})</h2>" in html
    assert "<table>" in html and "learner" in message.body

    failures = {}
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.set_content(html)
        if width == WIDTHS[0]:
            screenshot(page, "digest-mail")
        if found := problems_with(page):
            failures[f"digest at {width} px"] = found
        context.close()
    assert not failures, json.dumps(failures, indent=1)
