"""Secret calendar links: made, found by their token, stopped."""

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from .models import CalendarLink, User


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def make_link(user: User) -> str:
    """A new token for the user, replacing any link they had; shown to them once."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        CalendarLink.objects.filter(user=user).delete()
        CalendarLink.objects.create(user=user, token_hash=_hash(token))
    return token


def stop_link(user: User) -> bool:
    deleted, _ = CalendarLink.objects.filter(user=user).delete()
    return bool(deleted)


def owner_of(token: str) -> User | None:
    """The active user whose link this is; None for a token no one has."""
    if not token or len(token) > 100:
        return None
    link = CalendarLink.objects.select_related("user").filter(token_hash=_hash(token)).first()
    if link is None or not link.user.is_active:
        return None
    CalendarLink.objects.filter(pk=link.pk).update(last_read_at=timezone.now())
    return link.user
