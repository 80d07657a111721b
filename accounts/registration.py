"""Self-registration: an account that signs in only once its address is confirmed, with the
password chosen at registration typed again at confirmation, so that registering someone
else's address gains nothing.

What happens to an address already known is the registrant's business only by email: the
page answers the same, and does the same work (one password hash, one email), either way.
"""

import datetime

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import emails
from .models import User, accounts_for_address


def register(
    *, email: str, password: str, first_name: str, last_name: str, organisation: str
) -> None:
    """Create the registration, replace an unconfirmed one for the same address (its links
    stop working), or tell the address's owner that they already have an account."""
    hashed = make_password(password)
    details = {
        "first_name": first_name,
        "last_name": last_name,
        "organisation": organisation,
        "password": hashed,
    }
    try:
        with transaction.atomic():
            existing = accounts_for_address(email, active_only=False)
            # An account whose username is this address (not its email) has it too.
            existing += [
                user for user in User.objects.filter(username=email) if user not in existing
            ]
            waiting = [user for user in existing if user.awaiting_confirmation]
            if waiting:
                user = User.objects.select_for_update().get(pk=waiting[0].pk)
                # The new registrant's spelling too: a squatter's look-alike spelling of the
                # same mailbox (ſ for s) may not be deliverable.
                if not User.objects.filter(username=email).exclude(pk=user.pk).exists():
                    user.username = email
                user.email = email
                for field, value in details.items():
                    setattr(user, field, value)
                user.confirmation_sent_at = timezone.now()
                user.save()
            elif not existing:
                user = User(
                    username=email,
                    email=email,
                    is_active=False,
                    confirmation_sent_at=timezone.now(),
                    **details,
                )
                user.save()
    except IntegrityError:
        # Registered a moment ago (a double submit): the first request's email stands.
        return
    # Sent once the registration is saved, never for one that was not.
    if waiting or not existing:
        emails.send_later("confirmation", user)
    else:
        for known in existing:
            emails.send_later("already-registered", known)


def resend_confirmation(email: str) -> None:
    """A fresh link for a registration still waiting; nothing, visibly, for anything else."""
    for user in accounts_for_address(email, active_only=False):
        if user.awaiting_confirmation:
            User.objects.filter(pk=user.pk).update(confirmation_sent_at=timezone.now())
            emails.send_later("confirmation", user)


class WrongPassword(Exception):
    pass


def confirm(user: User, password: str) -> None:
    """Activate the registration, if the password is the one it was registered with."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.awaiting_confirmation:
            return
        if not user.check_password(password):
            raise WrongPassword
        user.is_active = True
        user.confirmation_sent_at = None
        user.save(update_fields=["is_active", "confirmation_sent_at"])


def confirmed_by_reset(user: User) -> None:
    """A password set from an emailed reset link proves the address as well as a
    confirmation does: a registration still waiting becomes active."""
    if user.awaiting_confirmation:
        user.is_active = True
        user.confirmation_sent_at = None
        user.save(update_fields=["is_active", "confirmation_sent_at"])


def link_lifetime() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)


def delete_expired_registrations(now: datetime.datetime | None = None) -> int:
    """Registrations whose latest link has expired: the address is free for its owner."""
    cutoff = (now or timezone.now()) - link_lifetime()
    _, deleted = User.objects.filter(is_active=False, confirmation_sent_at__lt=cutoff).delete()
    return deleted.get(User._meta.label, 0)
