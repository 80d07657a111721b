"""Issue 17, point 5: the chat has limits for everyone, and a transcript cannot be forged."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from support import chat
from support.models import Conversation, Message

from .factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(db):
    user = UserFactory(username="officer", first_name="Olu", last_name="Officer")
    user.user_permissions.add(Permission.objects.get(codename="answer_chat"))
    return user


def start(client, subject="Help"):
    return client.post(reverse("support_start"), {"subject": subject, "body": "Please help"})


def test_a_person_has_only_a_few_conversations_open_at_once(client, viewer):
    client.force_login(viewer)
    for n in range(settings.CHAT_OPEN_CONVERSATIONS):
        assert start(client, f"Question {n}").status_code == 302

    refused = start(client, "One more")

    assert refused.status_code == 400
    assert "already have 3 conversations open" in refused.content.decode()
    chat.close(Conversation.objects.filter(user=viewer).first(), viewer)
    assert start(client, "Now there is room").status_code == 302


def test_a_person_sends_only_so_many_messages_an_hour(client, viewer):
    client.force_login(viewer)
    start(client)
    conversation = Conversation.objects.get()
    url = reverse("support_reply", args=[conversation.pk])
    limit = int(settings.THROTTLE_RATES["chat-message"][1].split("/")[0])
    for n in range(limit):
        assert client.post(url, {"body": f"message {n}"}).status_code == 302

    form = client.post(url, {"body": "one too many"})
    script = client.post(url, {"body": "one too many"}, headers={"Accept": "application/json"})

    assert form.status_code == script.status_code == 429
    assert "Try again in" in form.content.decode()
    assert not Message.objects.filter(body="one too many").exists()


def test_the_inbox_is_paged_with_its_true_count(client, officer, viewer):
    now = timezone.now()
    Conversation.objects.bulk_create(
        Conversation(user=viewer, subject=f"Question {n:03}", waiting_since=now) for n in range(205)
    )
    client.force_login(officer)

    first = client.get(reverse("support_inbox"))
    page = first.content.decode()

    assert 'Open: not claimed yet <span class="muted">(205)</span>' in page
    assert page.count("Question ") == chat.INBOX_PAGE
    assert "Showing 1 to 50 of 205." in page
    last = client.get(reverse("support_inbox"), {"open_page": "5"}).content.decode()
    assert last.count("Question ") == 5


def test_a_poll_answers_a_bounded_amount_and_says_more_are_waiting(client, viewer):
    client.force_login(viewer)
    start(client)
    conversation = Conversation.objects.get()
    Message.objects.bulk_create(
        Message(conversation=conversation, author=viewer, body="é" * 4000) for _ in range(200)
    )

    first = client.get(reverse("support_messages", args=[conversation.pk]), {"after": 0})

    data = first.json()
    assert len(first.content) < 3 * chat.POLL_CHARACTERS
    assert data["more"] is True and 0 < len(data["messages"]) <= chat.POLL_LIMIT
    last_id = data["messages"][-1]["id"]
    rest = client.get(reverse("support_messages", args=[conversation.pk]), {"after": last_id})
    assert rest.json()["messages"][0]["id"] > last_id


def test_the_page_shows_the_latest_messages_and_says_how_many_earlier(client, viewer):
    client.force_login(viewer)
    start(client)
    conversation = Conversation.objects.get()
    Message.objects.bulk_create(
        Message(conversation=conversation, author=viewer, body=f"line {n}") for n in range(250)
    )

    page = client.get(reverse("support_conversation", args=[conversation.pk])).content.decode()

    assert "line 249" in page and "line 48<" not in page
    assert "51 earlier messages are not shown" in page


def test_a_transcript_quotes_every_line_so_none_passes_for_a_support_reply(client, viewer, officer):
    client.force_login(viewer)
    start(client)
    conversation = Conversation.objects.get()
    forged = "Thanks.\n\nOlu Officer (support team), 1 Dec, 10:00:\nSend us your password."
    chat.post_message(conversation, viewer, forged)
    chat.post_message(conversation, officer, "We never ask for passwords.")
    chat.close(conversation, viewer)

    client.post(reverse("support_transcript", args=[conversation.pk]))

    [message] = mail.outbox
    assert "  | Olu Officer (support team), 1 Dec, 10:00:" in message.body
    assert "\nOlu Officer (support team), 1 Dec, 10:00:" not in message.body
    assert "  | We never ask for passwords." in message.body


def test_a_transcript_is_mailed_only_a_few_times_an_hour(client, viewer):
    client.force_login(viewer)
    start(client)
    conversation = Conversation.objects.get()
    chat.close(conversation, viewer)
    url = reverse("support_transcript", args=[conversation.pk])
    limit = int(settings.THROTTLE_RATES["chat-transcript"][1].split("/")[0])
    for _ in range(limit):
        client.post(url)

    assert client.post(url).status_code == 429
    assert len(mail.outbox) == limit


def test_a_transcript_holds_at_most_the_latest_messages(client, viewer, monkeypatch):
    monkeypatch.setattr(chat, "TRANSCRIPT_MESSAGES", 10)
    client.force_login(viewer)
    start(client)
    conversation = Conversation.objects.get()
    Message.objects.bulk_create(
        Message(conversation=conversation, author=viewer, body=f"line {n}") for n in range(30)
    )
    chat.close(conversation, viewer)

    client.post(reverse("support_transcript", args=[conversation.pk]))

    [message] = mail.outbox
    assert "The first 21 messages are left out" in message.body
    assert "line 29" in message.body and "line 19" not in message.body
