"""Issue 21: a national file is checked by its distinct values (learners.feed.byvalue), not
row by row. Both ways must say the same thing of any file: the same errors, in the same
words and order, and the same staged rows with the same values."""

import contextlib
import csv
import io
import random
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from base.progress import Progress
from learners.feed import bulk, importer
from learners.feed.importer import import_delivery
from learners.feed.spec import Known, build_specs
from learners.models import Entry, Learner

from .test_import_fuzz import HOSTILE

VALID = Path(__file__).parent / "data" / "valid_delivery"
SPECS = {spec.name: spec for spec in build_specs()}
BY_VALUE = sorted(name for name, spec in SPECS.items() if spec.by_value)


def rows_of(name: str) -> tuple[list[str], list[list[str]]]:
    with (VALID / name).open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def staged(cursor, stage: str) -> list[tuple[str, ...]]:
    cursor.execute(f"SELECT * FROM {connection.ops.quote_name(stage)} ORDER BY line")
    # SQLite's view gives an integer cell as text where the table gives a number, and a
    # yes or no as True where the table gives 1: the same value in the real table.
    return [tuple(str(_plain(value)) for value in row) for row in cursor.fetchall()]


def _plain(value):
    return int(value) if isinstance(value, bool) else value


def both_ways(name: str, path: Path, spec=None) -> tuple[tuple, tuple]:
    """(errors, error count, rows counted, staged rows) row by row, and the same by value.
    Every line is checked: none is skipped as delivered before (tests/test_unchanged_lines)."""
    spec = _checking_every_line(spec or SPECS[name])
    known = Known.from_database()
    progress = Progress("import", 0, io.StringIO())
    answers = []
    with connection.cursor() as cursor:
        errors, counts = importer._Errors(), {"rows": 0}
        bulk.create_stage(cursor, "feed_stage_row_by_row", spec.staged)
        with path.open("rb") as handle:
            lines = importer._decoded_lines(name, handle, errors)
            rows = importer._checked_rows(spec, lines, known, errors, counts, progress)
            bulk.fill_stage(cursor, "feed_stage_row_by_row", [c for c, _ in spec.staged], rows)
        rows = staged(cursor, "feed_stage_row_by_row")
        answers.append(([str(e) for e in errors.listed], errors.count, counts["rows"], rows))
        bulk.drop_stage(cursor, "feed_stage_row_by_row")

        errors, counts = importer._Errors(), {"rows": 0}
        checks = importer._stage_by_value(
            cursor, spec, path, "feed_stage_by_value", known, errors, counts, progress
        )
        rows = staged(cursor, "feed_stage_by_value") if checks else []
        answers.append(([str(e) for e in errors.listed], errors.count, counts["rows"], rows))
        if checks:
            checks.drop()
    return tuple(answers)


def _checking_every_line(spec):
    from dataclasses import replace

    return replace(spec, merges=tuple(replace(m, remembers_lines=False) for m in spec.merges))


@pytest.fixture
def catalogue(db):
    import_delivery(VALID)


cell = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.sampled_from(BY_VALUE),
    seed=st.integers(0, 2**16),
    changes=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 12), cell), max_size=6),
    widths=st.lists(st.tuples(st.integers(0, 40), st.integers(-2, 2)), max_size=2),
)
@pytest.mark.django_db
def test_it_says_the_same_of_any_file_by_value_as_row_by_row(
    tmp_path_factory, catalogue, name, seed, changes, widths
):
    header, rows = rows_of(name)
    rows = [list(row) for row in random.Random(seed).choices(rows, k=max(len(rows), 8))]
    for row, column, value in changes:  # hostile cells anywhere
        rows[row % len(rows)][column % len(header)] = value
    for row, change in widths:  # a cell too few or too many
        target = rows[row % len(rows)]
        if change < 0:
            del target[change:]
        else:
            target.extend(["x"] * change)
    path = tmp_path_factory.mktemp("file") / name
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    path.write_text(buffer.getvalue(), encoding="utf-8", errors="surrogatepass")

    row_by_row, by_value = both_ways(name, path)

    assert by_value == row_by_row


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    [
        # Read alike by COPY and by Python: COPY's way on PostgreSQL.
        "{header}\n{row}\n{row2}\n",
        # Read differently by COPY (blank lines, an end-of-data marker, quotes, a carriage
        # return alone, no newline at the end): Python's way.
        "{header}\n\n{row}\n\n{row2}\n",
        "{header}\n{row}\n\\.\n{row2}\n",
        '{header}\n"{row}"\n{row2}\n',
        "{header}\r\n{row}\r{row2}\r\n",
        "{header}\r\n{row}\r\n{row2}",
        "{header}\n{row}\n{row2}",
    ],
)
def test_it_reads_a_file_as_python_reads_it_whatever_copy_would_make_of_it(
    tmp_path, catalogue, text
):
    header, rows = rows_of("learners.csv")
    path = tmp_path / "learners.csv"
    path.write_bytes(
        text.format(header=",".join(header), row=",".join(rows[0]), row2=",".join(rows[1])).encode()
    )

    row_by_row, by_value = both_ways("learners.csv", path)

    assert by_value == row_by_row


