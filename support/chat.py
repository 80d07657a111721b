"""What the live chat does: opening, posting, claiming, closing, the inbox, transcripts.

Views call these and only turn the results into responses. Who may see a conversation is
decided here: its owner and the support team (the support.answer_chat permission); anyone
else gets 404, so a guessed id reveals nothing.
"""

import datetime
import logging
import smtplib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, timezone

from accounts.models import Membership
from base.mail import refused_for_good
from learners.models import Learner

from .models import Conversation, Message

logger = logging.getLogger(__name__)

ANSWER_PERMISSION = "support.answer_chat"
# Each inbox list is paged, with its true count.
INBOX_PAGE = 50
# Polling asks often: one answer holds at most this many messages and characters of them,
# and says when more are waiting (the script asks again at once).
POLL_LIMIT = 50
POLL_CHARACTERS = 64_000
# The conversation page shows the latest messages; the transcript has the rest.
PAGE_MESSAGES = 200
# A transcript holds at most this many of the latest messages.
TRANSCRIPT_MESSAGES = 500


class ConversationClosed(Exception):
    """A message was posted to a conversation that has been closed."""


class TooManyOpen(Exception):
    """The person already has as many conversations open as anyone may."""


def can_answer(user) -> bool:
    return user.is_authenticated and user.has_perm(ANSWER_PERMISSION)


def require_support(user) -> None:
    if not can_answer(user):
        raise PermissionDenied("Only the support team can do this.")


def conversation_for(user, conversation_id: int) -> Conversation:
    """The conversation, if it is the user's own or the user answers chats; 404 otherwise."""
    conversations = Conversation.objects.select_related("user", "claimed_by")
    if not can_answer(user):
        conversations = conversations.filter(user=user)
    conversation = conversations.filter(pk=conversation_id).first()
    if conversation is None:
        raise Http404("No such conversation")
    return conversation


# --- changes ------------------------------------------------------------------------------


def open_count(user) -> int:
    return Conversation.objects.filter(user=user).exclude(status=Conversation.Status.CLOSED).count()


@transaction.atomic
def open_conversation(user, subject: str, body: str, learner_uln: str = "") -> Conversation:
    # Serialised per person (their account row), so two tabs cannot both open the last one.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    if not can_answer(user) and open_count(user) >= settings.CHAT_OPEN_CONVERSATIONS:
        raise TooManyOpen
    conversation = Conversation.objects.create(user=user, subject=subject, learner_uln=learner_uln)
    post_message(conversation, user, body)
    conversation.refresh_from_db()
    return conversation


@transaction.atomic
def post_message(conversation: Conversation, author, body: str) -> Message:
    """Add a message; a reply from the team claims an unclaimed conversation for its author."""
    # Locked so that a close racing with a reply cannot leave a message in a closed chat.
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if locked.is_closed:
        raise ConversationClosed
    from_support = author.pk != locked.user_id and can_answer(author)
    message = Message.objects.create(
        conversation=locked, author=author, body=body, from_support=from_support
    )
    changes: dict = {}
    if from_support:
        changes["waiting_since"] = None
        if locked.status == Conversation.Status.OPEN:
            changes |= {"status": Conversation.Status.CLAIMED, "claimed_by": author}
    else:
        # Only the first unanswered message starts the wait: later ones do not reset it.
        changes["last_user_message_at"] = message.created_at
        changes["waiting_since"] = Coalesce("waiting_since", message.created_at)
    Conversation.objects.filter(pk=locked.pk).update(**changes)
    return message


def claim(conversation: Conversation, officer) -> bool:
    """Take an open conversation; False when someone else got there first or it is closed."""
    require_support(officer)
    claimed = Conversation.objects.filter(
        pk=conversation.pk, status=Conversation.Status.OPEN
    ).update(status=Conversation.Status.CLAIMED, claimed_by=officer)
    return bool(claimed)


