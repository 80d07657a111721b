"""Writing audit events: one function, called inside the transaction of the change."""

from typing import Any

from .models import AuditEvent, Centre


def record(
    actor,
    action: str,
    *,
    centre: Centre | str | None = None,
    learner_uln: str = "",
    subject: str = "",
    before: Any = None,
    after: Any = None,
) -> AuditEvent:
    """Record who did what; `actor` may be None or anonymous (a failed sign-in)."""
    signed_in = actor is not None and getattr(actor, "is_authenticated", False)
    centre_id = centre.pk if isinstance(centre, Centre) else centre
    return AuditEvent.objects.create(
        actor=actor if signed_in else None,
        actor_name=actor.get_username() if signed_in else "",
        action=action,
        centre_id=centre_id,
        learner_uln=learner_uln,
        subject=subject[:254],
        before=before,
        after=after,
    )
