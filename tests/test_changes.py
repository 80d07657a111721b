"""What changed overnight (issue 20, part 1): each build compared with the one before."""

import csv
import datetime
import io
import re

import pytest
import time_machine
from django.urls import reverse

from flags.models import RebuildRun, SnapshotChange
from flags.snapshot import follow_learners_to_their_centres, rebuild
from learners.models import Entry, Learner

from .builders import learner_with_everything
from .factories import EntryFactory, LearnerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_learners(centre):
    """Ada has her principal learning entered; Ben has nothing entered yet."""
    ada = learner_with_everything(centre)
    ben = LearnerFactory(centre=centre, surname="Brown", forename="Ben", line_id="ENG", level="A")
    return ada, ben


def _enter_like(source, learner):
    """The entries `source` has, made for `learner` by the learner's own centre."""
    for entry in Entry.objects.filter(learner=source):
        EntryFactory(
            centre=learner.centre,
            candidate_number="0002",
            kind=entry.kind,
            unit=entry.unit,
            code=entry.code,
            qualification=entry.qualification,
            series=entry.series,
            learner=learner,
            uln=learner.uln,
        )


def test_it_records_exactly_what_an_import_fixed_and_broke(two_learners):
    ada, ben = two_learners
    rebuild()
    assert not SnapshotChange.objects.exists()  # a first build has nothing to compare with

    _enter_like(ada, ben)  # fixes Ben's principal learning...
    Entry.objects.filter(learner=ada, kind="CASHIN").delete()  # ...and breaks Ada's
    run = rebuild()

    changes = SnapshotChange.objects.filter(run=run)
    assert {(c.uln, c.component) for c in changes} == {(ada.uln, "PL"), (ben.uln, "PL")}
    ben_flag = changes.get(uln=ben.uln, kind=SnapshotChange.Kind.ENTRY_FLAG)
    assert (ben_flag.before, ben_flag.after) == ("missing", "eligible")
    ada_flag = changes.get(uln=ada.uln, kind=SnapshotChange.Kind.ENTRY_FLAG)
    assert ada_flag.before == "eligible" and ada_flag.after != "eligible"
    assert changes.filter(uln=ben.uln, kind=SnapshotChange.Kind.RESOLVED).exists()
    assert changes.filter(uln=ada.uln, kind=SnapshotChange.Kind.NEW_PROBLEM).exists()
    assert all(c.changed_on == run.built_for for c in changes)


def test_an_unchanged_rebuild_records_nothing(two_learners):
    rebuild()
    run = rebuild()

    assert not SnapshotChange.objects.filter(run=run).exists()


def test_a_failed_rebuild_records_no_change(two_learners, monkeypatch):
    ada, ben = two_learners
    rebuild()
    _enter_like(ada, ben)

    from flags import snapshot

    recorded = snapshot.record_changes

    def record_then_fail(previous, current):
        recorded(previous, current)
        assert SnapshotChange.objects.filter(run=current).exists()  # written, then undone
        raise RuntimeError("the switch failed after the changes were written")

    monkeypatch.setattr("flags.snapshot.record_changes", record_then_fail)
    with pytest.raises(RuntimeError):
        rebuild()

    assert RebuildRun.objects.filter(outcome="failed").count() == 1
    assert not SnapshotChange.objects.exists()


@pytest.fixture
def changed(two_learners, other_centre):
    ada, ben = two_learners
    elsewhere = LearnerFactory(centre=other_centre, surname="Else", line_id="ENG", level="A")
    rebuild()
    _enter_like(ada, ben)
    _enter_like(ada, elsewhere)
    Entry.objects.filter(learner=ada, kind="CASHIN").delete()
    rebuild()
    return ada, ben, elsewhere


def test_the_home_page_says_what_the_last_build_changed(client, viewer, changed):
    client.force_login(viewer)

    text = client.get(reverse("home")).content.decode()

    assert re.search(r'data-changes-new="[1-9]\d*" data-changes-resolved="[1-9]\d*"', text)
    assert f'href="{reverse("changes")}?centre=12345&amp;since=build"' in text


def test_the_changes_page_and_export_show_only_the_users_centres(client, viewer, changed):
    ada, ben, elsewhere = changed
    client.force_login(viewer)

    page = client.get(reverse("changes")).content.decode()
    export = b"".join(client.get(reverse("changes_export")).streaming_content).decode()
    rows = list(csv.reader(io.StringIO(export.lstrip("\ufeff"))))

    assert rows[0] == [
        "uln", "surname", "forename", "centre", "component", "kind", "before", "after", "changed_on"
    ]  # fmt: skip
    assert {row[0] for row in rows[1:]} == {ada.uln, ben.uln}
    assert ben.uln in page and ada.uln in page and elsewhere.uln not in page
    assert ["entry flag", "missing", "eligible"] in [row[5:8] for row in rows if row[0] == ben.uln]


def test_the_changes_filter_like_the_overview(client, viewer, changed):
    ada, ben, _ = changed
    client.force_login(viewer)

    resolved = client.get(reverse("changes"), {"kind": "resolved", "since": "build"})
    listed = {row.record.uln for row in resolved.context["table"].page.object_list}

    assert listed == {ben.uln}


def test_a_learners_changes_go_with_them_to_their_new_centre(two_learners, other_centre):
    ada, ben = two_learners
    rebuild()
    _enter_like(ada, ben)
    rebuild()
    assert set(SnapshotChange.objects.values_list("centre_id", flat=True)) == {"12345"}

    Learner.objects.filter(pk=ben.pk).update(centre=other_centre)
    follow_learners_to_their_centres()

    assert set(SnapshotChange.objects.values_list("centre_id", flat=True)) == {"54321"}


def test_it_keeps_fourteen_days_of_changes(two_learners):
    ada, ben = two_learners
    with time_machine.travel(datetime.datetime(2026, 11, 1, 4, tzinfo=datetime.UTC), tick=False):
        rebuild()
        _enter_like(ada, ben)
        rebuild()
    assert SnapshotChange.objects.filter(changed_on=datetime.date(2026, 11, 1)).exists()

    with time_machine.travel(datetime.datetime(2026, 11, 14, 4, tzinfo=datetime.UTC), tick=False):
        rebuild()
    assert SnapshotChange.objects.filter(changed_on=datetime.date(2026, 11, 1)).exists()
    with time_machine.travel(datetime.datetime(2026, 11, 15, 4, tzinfo=datetime.UTC), tick=False):
        rebuild()
    assert not SnapshotChange.objects.filter(changed_on=datetime.date(2026, 11, 1)).exists()
