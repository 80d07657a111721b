"""Hostile and random feed rows: the import never crashes and never writes half a delivery."""

import csv
import io
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from base.text import without_invisible
from learners.feed.importer import import_delivery
from learners.feed.spec import build_specs
from learners.models import Entry, ImportRun, Learner, Series

VALID = Path(__file__).parent / "data" / "valid_delivery"
HOSTILE = [
    "",
    " ",
    "x" * 5000,
    '=HYPERLINK("http://evil")',
    "+1",
    "-1",
    "@SUM(A1)",
    "\t\r\n",
    "\x00\x01\x1b",
    "'; DROP TABLE learners_learner; --",
    "<script>alert(1)</script>",
    "\\N",
    "\\",
    "12345678901234567890",
    "9999999999",
    "0000000000",
    "١٢٣٤٥",  # Arabic-Indic digits
    "２０１０-０６",  # full-width
    "2010-02-30",
    "9999-12-31T23:59:59+14:00",
    "NaN",
    "Y\u0301",
    "\ufeffuln",
    "😀",
]
cell = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40))
SPECS = {spec.name: spec for spec in build_specs()}


def nothing_new(before: dict) -> bool:
    return {m: m.objects.count() for m in (Series, Learner, Entry)} == before


@pytest.fixture
def base(tmp_path):
    import_delivery(VALID)
    return {m: m.objects.count() for m in (Series, Learner, Entry)}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.sampled_from(sorted(SPECS)),
    rows=st.lists(st.lists(cell, min_size=1, max_size=11), min_size=1, max_size=5),
)
@pytest.mark.django_db
def test_random_rows_in_any_file_are_reported_not_crashed_on(tmp_path_factory, base, name, rows):
    folder = tmp_path_factory.mktemp("fuzz")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(SPECS[name].column_names)
    writer.writerows(rows)
    (folder / name).write_text(buffer.getvalue(), encoding="utf-8", errors="surrogatepass")

    outcome = import_delivery(folder)

    if not outcome.imported:
        assert outcome.errors
        assert nothing_new(base)
        assert all(str(e).startswith(name) for e in outcome.errors)
    assert outcome.run.outcome in (ImportRun.Outcome.IMPORTED, ImportRun.Outcome.REJECTED)


@pytest.mark.django_db
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_in_every_column_of_learners_are_refused_or_kept_safely(
    tmp_path, base, value
):
    shutil.copy(VALID / "centres.csv", tmp_path)
    columns = SPECS["learners.csv"].column_names
    good = ["1000000035", "Fay", "Unknown", "1993-03-03", "12345", "ENG", "A", "2009-09-14", ""]
    for index in range(len(columns)):
        row = list(good)
        row[index] = value
        buffer = io.StringIO()
        csv.writer(buffer).writerows([columns, row])
        (tmp_path / "learners.csv").write_text(buffer.getvalue(), encoding="utf-8")

        outcome = import_delivery(tmp_path)

        if outcome.imported:
            stored = Learner.objects.get(uln=row[0])
            # Kept only where it is a free-text name, and then as given, without invisible
            # and bidirectional characters (issue 17).
            assert columns[index] in ("forename", "surname", "award_series")
            kept = without_invisible(value)
            assert getattr(stored, columns[index]) in (kept, kept.strip(), "2011-06")
            Learner.objects.filter(uln=row[0]).delete()
        else:
            assert nothing_new(base)


@pytest.mark.django_db
def test_bytes_that_are_not_csv_are_refused(tmp_path, base):
    (tmp_path / "entries.csv").write_bytes(b"\x00\xff\xfe garbage \x89PNG\r\n\x1a\n")
    outcome = import_delivery(tmp_path)
    assert not outcome.imported
    assert nothing_new(base)
