"""Fetching a learner for this user: 404 when not theirs, 403 when the role is too weak."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts import audit
from accounts.models import AuditEvent
from accounts.permissions import can_administer, reads_every_centre, roles
from base.identifiers import is_valid_uln

from .models import Learner


def learner_for(user, uln: str, *, administer: bool = False) -> Learner:
    # The feed takes no learner without a valid ULN, so anything else in the path is no
    # one's; not asking also keeps a NUL out of the query, which PostgreSQL refuses (a 500).
    if not is_valid_uln(uln):
        raise Http404("No such learner")
    learner = Learner.objects.select_related("centre", "line").filter(uln=uln).first()
    if learner is None:
        raise Http404("No such learner")
    if administer and not can_administer(user, learner.centre_id):
        raise PermissionDenied("Only the centre's administrators can change this.")
    return learner


def note_support_read(user, learner: Learner) -> None:
    """Support staff read learners of centres they hold no role on: each record they open is
    audited, so a centre can see who looked."""
    if learner.centre_id not in roles(user) and reads_every_centre(user):
        audit.record(
            user,
            AuditEvent.Action.LEARNER_READ_BY_STAFF,
            centre=learner.centre_id,
            learner_uln=learner.uln,
        )