def close(conversation: Conversation, by) -> bool:
    """Close it (its owner or the team may); False when it was already closed."""
    if by.pk != conversation.user_id:
        require_support(by)
    closed = (
        Conversation.objects.filter(pk=conversation.pk)
        .exclude(status=Conversation.Status.CLOSED)
        .update(status=Conversation.Status.CLOSED, closed_at=timezone.now(), waiting_since=None)
    )
    return bool(closed)


def delete_old_conversations(now: datetime.datetime | None = None) -> int:
    """Delete conversations closed more than CHAT_RETENTION_DAYS ago; open ones are kept."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.CHAT_RETENTION_DAYS)
    old = Conversation.objects.filter(status=Conversation.Status.CLOSED, closed_at__lt=cutoff)
    _, by_model = old.delete()
    return by_model.get(Conversation._meta.label, 0)


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LearnerMention:
    """A learner named in a conversation, as one viewer may see it."""

    uln: str
    name: str = ""

    @property
    def visible(self) -> bool:
        return bool(self.name)

    @property
    def url(self) -> str:
        return reverse("learner_record", args=[self.uln]) if self.visible else ""


def learner_mentions(ulns) -> dict[str, LearnerMention]:
    """ULN -> mention; the name only for learners in the request's scope, in one query."""
    ulns = {uln for uln in ulns if uln}
    if not ulns:
        return {}
    names = {
        uln: f"{forename} {surname}"
        for uln, forename, surname in Learner.objects.filter(uln__in=ulns).values_list(
            "uln", "forename", "surname"
        )
    }
    return {uln: LearnerMention(uln, names.get(uln, "")) for uln in ulns}


def learner_mention(conversation: Conversation) -> LearnerMention | None:
    return learner_mentions([conversation.learner_uln]).get(conversation.learner_uln)


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def serialise(message: Message, viewer) -> dict:
    """One message as the viewer sees it: the page and the polling endpoint both use this."""
    if message.author_id is not None and message.author_id == viewer.pk:
        author = "You"
    elif message.author is None:
        author = "Support team" if message.from_support else "Former user"
    elif message.from_support:
        author = f"{_name(message.author)} (support team)"
    else:
        author = _name(message.author)
    local = timezone.localtime(message.created_at)
    return {
        "id": message.pk,
        "author": author,
        "from_support": message.from_support,
        "mine": message.author_id == viewer.pk,
        "body": message.body,
        "datetime": local.isoformat(),
        "time": dateformat.format(local, "j M, H:i"),
    }


def messages_after(conversation: Conversation, viewer, after: int = 0) -> tuple[list[dict], bool]:
    """Messages newer than id `after`, oldest first, at most POLL_LIMIT of them and about
    POLL_CHARACTERS of text; and whether more are waiting."""
    messages = list(
        Message.objects.filter(conversation=conversation, pk__gt=after)
        .select_related("author")
        .order_by("pk")[: POLL_LIMIT + 1]
    )
    shown, characters = [], 0
    for message in messages[:POLL_LIMIT]:
        characters += len(message.body)
        if shown and characters > POLL_CHARACTERS:
            break
        shown.append(serialise(message, viewer))
    _note_read(conversation, viewer, shown)
    return shown, len(shown) < len(messages)


def latest_messages(conversation: Conversation, viewer) -> tuple[list[dict], int]:
    """The latest PAGE_MESSAGES messages, oldest first, and how many earlier ones there are."""
    messages = Message.objects.filter(conversation=conversation).select_related("author")
    latest = list(messages.order_by("-pk")[:PAGE_MESSAGES])[::-1]
    earlier = messages.filter(pk__lt=latest[0].pk).count() if len(latest) == PAGE_MESSAGES else 0
    shown = [serialise(message, viewer) for message in latest]
    _note_read(conversation, viewer, shown)
    return shown, earlier


