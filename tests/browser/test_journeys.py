"""End-to-end journeys in Chromium: a centre user's day, a viewer, an outsider, the keyboard.

Screenshots of each main page land in test-artifacts/.
"""

import re

import pytest

from accounts.models import Centre
from learners.models import Learner

from .conftest import PASSWORD, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(demo_delivery):
    first, second = Centre.objects.order_by("number")[:2]
    return {
        "centre": first,
        "other": second,
        "officer": demo_delivery("officer@example.org", first, "administrator", centre_user=True),
        "viewer": demo_delivery("viewer@example.org", first, "viewer"),
        "outsider": demo_delivery("outsider@example.org", second, "viewer"),
    }


def sign_in(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_centre_users_journey(new_page, site, tmp_path):
    page = new_page()
    sign_in(page, "officer@example.org")
    screenshot(page, "journey-home")

    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Overview").click()
    page.get_by_label("Level").select_option("A")
    page.get_by_role("button", name="Apply filters").click()
    assert "level=A" in page.url
    levels = page.locator("tbody tr td:nth-child(5)").all_inner_texts()
    assert levels and set(levels) == {"Advanced"}
    screenshot(page, "journey-overview-filtered")

    page.locator("thead").get_by_role("link", name=re.compile("^Learner")).click()  # by name
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download these learners as CSV").click()
    exported = download_info.value.path().read_text(encoding="utf-8-sig")
    assert exported.splitlines()[0].startswith(
        "uln,surname,forename,centre,line,level,award_series"
    )
    assert len(exported.splitlines()) == len(levels) + 1 or len(levels) == 50

    uln = page.locator("tbody tr td:first-child a").first.inner_text()
    page.locator("tbody tr td:first-child a").first.click()
    assert page.get_by_role("heading", name="Individual Learner Record").is_visible()
    page.get_by_label("Anticipated award date").select_option(index=1)
    page.get_by_role("button", name="Save award date").click()
    assert page.get_by_text("The anticipated award date was changed.").is_visible()

    page.get_by_label("QAN").fill("500/1234/5")
    page.get_by_label("Component", exact=True).select_option("PROJECT")
    page.get_by_label("Awarding body").fill("AQA")
    page.get_by_role("button", name="Record qualification").click()
    assert page.get_by_text("The non-Edexcel qualification was recorded.").is_visible()
    flag = page.locator('[data-component="PROJECT"][data-kind="entry"]').first
    assert flag.get_attribute("data-flag") in ("other-cab", "eligible", "ineligible", "complete")
    screenshot(page, "journey-learner-record")
    assert Learner.objects.get(uln=uln).award_series_edited

    nav.get_by_role("link", name="Detail").click()
    assert page.get_by_role("heading", name="Diploma Learner Detail").is_visible()
    screenshot(page, "journey-detail")


def test_a_viewer_sees_everything_and_can_change_nothing(new_page, site):
    uln = Learner.objects.filter(centre=site["centre"]).order_by("uln").first().uln
    page = new_page()
    sign_in(page, "viewer@example.org")
    page.goto(f"/learners/{uln}/")

    assert page.get_by_role("heading", name="Individual Learner Record").is_visible()
    assert page.get_by_role("button", name="Save award date").count() == 0
    assert page.get_by_role("button", name="Record qualification").count() == 0
    page.goto(f"/centres/{site['centre'].number}/users/")
    assert page.get_by_role("heading", name="You cannot do this").is_visible()


def test_an_outsider_sees_nothing_of_another_centre(new_page, site):
    uln = Learner.objects.filter(centre=site["centre"]).order_by("uln").first().uln
    page = new_page()
    sign_in(page, "outsider@example.org")

    response = page.goto(f"/learners/{uln}/")
    assert response.status == 404
    page.goto(f"/search/?q={uln}")
    assert page.get_by_text("No learner at your centres").is_visible()
    page.goto("/overview/")
    shown = page.locator("tbody tr td:first-child a").all_inner_texts()
    mine = set(Learner.objects.filter(centre=site["other"]).values_list("uln", flat=True))
    assert shown and set(shown) <= mine


def test_the_keyboard_alone_signs_in_and_reaches_the_content(new_page, site):
    page = new_page()
    page.goto("/help/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.outerHTML")
    assert "Skip to main content" in focused, focused
    # On screen once focused (it hides off-screen otherwise).
    assert page.evaluate("document.activeElement.getBoundingClientRect().left") >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    page.goto("/accounts/login/")  # the username field has the focus
    # Chromium applies `autofocus` at its next rendering, which may come after `goto` returns.
    page.wait_for_function("document.activeElement.name === 'username'", timeout=5000)
    page.keyboard.type("officer@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/accounts/" not in url)
    assert page.get_by_role("heading", name="Your centres").is_visible()
    # Focus is visible: the outline style applies to a focused link.
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
