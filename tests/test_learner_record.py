import datetime

import pytest
import time_machine
from django.urls import reverse

from accounts.models import AuditEvent
from learners.models import Learner, Result, Series

from .builders import learner_with_everything
from .factories import LearnerFactory, SeriesFactory

pytestmark = pytest.mark.django_db
AFTER_RESULTS = datetime.datetime(2010, 9, 1, 12, tzinfo=datetime.UTC)


@pytest.fixture
def learner(centre):
    return learner_with_everything(centre)


def record(client, uln):
    return client.get(reverse("learner_record", args=[uln]))


@time_machine.travel(AFTER_RESULTS, tick=False)
def test_it_shows_the_learner_and_a_flag_for_every_component(client, viewer, learner):
    client.force_login(viewer)

    response = record(client, learner.uln)

    assert response.status_code == 200
    text = response.content.decode()
    assert learner.uln in text and "Northgate College" in text
    for component in ("PL", "PROJECT", "FS_ENGLISH", "FS_MATHS", "FS_ICT", "ASL", "PLTS", "WEX"):
        assert f'data-component="{component}" data-kind="entry" data-flag="' in text
        assert f'data-component="{component}" data-kind="assessment"' in text
    flags = response.context["flags"]
    assert flags.component("PL").entry == "eligible"  # cash-in and every mandatory unit
    assert 'data-component="PL" data-kind="entry" data-flag="eligible"' in text
    assert 'data-component="PROJECT" data-kind="entry" data-flag="other-cab"' in text


@time_machine.travel(AFTER_RESULTS, tick=False)
def test_it_lists_every_problem_with_its_action(client, viewer, learner):
    client.force_login(viewer)

    response = record(client, learner.uln)

    problems = response.context["problems"]
    assert problems
    text = response.content.decode()
    for problem in problems:
        assert problem.action in text
    severities = [p.severity for p in problems]
    order = {"urgent": 0, "action": 1, "info": 2}
    assert severities == sorted(severities, key=order.get)


@time_machine.travel(AFTER_RESULTS, tick=False)
def test_it_shows_published_results_only(client, viewer, learner):
    Result.objects.create(
        uln=learner.uln,
        series=Series.objects.get(code="2010-06"),
        code="DPL3ENG",
        qualification_id="DPL3ENG",
        grade="B",
        points=None,
        published_on=datetime.date(2010, 9, 2),  # tomorrow
    )
    client.force_login(viewer)

    response = record(client, learner.uln)

    pl = next(c for c in response.context["record"].components if c.code == "PL")
    assert [r.code for r in pl.results] == ["ENG300", "ENG301", "ENG302"]
    assert response.context["flags"].grade_is_estimate
    assert 'class="estimate" data-grade=' in response.content.decode()


def test_an_outsider_gets_404_for_a_learner_of_another_centre(client, other_viewer, learner):
    client.force_login(other_viewer)
    assert record(client, learner.uln).status_code == 404


def test_a_viewer_sees_no_award_date_control_and_cannot_post_one(client, viewer, learner):
    client.force_login(viewer)

    assert "Save award date" not in record(client, learner.uln).content.decode()
    response = client.post(reverse("edit_award_date", args=[learner.uln]), {"award_series": ""})

    assert response.status_code == 403
    assert Learner.objects.get(pk=learner.pk).award_series == "2010-06"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.AWARD_DATE_CHANGED).exists()


def test_an_administrator_changes_the_award_date_with_an_audit_event(
    client, administrator, learner
):
    SeriesFactory(code="2011-06")
    client.force_login(administrator)

    response = client.post(
        reverse("edit_award_date", args=[learner.uln]), {"award_series": "2011-06"}, follow=True
    )

    learner.refresh_from_db()
    assert (learner.award_series, learner.award_series_edited) == ("2011-06", True)
    event = AuditEvent.objects.get(action=AuditEvent.Action.AWARD_DATE_CHANGED)
    assert (event.learner_uln, event.centre_id, event.before, event.after) == (
        learner.uln,
        "12345",
        {"award_series": "2010-06"},
        {"award_series": "2011-06"},
    )
    text = response.content.decode()
    assert "June 2011" in text
    assert "Anticipated award date changed" in text  # the history


def test_an_administrator_can_clear_the_award_date(client, administrator, learner):
    client.force_login(administrator)
    client.post(reverse("edit_award_date", args=[learner.uln]), {"award_series": ""})
    learner.refresh_from_db()
    assert learner.award_series == ""
    event = AuditEvent.objects.get(action=AuditEvent.Action.AWARD_DATE_CHANGED)
    assert event.after == {"award_series": "not set"}


def test_it_refuses_an_award_date_that_is_not_a_series(client, administrator, learner):
    client.force_login(administrator)

    response = client.post(
        reverse("edit_award_date", args=[learner.uln]), {"award_series": "2099-13"}
    )

    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    learner.refresh_from_db()
    assert learner.award_series == "2010-06"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.AWARD_DATE_CHANGED).exists()


@pytest.mark.parametrize("entries", [1, 200])
def test_it_renders_in_a_constant_number_of_queries(
    client, viewer, centre, entries, django_assert_max_num_queries
):
    learner = learner_with_everything(centre, entries=entries)
    client.force_login(viewer)
    with django_assert_max_num_queries(22):
        assert record(client, learner.uln).status_code == 200


def test_a_learner_with_no_data_shows_everything_missing(client, viewer, centre):
    learner = LearnerFactory(centre=centre, level="P")
    client.force_login(viewer)

    response = record(client, learner.uln)

    flags = response.context["flags"]
    assert [c.component for c in flags.components] == [
        "PL",
        "PROJECT",
        "FS_ENGLISH",
        "FS_MATHS",
        "FS_ICT",
        "PLTS",
        "WEX",
    ]  # Progression: no ASL
    assert {c.entry for c in flags.components} == {"missing"}


def test_history_shows_only_events_from_the_users_centres(client, viewer, learner, other_centre):
    from accounts import audit

    audit.record(
        None,
        AuditEvent.Action.AWARD_DATE_CHANGED,
        centre="54321",
        learner_uln=learner.uln,
        subject="at the learner's old centre",
    )
    audit.record(
        None,
        AuditEvent.Action.AWARD_DATE_CHANGED,
        centre="12345",
        learner_uln=learner.uln,
        subject="here",
    )
    client.force_login(viewer)

    history = record(client, learner.uln).context["history"]

    assert [e.subject for e in history] == ["here"]
