import pytest

from ..builders import learner_with_everything
from ..factories import MembershipFactory, SeriesFactory, UserFactory
from .conftest import ARTIFACTS, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a perfectly long passphrase"


def test_an_administrator_edits_the_award_date_and_sees_it_in_the_history(new_page, centre):
    learner = learner_with_everything(centre)
    SeriesFactory(code="2011-06", name="June 2011")
    admin = UserFactory(username="admin@la.example.org")
    admin.set_password(PASSWORD)
    admin.save()
    MembershipFactory(user=admin, centre=centre, role="administrator")

    page = new_page()
    page.goto(f"/accounts/login/?next=/learners/{learner.uln}/")
    page.get_by_label("Username").fill("admin@la.example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("heading", name="Individual Learner Record").is_visible()
    screenshot(page, "learner-record")

    # Printed, the record keeps its content and drops navigation and forms.
    page.emulate_media(media="print")
    assert page.locator(".site-nav").is_hidden()
    assert page.get_by_role("button", name="Save award date").is_hidden()
    assert page.get_by_role("heading", name="Checklist of actions").is_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    (ARTIFACTS / "learner-record.pdf").write_bytes(pdf)
    page.emulate_media(media="screen")

    page.get_by_label("Anticipated award date").select_option("2011-06")
    page.get_by_role("button", name="Save award date").click()

    assert page.get_by_text("The anticipated award date was changed.").is_visible()
    assert page.locator("[data-award-series]").inner_text() == "June 2011"
    history = page.locator("#history + .table-wrap table")
    assert "Anticipated award date changed" in history.inner_text()
    assert "award series: June 2011" in history.inner_text()  # named, not coded


def test_an_invalid_qan_lands_on_its_error_summary_focused(new_page, centre):
    learner = learner_with_everything(centre)
    admin = UserFactory(username="admin@la.example.org")
    admin.set_password(PASSWORD)
    admin.save()
    MembershipFactory(user=admin, centre=centre, role="administrator")
    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/accounts/login/?next=/learners/{learner.uln}/")
    page.get_by_label("Username").fill("admin@la.example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_label("QAN", exact=True).fill("not a QAN")
    page.get_by_role("button", name="Record qualification").click()

    summary = page.locator(".error-summary")
    assert page.title().startswith("Error:")
    assert summary.evaluate("element => element === document.activeElement")
    box = summary.bounding_box()
    assert 0 <= box["y"] < 800  # in view, not 4,000 px below
    assert "QAN" in summary.inner_text()
