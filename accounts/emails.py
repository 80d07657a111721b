"""The emails the service sends about accounts. Links point at settings.SITE_URL."""

from celery import shared_task
from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .models import AccessRequest, Membership, User

# The password the feed gives a new centre user: unusable until they set their own.
FEED_PASSWORD = "!feed"  # noqa: S105 - an unusable-password marker, not a password


class EmailConfirmationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "accounts.emails.EmailConfirmationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        # Activating the account spends the link; so does any change of password or sign-in.
        login = (
            "" if user.last_login is None else user.last_login.replace(microsecond=0, tzinfo=None)
        )
        return f"{user.pk}{user.is_active}{user.email}{user.password}{login}{timestamp}"


confirmation_tokens = EmailConfirmationTokenGenerator()


def _link(name: str, user: User, token: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return settings.SITE_URL.rstrip("/") + reverse(name, args=[uid, token])


def _send(to: str, template: str, context: dict) -> None:
    subject, _, body = render_to_string(template, context).partition("\n")
    # The subject is one header line whatever a name or centre in it holds.
    send_mail(" ".join(subject.split()), body.lstrip("\n"), None, [to])


def send_invitation(user: User) -> None:
    link = _link("password_reset_confirm", user, default_token_generator.make_token(user))
    _send(user.email, "emails/invitation.txt", {"user": user, "link": link})


def send_confirmation(user: User) -> None:
    link = _link("confirm_email", user, confirmation_tokens.make_token(user))
    _send(user.email, "emails/confirm_email.txt", {"user": user, "link": link})


def send_already_registered(user: User) -> None:
    link = settings.SITE_URL.rstrip("/") + reverse("password_reset")
    _send(user.email, "emails/already_registered.txt", {"user": user, "link": link})


def send_password_reset(user: User) -> None:
    context = {
        "user": user,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
        "site_url": settings.SITE_URL.rstrip("/"),
    }
    subject = render_to_string("registration/password_reset_subject.txt", context)
    body = render_to_string("registration/password_reset_email.html", context)
    send_mail(" ".join(subject.split()), body, None, [user.email])


# Emails a request sends about an account, by name: they are sent by a Celery task given
# only the account's id (no address or link passes through the broker), so that the time a
# page takes does not tell whether an address has an account.
ACCOUNT_EMAILS = {
    "confirmation": send_confirmation,
    "already-registered": send_already_registered,
    "password-reset": send_password_reset,
}


@shared_task(name="accounts.send_account_email", ignore_result=True)
def send_account_email(kind: str, user_id: int) -> None:
    """One of ACCOUNT_EMAILS, to the account's address as it is when the task runs."""
    user = User.objects.filter(pk=user_id).first()
    if user is not None and user.email:
        ACCOUNT_EMAILS[kind](user)


def send_later(kind: str, user: User) -> None:
    send_account_email.delay(kind, user.pk)


def send_decision(access_request: AccessRequest) -> None:
    _send(
        access_request.user.email,
        "emails/access_decision.txt",
        {"request": access_request, "link": settings.SITE_URL.rstrip("/") + reverse("home")},
    )


@shared_task(name="accounts.tell_administrators_of_request", ignore_result=True)
def tell_administrators_of_request(request_id: int) -> int:
    """Each active administrator of the centre is told of a request for access to it, with a
    link to decide; the number told. Given the request's id only, as account emails are."""
    access_request = (
        AccessRequest.objects.select_related("user", "centre")
        .filter(pk=request_id, status=AccessRequest.Status.PENDING)
        .first()
    )
    if access_request is None or access_request.centre is None:
        return 0
    centre = access_request.centre
    asker = access_request.user
    link = settings.SITE_URL.rstrip("/") + reverse("manage_users", args=[centre.number])
    administrators = User.objects.filter(
        is_active=True,
        memberships__centre=centre,
        memberships__role=Membership.Role.ADMINISTRATOR,
    ).exclude(email="")
    told = 0
    for administrator in administrators.distinct():
        _send(
            administrator.email,
            "emails/access_requested.txt",
            {
                "request": access_request,
                "centre": centre,
                "administrator": administrator,
                "name": asker.get_full_name() or asker.get_username(),
                "link": link,
            },
        )
        told += 1
    return told


def invite_new_centre_users() -> int:
    """Email every centre user the feed created who has not been invited yet."""
    invited = 0
    for user in User.objects.filter(password=FEED_PASSWORD, invited_at=None, is_active=True):
        if user.email:
            send_invitation(user)
            User.objects.filter(pk=user.pk).update(invited_at=timezone.now())
            invited += 1
    return invited
