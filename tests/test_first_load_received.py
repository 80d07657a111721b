"""A first load of the entries in bulk says it wrote every entry rather than noting each
learner's components (issue 21: 458,000 notes were a seventh of a national first import).
Every page, the refresh and the rebuild's switch must treat it exactly as the notes it
stands for: "received since the last overnight update" (DOMAIN.md 4.4) is the same either
way."""

import csv
import io
import re
import shutil
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from flags import snapshot
from flags.models import OverviewRow
from flags.refresh import learners_of_change, refresh
from flags.snapshot import current_run, rebuild
from learners import diploma
from learners.changes import LEARNER_ONLY, list_every_entry
from learners.feed import bulk
from learners.feed.importer import import_delivery
from learners.models import ChangedComponent, DataChange, MarkSubmission
from screens.cohort import late_changes

VALID = Path(__file__).parent / "data" / "valid_delivery"
AMELIE = "9276308686"
BEN = "1000000043"
BENS_ENTRY = "54321,0006,1000000043,Ben,Jones,2010-06,ENG301,UNIT,2010-02-20T10:00:00+00:00\n"


def _valid_but(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """VALID's delivery without one file, and that file alone: (the first, the second)."""
    without, alone = tmp_path / f"without-{name}", tmp_path / name
    shutil.copytree(VALID, without)
    alone.mkdir()
    (without / name).rename(alone / name)
    return without, alone


@pytest.fixture
def without_entries(tmp_path) -> Path:
    return _valid_but(tmp_path, "entries.csv")[0]


@pytest.fixture
def entries(tmp_path) -> Path:
    """The delivery's entries alone, and one for Ben: two learners' entries come in."""
    folder = _valid_but(tmp_path / "entries", "entries.csv")[1]
    with (folder / "entries.csv").open("a") as entries_file:
        entries_file.write(BENS_ENTRY)
    return folder


@pytest.fixture
def snapshot_before_the_entries(db, without_entries):
    assert import_delivery(without_entries).imported
    return rebuild()


def _import(folder: Path) -> int:
    """Import the folder; the id of its change."""
    outcome = import_delivery(folder)
    assert outcome.imported, outcome.errors
    return DataChange.objects.latest("committed").pk


def _components(change: int) -> set[tuple[str, str]]:
    return set(
        ChangedComponent.objects.filter(change_id=change)
        .exclude(component=LEARNER_ONLY)
        .values_list("uln", "component")
    )


def _as_every_entry(change: int) -> None:
    """The change as a first load in bulk records it: no notes of components, the flag."""
    ChangedComponent.objects.filter(change_id=change).exclude(component=LEARNER_ONLY).delete()
    DataChange.objects.filter(pk=change).update(wrote_every_entry=True)


def _rows(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _row(run, uln: str) -> dict:
    """A learner's Overview row as a person sees it (without its id and run)."""
    row = OverviewRow.objects.filter(run=run, uln=uln).values().get()
    return {k: v for k, v in row.items() if k not in ("id", "run_id")}


FLAG = re.compile(r'data-component="(\w+)" data-kind="(\w+)" data-flag="(\w+)"')


def _every_page(client) -> dict:
    """What each page that reads the snapshot shows of every learner's components."""
    home = client.get(reverse("home"))
    return {
        "overview page": FLAG.findall(client.get(reverse("overview")).content.decode()),
        "overview export": _rows(client.get(reverse("overview_export"))),
        "detail page": [
            (line.uln, line.component, line.late)
            for line in client.get(reverse("detail")).context["table"].data.data
        ],
        "detail export": _rows(client.get(reverse("detail_export"))),
        "undetermined": {
            component: [
                row.uln
                for row in client.get(
                    reverse("overview"), {"component": component, "flag": "undetermined"}
                )
                .context["table"]
                .data.data
            ]
            for component in diploma.COMPONENTS
        },
        "readiness": [
            (centre.number, bar.component, [(s.flag, s.count) for s in bar.segments])
            for centre in home.context["readiness"]
            for bar in centre.bars
        ],
    }


@pytest.mark.django_db
def test_every_page_shows_a_change_that_wrote_every_entry_as_its_notes(
    client, staff, snapshot_before_the_entries, entries
):
    change = _import(entries)
    client.force_login(staff)
    listed = _every_page(client)
    noted = _components(change)
    assert {uln for uln, _ in noted} == {AMELIE, BEN}
    assert sorted(listed["undetermined"][diploma.PL]) == sorted([AMELIE, BEN])

    _as_every_entry(change)
    assert late_changes(current_run()) == (change,)
    said = _every_page(client)

    assert said == listed
    # Listed after all (as a refresh does): the same notes, the same pages.
    assert list_every_entry(change)
    assert not list_every_entry(change)  # once
    assert _components(change) == noted
    assert _every_page(client) == listed


@pytest.mark.django_db
def test_the_learners_of_a_change_that_wrote_every_entry_are_those_with_entries(
    snapshot_before_the_entries, entries
):
    change = _import(entries)
    listed = learners_of_change(change)
    _as_every_entry(change)

    assert learners_of_change(change) == listed == sorted([AMELIE, BEN])


@pytest.mark.django_db
def test_a_refresh_lists_a_first_load_once_and_lets_go_of_its_own_learners_only(
    snapshot_before_the_entries, entries
):
    change = _import(entries)
    noted = _components(change)
    _as_every_entry(change)

    refresh([AMELIE])

    assert not DataChange.objects.get(pk=change).wrote_every_entry
    assert _components(change) == {(uln, c) for uln, c in noted if uln != AMELIE}
    assert {uln for uln, _ in _components(change)} == {BEN}


@pytest.mark.django_db
def test_a_first_load_committed_while_the_rebuild_reads_keeps_the_previous_rows(
    snapshot_before_the_entries, entries, monkeypatch
):
    """The rebuild cannot know which of its learners it read before the load: it carries
    their previous rows over, and the pages say "received since", as for the notes."""
    previous = current_run()
    before = {uln: _row(previous, uln) for uln in (AMELIE, BEN)}
    reading = snapshot.iter_learners

    def load_as_it_reads(chunk_size, **shard):
        # After the run noted what it has seen, before it reads a learner: it reads the
        # entries, but cannot know it did.
        _as_every_entry(_import(entries))
        yield from reading(chunk_size, **shard)

    monkeypatch.setattr(snapshot, "iter_learners", load_as_it_reads)
    run = rebuild()

    assert run != previous and current_run() == run
    assert {uln: _row(run, uln) for uln in (AMELIE, BEN)} == before
    assert len(late_changes(run)) == 1
    # Not for want of a difference: built with her entries, Amélie's row is another.
    monkeypatch.setattr(snapshot, "iter_learners", reading)
    built = rebuild()
    assert _row(built, AMELIE)["pl_entry"] != before[AMELIE]["pl_entry"]


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="loads in bulk on PostgreSQL")
def test_a_first_load_of_the_entries_in_bulk_says_so_instead_of_noting_each(
    client, staff, snapshot_before_the_entries, entries, monkeypatch
):
    monkeypatch.setattr(bulk, "BULK_ROWS", 1)  # these few rows as a national file's

    change = _import(entries)

    assert DataChange.objects.get(pk=change).wrote_every_entry
    assert _components(change) == set()
    client.force_login(staff)
    undetermined = _every_page(client)["undetermined"][diploma.PL]
    assert sorted(undetermined) == sorted([AMELIE, BEN])


@pytest.mark.django_db
def test_the_task_after_a_late_first_load_lists_it_at_once(
    snapshot_before_the_entries, entries, monkeypatch
):
    """The pages then look its components up in the notes, not in every entry, even while
    its learners wait for the nightly rebuild (too many to refresh)."""
    from flags import tasks

    monkeypatch.setattr(tasks, "AT_MOST", 1)
    change = _import(entries)
    noted = _components(change)
    _as_every_entry(change)

    assert tasks.refresh_change(change) == 0  # left to the nightly rebuild

    assert not DataChange.objects.get(pk=change).wrote_every_entry
    assert _components(change) == noted


@pytest.mark.django_db
def test_a_first_load_no_snapshot_has_to_read_is_left_unlisted(without_entries, entries):
    from flags.tasks import refresh_change

    assert import_delivery(without_entries).imported
    change = _import(entries)
    _as_every_entry(change)
    refresh_change(change)  # no snapshot yet: nobody reads it
    rebuild()  # one that saw it
    refresh([AMELIE])

    assert DataChange.objects.get(pk=change).wrote_every_entry
    assert _components(change) == set()
    assert late_changes(current_run()) == ()


# --- first loads of a learner file (marks here): its learners, not each noted --------------


@pytest.fixture
def without_marks(tmp_path) -> Path:
    return _valid_but(tmp_path, "marks.csv")[0]


@pytest.fixture
def marks(tmp_path) -> Path:
    return _valid_but(tmp_path / "marks", "marks.csv")[1]


def _learners_noted(change: int) -> set[str]:
    return set(
        ChangedComponent.objects.filter(change_id=change, component=LEARNER_ONLY).values_list(
            "uln", flat=True
        )
    )


def _as_every_row_of(change: int, model) -> None:
    """The change as a first load in bulk of a learner file records it."""
    ChangedComponent.objects.filter(change_id=change, component=LEARNER_ONLY).delete()
    DataChange.objects.filter(pk=change).update(wrote_every_row_of=[model._meta.label])


@pytest.mark.django_db
def test_a_first_load_of_a_learner_file_touches_its_learners_only(without_marks, marks):
    assert import_delivery(without_marks).imported
    previous = rebuild()
    change = _import(marks)
    noted = _learners_noted(change)
    listed = learners_of_change(change)
    carried = _carried(previous, change)
    assert noted == {AMELIE} and listed == [AMELIE] and carried == {AMELIE}

    _as_every_row_of(change, MarkSubmission)

    assert _learners_noted(change) == set()
    assert learners_of_change(change) == listed  # not Ben, who has no marks
    assert _carried(previous, change) == carried


def _carried(previous, change: int) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(snapshot.learners_to_carry_over(previous, [change]))
        return {uln for (uln,) in cursor.fetchall()}


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="loads in bulk on PostgreSQL")
def test_a_first_load_of_a_learner_file_in_bulk_says_so_instead_of_noting_each(
    without_marks, marks, monkeypatch
):
    assert import_delivery(without_marks).imported
    monkeypatch.setattr(bulk, "BULK_ROWS", 1)  # this one line as a national file's

    change = _import(marks)

    assert DataChange.objects.get(pk=change).wrote_every_row_of == ["learners.MarkSubmission"]
    assert _learners_noted(change) == set()
    assert learners_of_change(change) == [AMELIE]


