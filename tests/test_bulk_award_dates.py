"""Award dates in bulk (issue 20, point 5): the Overview's learners as filtered, at the centres
the administrator administers, asked first, one audit event each."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
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

    assert "For the 4 learners listed by the Overview with these filters (Level: Advanced)" in form
    assert "Set the anticipated award date of 4 learners to June 2027?" in asked
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.AWARD_DATE_CHANGED).exists()

    done = client.post(
        url,
        {"filters": "level=A", "award_series": "2027-06", "confirmed": "yes", "count": "4"},
        follow=True,
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


def _upload(client, text: str):
    upload = SimpleUploadedFile("awards.csv", text.encode(), content_type="text/csv")
    return client.post(reverse("bulk_award_file"), {"file": upload})


def test_it_sets_each_learners_date_from_a_file_after_showing_it(client, administrator, cohort):
    ours, late, foundation, theirs = cohort
    SeriesFactory(code="2028-06", name="June 2028")
    client.force_login(administrator)

    preview = _upload(
        client, f"uln,award_series\n{ours[0].uln},2027-06\n{ours[1].uln},2028-06\n{ours[2].uln},\n"
    )

    assert preview.status_code == 200
    assert "3 learners will have the award date the file gives" in preview.content.decode()
    assert not Learner.objects.filter(award_series_edited=True).exists()
    checked = re.search(r'name="checked" value="([^"]+)"', preview.content.decode()).group(1)

    client.post(reverse("bulk_award_file"), {"checked": checked})

    got = dict(Learner.objects.filter(award_series_edited=True).values_list("uln", "award_series"))
    assert got == {ours[0].uln: "2027-06", ours[1].uln: "2028-06", ours[2].uln: ""}
    assert AuditEvent.objects.filter(action=AuditEvent.Action.AWARD_DATE_CHANGED).count() == 3


def test_it_refuses_the_whole_file_for_one_bad_row(client, administrator, cohort):
    ours, late, foundation, theirs = cohort
    client.force_login(administrator)

    preview = _upload(
        client,
        "uln,award_series\n"
        f"{ours[0].uln},2027-06\n"
        f"{theirs.uln},2027-06\n"  # another centre's learner
        f"{late.uln},2027-06\n"  # registered after June 2027
        "123,2027-06\n"
        f"{ours[1].uln},June\n",
    )
    text = preview.content.decode()

    assert preview.status_code == 400
    assert "The file has 4 problems: nothing will be changed" in text
    assert "no learner with this ULN at a centre you administer" in text
    assert "before the learner was registered" in text
    assert 'name="checked"' not in text
    assert not Learner.objects.filter(award_series_edited=True).exists()


def test_a_viewer_cannot_use_the_award_file(client, viewer, cohort):
    client.force_login(viewer)

    assert client.get(reverse("bulk_award_file")).status_code == 403


def test_it_refuses_filters_that_are_not_valid_rather_than_widen_the_change(
    client, administrator, cohort
):
    client.force_login(administrator)

    response = client.post(
        reverse("bulk_award_date"),
        {"filters": "level=Z", "award_series": "2027-06", "confirmed": "yes", "count": "5"},
    )

    assert response.status_code == 302
    assert not Learner.objects.filter(award_series_edited=True).exists()


def test_it_asks_again_when_the_list_changed_since_the_question(client, administrator, cohort):
    client.force_login(administrator)

    response = client.post(
        reverse("bulk_award_date"),
        {"filters": "level=A", "award_series": "2027-06", "confirmed": "yes", "count": "3"},
    )

    assert response.status_code == 409
    assert "The list has changed since you were asked: 4 learners now match" in (
        response.content.decode()
    )
    assert not Learner.objects.filter(award_series_edited=True).exists()


def test_it_sets_the_date_of_the_learners_chosen_one_by_one(client, administrator, cohort):
    ours, late, foundation, theirs = cohort
    client.force_login(administrator)

    overview = client.get(reverse("overview"), {"level": "A"}).content.decode()
    chosen = f"level=A&uln={ours[0].uln}&uln={ours[2].uln}&uln={theirs.uln}"
    form = client.get(f"{reverse('bulk_award_date')}?{chosen}").content.decode()
    client.post(
        reverse("bulk_award_date"),
        {"filters": chosen, "award_series": "2027-06", "confirmed": "yes", "count": "2"},
    )

    assert f'name="uln" value="{ours[0].uln}" form="choose-learners"' in overview
    assert "For the 2 learners you chose on the Overview" in form  # not another centre's
    edited = set(Learner.objects.filter(award_series_edited=True).values_list("uln", flat=True))
    assert edited == {ours[0].uln, ours[2].uln}


def test_viewers_get_no_boxes_to_choose_learners(client, viewer, cohort):
    client.force_login(viewer)

    overview = client.get(reverse("overview")).content.decode()

    assert 'form="choose-learners"' not in overview and 'id="choose-learners"' not in overview
