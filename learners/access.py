"""Fetching a learner for this user: 404 when not theirs, 403 when the role is too weak."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.permissions import can_administer

from .models import Learner


def learner_for(user, uln: str, *, administer: bool = False) -> Learner:
    learner = (
        Learner.objects.visible_to(user).select_related("centre", "line").filter(uln=uln).first()
    )
    if learner is None:
        raise Http404("No such learner")
    if administer and not can_administer(user, learner.centre_id):
        raise PermissionDenied("Only the centre's administrators can change this.")
    return learner
