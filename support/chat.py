"""What the live chat does: opening, posting, claiming, closing, the inbox, transcripts.

Views call these and only turn the results into responses. Who may see a conversation is
decided here: its owner and the support team (the support.answer_chat permission); anyone
else gets 404, so a guessed id reveals nothing.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.db.models.functions import Coalesce
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, timezone

from learners.models import Learner

from .models import Conversation, Message

ANSWER_PERMISSION = "support.answer_chat"
# Each inbox list is cut short: a longer backlog means something else has gone wrong.
INBOX_LIMIT = 200
# Polling asks often; a burst after a long gap still answers in one small response.
POLL_LIMIT = 200


class ConversationClosed(Exception):
    """A message was posted to a conversation that has been closed."""


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


@transaction.atomic
def open_conversation(user, subject: str, body: str, learner_uln: str = "") -> Conversation:
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


def learner_mentions(viewer, ulns) -> dict[str, LearnerMention]:
    """ULN -> mention; the name only for learners the viewer may see, in one query."""
    ulns = {uln for uln in ulns if uln}
    if not ulns:
        return {}
    names = {
        uln: f"{forename} {surname}"
        for uln, forename, surname in Learner.objects.visible_to(viewer)
        .filter(uln__in=ulns)
        .values_list("uln", "forename", "surname")
    }
    return {uln: LearnerMention(uln, names.get(uln, "")) for uln in ulns}


def learner_mention(viewer, conversation: Conversation) -> LearnerMention | None:
    return learner_mentions(viewer, [conversation.learner_uln]).get(conversation.learner_uln)


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


def messages_after(conversation: Conversation, viewer, after: int = 0) -> list[dict]:
    """Messages newer than id `after`, oldest first, in one query whatever their number."""
    messages = (
        Message.objects.filter(conversation=conversation, pk__gt=after)
        .select_related("author")
        .order_by("pk")[:POLL_LIMIT]
    )
    return [serialise(message, viewer) for message in messages]


def poll(conversation: Conversation, viewer, after: int) -> dict:
    """What the page's script needs: new messages and the status, so it sees a close.

    The conversation was read in this request, so its status is current.
    """
    return {
        "messages": messages_after(conversation, viewer, after),
        "status": conversation.status,
        "status_label": conversation.get_status_display(),
    }


def own_conversations(user, limit: int = 20) -> list[Conversation]:
    return list(Conversation.objects.filter(user=user).order_by("-created_at")[:limit])


@dataclass
class Inbox:
    """The team's lists; each conversation carries `mention`, its learner as the officer sees it."""

    open: list[Conversation]
    waiting: list[Conversation]
    answered: list[Conversation]
    closed: list[Conversation]


def inbox(officer) -> Inbox:
    """The team's lists, whoever has waited longest first."""
    require_support(officer)
    base = Conversation.objects.select_related("user", "claimed_by")
    claimed = base.filter(status=Conversation.Status.CLAIMED)
    lists = {
        "open": base.filter(status=Conversation.Status.OPEN).order_by("waiting_since", "pk"),
        "waiting": claimed.filter(waiting_since__isnull=False).order_by("waiting_since", "pk"),
        # Answered: the user has the last word to say; listed so that someone closes it.
        "answered": claimed.filter(waiting_since__isnull=True).order_by("last_user_message_at"),
        "closed": base.filter(status=Conversation.Status.CLOSED).order_by("-closed_at"),
    }
    found = {name: list(query[:INBOX_LIMIT]) for name, query in lists.items()}
    mentions = learner_mentions(officer, [c.learner_uln for rows in found.values() for c in rows])
    for rows in found.values():
        for conversation in rows:
            conversation.mention = mentions.get(conversation.learner_uln)
    return Inbox(**found)


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
    body = render_to_string(
        "emails/support_transcript.txt",
        {
            "conversation": conversation,
            "owner": owner,
            "messages": [serialise(m, owner) for m in messages.order_by("pk")],
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
