""" "Received since the last overnight update": decided by what the rebuild saw (DOMAIN.md 4.4).

Data that arrives after a snapshot shows "undetermined" on every page that reads the
snapshot (the Overview, the Detail, both exports, the flag filter, the home readiness
picture) until the next rebuild. Lateness is decided by the changes committed before the
rebuild began reading, never by comparing clocks.
"""

import csv
import datetime
import io
import shutil
import threading
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils.timezone import now as timezone_now

from flags import snapshot
from flags.snapshot import rebuild
from learners.awards import set_award_dates
from learners.feed import importer
from learners.feed.importer import import_delivery
from learners.models import DataChange, Entry, Unit
from nonedexcel import records
from nonedexcel.models import NonEdexcelQualification, PendingUpload
from screens.cohort import late_changes

from .factories import LearnerFactory

# The answer to "Are you sure?" (issue 19): removing takes it.
CONFIRMED = {"confirmed": "yes"}

VALID = Path(__file__).parent / "data" / "valid_delivery"
AMELIE = "9276308686"
PROJECT_CASHIN = (
    "centre,candidate_number,uln,forename,surname,series,code,type,received_at\n"
    f"12345,0001,{AMELIE},Amelie,Orsted,2010-06,PRJ3,CASHIN,2010-03-01T09:00:00+00:00\n"
)


@pytest.fixture
def delivery(tmp_path):
    folder = tmp_path / "delivery"
    shutil.copytree(VALID, folder)
    return folder


@pytest.fixture
def project_cash_in(tmp_path):
    """A later delivery: Amélie's project cash-in, which the first snapshot has not seen."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "entries.csv").write_text(PROJECT_CASHIN)
    return folder


def csv_rows(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def amelies_problems(client) -> tuple[int, int]:
    """Amélie's number of problems on the Overview page and in its export."""
    page = client.get(reverse("overview")).context["table"].page.object_list
    [shown] = [row.record.problems for row in page if row.record.uln == AMELIE]
    [exported] = [
        int(r["problems"])
        for r in csv_rows(client.get(reverse("overview_export")))
        if r["uln"] == AMELIE
    ]
    return shown, exported


def shows_project_as_received(client) -> dict[str, object]:
    """Every snapshot page's view of Amélie's project, for one signed-in client."""
    overview = client.get(reverse("overview")).content.decode()
    detail = client.get(reverse("detail"))
    [overview_row] = [
        r for r in csv_rows(client.get(reverse("overview_export"))) if r["uln"] == AMELIE
    ]
    detail_rows = [
        r
        for r in csv_rows(client.get(reverse("detail_export")))
        if r["uln"] == AMELIE and r["component"] == "PROJECT"
    ]
    home = client.get(reverse("home"))
    [centre] = [c for c in home.context["readiness"] if c.number == "12345"]
    [bar] = [b for b in centre.bars if b.component == "PROJECT"]
    return {
        "overview page": 'data-component="PROJECT" data-kind="entry" data-flag="undetermined"'
        in overview,
        "overview export": overview_row["PROJECT_entry"],
        "detail page": [
            (line.component, line.late)
            for line in detail.context["table"].data.data
            if line.uln == AMELIE and line.component == "PROJECT"
        ],
        "detail export": [(r["flag"], r["problem"][:40]) for r in detail_rows],
        "filter undetermined": [
            r.uln
            for r in client.get(
                reverse("overview"), {"component": "PROJECT", "flag": "undetermined"}
            )
            .context["table"]
            .data.data
        ],
        "filter missing": [
            r.uln
            for r in client.get(reverse("overview"), {"component": "PROJECT", "flag": "missing"})
            .context["table"]
            .data.data
        ],
        "readiness": {s.flag: s.count for s in bar.segments},
    }


