import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from accounts import audit
from accounts.models import AuditEvent

from .changes import LEARNER_ONLY, record_components, recorded_change
from .models import DataChange, Learner

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

        with recorded_change(DataChange.Kind.AWARD_DATE) as change:
            learner.award_series = award_series
            learner.award_series_edited = True
            learner.save(update_fields=["award_series", "award_series_edited"])
            _note_learners(change, [learner.uln])
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


@dataclass(frozen=True)
class BulkAwardDates:
    changed: int
    already: int  # already that date, and the administrator's choice
    too_early: int  # registered after the series: no award before registration (DOMAIN 4.7)


def set_award_dates(
    actor, ulns: Iterable[str], award_series: str, *, centres: Iterable[str]
) -> BulkAwardDates:
    """Set (or clear, with "") the anticipated award series of many learners in one
    transaction, one audit event each, as change_award_date does for one."""
    return choose_award_dates(actor, dict.fromkeys(ulns, award_series), centres=centres)


def choose_award_dates(actor, choices: dict[str, str], *, centres: Iterable[str]) -> BulkAwardDates:
    """Each learner's own anticipated award series ("" to clear), in one transaction; only
    learners registered now at `centres` (those the actor administers) are touched."""
    with transaction.atomic():
        learners = list(
            Learner.objects.select_for_update()
            .filter(uln__in=list(choices), centre_id__in=list(centres))
            .order_by("uln")
            .values_list(
                "uln",
                "centre_id",
                "surname",
                "forename",
                "award_series",
                "award_series_edited",
                "registered_on",
            )
        )
        changing, already, too_early = [], 0, 0
        for learner in learners:
            uln, centre, surname, forename, before, chosen, registered_on = learner
            award_series = choices[uln]
            if award_series and registered_on.replace(day=1) > _first_day(award_series):
                too_early += 1
            elif before == award_series and chosen:
                already += 1
            else:
                changing.append((*learner, award_series))
        if changing:
            _write_award_dates(actor, changing)
    return BulkAwardDates(len(changing), already, too_early)


def _write_award_dates(actor, changing: list[tuple]) -> None:
    """The chosen dates, one audit event each, as one numbered change of those learners."""
    with recorded_change(DataChange.Kind.AWARD_DATE) as change:
        by_series: dict[str, list[str]] = {}
        for row in changing:
            by_series.setdefault(row[-1], []).append(row[0])
        for award_series, ulns in by_series.items():
            Learner.objects.filter(uln__in=ulns).update(
                award_series=award_series, award_series_edited=True
            )
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    actor=actor,
                    actor_name=actor.get_username(),
                    action=AuditEvent.Action.AWARD_DATE_CHANGED,
                    centre_id=centre,
                    learner_uln=uln,
                    subject=f"{uln} {surname}, {forename} (set for many)"[:254],
                    before={"award_series": before or "not set"},
                    after={"award_series": after or "not set"},
                )
                for uln, centre, surname, forename, before, _chosen, _registered, after in changing
            ],
            batch_size=1000,
        )
        _note_learners(change, [row[0] for row in changing])


def _note_learners(change: int, ulns: list[str]) -> None:
    """The award date is on the Overview and moves flags (DOMAIN 4.7): a numbered change of
    these learners (nothing late on the pages), whose snapshot rows are worked out again
    once it commits."""
    record_components(change, [(uln, LEARNER_ONLY) for uln in ulns])


def _first_day(series: str) -> datetime.date:
    year, month = series.split("-")
    return datetime.date(int(year), int(month), 1)
