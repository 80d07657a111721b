from django.db import transaction

from accounts import audit
from accounts.models import AuditEvent

from .models import Learner


def change_award_date(actor, learner: Learner, award_series: str) -> bool:
    """Set or clear the anticipated award series; False when it did not change."""
    with transaction.atomic():
        learner = Learner.objects.select_for_update().get(pk=learner.pk)
        before = learner.award_series
        if before == award_series:
            return False
        learner.award_series = award_series
        learner.award_series_edited = True
        learner.save(update_fields=["award_series", "award_series_edited"])
        audit.record(
            actor,
            AuditEvent.Action.AWARD_DATE_CHANGED,
            centre=learner.centre_id,
            learner_uln=learner.uln,
            subject=f"{learner.uln} {learner.surname}, {learner.forename}",
            before={"award_series": before or "not set"},
            after={"award_series": award_series or "not set"},
        )
    return True