RECEIVED = {
    "overview page": True,
    "overview export": "undetermined",
    "detail page": [("PROJECT", True)],
    "detail export": [("undetermined", "Entries or records received since the la")],
    "filter undetermined": [AMELIE],
    "filter missing": [],
    "readiness": {"undetermined": 1},
}
NOT_RECEIVED = {
    "overview page": False,
    "overview export": "missing",
    "detail page": [("PROJECT", False)],
    "detail export": [("missing", "No entries found for this component.")],
    "filter undetermined": [],
    "filter missing": [AMELIE],
    "readiness": {"missing": 1},
}


@pytest.mark.django_db
def test_it_shows_an_import_since_the_snapshot_the_same_way_on_every_page(
    client, viewer, delivery, project_cash_in
):
    assert import_delivery(delivery).imported
    rebuild()
    client.force_login(viewer)
    assert shows_project_as_received(client) == NOT_RECEIVED
    problems, exported = amelies_problems(client)
    assert problems == exported

    assert import_delivery(project_cash_in).imported

    assert shows_project_as_received(client) == RECEIVED
    # The project's "no entries" problem is not counted while its status is undetermined.
    assert amelies_problems(client) == (problems - 1, problems - 1)
    # The ILR is live: it already knows.
    record = client.get(reverse("learner_record", args=[AMELIE]))
    assert record.context["flags"].component("PROJECT").entry == "ineligible"
    # The next rebuild sees it: nothing is "received since" any more.
    rebuild()
    after = shows_project_as_received(client)
    assert after["overview export"] == "ineligible"
    assert after["filter undetermined"] == []


@pytest.mark.django_db
def test_a_late_component_is_one_line_on_the_detail_not_its_stale_problems(
    client, viewer, delivery, tmp_path
):
    assert import_delivery(delivery).imported
    # Two mandatory units without entries: two problems on PL in the snapshot.
    Unit.objects.filter(code="ENG303").update(mandatory=True)
    Entry.objects.filter(learner_id=AMELIE, code="ENG302").delete()
    rebuild()
    client.force_login(viewer)

    def pl_lines():
        lines = client.get(reverse("detail")).context["table"].data.data
        return [line for line in lines if line.uln == AMELIE and line.component == "PL"]

    before = pl_lines()
    later = tmp_path / "later"
    later.mkdir()
    (later / "entries.csv").write_text(PROJECT_CASHIN.replace("PRJ3,CASHIN", "ENG302,UNIT"))
    assert import_delivery(later).imported
    after = pl_lines()

    assert [(line.element, line.late) for line in before] == [
        ("Unit entry ENG302", False),
        ("Unit entry ENG303", False),
    ]
    assert [line.late for line in after] == [True]
    text = client.get(reverse("detail")).content.decode()
    assert "received since the last overnight update" in text
    assert "Unit entry ENG303" not in text


@pytest.mark.django_db
def test_a_non_edexcel_record_since_the_snapshot_is_received_too(client, administrator, delivery):
    assert import_delivery(delivery).imported
    rebuild()
    client.force_login(administrator)

    client.post(
        reverse("nonedexcel_add", args=[AMELIE]),
        {"qan": "600/1234/5", "component": "PROJECT", "awarding_body": "AQA"},
    )

    assert shows_project_as_received(client) == RECEIVED


@pytest.mark.django_db
def test_a_non_edexcel_record_removed_since_the_snapshot_is_a_change_too(
    client, administrator, delivery
):
    assert import_delivery(delivery).imported
    client.force_login(administrator)
    client.post(
        reverse("nonedexcel_add", args=[AMELIE]),
        {"qan": "600/1234/5", "component": "PROJECT", "awarding_body": "AQA"},
    )
    rebuild()
    assert shows_project_as_received(client)["overview export"] == "other-cab"

    [item] = NonEdexcelQualification.objects.filter(learner_id=AMELIE)
    client.post(reverse("nonedexcel_remove", args=[AMELIE, item.pk]), CONFIRMED)

    assert shows_project_as_received(client)["overview export"] == "undetermined"