@pytest.mark.django_db
def test_it_lists_every_bad_row_of_a_large_file_in_line_order(tmp_path, catalogue):
    header, rows = rows_of("entries.csv")
    many = [list(rows[i % len(rows)]) for i in range(3000)]
    for number, row in enumerate(many):
        row[1] = f"{number:04d}"  # each its own candidate: no duplicates
        if number % 7 == 3:
            row[6] = "NOSUCHCODE"
        if number % 11 == 5:
            row[5] = "2010-13"
    path = tmp_path / "entries.csv"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *many])
    path.write_text(buffer.getvalue(), encoding="utf-8")

    row_by_row, by_value = both_ways("entries.csv", path)

    assert by_value == row_by_row
    assert len(by_value[0]) > 600


@pytest.mark.django_db
# 1: every file in bulk; 5: the entries (7 rows) in bulk after learners (2) written row by
# row, whose foreign keys still wait for the commit (a 10,000-learner delivery failed so).
@pytest.mark.parametrize("bulk_rows", [1, 5])
def test_a_first_load_in_bulk_keeps_every_index_and_foreign_key(tmp_path, monkeypatch, bulk_rows):
    if connection.vendor != "postgresql":
        pytest.skip("indexes and foreign keys are set aside on PostgreSQL only")

    def schema() -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE conrelid IN "
                "('learners_entry'::regclass, 'learners_learner'::regclass) ORDER BY 1, 2"
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE tablename IN ('learners_entry', 'learners_learner') ORDER BY 1"
            )
            return constraints + cursor.fetchall()

    before = schema()
    with connection.cursor() as cursor:
        # A bulk load defers every constraint again afterwards: none is meant to be immediate.
        cursor.execute("SELECT COUNT(*) FROM pg_constraint WHERE condeferrable AND NOT condeferred")
        assert cursor.fetchone() == (0,)
    monkeypatch.setattr(bulk, "BULK_ROWS", bulk_rows)

    outcome = import_delivery(VALID)  # into empty tables: unique keys set aside too

    assert outcome.imported, outcome.errors
    assert schema() == before
    again = import_delivery(VALID)  # into tables that hold rows: written as they are
    assert again.imported, again.errors
    assert schema() == before
    assert Entry.objects.filter(learner__isnull=False).exists()
    # The foreign keys hold again: an entry of a learner the database does not know fails.
    entry = Entry.objects.filter(learner__isnull=False).first()
    refused = pytest.raises(IntegrityError, match="foreign key")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "UPDATE learners_entry SET learner_id = '1999999999' WHERE id = %s", [entry.pk]
        )
    assert Learner.objects.filter(uln=entry.learner_id).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("nestloop", ["on", "off"])
