"""Live chat, the support team's side: the inbox, claiming, replying and closing."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse

from support import chat
from support.models import Conversation

from .factories import LearnerFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
MORNING = datetime.datetime(2024, 6, 3, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def officer(db):
    """A support officer: the chat permission, no centre role, not awarding-body staff."""
    user = UserFactory(username="officer", first_name="Olu", last_name="Officer")
    user.user_permissions.add(Permission.objects.get(codename="answer_chat"))
    return user


@pytest.fixture
def colleague(db):
    user = UserFactory(username="colleague", first_name="Cal", last_name="Colleague")
    user.user_permissions.add(Permission.objects.get(codename="answer_chat"))
    return user


def opened_at(minutes: int, user, subject: str, **kwargs) -> Conversation:
    with time_machine.travel(MORNING + datetime.timedelta(minutes=minutes), tick=False):
        return chat.open_conversation(user, subject, "Hello", **kwargs)


def said_at(minutes: int, conversation: Conversation, author, body: str = "More") -> None:
    with time_machine.travel(MORNING + datetime.timedelta(minutes=minutes), tick=False):
        chat.post_message(conversation, author, body)


def inbox(client) -> dict[str, list[str]]:
    response = client.get(reverse("support_inbox"))
    assert response.status_code == 200
    return {s["id"]: [c.subject for c in s["list"].page] for s in response.context["sections"]}


# --- who may use the inbox ----------------------------------------------------------------


def test_it_refuses_the_inbox_to_anyone_without_the_chat_permission(
    client, viewer, administrator, no_centre
):
    plain_staff = UserFactory(username="plainstaff", is_staff=True)  # staff, not superuser
    for user in (viewer, administrator, no_centre, plain_staff):
        client.force_login(user)
        assert client.get(reverse("support_inbox")).status_code == 403


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(reverse("support_inbox"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


def test_it_opens_the_inbox_to_officers_and_superusers(client, officer, staff):
    for user in (officer, staff):
        client.force_login(user)
        assert client.get(reverse("support_inbox")).status_code == 200


def test_it_shows_an_officer_every_users_conversation(client, officer, viewer, other_viewer):
    ours = chat.open_conversation(viewer, "Ours", "Hello")
    theirs = chat.open_conversation(other_viewer, "Theirs", "Hello")
    client.force_login(officer)

    for conversation in (ours, theirs):
        url = reverse("support_conversation", args=[conversation.pk])
        assert client.get(url).status_code == 200


def test_it_does_not_let_a_user_claim_their_own_conversation(client, viewer):
    conversation = chat.open_conversation(viewer, "Mine", "Hello")
    client.force_login(viewer)

    response = client.post(reverse("support_claim", args=[conversation.pk]))

    assert response.status_code == 403
    assert Conversation.objects.get().status == Conversation.Status.OPEN


# --- the lists ----------------------------------------------------------------------------


def test_it_lists_whoever_has_waited_longest_first(client, officer, viewer, administrator):
    later = opened_at(10, viewer, "Later")
    earlier = opened_at(5, administrator, "Earlier")
    opened_at(20, viewer, "Latest")
    # A second message does not move a waiting user down the list.
    said_at(30, earlier, administrator)
    client.force_login(officer)

    assert inbox(client)["open"] == ["Earlier", "Later", "Latest"]

    chat.claim(later, officer)
    chat.claim(earlier, officer)
    lists = inbox(client)
    assert (lists["open"], lists["waiting"]) == (["Latest"], ["Earlier", "Later"])


def test_it_moves_a_conversation_between_the_lists(client, officer, viewer):
    conversation = opened_at(0, viewer, "Award date")
    client.force_login(officer)
    assert inbox(client)["open"] == ["Award date"]

    client.post(reverse("support_claim", args=[conversation.pk]))
    assert inbox(client)["waiting"] == ["Award date"]  # claimed, the user wrote last

    said_at(5, conversation, officer, "Which learner?")
    assert inbox(client)["answered"] == ["Award date"]

    said_at(10, conversation, viewer, "This one")
    conversation.refresh_from_db()
    assert conversation.waiting_since == MORNING + datetime.timedelta(minutes=10)
    assert inbox(client)["waiting"] == ["Award date"]

    client.post(reverse("support_close", args=[conversation.pk]))
    lists = inbox(client)
    assert lists == {"open": [], "waiting": [], "answered": [], "closed": ["Award date"]}


def test_it_claims_an_unclaimed_conversation_when_an_officer_replies(client, officer, viewer):
    conversation = chat.open_conversation(viewer, "Award date", "Hello")
    client.force_login(officer)

    client.post(reverse("support_reply", args=[conversation.pk]), {"body": "Hello, I'm Olu"})

    conversation.refresh_from_db()
    assert (conversation.status, conversation.claimed_by) == ("claimed", officer)
    assert conversation.messages.last().from_support


def test_it_leaves_a_claimed_conversation_with_the_first_officer(
    client, officer, colleague, viewer
):
    conversation = chat.open_conversation(viewer, "Award date", "Hello")
    assert chat.claim(conversation, officer)
    client.force_login(colleague)

    response = client.post(reverse("support_claim", args=[conversation.pk]), follow=True)

    assert "already claimed" in response.content.decode()
    assert Conversation.objects.get().claimed_by == officer


def test_it_treats_an_officers_message_in_their_own_conversation_as_a_user_message(client, officer):
    conversation = chat.open_conversation(officer, "My own question", "Hello")

    chat.post_message(conversation, officer, "Anyone?")

    assert not conversation.messages.filter(from_support=True).exists()
    assert Conversation.objects.get().status == Conversation.Status.OPEN


def test_it_shows_officers_who_wrote_each_message(client, officer, viewer):
    conversation = chat.open_conversation(viewer, "Award date", "Hello")
    chat.post_message(conversation, officer, "Hi")
    client.force_login(officer)

    data = client.get(reverse("support_messages", args=[conversation.pk])).json()

    assert [(m["author"], m["mine"]) for m in data["messages"]] == [
        ("Alex Example", False),
        ("You", True),
    ]
    page = client.get(reverse("support_conversation", args=[conversation.pk])).content.decode()
    assert viewer.email in page  # to answer by email out of hours


# --- learners named in conversations ------------------------------------------------------


def test_it_names_learners_in_the_inbox_only_where_the_officer_can_see_them(
    client, officer, staff, viewer, other_viewer, centre, other_centre
):
    mine = LearnerFactory(centre=centre, forename="Priya", surname="Patel")
    theirs = LearnerFactory(centre=other_centre, forename="Tom", surname="Other")
    chat.open_conversation(viewer, "About one", "Hello", mine.uln)
    chat.open_conversation(other_viewer, "About another", "Hello", theirs.uln)
    # The officer holds a role on one centre only.
    MembershipFactory(user=officer, centre=centre, role="viewer")

    client.force_login(officer)
    text = client.get(reverse("support_inbox")).content.decode()
    assert "Priya Patel" in text and reverse("learner_record", args=[mine.uln]) in text
    assert "Tom" not in text and theirs.uln not in text
    assert "a learner at another centre" in text

    client.force_login(staff)  # awarding-body staff see every centre
    text = client.get(reverse("support_inbox")).content.decode()
    assert "Priya Patel" in text and "Tom Other" in text


@pytest.fixture
def support_staff(db):
    """Awarding-body support staff: a staff account that answers chats."""
    user = UserFactory(username="support", first_name="Sue", last_name="Support", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="answer_chat"))
    return user


def test_support_staff_see_how_many_wait_on_every_page(client, support_staff, viewer, centre):
    opened_at(0, viewer, "Award date")
    opened_at(5, viewer, "Marks")
    client.force_login(support_staff)

    text = client.get(reverse("help")).content.decode()

    assert (
        f'href="{reverse("support_inbox")}" data-inbox-waiting="2">Support inbox (2 waiting)'
        in text
    )


def test_others_see_the_chat_link_and_no_count(client, viewer):
    client.force_login(viewer)

    text = client.get(reverse("help")).content.decode()

    assert "data-inbox-waiting" not in text
    assert "Chat with support" in text


def test_the_inbox_says_which_centres_each_person_works_with(
    client, support_staff, viewer, no_centre, centre
):
    opened_at(0, viewer, "Award date")
    opened_at(1, no_centre, "How do I get access?")
    client.force_login(support_staff)

    text = client.get(reverse("support_inbox")).content.decode()

    assert "12345 Northgate College (viewer)" in text
    assert "No role at a centre" in text