@pytest.mark.django_db
def test_the_task_after_a_change_before_any_snapshot_reads_no_learners(
    without_entries, entries, django_assert_max_num_queries
):
    """Nothing built yet: the first build will have them (a national first load's learners
    took half a second to find, for nothing)."""
    from flags.tasks import refresh_change

    assert import_delivery(without_entries).imported
    change = _import(entries)

    with django_assert_max_num_queries(2):
        assert refresh_change(change) == 0


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="loads in bulk on PostgreSQL")
def test_the_refresh_after_a_first_load_of_a_learner_file_gives_what_a_rebuild_gives(
    without_marks, marks, monkeypatch
):
    assert import_delivery(without_marks).imported
    before = _row(rebuild(), AMELIE)
    monkeypatch.setattr(bulk, "BULK_ROWS", 1)
    change = _import(marks)
    assert DataChange.objects.get(pk=change).wrote_every_row_of  # as a national first load

    from flags.tasks import refresh_change

    assert refresh_change(change) == 1  # Amélie, who has marks

    refreshed = _row(current_run(), AMELIE)
    assert refreshed != before
    assert refreshed == _row(rebuild(), AMELIE)


def test_it_keeps_only_a_learner_file_s_table_as_written_whole():
    from learners.changes import _learner_model

    with pytest.raises(LookupError):
        _learner_model('learners.MarkSubmission" ; DROP TABLE x; --')
    with pytest.raises(Exception, match="has no field named 'uln'"):
        _learner_model("learners.Series")
    assert _learner_model("learners.MarkSubmission") is MarkSubmission
