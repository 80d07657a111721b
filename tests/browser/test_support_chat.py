"""Live chat in two browsers: the user sees the support officer's reply without reloading."""

import re

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from support.models import Conversation

from ..factories import CentreFactory, LearnerFactory, MembershipFactory, UserFactory
from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a perfectly long passphrase"


def user(username: str, **kwargs):
    account = UserFactory(username=username, **kwargs)
    account.set_password(PASSWORD)
    account.save()
    return account


def sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_it_shows_the_officers_reply_on_the_users_page_without_reloading(new_page):
    centre = CentreFactory(number="12345", name="Northgate College")
    learner = LearnerFactory(centre=centre, forename="Priya", surname="Patel")
    centre_user = user("northgate", email="exams@northgate.example.org")
    MembershipFactory(user=centre_user, centre=centre, role="administrator", is_centre_user=True)
    # The flush before this test removed the permission rows too; post_migrate recreates them.
    officer = user("officer", first_name="Olu", last_name="Officer")
    officer.user_permissions.add(Permission.objects.get(codename="answer_chat"))

    # The centre user opens a conversation about one of their learners.
    centre_page = new_page()
    sign_in(centre_page, "northgate")
    centre_page.get_by_role("link", name="Chat with support").click()
    centre_page.get_by_label("Subject").fill("Award date will not save")
    centre_page.get_by_label("Learner's ULN (optional)").fill(learner.uln)
    centre_page.get_by_label("Your message").fill("The award date for this learner will not save.")
    centre_page.get_by_role("button", name="Start the conversation").click()
    expect(centre_page.get_by_role("heading", name="Award date will not save")).to_be_visible()
    expect(centre_page.get_by_role("link", name="Priya Patel")).to_be_visible()
    # Set in this page only: a reload would lose it.
    centre_page.evaluate("window.notReloaded = true")

    # A support officer, in another browser, claims it and replies.
    officer_page = new_page()
    sign_in(officer_page, "officer")
    officer_page.goto("/support/inbox/")
    officer_page.get_by_role("link", name="Award date will not save").click()
    expect(officer_page.get_by_text("a learner at another centre")).to_be_visible()
    officer_page.get_by_role("button", name="Claim this conversation").click()
    expect(officer_page.get_by_text("You have claimed this conversation.")).to_be_visible()
    officer_page.get_by_label("Your reply").fill("Which series did you choose?")
    officer_page.get_by_role("button", name="Send").click()
    officer_log = officer_page.get_by_role("log", name="Messages")
    expect(officer_log.get_by_text("Which series did you choose?")).to_be_visible(timeout=10_000)

    # The reply appears on the user's page by itself.
    log = centre_page.get_by_role("log", name="Messages")
    expect(log.get_by_text("Which series did you choose?")).to_be_visible(timeout=10_000)
    expect(log.get_by_text("Olu Officer (support team)")).to_be_visible()
    expect(centre_page.get_by_text(re.compile("With a support officer"))).to_be_visible()
    assert centre_page.evaluate("window.notReloaded") is True

    # The user answers; the officer's page shows it, also without reloading.
    officer_page.evaluate("window.notReloaded = true")
    centre_page.get_by_label("Your reply").fill("June 2011, but it goes back to Not set.")
    centre_page.get_by_role("button", name="Send").click()
    expect(log.get_by_text("June 2011, but it goes back to Not set.")).to_be_visible()
    expect(centre_page.get_by_label("Your reply")).to_have_value("")
    expect(officer_log.get_by_text("June 2011, but it goes back to Not set.")).to_be_visible(
        timeout=10_000
    )
    assert officer_page.evaluate("window.notReloaded") is True
    screenshot(centre_page, "support-chat-user")
    screenshot(officer_page, "support-chat-officer")

    # The officer closes it; the user's page notices and stops offering a reply.
    officer_page.get_by_role("button", name="Close the conversation").click()
    expect(centre_page.get_by_text("This conversation is closed.")).to_be_visible(timeout=10_000)
    expect(centre_page.get_by_label("Your reply")).to_be_hidden()
    assert Conversation.objects.get().messages.count() == 3


def test_the_inbox_brings_itself_up_to_date(new_page):
    centre = CentreFactory(number="12345", name="Northgate College")
    asker = user("asker", email="asker@example.org", first_name="Ash", last_name="Asker")
    MembershipFactory(user=asker, centre=centre, role="viewer")
    officer = user("officer", first_name="Olu", last_name="Officer", is_staff=True)
    officer.user_permissions.add(Permission.objects.get(codename="answer_chat"))
    page = new_page()
    page.clock.install()
    sign_in(page, "officer")
    page.goto("/support/inbox/")
    expect(page.get_by_text("Support inbox (0 waiting)")).to_be_visible()

    from support import chat

    chat.open_conversation(asker, "Marks will not submit", "Help, please.")
    page.clock.run_for(25_000)

    expect(page.get_by_role("link", name="Marks will not submit")).to_be_visible()
    expect(page.get_by_text("Support inbox (1 waiting)")).to_be_visible()
    expect(page.get_by_text("12345 Northgate College (viewer)")).to_be_visible()