def _note_read(conversation: Conversation, viewer, shown: list[dict]) -> None:
    """The owner has now been shown these: the team's answers among them need no email."""
    answers = [m["id"] for m in shown if m["from_support"]]
    if not answers or viewer.pk != conversation.user_id:
        return
    newest = answers[-1]
    if newest > conversation.user_read_up_to:
        Conversation.objects.filter(pk=conversation.pk, user_read_up_to__lt=newest).update(
            user_read_up_to=newest
        )
        conversation.user_read_up_to = newest


# An answer the person has not been shown this long after it was written is emailed to them:
# they have gone away (or asked out of hours), as the chat page promises.
UNREAD_FOR = datetime.timedelta(minutes=5)


def email_unread_answers() -> int:
    """Email each person the team's answers they have not been shown for UNREAD_FOR, once
    each; the number of emails sent."""
    cutoff = timezone.now() - UNREAD_FOR
    waiting = (
        Message.objects.filter(
            from_support=True,
            emailed_at=None,
            created_at__lte=cutoff,
            pk__gt=F("conversation__user_read_up_to"),
        )
        .order_by()
        .values_list("conversation_id", flat=True)
        .distinct()
    )
    sent = 0
    for conversation_id in list(waiting):
        try:
            sent += _email_conversation(conversation_id, cutoff)
        except Exception:
            logger.exception("Could not email the answers of conversation %s", conversation_id)
    return sent


def _email_conversation(conversation_id: int, cutoff) -> int:
    """Email one conversation's unseen answers, under its lock; 1 when an email went."""
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update().select_related("user").get(pk=conversation_id)
        )
        unread = list(
            Message.objects.filter(
                conversation=conversation,
                from_support=True,
                emailed_at=None,
                created_at__lte=cutoff,
                pk__gt=conversation.user_read_up_to,
            )
            .select_related("author")
            .order_by("pk")
        )
        if not unread:
            return 0  # read, or sent, a moment ago
        sent = 0
        if conversation.user.email and conversation.user.is_active:
            try:
                _send_answers(conversation, unread)
                sent = 1
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
                if not refused_for_good(exc):
                    raise  # tried again next minute
                # A dead address: marked below like one with no address, not tried again.
                logger.warning("The mail server refused conversation %s's answers", conversation_id)
        # Marked even with no address to send to, or one refused for good: it is not tried
        # again each minute.
        Message.objects.filter(pk__in=[m.pk for m in unread]).update(emailed_at=timezone.now())
    return sent


def _send_answers(conversation: Conversation, answers: list[Message]) -> None:
    link = settings.SITE_URL.rstrip("/") + reverse("support_conversation", args=[conversation.pk])
    body = render_to_string(
        "emails/support_answer.txt",
        {"conversation": conversation, "answers": answers, "link": link},
    )
    subject = " ".join(f"Support has answered: {conversation.subject}".split())[:200]
    send_mail(subject, body, None, [conversation.user.email])


def poll(conversation: Conversation, viewer, after: int) -> dict:
    """What the page's script needs: new messages and the status, so it sees a close.

    The conversation was read in this request, so its status is current.
    """
    messages, more = messages_after(conversation, viewer, after)
    return {
        "messages": messages,
        "more": more,
        "status": conversation.status,
        "status_label": conversation.get_status_display(),
    }


def own_conversations(user, limit: int = 20) -> list[Conversation]:
    return list(Conversation.objects.filter(user=user).order_by("-created_at")[:limit])


@dataclass
class InboxList:
    """One of the team's lists: a page of it, and how many there are in all."""

    page: Page
    count: int


@dataclass
class Inbox:
    """The team's lists; each conversation carries `mention`, its learner as the officer sees it."""

    open: InboxList
    waiting: InboxList
    answered: InboxList
    closed: InboxList


