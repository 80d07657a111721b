from django.db import transaction

from accounts import audit
from accounts.models import AuditEvent

from .models import Learner

CHANGED = "The anticipated award date was changed."
KEPT = "The anticipated award date is now your choice: later deliveries will not change it."


def change_award_date(actor, learner: Learner, award_series: str) -> str:
    """Set or clear the anticipated award series; what happened, in the user's words.

    Saving is a choice even when the date is the one the feed gave: from then on deliveries
    keep it (empty when it already was the administrator's choice, so nothing happened).
    """
    with transaction.atomic():
        learner = Learner.objects.select_for_update().get(pk=learner.pk)
        before, chosen = learner.award_series, learner.award_series_edited
        if before == award_series and chosen:
            return ""

        # Saving the date the feed gave changes no date, only whose choice it is: say so.
        def kept_from(who: str) -> dict:
            return {"chosen by": who} if before == award_series else {}

        learner.award_series = award_series
        learner.award_series_edited = True
        learner.save(update_fields=["award_series", "award_series_edited"])
        audit.record(
            actor,
            AuditEvent.Action.AWARD_DATE_CHANGED,
            centre=learner.centre_id,
            learner_uln=learner.uln,
            subject=f"{learner.uln} {learner.surname}, {learner.forename}",
            before={"award_series": before or "not set", **kept_from("the feed")},
            after={"award_series": award_series or "not set", **kept_from("an administrator")},
        )
    return CHANGED if before != award_series else KEPT