@pytest.mark.django_db
def test_an_import_that_brings_no_entries_leaves_nothing_received(
    client, viewer, delivery, tmp_path
):
    assert import_delivery(delivery).imported
    run = rebuild()
    results = tmp_path / "results"
    results.mkdir()
    (results / "results.csv").write_text(
        f"uln,series,code,grade,points,published_on\n{AMELIE},2010-06,ENG302,B,24,2010-08-19\n"
    )

    assert import_delivery(results).imported

    # Amélie's data changed (her snapshot rows are worked out again, issue 21), but no
    # component's entries arrived: nothing is received since, and the pages look nothing up.
    [change] = DataChange.objects.filter(committed__gt=run.changes_seen)
    assert list(change.components.values_list("uln", "component")) == [(AMELIE, "")]
    assert late_changes(run) == ()
    client.force_login(viewer)
    assert shows_project_as_received(client) == NOT_RECEIVED


@pytest.mark.django_db
def test_an_import_committed_while_the_rebuild_reads_counts_as_received(
    client, viewer, delivery, project_cash_in, monkeypatch
):
    """The rebuild is part-way through its learners when the import commits: whatever it
    read, the import is not known to be in the snapshot."""
    assert import_delivery(delivery).imported
    reading = snapshot.iter_learners

    def import_half_way(chunk_size, **shard):
        for number, item in enumerate(reading(chunk_size, **shard)):
            if number == 1:
                assert import_delivery(project_cash_in).imported
            yield item

    monkeypatch.setattr(snapshot, "iter_learners", import_half_way)
    rebuild()
    client.force_login(viewer)

    assert shows_project_as_received(client)["overview export"] == "undetermined"


@pytest.mark.django_db
def test_a_bulk_upload_confirmed_while_the_rebuild_reads_counts_as_received(
    client, administrator, delivery, monkeypatch
):
    assert import_delivery(delivery).imported
    client.force_login(administrator)
    upload = f"uln,qan,component,awarding_body,title\n{AMELIE},600/1234/5,PROJECT,AQA,\n"
    client.post(
        reverse("nonedexcel_upload"), {"file": SimpleUploadedFile("q.csv", upload.encode())}
    )
    pending = PendingUpload.objects.get()
    reading = snapshot.iter_learners

    def confirm_half_way(chunk_size, **shard):
        for number, item in enumerate(reading(chunk_size, **shard)):
            if number == 1:
                client.post(reverse("nonedexcel_confirm", args=[pending.pk]))
            yield item

    monkeypatch.setattr(snapshot, "iter_learners", confirm_half_way)
    rebuild()

    assert NonEdexcelQualification.objects.filter(learner_id=AMELIE).exists()
    assert shows_project_as_received(client)["overview export"] == "undetermined"


@pytest.mark.django_db
def test_an_import_in_the_same_second_as_the_rebuild_is_decided_by_order_not_clock(
    client, viewer, delivery, project_cash_in
):
    with time_machine.travel(
        datetime.datetime(2026, 12, 1, 4, 15, tzinfo=datetime.UTC), tick=False
    ):
        assert import_delivery(delivery).imported
        rebuild()
        assert import_delivery(project_cash_in).imported
    client.force_login(viewer)

    assert shows_project_as_received(client)["overview export"] == "undetermined"


@pytest.mark.django_db(transaction=True)
def test_an_import_begun_before_the_rebuild_and_committed_during_it_is_received(
    client, viewer, delivery, project_cash_in, monkeypatch, settings
):
    """Real concurrency on PostgreSQL: the import's transaction (and its clock) starts before
    the rebuild, and it commits while the rebuild is reading. No refresh reaches it (here,
    none runs): the rule of DOMAIN.md 4.4 decides."""
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL)")
    settings.REFRESH_SNAPSHOT = False
    assert import_delivery(delivery).imported
    import_started, rebuild_reading = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    files = importer._import_file

    def slow_import_file(*args, **kwargs):
        counts = files(*args, **kwargs)
        import_started.set()
        assert rebuild_reading.wait(30), "the rebuild never began reading"
        return counts

    def late_import():
        try:
            assert import_delivery(project_cash_in).imported
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connection.close()

    reading = snapshot.iter_learners

    def signal_reading(chunk_size, **shard):
        for number, item in enumerate(reading(chunk_size, **shard)):
            if number == 0:
                rebuild_reading.set()
                worker.join(30)  # the import commits while the rebuild is part-way through
            yield item

    monkeypatch.setattr(importer, "_import_file", slow_import_file)
    monkeypatch.setattr(snapshot, "iter_learners", signal_reading)
    worker = threading.Thread(target=late_import)
    worker.start()
    assert import_started.wait(30)
    run = rebuild()
    worker.join(30)

    assert not failures, failures
    assert run.outcome == "succeeded"
    client.force_login(viewer)
    assert shows_project_as_received(client) == RECEIVED


