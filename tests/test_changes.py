"""What changed overnight (issue 20, part 1): each build compared with the one before."""

import pytest

from flags.models import RebuildRun, SnapshotChange
from flags.snapshot import rebuild
from learners.models import Entry

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
    for entry in Entry.objects.filter(learner=source):
        EntryFactory(
            centre=entry.centre,
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

    def fail():
        raise RuntimeError("the switch failed")

    monkeypatch.setattr("flags.snapshot.follow_learners_to_their_centres", fail)
    with pytest.raises(RuntimeError):
        rebuild()

    assert RebuildRun.objects.filter(outcome="failed").count() == 1
    assert not SnapshotChange.objects.exists()