def inbox(officer, pages: dict[str, str] | None = None) -> Inbox:
    """The team's lists, whoever has waited longest first, each a page of INBOX_PAGE."""
    require_support(officer)
    base = Conversation.objects.select_related("user", "claimed_by")
    claimed = base.filter(status=Conversation.Status.CLAIMED)
    lists = {
        "open": base.filter(status=Conversation.Status.OPEN).order_by("waiting_since", "pk"),
        "waiting": claimed.filter(waiting_since__isnull=False).order_by("waiting_since", "pk"),
        # Answered: the user has the last word to say; listed so that someone closes it.
        "answered": claimed.filter(waiting_since__isnull=True).order_by(
            "last_user_message_at", "pk"
        ),
        "closed": base.filter(status=Conversation.Status.CLOSED).order_by("-closed_at", "-pk"),
    }
    found = {}
    for name, query in lists.items():
        page = Paginator(query, INBOX_PAGE).get_page((pages or {}).get(name))
        found[name] = InboxList(page=page, count=page.paginator.count)
    rows = [c for listed in found.values() for c in listed.page.object_list]
    mentions = learner_mentions([c.learner_uln for c in rows])
    centres = centres_of({c.user_id for c in rows})
    for conversation in rows:
        conversation.mention = mentions.get(conversation.learner_uln)
        conversation.user_centres = centres.get(conversation.user_id, [])
    return Inbox(**found)


def waiting_count() -> int:
    """Conversations whose user waits for an answer: new ones and claimed ones."""
    return (
        Conversation.objects.exclude(status=Conversation.Status.CLOSED)
        .filter(waiting_since__isnull=False)
        .count()
    )


def centres_of(user_ids) -> dict[int, list[str]]:
    """User -> "12345 Northgate College (viewer)" for each centre they hold a role on: who
    is asking, for the support team."""
    found: dict[int, list[str]] = {}
    for user_id, number, name, role in (
        Membership.objects.filter(user_id__in=user_ids)
        .order_by("centre_id")
        .values_list("user_id", "centre_id", "centre__name", "role")
    ):
        found.setdefault(user_id, []).append(f"{number} {name} ({role})")
    return found


# --- the transcript -----------------------------------------------------------------------


class NotClosedYet(Exception):
    """Only a finished conversation has a transcript."""


class NoEmailAddress(Exception):
    """The owner's account has no address to send the transcript to."""


def send_transcript(conversation: Conversation, requested_by) -> str:
    """Email a closed conversation to its owner, and only to them; returns the address."""
    if requested_by.pk != conversation.user_id:
        raise PermissionDenied("Only the person who started the conversation can have it.")
    if not conversation.is_closed:
        raise NotClosedYet
    owner = conversation.user
    if not owner.email:
        raise NoEmailAddress
    messages = Message.objects.filter(conversation=conversation).select_related("author")
    latest = list(messages.order_by("-pk")[:TRANSCRIPT_MESSAGES])[::-1]
    left_out = messages.count() - len(latest) if len(latest) == TRANSCRIPT_MESSAGES else 0
    shown = [serialise(m, owner) for m in latest]
    for message in shown:
        # Every line of every message quoted: only the headers we write start a line, so a
        # message cannot pass itself off as a reply from the support team.
        message["quoted"] = "\n".join(f"  | {line}" for line in message["body"].splitlines())
    body = render_to_string(
        "emails/support_transcript.txt",
        {
            "conversation": conversation,
            "owner": owner,
            "messages": shown,
            "left_out": left_out,
            # The ULN alone, never the name: the support team asks that learners' personal
            # details are not emailed.
            "learner_uln": conversation.learner_uln,
            "retention_days": settings.CHAT_RETENTION_DAYS,
        },
    )
    subject, _, text = body.partition("\n")
    # One line, whatever the user typed: a carriage return in a header is refused (a 500),
    # and Python's email package reads \v, \f, \x1c and the like as line breaks.
    send_mail(" ".join(subject.split()), text.lstrip("\n"), None, [owner.email])
    return owner.email
