import pytest

from ..factories import LearnerFactory, MembershipFactory, UserFactory
from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a perfectly long passphrase"


def test_an_administrator_uploads_previews_confirms_and_sees_other_cab(new_page, centre, tmp_path):
    learner = LearnerFactory(centre=centre)
    admin = UserFactory(username="admin@la.example.org")
    admin.set_password(PASSWORD)
    admin.save()
    MembershipFactory(user=admin, centre=centre, role="administrator")
    upload = tmp_path / "quals.csv"
    upload.write_text(
        "uln,qan,component,awarding_body,title\n"
        f"{learner.uln},500/1234/5,PROJECT,AQA,Extended Project\n"
    )

    page = new_page()
    page.goto("/accounts/login/?next=/nonedexcel/")
    page.get_by_label("Username").fill("admin@la.example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("CSV file").set_input_files(str(upload))
    page.get_by_role("button", name="Check the file").click()

    assert page.get_by_text("will be recorded when you confirm").is_visible()
    screenshot(page, "non-edexcel-preview")
    page.get_by_role("button", name="Confirm and record 1 qualification").click()
    assert page.get_by_text("Recorded 1 non-Edexcel qualification.").is_visible()

    page.get_by_role("link", name=learner.uln).click()
    flag = page.locator('[data-component="PROJECT"][data-kind="entry"]').first
    assert flag.get_attribute("data-flag") == "other-cab"
    assert "Other awarding body" in flag.inner_text()
