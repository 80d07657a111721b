from celery import shared_task

from . import chat


@shared_task(name="support.delete_old_conversations", ignore_result=True)
def delete_old_conversations() -> int:
    """Daily: conversations are kept CHAT_RETENTION_DAYS after closing, then deleted."""
    return chat.delete_old_conversations()


@shared_task(name="support.email_unread_answers", ignore_result=True)
def email_unread_answers() -> int:
    """Every minute: answers their person has not seen for five minutes go to them by email."""
    return chat.email_unread_answers()