@pytest.mark.django_db
@pytest.mark.parametrize("learners", [1, 60])
def test_the_pages_take_the_same_queries_with_late_data_for_1_row_and_50(
    client, administrator, centre, learners, django_assert_max_num_queries
):
    cohort = [LearnerFactory(centre=centre, surname=f"Learner{n:03d}") for n in range(learners)]
    rebuild()
    for learner in cohort:
        records.add(
            administrator, learner, qan="600/1234/5", component="ASL", awarding_body="", title=""
        )
    client.force_login(administrator)

    with django_assert_max_num_queries(15):
        page = client.get(reverse("overview"), {"component": "ASL", "flag": "undetermined"})
    with django_assert_max_num_queries(15):
        detail = client.get(reverse("detail"))
    with django_assert_max_num_queries(20):  # the readiness picture: one query a component
        home = client.get(reverse("home"))

    assert len(page.context["table"].page.object_list) == min(learners, 50)
    lines = [row.record for row in detail.context["table"].page.object_list]
    asl = [line.late for line in lines if line.component == "ASL"]
    assert asl and all(asl)
    [picture] = home.context["readiness"]
    [asl] = [b for b in picture.bars if b.component == "ASL"]
    assert {s.flag: s.count for s in asl.segments} == {"undetermined": learners}


@pytest.mark.django_db
def test_the_rebuild_forgets_changes_every_kept_snapshot_has_seen(
    client, viewer, delivery, project_cash_in
):
    assert import_delivery(delivery).imported
    first = rebuild()
    second = rebuild()
    assert first.changes_seen == second.changes_seen == 1
    rebuild()
    # Only the last change seen is kept (it carries the numbering on); nothing is late.
    assert list(DataChange.objects.values_list("committed", flat=True)) == [1]

    assert import_delivery(project_cash_in).imported

    assert DataChange.objects.get(committed=2).components.get().component == "PROJECT"
    client.force_login(viewer)
    assert shows_project_as_received(client) == RECEIVED


@pytest.mark.django_db
def test_it_forgets_a_change_with_its_notes(delivery, project_cash_in):
    """The notes have no foreign key in the database (a national import writes half a
    million): forgetting a change must still take its notes with it."""
    from learners.changes import forget_before
    from learners.models import ChangedComponent

    assert import_delivery(delivery).imported
    assert import_delivery(project_cash_in).imported
    first, second = DataChange.objects.order_by("committed")
    assert ChangedComponent.objects.filter(change=first).exists()

    forget_before(second.committed)

    assert not ChangedComponent.objects.filter(change_id=first.pk).exists()
    assert list(ChangedComponent.objects.values_list("change_id", "component")) == [
        (second.pk, "PROJECT")
    ]


# Whatever the number of learners: the catalogue, the learners' rows, two COPYs, the changes
# (two queries a component and two for problems), the swap, two locks (PostgreSQL).
QUERIES_A_REFRESH = 51

# --- the refresh (issue 21, point 3): "received since" lasts until the refresh has run ------

REFRESHED = {
    "overview page": False,
    "overview export": "ineligible",
    "detail page": [("PROJECT", False)],
    "detail export": [("ineligible", "PRJ3 has been cashed in but mandatory un")],
    "filter undetermined": [],
    "filter missing": [],
    "readiness": {"ineligible": 1},
}


