"""Live chat with the Diploma support team: a conversation and its messages."""

from django.conf import settings
from django.db import models

MAX_MESSAGE_LENGTH = 4000


class Conversation(models.Model):
    """One user's question to the support team, from opening to closing."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for a support officer"
        CLAIMED = "claimed", "With a support officer"
        CLOSED = "closed", "Closed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="support_conversations"
    )
    subject = models.CharField(max_length=200)
    # Kept as text, not a foreign key: a learner can leave the feed while the chat is kept,
    # and who may see the learner is decided each time the conversation is shown.
    learner_uln = models.CharField("learner's ULN", max_length=10, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="claimed_support_conversations",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_user_message_at = models.DateTimeField(null=True, blank=True)
    # The oldest user message the team has not answered yet; None once they reply. The
    # inbox orders by it, so whoever has waited longest is seen first.
    waiting_since = models.DateTimeField(null=True, blank=True)
    # The newest message the person who asked has been shown: a team answer above it was
    # not seen, and is emailed to them after a while (support.chat.email_unread_answers).
    user_read_up_to = models.BigIntegerField(default=0)

    class Meta:
        permissions = [("answer_chat", "Can answer live chat conversations")]
        indexes = [
            models.Index(fields=["status", "waiting_since"], name="conversation_inbox"),
            # Closed conversations newest first in the inbox, oldest first for deletion.
            models.Index(fields=["status", "closed_at"], name="conversation_closed"),
            models.Index(fields=["user", "-created_at"], name="conversation_user_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.get_status_display()})"

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(max_length=MAX_MESSAGE_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    from_support = models.BooleanField(default=False)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        # Polling asks for a conversation's messages after an id: one range scan.
        indexes = [models.Index(fields=["conversation", "id"], name="message_conversation_id")]

    def __str__(self) -> str:
        return self.body[:60]
