"""Signing in with a username, or with the account's email address compared canonically."""

import hashlib
import unicodedata

from django.contrib.auth.backends import ModelBackend

from .identity import canonical_email_or_none
from .models import User


def account_named(typed: str) -> User | None:
    """The account a name typed at sign-in means: the username exactly, else an address
    compared canonically."""
    if not typed:
        return None
    user = User.objects.filter(username=typed).first()
    if user is None and "@" in typed:
        key = canonical_email_or_none(typed)
        user = User.objects.filter(email_key=key).first() if key else None
    return user


def lockout_username(request, credentials: dict | None = None) -> str:
    """What django-axes counts failures against: the account, however its name or address
    was spelt (else every spelling would get its own five guesses); for a name that is no
    account, the name in one form."""
    typed = (credentials or {}).get("username")
    if typed is None and request is not None:
        typed = request.POST.get("username", "")
    typed = str(typed or "")[:254]
    user = account_named(typed)
    if user is not None:
        return f"account {user.pk}"
    # Not what was typed (people type passwords here), but the same for the same name.
    name = unicodedata.normalize("NFKC", typed).casefold().encode()
    return "no account " + hashlib.sha256(name).hexdigest()[:16]


class UsernameOrAddressBackend(ModelBackend):
    """Django's backend, plus: a name with an @ that is no username is taken as an email
    address, compared exactly in canonical form (never case-insensitively in the database,
    which lets a look-alike domain through)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None or not username or password is None or "@" not in username:
            return user
        key = canonical_email_or_none(username)
        candidate = User.objects.filter(email_key=key).first() if key else None
        if candidate is None or candidate.username == username:
            # Hash anyway, so that the time taken tells nothing about who has an account.
            User().set_password(password)
            return None
        if candidate.check_password(password) and self.user_can_authenticate(candidate):
            return candidate
        return None