def _snapshot_rows(run) -> tuple[list, list]:
    """The snapshot's rows without their run: what a person sees."""
    from flags.models import DetailLine, OverviewRow

    leave_out = {"id", "run"}
    overview = [f.name for f in OverviewRow._meta.fields if f.name not in leave_out]
    detail = [f.name for f in DetailLine._meta.fields if f.name not in leave_out]
    return (
        sorted(OverviewRow.objects.filter(run=run).values_list(*overview)),
        sorted(DetailLine.objects.filter(run=run).values_list(*detail), key=repr),
    )


@pytest.mark.django_db
def test_the_refresh_after_an_import_ends_received_since_and_shows_on_changes(
    client, viewer, delivery, project_cash_in, django_capture_on_commit_callbacks
):
    from flags.models import SnapshotChange

    assert import_delivery(delivery).imported
    run = rebuild()
    client.force_login(viewer)

    with django_capture_on_commit_callbacks(execute=False) as waiting:
        assert import_delivery(project_cash_in).imported
    # Until the refresh has run (a worker's queue), the rule of DOMAIN.md 4.4 holds.
    assert shows_project_as_received(client) == RECEIVED
    with django_capture_on_commit_callbacks(execute=True):
        for refresh in waiting:
            refresh()

    assert shows_project_as_received(client) == REFRESHED
    [change] = SnapshotChange.objects.filter(uln=AMELIE, component="PROJECT", kind="entry flag")
    assert (change.before, change.after, change.run_id) == ("missing", "ineligible", run.pk)
    changes = client.get(reverse("changes"), {"since": "build"}).content.decode()
    assert "ineligible" in changes


@pytest.mark.django_db
def test_a_refresh_while_a_rebuild_reads_keeps_the_received_since_marks(
    client, viewer, delivery, project_cash_in, django_capture_on_commit_callbacks
):
    from flags.models import RebuildRun
    from learners.models import ChangedComponent

    assert import_delivery(delivery).imported
    rebuild()
    # A rebuild that began before the import and is still reading.
    RebuildRun.objects.create(started_at=timezone_now(), built_for=datetime.date.today())

    with django_capture_on_commit_callbacks(execute=True):
        assert import_delivery(project_cash_in).imported

    # The current snapshot's rows are fresh, but the new one may have read Amélie before the
    # import: its pages must still say "received since" once it is current.
    assert ChangedComponent.objects.filter(uln=AMELIE, component="PROJECT").exists()


