"""Signing in with a username, or with the account's email address compared canonically."""

from django.contrib.auth.backends import ModelBackend

from .identity import canonical_email_or_none
from .models import User


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
