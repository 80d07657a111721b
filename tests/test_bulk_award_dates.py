"""Award dates in bulk (issue 20, point 5): the Overview's learners as filtered, at the centres
the administrator administers, asked first, one audit event each."""

import datetime

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from flags.snapshot import rebuild
from learners.models import Learner

from .factories import LearnerFactory, SeriesFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cohort(centre, other_centre):
    SeriesFactory(code="2027-06", name="June 2027")
    ours = [
        LearnerFactory(centre=centre, level="A", registered_on=datetime.date(2025, 9, 1))
        for _ in range(3)
    ]
    late = LearnerFactory(centre=centre, level="A", registered_on=datetime.date(2027, 9, 1))
    foundation = LearnerFactory(centre=centre, level="F", registered_on=datetime.date(2025, 9, 1))
    theirs = LearnerFactory(centre=other_centre, level="A", registered_on=datetime.date(2025, 9, 1))
    rebuild()
    return ours, late, foundation, theirs


def test_it_asks_then_sets_the_date_of_every_learner_matching_the_filters(
    client, administrator, cohort
):
    ours, late, foundation, theirs = cohort
    client.force_login(administrator)
    url = reverse("bulk_award_date")

    form = client.get(url, {"level": "A"}).content.decode()
    asked = client.post(url, {"filters": "level=A", "award_series": "2027-06"}).content.decode()

    assert "For the 4 learners the Overview lists with these filters (Level: Advanced)" in form
    assert "Set the anticipated award date of 4 learners to June 2027?" in asked
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.AWARD_DATE_CHANGED).exists()

    done = client.post(
        url, {"filters": "level=A", "award_series": "2027-06", "confirmed": "yes"}, follow=True
    )

    assert "The anticipated award date of 3 learners was set to June 2027." in done.content.decode()
    assert "1 registered after it kept theirs." in done.content.decode()
    for learner in ours:
        learner.refresh_from_db()
        assert (learner.award_series, learner.award_series_edited) == ("2027-06", True)
    for untouched in (late, foundation, theirs):
        assert Learner.objects.get(pk=untouched.pk).award_series_edited is False
    events = AuditEvent.objects.filter(action=AuditEvent.Action.AWARD_DATE_CHANGED)
    assert sorted(events.values_list("learner_uln", flat=True)) == sorted(
        learner.uln for learner in ours
    )


def test_a_viewer_cannot_set_award_dates(client, viewer, cohort):
    client.force_login(viewer)

    response = client.post(
        reverse("bulk_award_date"),
        {"filters": "", "award_series": "2027-06", "confirmed": "yes"},
    )

    assert response.status_code == 403
    assert not Learner.objects.filter(award_series_edited=True).exists()
