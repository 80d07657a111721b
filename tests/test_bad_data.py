"""Issue 17, point 8: codes are checked the same way at every door, and one learner's data
that the rules cannot read is that learner's visible problem, never a 500 or a failed build."""

import pytest
from django.test import Client
from django.urls import reverse

from flags import rules
from flags.models import DetailLine, OverviewRow, RebuildRun
from flags.snapshot import rebuild
from learners.feed.importer import import_delivery
from learners.models import Entry, Series

from .builders import learner_with_everything
from .factories import LearnerFactory, uln_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("code", "accepted"), [("2026-06", True), ("Jun-26", False), ("0000-06", False)]
)
def test_the_admin_and_the_feed_check_series_codes_alike(staff, tmp_path, code, accepted):
    client = Client()
    client.force_login(staff)
    response = client.post(reverse("admin:learners_series_add"), {"code": code, "name": "A series"})
    (tmp_path / "series.csv").write_text(f"code,name,results_published_on\n{code},A series,\n")

    outcome = import_delivery(tmp_path)

    assert (response.status_code == 302) is accepted
    assert outcome.imported is accepted
    assert Series.objects.filter(code=code).exists() is accepted


def test_the_admin_checks_qualification_codes_as_the_feed_does(staff):
    client = Client()
    client.force_login(staff)
    response = client.post(
        reverse("admin:learners_qualification_add"),
        {"code": "DPL 3/ENG", "title": "x", "component": "PL", "kind": "GQ", "level": "3"},
    )
    assert response.status_code == 200
    assert "letters, digits" in response.content.decode()


@pytest.fixture
def broken_learner(centre):
    """A learner whose entry names a series no date can be made of (as rows written before
    the checks were tightened may)."""
    learner = learner_with_everything(centre)
    Series.objects.bulk_create([Series(code="0000-06", name="Broken")])
    Entry.objects.filter(learner=learner).update(series_id="0000-06")
    return learner


def test_a_learner_the_rules_cannot_read_shows_it_and_others_are_unaffected(
    client, viewer, centre, broken_learner
):
    other = LearnerFactory(centre=centre, uln=uln_for(7777))
    client.force_login(viewer)

    broken = client.get(reverse("learner_record", args=[broken_learner.uln]))
    fine = client.get(reverse("learner_record", args=[other.uln]))

    assert broken.status_code == 200
    assert "could not check this learner" in broken.content.decode()
    assert fine.status_code == 200


def test_the_rebuild_completes_with_the_learner_shown_as_not_checked(
    centre, broken_learner, monkeypatch
):
    other = LearnerFactory(centre=centre, uln=uln_for(7777))
    assert rebuild().outcome == RebuildRun.Outcome.SUCCEEDED  # the bad series itself
    real = rules.evaluate

    def failing_on_one(data, catalogue, today):
        if data.learner.uln == broken_learner.uln:
            raise ValueError("year 0 is out of range")
        return real(data, catalogue, today)

    monkeypatch.setattr(rules, "evaluate", failing_on_one)

    run = rebuild()

    assert run.outcome == RebuildRun.Outcome.SUCCEEDED
    rows = dict(OverviewRow.objects.filter(run=run).values_list("uln", "problems"))
    assert rows[broken_learner.uln] == 1 and rows[other.uln] == real_problems(other)
    line = DetailLine.objects.get(run=run, uln=broken_learner.uln, element="This learner's record")
    assert "could not check this learner" in line.issue


def real_problems(learner) -> int:
    from flags.clock import today
    from flags.loaders import load_catalogue, load_learner

    return rules.evaluate(load_learner(learner.uln), load_catalogue(), today()).problem_count


# --- point 11: the admin and the feed answer bad input plainly -----------------------------


def _every_admin():
    from django.contrib import admin

    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def test_every_admin_bounds_its_searches():
    from base.adminsearch import BoundedSearch

    unbounded = [
        model._meta.label
        for model, model_admin in _every_admin()
        if not isinstance(model_admin, BoundedSearch)
    ]
    assert not unbounded


@pytest.mark.parametrize("search", ["12345\x00", " ".join(["word"] * 1000)], ids=["nul", "long"])
def test_an_admin_search_with_a_nul_or_a_thousand_words_is_answered(staff, search):
    client = Client()
    client.force_login(staff)
    for model, model_admin in _every_admin():
        if not model_admin.search_fields:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url, {"q": search})
        assert response.status_code == 200, (model._meta.label, response.status_code)


def test_a_date_in_year_9998_is_a_row_error_not_a_database_error(tmp_path, centre):
    (tmp_path / "learners.csv").write_text(
        "uln,forename,surname,date_of_birth,centre,line,level,registered_on\n"
        f"{uln_for(1)},Ann,Smith,1995-01-01,12345,ENG,A,9998-09-01\n"
    )

    outcome = import_delivery(tmp_path)

    assert [str(e) for e in outcome.errors] == [
        "learners.csv:2: registered_on: not a date between 1990 and 2099"
    ]
