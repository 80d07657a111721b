import re

import pytest
from django.core import mail

from accounts.models import Membership

from ..factories import CentreFactory, MembershipFactory, UserFactory
from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a perfectly long passphrase"


def sign_in(page, username, password):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_it_takes_a_consortium_manager_from_registration_to_seeing_a_centre(new_page, live_server):
    centre = CentreFactory(number="12345", name="Northgate College")
    officer = UserFactory(username="northgate", email="exams@northgate.example.org")
    officer.set_password(PASSWORD)
    officer.save()
    MembershipFactory(user=officer, centre=centre, role="administrator", is_centre_user=True)

    # Register.
    manager = new_page()
    manager.goto("/accounts/register/")
    manager.get_by_label("First name").fill("Robin")
    manager.get_by_label("Last name").fill("Consort")
    manager.get_by_label("Email").fill("robin@consortium.example.org")
    manager.get_by_label("Organisation").fill("Northshire Consortium")
    manager.get_by_label("Password", exact=True).fill(PASSWORD)
    manager.get_by_label("Password again").fill(PASSWORD)
    manager.get_by_role("button", name="Register").click()
    assert manager.get_by_role("heading", name="Check your email").is_visible()

    # Confirm the address from the email, sign in, see why there is no data, request access.
    link = re.search(r"http://\S+", mail.outbox[-1].body).group(0)
    manager.goto(link.replace("http://127.0.0.1:8000", live_server.url))
    manager.get_by_label("Password").fill(PASSWORD)
    manager.get_by_role("button", name="Confirm my email address").click()
    sign_in(manager, "robin@consortium.example.org", PASSWORD)
    assert manager.get_by_role("heading", name="Why you see no learners yet").is_visible()
    manager.get_by_role("link", name="Request access to a centre").click()
    manager.get_by_label("Centre number").fill("12345")
    manager.get_by_label("Viewer").check()
    manager.get_by_role("button", name="Send request").click()
    assert manager.get_by_text("Your request has gone to centre 12345").is_visible()

    # The centre user approves it on Manage users.
    centre_page = new_page()
    sign_in(centre_page, "northgate", PASSWORD)
    assert centre_page.get_by_text("waiting for a decision").is_visible()
    centre_page.get_by_role("link", name="Manage users").click()
    screenshot(centre_page, "manage-users")
    centre_page.get_by_role("button", name="Approve robin@consortium.example.org").click()
    assert centre_page.get_by_text("The request was approved.").is_visible()

    # The new viewer sees the centre.
    manager.goto("/")
    row = manager.get_by_role("row", name=re.compile("Northgate College"))
    assert row.get_by_text("Viewer").is_visible()
    screenshot(manager, "home-viewer")
    assert Membership.objects.get(user__email="robin@consortium.example.org").role == "viewer"
