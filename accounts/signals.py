from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from . import audit, throttle
from .backends import account_named
from .models import AuditEvent


@receiver(user_logged_in, dispatch_uid="audit_sign_in")
def audit_sign_in(sender, request, user, **kwargs) -> None:
    audit.record(user, AuditEvent.Action.SIGN_IN, subject=user.get_username())


@receiver(user_login_failed, dispatch_uid="audit_failed_sign_in")
def audit_failed_sign_in(sender, credentials, request=None, **kwargs) -> None:
    # The account the name meant, never what was typed: people type passwords into the
    # username field.
    account = account_named(str(credentials.get("username") or "")[:254])
    audit.record(
        None,
        AuditEvent.Action.SIGN_IN_FAILED,
        subject=account.get_username() if account else "(no such account)",
    )
    if request is not None:
        throttle.count_address_failure(request, "sign-in")
