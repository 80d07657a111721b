"""Live chat, the user's side: opening a conversation, the messages endpoint, the transcript,
the office hours, learners named in a conversation, and deleting old conversations."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse

from accounts.models import Membership
from learnertracking.celery import app as celery_app
from support import chat
from support.hours import office_hours
from support.models import Conversation, Message
from support.tasks import delete_old_conversations

from .factories import LearnerFactory, UserFactory, uln_for

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def officer(db):
    """A support officer: the chat permission, no centre role, not awarding-body staff."""
    user = UserFactory(username="officer", first_name="Olu", last_name="Officer")
    user.user_permissions.add(Permission.objects.get(codename="answer_chat"))
    return user


@pytest.fixture
def learners(centre, other_centre):
    return {
        "mine": LearnerFactory(centre=centre, forename="Priya", surname="Patel"),
        "theirs": LearnerFactory(centre=other_centre, forename="Tom", surname="Other"),
    }


def start(client, **data):
    return client.post(reverse("support_start"), {"subject": "Help", "body": "Hello", **data})


def page(client, conversation):
    return client.get(reverse("support_conversation", args=[conversation.pk]))


def poll(client, conversation, after=0):
    url = reverse("support_messages", args=[conversation.pk])
    return client.get(url, {"after": after}, **JSON)


# --- who sees which conversation ----------------------------------------------------------


def test_it_shows_a_conversation_to_its_owner_and_404_to_anyone_else(
    client, viewer, administrator, other_viewer
):
    conversation = chat.open_conversation(viewer, "Award date", "It will not save")
    for outsider in (administrator, other_viewer):
        client.force_login(outsider)
        assert page(client, conversation).status_code == 404
        assert poll(client, conversation).status_code == 404
        reply = client.post(reverse("support_reply", args=[conversation.pk]), {"body": "Hi"})
        assert reply.status_code == 404
        close = client.post(reverse("support_close", args=[conversation.pk]))
        assert close.status_code == 404
    assert Message.objects.count() == 1
    assert Conversation.objects.get().status == Conversation.Status.OPEN

    client.force_login(viewer)
    response = page(client, conversation)
    assert response.status_code == 200
    assert "It will not save" in response.content.decode()


def test_it_sends_anonymous_visitors_to_sign_in(client, viewer):
    conversation = chat.open_conversation(viewer, "Award date", "It will not save")
    for url in (
        reverse("support_start"),
        reverse("support_conversation", args=[conversation.pk]),
        reverse("support_messages", args=[conversation.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")


def test_it_lists_only_the_users_own_conversations(client, viewer, administrator):
    chat.open_conversation(viewer, "Mine", "Hello")
    chat.open_conversation(administrator, "Someone else's", "Hello")
    client.force_login(viewer)

    response = client.get(reverse("support_start"))

    assert [c.subject for c in response.context["conversations"]] == ["Mine"]
    assert "Someone else&#x27;s" not in response.content.decode()


def test_it_links_to_the_chat_from_every_page_for_signed_in_users(client, viewer):
    client.force_login(viewer)
    assert reverse("support_start") in client.get(reverse("contact")).content.decode()
    client.logout()
    assert reverse("support_start") not in client.get(reverse("contact")).content.decode()


# --- the message flow ---------------------------------------------------------------------


def test_it_carries_a_conversation_from_opening_to_the_emailed_transcript(client, viewer, officer):
    client.force_login(viewer)
    response = start(client, subject="Award date", body="The award date will not save")
    conversation = Conversation.objects.get()
    assert response["Location"] == reverse("support_conversation", args=[conversation.pk])
    assert (conversation.user, conversation.status) == (viewer, Conversation.Status.OPEN)
    assert conversation.waiting_since == conversation.last_user_message_at is not None
    first = Message.objects.get()
    assert not first.from_support

    # The officer claims it and replies.
    client.force_login(officer)
    assert client.post(reverse("support_claim", args=[conversation.pk])).status_code == 302
    client.post(reverse("support_reply", args=[conversation.pk]), {"body": "Which learner?"})
    conversation.refresh_from_db()
    assert (conversation.status, conversation.claimed_by) == ("claimed", officer)
    assert conversation.waiting_since is None

    # The user's page asks for messages after the one it shows, and gets only the reply.
    client.force_login(viewer)
    response = poll(client, conversation, after=first.pk)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    data = response.json()
    assert [m["body"] for m in data["messages"]] == ["Which learner?"]
    reply = data["messages"][0]
    assert (reply["from_support"], reply["mine"], reply["author"]) == (
        True,
        False,
        "Olu Officer (support team)",
    )
    assert data["status"] == "claimed"
    assert poll(client, conversation, after=reply["id"]).json()["messages"] == []

    # The user answers through the script: the response carries their own message.
    response = client.post(
        reverse("support_reply", args=[conversation.pk]),
        {"body": "ULN 1234567890", "after": reply["id"]},
        **JSON,
    )
    assert [(m["body"], m["author"]) for m in response.json()["messages"]] == [
        ("ULN 1234567890", "You")
    ]
    conversation.refresh_from_db()
    assert conversation.waiting_since is not None

    # The officer closes it; the user has the transcript emailed to their own address only.
    client.force_login(officer)
    client.post(reverse("support_close", args=[conversation.pk]))
    conversation.refresh_from_db()
    assert (conversation.status, conversation.waiting_since) == ("closed", None)
    assert conversation.closed_at is not None
    refused = client.post(reverse("support_transcript", args=[conversation.pk]))
    assert refused.status_code == 403
    assert mail.outbox == []

    client.force_login(viewer)
    assert poll(client, conversation).json()["status"] == "closed"
    assert "Email me the transcript" in page(client, conversation).content.decode()
    response = client.post(reverse("support_transcript", args=[conversation.pk]), follow=True)
    assert f"The transcript was sent to {viewer.email}." in response.content.decode()
    (email,) = mail.outbox
    assert (email.to, email.cc, email.bcc) == ([viewer.email], [], [])
    assert email.subject.endswith("Award date")
    for text in ("The award date will not save", "Which learner?", "ULN 1234567890"):
        assert text in email.body
    assert "<" not in email.body  # plain text, nothing escaped for HTML


def test_it_refuses_a_message_to_a_closed_conversation(client, viewer):
    conversation = chat.open_conversation(viewer, "Award date", "Hello")
    chat.close(conversation, viewer)
    client.force_login(viewer)
    url = reverse("support_reply", args=[conversation.pk])

    assert client.post(url, {"body": "Anyone there?"}).status_code == 400
    response = client.post(url, {"body": "Anyone there?"}, **JSON)

    assert response.status_code == 400
    assert "closed" in response.json()["errors"]["__all__"][0]["message"]
    assert Message.objects.count() == 1


def test_it_refuses_an_empty_or_too_long_message(client, viewer):
    conversation = chat.open_conversation(viewer, "Award date", "Hello")
    client.force_login(viewer)
    url = reverse("support_reply", args=[conversation.pk])

    empty = client.post(url, {"body": ""}, **JSON)
    too_long = client.post(url, {"body": "x" * 4001})

    assert empty.json()["errors"]["body"][0]["message"] == "Enter a message."
    assert too_long.status_code == 400
    assert "Error:" in too_long.content.decode()
    assert Message.objects.count() == 1


def test_it_sends_a_transcript_only_once_the_conversation_is_closed(client, viewer):
    conversation = chat.open_conversation(viewer, "Award date", "Hello")
    client.force_login(viewer)

    response = client.post(reverse("support_transcript", args=[conversation.pk]), follow=True)

    assert "once the conversation is closed" in response.content.decode()
    assert mail.outbox == []


def test_it_lets_the_user_end_their_own_conversation(client, viewer):
    conversation = chat.open_conversation(viewer, "Award date", "Hello")
    client.force_login(viewer)

    client.post(reverse("support_close", args=[conversation.pk]))

    assert Conversation.objects.get().status == Conversation.Status.CLOSED


def test_it_gives_the_page_script_its_configuration_without_inline_script(client, viewer):
    conversation = chat.open_conversation(viewer, "Award date", "Hello")
    client.force_login(viewer)

    text = page(client, conversation).content.decode()

    last = Message.objects.get().pk
    messages_url = reverse("support_messages", args=[conversation.pk])
    assert f'data-messages-url="{messages_url}"' in text
    assert f'data-last-id="{last}"' in text
    assert 'role="log" aria-live="polite"' in text
    assert '<script src="/static/js/chat.js" defer></script>' in text
    assert "<script>" not in text


@pytest.mark.parametrize("count", [1, 30])
def test_it_answers_the_messages_endpoint_in_constant_queries(
    client, viewer, count, django_assert_max_num_queries
):
    conversation = chat.open_conversation(viewer, "Award date", "Hello")
    for n in range(count - 1):
        chat.post_message(conversation, viewer, f"Message {n}")
    client.force_login(viewer)

    # Session, user, the user's permissions (two), the conversation, the messages, and
    # the session saved again (three, as every request renews it).
    with django_assert_max_num_queries(9):
        response = poll(client, conversation)

    assert len(response.json()["messages"]) == count


def test_it_escapes_nothing_in_json_and_everything_in_the_page(client, viewer):
    conversation = chat.open_conversation(viewer, "Award date", "<b>bold</b>")
    client.force_login(viewer)

    assert poll(client, conversation).json()["messages"][0]["body"] == "<b>bold</b>"
    assert "&lt;b&gt;bold&lt;/b&gt;" in page(client, conversation).content.decode()


# --- learners named in a conversation -----------------------------------------------------


def test_it_accepts_only_a_uln_the_user_can_see(client, viewer, learners):
    client.force_login(viewer)

    # Another centre's learner and a learner nowhere get the same answer.
    for uln in (learners["theirs"].uln, uln_for(9999)):
        response = start(client, uln=uln)
        assert response.status_code == 400
        assert response.context["form"].errors["uln"] == [
            "No learner with this ULN at your centres"
        ]
        assert "Tom" not in response.content.decode()
    assert start(client, uln="1234").status_code == 400
    assert Conversation.objects.count() == 0

    start(client, uln=learners["mine"].uln)
    assert Conversation.objects.get().learner_uln == learners["mine"].uln


def test_it_names_the_learner_only_to_those_who_can_see_them(
    client, viewer, staff, officer, learners
):
    learner = learners["mine"]
    conversation = chat.open_conversation(viewer, "Award date", "Hello", learner.uln)
    link = reverse("learner_record", args=[learner.uln])

    for who in (viewer, staff):  # a viewer of the centre; awarding-body staff see every centre
        client.force_login(who)
        text = page(client, conversation).content.decode()
        assert f'<a href="{link}"><bdi>Priya Patel</bdi></a>' in text

    client.force_login(officer)  # answers chats, but holds no role on the learner's centre
    text = page(client, conversation).content.decode()
    assert "a learner at another centre" in text
    assert "Priya" not in text and learner.uln not in text and link not in text


def test_it_stops_naming_the_learner_when_the_user_loses_the_role(client, viewer, learners):
    learner = learners["mine"]
    conversation = chat.open_conversation(viewer, "Award date", "Hello", learner.uln)
    Membership.objects.filter(user=viewer).delete()
    client.force_login(viewer)

    text = page(client, conversation).content.decode()

    assert "a learner at another centre" in text and "Priya" not in text


def test_it_puts_the_uln_but_never_the_name_in_the_transcript(client, viewer, learners):
    learner = learners["mine"]
    conversation = chat.open_conversation(viewer, "Award date", "Hello", learner.uln)
    chat.close(conversation, viewer)
    client.force_login(viewer)

    client.post(reverse("support_transcript", args=[conversation.pk]))

    body = mail.outbox[0].body
    assert learner.uln in body and "Patel" not in body


# --- office hours -------------------------------------------------------------------------


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=LONDON)


@pytest.mark.parametrize(
    "moment",
    [
        at(2024, 6, 3, 9, 0),  # Monday, opening
        at(2024, 6, 7, 16, 59),  # Friday, a minute before closing
        datetime.datetime(2024, 6, 3, 8, 30, tzinfo=datetime.UTC),  # 9:30 in summer time
    ],
)
def test_it_says_the_team_is_online_in_office_hours(client, viewer, moment):
    client.force_login(viewer)
    with time_machine.travel(moment, tick=False):
        response = client.get(reverse("support_start"))

    text = response.content.decode()
    assert response.context["in_office_hours"] is True
    assert "support officers are online now" in text
    assert "Monday to Friday, 9am to 5pm (UK time)" in text
    assert "answer by email" not in text


@pytest.mark.parametrize(
    "moment",
    [
        at(2024, 6, 3, 8, 59),  # Monday, before opening
        at(2024, 6, 3, 17, 0),  # Monday, closing time
        at(2024, 6, 8, 11, 0),  # Saturday
        datetime.datetime(2024, 1, 8, 8, 30, tzinfo=datetime.UTC),  # 8:30 in winter
    ],
)
def test_it_says_the_team_will_answer_by_email_out_of_hours(client, viewer, moment):
    conversation = chat.open_conversation(viewer, "Award date", "Hello")
    client.force_login(viewer)
    with time_machine.travel(moment, tick=False):
        start_page = client.get(reverse("support_start")).content.decode()
        conversation_page = page(client, conversation).content.decode()

    for text in (start_page, conversation_page):
        assert "The support team is not online now" in text
        assert f"will answer by email to {viewer.email}" in text
        assert "Monday to Friday, 9am to 5pm (UK time)" in text


def test_it_reads_the_office_hours_from_settings(settings):
    settings.CHAT_OFFICE_HOURS = {
        "weekdays": [5, 6],
        "opens": "10:30",
        "closes": "14:00",
        "timezone": "Europe/Paris",
    }
    hours = office_hours()

    assert hours.describe() == "Saturday and Sunday, 10:30am to 2pm (Europe/Paris)"
    assert hours.is_open(datetime.datetime(2024, 6, 8, 9, 0, tzinfo=datetime.UTC))
    assert not hours.is_open(datetime.datetime(2024, 6, 7, 9, 0, tzinfo=datetime.UTC))


# --- keeping and deleting -----------------------------------------------------------------

CLOSED_ON = datetime.datetime(2023, 3, 1, 12, tzinfo=datetime.UTC)


def test_it_deletes_conversations_closed_more_than_the_retention_period_ago(viewer):
    with time_machine.travel(CLOSED_ON - datetime.timedelta(days=30), tick=False):
        never_closed = chat.open_conversation(viewer, "Still open", "Hello")
    with time_machine.travel(CLOSED_ON, tick=False):
        old = chat.open_conversation(viewer, "Old", "Hello")
        chat.close(old, viewer)
    with time_machine.travel(CLOSED_ON + datetime.timedelta(days=300), tick=False):
        recent = chat.open_conversation(viewer, "Recent", "Hello")
        chat.close(recent, viewer)

    with time_machine.travel(CLOSED_ON + datetime.timedelta(days=366), tick=False):
        delete_old_conversations.delay()

    remaining = set(Conversation.objects.values_list("pk", flat=True))
    assert remaining == {never_closed.pk, recent.pk}
    assert not Message.objects.filter(conversation_id=old.pk).exists()


def test_it_keeps_a_conversation_for_exactly_the_retention_period(viewer, settings):
    settings.CHAT_RETENTION_DAYS = 30
    with time_machine.travel(CLOSED_ON, tick=False):
        conversation = chat.open_conversation(viewer, "Old", "Hello")
        chat.close(conversation, viewer)

    with time_machine.travel(CLOSED_ON + datetime.timedelta(days=30), tick=False):
        assert chat.delete_old_conversations() == 0
    with time_machine.travel(CLOSED_ON + datetime.timedelta(days=30, seconds=1), tick=False):
        assert chat.delete_old_conversations() == 1


def test_it_schedules_the_deletion_daily():
    entries = [
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "support.delete_old_conversations"
    ]

    assert [e["task"] for e in entries] == ["support.delete_old_conversations"]
    assert entries[0]["schedule"].hour == {5} and entries[0]["schedule"].day_of_week == set(
        range(7)
    )
    assert "support.delete_old_conversations" in celery_app.tasks


def _at(hour: int, minute: int):
    moment = datetime.datetime(2026, 12, 2, hour, minute, tzinfo=datetime.UTC)
    return time_machine.travel(moment, tick=False)


def test_it_emails_unread_answers_every_minute():
    [entry] = [
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "support.email_unread_answers"
    ]
    assert entry["schedule"].minute == set(range(60))
    assert "support.email_unread_answers" in celery_app.tasks


def test_an_answer_left_unread_for_five_minutes_is_emailed_once(
    client, viewer, officer, mailoutbox
):
    with time_machine.travel(
        datetime.datetime(2026, 12, 2, 10, 0, tzinfo=datetime.UTC), tick=False
    ):
        conversation = chat.open_conversation(viewer, "Award date", "It will not save.")
        chat.post_message(conversation, officer, "Which learner is it?")
    with time_machine.travel(
        datetime.datetime(2026, 12, 2, 10, 4, tzinfo=datetime.UTC), tick=False
    ):
        assert chat.email_unread_answers() == 0  # not five minutes yet
    with time_machine.travel(
        datetime.datetime(2026, 12, 2, 10, 6, tzinfo=datetime.UTC), tick=False
    ):
        assert chat.email_unread_answers() == 1
        assert chat.email_unread_answers() == 0  # once

    [message] = mailoutbox
    assert message.to == [viewer.email]
    assert "Which learner is it?" in message.body
    assert f"/support/conversations/{conversation.pk}/" in message.body


def test_an_answer_the_person_saw_is_not_emailed(client, viewer, officer, mailoutbox):
    with time_machine.travel(
        datetime.datetime(2026, 12, 2, 10, 0, tzinfo=datetime.UTC), tick=False
    ):
        conversation = chat.open_conversation(viewer, "Award date", "It will not save.")
        chat.post_message(conversation, officer, "Which learner is it?")
        client.force_login(viewer)
        client.get(reverse("support_messages", args=[conversation.pk]))  # the page's poll
    with time_machine.travel(
        datetime.datetime(2026, 12, 2, 10, 9, tzinfo=datetime.UTC), tick=False
    ):
        assert chat.email_unread_answers() == 0

    assert mailoutbox == []


def test_one_answer_that_cannot_be_emailed_does_not_stop_the_others(
    viewer, officer, no_centre, mailoutbox, monkeypatch
):
    with _at(10, 0):
        refused = chat.open_conversation(no_centre, "Marks", "Help.")
        chat.post_message(refused, officer, "An answer that cannot be sent.")
        fine = chat.open_conversation(viewer, "Award date", "It will not save.")
        chat.post_message(fine, officer, "Which learner is it?")
    send = chat._send_answers

    def refuse_one(conversation, answers):
        if conversation.pk == refused.pk:
            raise ConnectionRefusedError("the mail server refused this address")
        send(conversation, answers)

    monkeypatch.setattr(chat, "_send_answers", refuse_one)
    with _at(10, 6):
        assert chat.email_unread_answers() == 1

    assert [message.to for message in mailoutbox] == [[viewer.email]]
    assert not Message.objects.filter(conversation=refused, emailed_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("answer", "tried_again"),
    [((550, b"5.1.1 No such mailbox"), False), ((451, b"4.3.0 Try again later"), True)],
)
def test_an_address_refused_for_good_is_not_tried_every_minute(
    viewer, officer, monkeypatch, answer, tried_again
):
    import smtplib

    with _at(10, 0):
        conversation = chat.open_conversation(viewer, "Award date", "It will not save.")
        chat.post_message(conversation, officer, "Which learner is it?")
    tries = []

    def refuse(conversation, answers):
        tries.append(conversation.pk)
        raise smtplib.SMTPRecipientsRefused({viewer.email: answer})

    monkeypatch.setattr(chat, "_send_answers", refuse)
    with _at(10, 6):
        chat.email_unread_answers()
    with _at(10, 7):
        chat.email_unread_answers()

    assert len(tries) == (2 if tried_again else 1)
    noted = Message.objects.filter(conversation=conversation, emailed_at__isnull=False)
    assert noted.exists() is not tried_again
