from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from . import audit
from .models import AuditEvent


@receiver(user_logged_in, dispatch_uid="audit_sign_in")
def audit_sign_in(sender, request, user, **kwargs) -> None:
    audit.record(user, AuditEvent.Action.SIGN_IN, subject=user.get_username())


@receiver(user_login_failed, dispatch_uid="audit_failed_sign_in")
def audit_failed_sign_in(sender, credentials, request=None, **kwargs) -> None:
    # Never the password: only the name that was tried.
    audit.record(
        None, AuditEvent.Action.SIGN_IN_FAILED, subject=str(credentials.get("username", ""))[:150]
    )