def test_a_first_load_in_bulk_leaves_statistics_and_the_planner_as_it_was(monkeypatch, nestloop):
    """A table filled in bulk is analysed at once (the next file's merge, and the next
    night's re-delivery, are planned on its real size), and a national merge's hash joins
    do not outlast it: the planner is left as the database or the role had set it."""
    if connection.vendor != "postgresql":
        pytest.skip("the bulk load and its planner settings are PostgreSQL's")
    monkeypatch.setattr(bulk, "BULK_ROWS", 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('enable_nestloop', %s, false)", [nestloop])
    settings_seen = []
    merge = bulk.merge

    def watched(cursor, *args, **kwargs):
        written = merge(cursor, *args, **kwargs)
        cursor.execute("SHOW enable_nestloop")
        settings_seen.append(cursor.fetchone()[0])
        return written

    monkeypatch.setattr(bulk, "merge", watched)

    assert import_delivery(VALID).imported

    assert settings_seen and set(settings_seen) == {nestloop}
    with connection.cursor() as cursor:
        # Statistics of the rows this (uncommitted) load wrote: only its own ANALYZE sees them.
        cursor.execute(
            "SELECT null_frac FROM pg_stats "
            "WHERE tablename = 'learners_entry' AND attname = 'centre_id'"
        )
        assert cursor.fetchall() == [(0.0,)]


@pytest.mark.django_db
def test_a_first_load_in_bulk_finds_repeated_keys_by_its_unique_key(tmp_path, monkeypatch):
    """A first load in bulk does not search its lines for repeated keys: building the table's
    unique key finds them, and only then are the lines searched. It reports them in the same
    words as the search does, in a file written before and in one written after."""
    if connection.vendor != "postgresql":
        pytest.skip("a first load in bulk is PostgreSQL's")
    import shutil

    folder = tmp_path / "delivery"
    shutil.copytree(VALID, folder)
    for name in ("learners.csv", "entries.csv"):
        path = folder / name
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        path.write_text("\n".join([*lines, lines[1].replace("Amelie", "Amy")]) + "\n")
    searched: list[str] = []
    duplicate_lines = bulk.duplicate_lines

    def counted(cursor, stage, key):
        searched.append(stage)
        return duplicate_lines(cursor, stage, key)

    monkeypatch.setattr(bulk, "duplicate_lines", counted)
    one_by_one = import_delivery(folder)
    searched_one_by_one = list(searched)
    searched.clear()
    monkeypatch.setattr(bulk, "BULK_ROWS", 1)

    in_bulk = import_delivery(folder)

    assert not in_bulk.imported
    assert [str(e) for e in in_bulk.errors] == [str(e) for e in one_by_one.errors]
    assert [str(e) for e in in_bulk.errors if "same" in str(e)] == [
        "learners.csv:4: uln: same ULN as line 2",
        "entries.csv:9: centre: same centre, candidate_number, series, type and code as line 2",
    ]
    # Series (no repeats) and learners (repeats) are not searched before they are written;
    # learners are searched once their unique key has failed; entries, after a bad file.
    assert {"feed_stage_series", "feed_stage_learners"} <= set(searched_one_by_one)
    assert "feed_stage_series" not in searched
    assert searched.count("feed_stage_learners") == 1
    assert searched.index("feed_stage_learners") < searched.index("feed_stage_entries")
    assert not Learner.objects.exists()


def _with_repeated_entry(tmp_path) -> Path:
    import shutil

    folder = tmp_path / "delivery"
    shutil.copytree(VALID, folder)
    path = folder / "entries.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    path.write_text("\n".join([*lines, lines[1].replace("Amelie", "Amy")]) + "\n")
    return folder


@pytest.mark.django_db
def test_a_first_load_in_bulk_finds_a_repeated_key_when_building_its_unique_key(
    tmp_path, monkeypatch
):
    """Entries keep their primary key during a first load in bulk but set aside their unique
    key: a repeated key shows when that key is built again, and only then are the lines
    searched, in the same words as a search first."""
    if connection.vendor != "postgresql":
        pytest.skip("a first load in bulk is PostgreSQL's")
    folder = _with_repeated_entry(tmp_path)
    events: list[tuple[str, str]] = []
    duplicate_lines = bulk.duplicate_lines
    in_bulk = bulk._in_bulk

    def counted(cursor, stage, key):
        events.append(("searched", stage))
        return duplicate_lines(cursor, stage, key)

    @contextlib.contextmanager
    def watched(cursor, table, rows):
        with in_bulk(cursor, table, rows) as empty:
            events.append(("loading in bulk" if empty else "writing", table))
            yield empty

    monkeypatch.setattr(bulk, "duplicate_lines", counted)
    searched_first = import_delivery(folder)
    monkeypatch.setattr(bulk, "BULK_ROWS", 1)
    monkeypatch.setattr(bulk, "_in_bulk", watched)
    events.clear()

    outcome = import_delivery(folder)

    assert not outcome.imported
    assert (
        [str(e) for e in outcome.errors]
        == [str(e) for e in searched_first.errors]
        == ["entries.csv:9: centre: same centre, candidate_number, series, type and code as line 2"]
    )
    # Learners loaded in bulk and never searched; entries loaded in bulk, then searched once.
    assert ("loading in bulk", "learners_learner") in events
    assert ("searched", "feed_stage_learners") not in events
    entries = [e for e in events if e[1] in ("learners_entry", "feed_stage_entries")]
    assert entries == [("loading in bulk", "learners_entry"), ("searched", "feed_stage_entries")]
    assert not Entry.objects.exists() and not Learner.objects.exists()


@pytest.mark.django_db
def test_a_first_load_in_bulk_that_fails_otherwise_says_so(tmp_path, monkeypatch):
    """A database refusal that is not a repeated key is not taken for one: the import fails
    with the database's words, writing nothing."""
    if connection.vendor != "postgresql":
        pytest.skip("a first load in bulk is PostgreSQL's")
    monkeypatch.setattr(bulk, "BULK_ROWS", 1)
    merge = bulk.merge

    def refused(cursor, spec_merge, stage, *args, **kwargs):
        if stage == "feed_stage_entries":
            raise IntegrityError("an entry the checks did not foresee")
        return merge(cursor, spec_merge, stage, *args, **kwargs)

    monkeypatch.setattr(bulk, "merge", refused)

    outcome = import_delivery(VALID)

    assert outcome.run.outcome == outcome.run.Outcome.FAILED
    assert [str(e) for e in outcome.errors] == [
        f"{VALID}: -: the database refused the delivery: an entry the checks did not foresee"
    ]
    assert not Learner.objects.exists()


@pytest.mark.django_db
def test_it_reads_a_cell_too_long_for_python_as_python_does(tmp_path, catalogue):
    """Review: Python's csv module refuses a field over 131,072 characters; COPY reads it."""
    header, rows = rows_of("learners.csv")
    long = list(rows[0])
    long[1] = "a" * 131_073
    path = tmp_path / "learners.csv"
    path.write_text("\n".join(",".join(r) for r in [header, long, rows[1]]) + "\n")

    row_by_row, by_value = both_ways("learners.csv", path)

    assert by_value == row_by_row
    assert "field larger than field limit" in row_by_row[0][0]


@pytest.mark.django_db
def test_it_runs_rules_that_read_the_same_cells_in_another_order(tmp_path, catalogue):
    """Review: two rules over the same cells, in two orders, shared one distinct set."""
    from dataclasses import replace

    from base.delivery import RowError, RowRule

    def same_day(row, known):
        if row["opens_on"] == row["closes_on"]:
            raise RowError([("closes_on", "the same day as opens_on")])
        return {}

    def before(row, known):
        if row["closes_on"] < row["opens_on"]:
            raise RowError([("closes_on", "before opens_on")])
        return {}

    spec = replace(
        SPECS["mark_windows.csv"],
        rules=(
            RowRule(("opens_on", "closes_on"), before),
            RowRule(("closes_on", "opens_on"), same_day),
        ),
    )
    header, rows = rows_of("mark_windows.csv")
    opens, closes = header.index("opens_on"), header.index("closes_on")
    same = list(rows[0])
    same[closes] = same[opens]
    path = tmp_path / "mark_windows.csv"
    path.write_text("\n".join(",".join(r) for r in [header, rows[0], same]) + "\n")

    row_by_row, by_value = both_ways("mark_windows.csv", path, spec)

    assert by_value == row_by_row
    assert row_by_row[0] == ["mark_windows.csv:3: closes_on: the same day as opens_on"]


@pytest.mark.django_db
def test_it_reports_an_optional_column_left_out_whose_cells_cannot_be_empty(tmp_path, catalogue):
    from dataclasses import replace

    from base import cells

    learners = SPECS["learners.csv"]
    spec = replace(
        learners,
        columns=tuple(
            replace(c, parse=cells.series_code) if c.name == "award_series" else c
            for c in learners.columns
        ),
    )
    header, rows = rows_of("learners.csv")
    keep = [i for i, name in enumerate(header) if name != "award_series"]
    path = tmp_path / "learners.csv"
    path.write_text("\n".join(",".join(r[i] for i in keep) for r in [header, *rows]) + "\n")

    row_by_row, by_value = both_ways("learners.csv", path, spec)

    assert by_value == row_by_row
    assert len(row_by_row[0]) == len(rows)


@pytest.mark.django_db(transaction=True)
def test_a_re_delivery_does_not_wait_for_rows_it_leaves_as_they_are():
    """Rows stored as delivered are left out before the upsert, which would lock each one
    even to change nothing: a page or an edit holding them no longer stalls the import."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    import psycopg2

    assert import_delivery(VALID).imported
    settings = connection.settings_dict
    other = psycopg2.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"],
    )
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT id FROM learners_entry FOR UPDATE")
            assert cursor.fetchall()
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")

        outcome = import_delivery(VALID)

        assert outcome.imported, outcome.errors
        assert outcome.counts["entries.csv"]["written"] == 0
    finally:
        other.rollback()
        other.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
