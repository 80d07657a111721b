from celery import shared_task

from . import chat


@shared_task(name="support.delete_old_conversations", ignore_result=True)
def delete_old_conversations() -> int:
    """Daily: conversations are kept CHAT_RETENTION_DAYS after closing, then deleted."""
    return chat.delete_old_conversations()