@pytest.mark.django_db
def test_after_imports_and_edits_with_refreshes_a_full_rebuild_changes_nothing(
    client, administrator, delivery, project_cash_in, tmp_path, django_capture_on_commit_callbacks
):
    """The nightly rebuild is the check: whatever the refreshes wrote is what it writes."""
    from flags.models import OverviewRow, SnapshotChange

    assert import_delivery(delivery).imported
    rebuild()
    client.force_login(administrator)
    later = tmp_path / "later"
    later.mkdir()
    (later / "entries.csv").write_text(PROJECT_CASHIN.replace("PRJ3,CASHIN", "ENG302,UNIT"))
    # A learner's registration, and a result, change the snapshot without any entry.
    (later / "learners.csv").write_text(
        "uln,forename,surname,date_of_birth,centre,line,level,registered_on,award_series\n"
        "1000000043,Ben,Jones-Ward,1993-01-02,54321,ENG,A,2008-09-15,2010-06\n"
    )
    results = tmp_path / "results"
    results.mkdir()
    (results / "results.csv").write_text(
        f"uln,series,code,grade,points,published_on\n{AMELIE},2010-06,ENG301,B,24,2010-08-19\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert import_delivery(project_cash_in).imported
        assert import_delivery(later).imported
        added = client.post(
            reverse("nonedexcel_add", args=[AMELIE]),
            {"qan": "600/1234/5", "component": "ASL", "awarding_body": "AQA"},
        )
        edited = client.post(reverse("edit_award_date", args=[AMELIE]), {"award_series": "2010-01"})
    assert (added.status_code, edited.status_code) == (302, 302)
    with django_capture_on_commit_callbacks(execute=True):
        [item] = NonEdexcelQualification.objects.filter(learner_id=AMELIE, component="ASL")
        client.post(reverse("nonedexcel_remove", args=[AMELIE, item.pk]), CONFIRMED)
        set_award_dates(administrator, [AMELIE], "", centres=["12345"])
    # Last and alone (callbacks run as their block ends, reading the data then), so that only
    # the result's own refresh can have put it in the snapshot.
    with django_capture_on_commit_callbacks(execute=True):
        assert import_delivery(results).imported
    with django_capture_on_commit_callbacks(execute=True):  # Ben: only his award date
        assert set_award_dates(administrator, ["1000000043"], "2010-01", centres=["54321"])
    refreshed = snapshot.current_run()
    assert SnapshotChange.objects.filter(run=refreshed).exists()  # the refreshes changed it
    amelie = OverviewRow.objects.get(run=refreshed, uln=AMELIE)
    ben = OverviewRow.objects.get(run=refreshed, uln="1000000043")
    assert (amelie.award_series, ben.surname, ben.award_series) == ("", "Jones-Ward", "2010-01")
    assert not DataChange.objects.filter(components__uln=AMELIE).exists()  # nothing late

    rebuilt = rebuild()

    assert _snapshot_rows(rebuilt) == _snapshot_rows(refreshed)
    assert not SnapshotChange.objects.filter(run=rebuilt).exists()


@pytest.mark.django_db
def test_a_refresh_takes_the_same_queries_for_1_learner_and_30(centre):
    from django.test.utils import CaptureQueriesContext

    from flags.refresh import refresh

    cohort = [LearnerFactory(centre=centre, surname=f"Fresh{n:02d}") for n in range(30)]
    rebuild()
    counts = []
    for learners in (cohort[:1], cohort):
        with CaptureQueriesContext(connection) as queries:
            assert refresh([learner.uln for learner in learners]) == len(learners)
        counts.append(len(queries))

    assert counts[0] == counts[1] <= QUERIES_A_REFRESH


@pytest.mark.django_db
def test_a_refresh_made_while_a_rebuild_reads_is_not_undone_by_its_switch(
    client, viewer, delivery, project_cash_in, monkeypatch, django_capture_on_commit_callbacks
):
    from flags.models import SnapshotChange

    assert import_delivery(delivery).imported
    rebuild()
    # A rebuild reads every learner (before the import) but has not switched yet.
    switch = snapshot._switch_when_done
    monkeypatch.setattr(snapshot, "_switch_when_done", lambda run_id: None)
    reading = snapshot.start_on_workers()
    snapshot.build_shards(reading.pk)
    with django_capture_on_commit_callbacks(execute=True):
        assert import_delivery(project_cash_in).imported  # refreshed in the current snapshot

    with django_capture_on_commit_callbacks(execute=True):
        switch(reading.pk)

    assert snapshot.current_run() == reading
    client.force_login(viewer)
    assert shows_project_as_received(client) == REFRESHED
    # Found once, by the refresh made while the rebuild read: neither undone by the switch
    # nor found again by the refresh after it.
    project = SnapshotChange.objects.filter(uln=AMELIE, component="PROJECT")
    assert sorted(project.values_list("kind", flat=True)) == [
        "entry flag",
        "new problem",
        "resolved",
    ]
    assert project.get(kind="entry flag").after == "ineligible"


@pytest.mark.django_db
def test_a_refresh_tells_the_planner_how_many_working_rows_it_wrote(centre):
    """The working rows go to the default partition of the snapshot tables; with no figures
    for them the planner took 5,000 learners for one and compared them row by row (350 s)."""
    from flags.refresh import refresh

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner")
    cohort = [LearnerFactory(centre=centre, surname=f"Planned{n:02d}") for n in range(30)]
    rebuild()

    assert refresh([learner.uln for learner in cohort]) == 30

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'flags_overviewrow_other'")
        assert cursor.fetchone()[0] == 30  # as ANALYZE found them, in the refresh's transaction
