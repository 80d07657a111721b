"""The Overview read at 1366 px (issue 19): the learner stays in view while the flags scroll
sideways, the header while the rows scroll down, and each flag pair reads in words."""

import pytest

from accounts.models import Centre

from .conftest import PASSWORD, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_learner_and_the_header_stay_in_view(new_page, demo_delivery):
    centre = Centre.objects.order_by("number").first()
    demo_delivery("viewer@example.org", centre, "viewer")
    page = new_page()
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto("/accounts/login/?next=/overview/")
    page.get_by_label("Username").fill("viewer@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    wrap = page.locator(".table-wrap--tall")
    first_row = page.locator(".overview-table tbody tr").first
    learner = first_row.locator("th[scope=row]")
    uln = first_row.locator("td").first

    wrap.evaluate("element => { element.scrollLeft = element.scrollWidth; }")
    box, area = learner.bounding_box(), wrap.bounding_box()
    assert wrap.evaluate("element => element.scrollLeft") > 0  # it did scroll sideways
    assert area["x"] <= uln.bounding_box()["x"] < area["x"] + 10
    assert box["x"] + box["width"] <= area["x"] + area["width"]
    assert page.get_by_role("columnheader", name="Points (grade)").is_visible()

    wrap.evaluate("element => { element.scrollTop = element.scrollHeight; }")
    header = page.locator(".overview-table thead th").first.bounding_box()
    assert area["y"] <= header["y"] < area["y"] + 5  # still at the top of the table
    screenshot(page, "overview-scrolled")

    cell = first_row.locator("td", has=page.locator('[data-kind="entry"]')).first
    spoken = cell.aria_snapshot()
    assert "Entry:" in spoken and "Assessment:" in spoken, spoken
