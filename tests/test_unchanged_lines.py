"""Issue 21: a re-delivery near PostgreSQL's own speed. A learner file delivered again byte
for byte, to the same checks, is not read again (`DeliveredFile`); on PostgreSQL, each line
delivered again as it was is left out before any check (its digest is kept with its row).
Whatever is skipped, the outcome must be what checking and writing every line would give."""

import shutil
from pathlib import Path

import pytest
from django.db import connection

from learners.feed import bulk
from learners.feed import spec as feed_spec
from learners.feed.importer import import_delivery
from learners.models import ChangedComponent, DeliveredFile, Entry, Learner

VALID = Path(__file__).parent / "data" / "valid_delivery"

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="lines are remembered on PostgreSQL only"
)


def _delivery(folder: Path, ending: str = "\n", **files: list[str] | None) -> Path:
    """A delivery of the named files (entries="entries.csv") as lines of text, each line
    ended by `ending`; a file given as None is VALID's as it is."""
    folder.mkdir()
    for name, lines in files.items():
        path = folder / f"{name}.csv"
        if lines is None:
            shutil.copy(VALID / path.name, path)
        else:
            path.write_bytes("".join(f"{line}{ending}" for line in lines).encode())
    return folder


# Lines ended so, a file holds the same lines in other bytes: it is read again, by COPY.
OTHER_BYTES = "\r\n"


def _lines(name: str) -> list[str]:
    return (VALID / name).read_text(encoding="utf-8-sig").splitlines()


@pytest.fixture
def delivered(db):
    outcome = import_delivery(VALID)
    assert outcome.imported, outcome.errors
    return outcome


@pytest.mark.django_db
def test_it_does_not_read_a_learner_file_delivered_byte_for_byte_again(delivered, tmp_path):
    entries = Entry.objects.count()

    outcome = import_delivery(_delivery(tmp_path / "again", entries=None, learners=None))

    assert outcome.imported, outcome.errors
    rows = len(_lines("entries.csv")) - 1
    assert outcome.counts["entries.csv"] == {
        "rows": rows,
        "written": 0,
        "unchanged": rows,
        "same_file": True,
    }
    assert outcome.counts["learners.csv"]["same_file"]
    assert Entry.objects.count() == entries
    assert set(DeliveredFile.objects.values_list("name", flat=True)) >= {
        "entries.csv",
        "learners.csv",
    }


@pytest.mark.django_db
def test_it_reads_a_file_delivered_before_again_when_rows_were_deleted_since(delivered, tmp_path):
    entries = Entry.objects.count()
    Entry.objects.filter(code="ENG301").delete()  # behind the feed's back

    outcome = import_delivery(_delivery(tmp_path / "again", entries=None))

    assert outcome.imported, outcome.errors
    assert "same_file" not in outcome.counts["entries.csv"]
    assert Entry.objects.count() == entries


@pytest.mark.django_db
def test_it_warns_of_an_unknown_column_of_a_file_it_does_not_read_again(delivered, tmp_path):
    header, *rows = _lines("entries.csv")
    lines = [f"{header},colour", *(f"{row},blue" for row in rows)]
    import_delivery(_delivery(tmp_path / "newer", entries=lines))

    outcome = import_delivery(_delivery(tmp_path / "again", entries=lines))

    assert outcome.imported, outcome.errors
    assert outcome.counts["entries.csv"]["same_file"]
    assert [w.column for w in outcome.warnings] == ["colour"]


@pytest.mark.django_db
def test_it_forgets_the_file_of_a_rejected_delivery(delivered, tmp_path):
    before = DeliveredFile.objects.get(name="entries.csv").sha256
    lines = _lines("entries.csv")
    bad = [*lines, lines[1].replace("DPL3ENG", "NOSUCHCODE").replace(",0001,", ",0099,")]

    outcome = import_delivery(_delivery(tmp_path / "bad", entries=bad))

    assert not outcome.imported
    assert DeliveredFile.objects.get(name="entries.csv").sha256 == before


@pytest.mark.django_db
def test_it_checks_every_line_again_when_the_catalogue_changed(delivered, tmp_path):
    units = [line.replace("ENG302,DPL3ENG", "ENG302,PRJ3") for line in _lines("units.csv")]

    outcome = import_delivery(_delivery(tmp_path / "moved", units=units, entries=None))

    assert outcome.imported, outcome.errors
    assert "unchanged" not in outcome.counts["entries.csv"]
    assert set(Entry.objects.filter(code="ENG302").values_list("qualification_id", flat=True)) == {
        "PRJ3"
    }


@pytest.mark.django_db
def test_it_checks_every_line_again_when_the_checking_code_changed(
    delivered, tmp_path, monkeypatch
):
    monkeypatch.setattr(feed_spec, "_CHECKING_CODE", b"a new check")

    outcome = import_delivery(_delivery(tmp_path / "again", entries=None))

    assert outcome.imported, outcome.errors
    assert "unchanged" not in outcome.counts["entries.csv"]


@postgresql_only
@pytest.mark.django_db
@pytest.mark.parametrize("bulk_rows", [bulk.BULK_ROWS, 1], ids=["a small file", "a national one"])
def test_it_leaves_out_the_lines_delivered_before_and_writes_the_changed_ones(
    delivered, tmp_path, monkeypatch, bulk_rows
):
    # A national file's lines are compared by hash joins (`bulk.by_hashing`).
    monkeypatch.setattr(bulk, "BULK_ROWS", bulk_rows)
    header, first, *rest = _lines("entries.csv")
    changed = first.replace("Amelie", "Amélie")
    added = first.replace(",0001,", ",0042,")
    noted_before = set(ChangedComponent.objects.values_list("pk", flat=True))

    outcome = import_delivery(_delivery(tmp_path / "next", entries=[header, changed, *rest, added]))

    assert outcome.imported, outcome.errors
    assert outcome.counts["entries.csv"] == {
        "rows": len(rest) + 2,
        "written": 2,
        "unchanged": len(rest),
    }
    assert Entry.objects.get(candidate_number="0001", code="DPL3ENG").forename == "Amélie"
    assert Entry.objects.filter(candidate_number="0042").exists()
    # Only the learner of the lines written is noted as changed.
    noted = ChangedComponent.objects.exclude(pk__in=noted_before)
    assert set(noted.values_list("uln", flat=True)) == {"9276308686"}

    # The lines written are remembered: delivered once more (in other bytes, so that the
    # file is read), no line is checked again.
    again = import_delivery(
        _delivery(tmp_path / "once-more", OTHER_BYTES, entries=[header, changed, *rest, added])
    )
    assert again.imported, again.errors
    assert again.counts["entries.csv"]["unchanged"] == len(rest) + 2


@postgresql_only
@pytest.mark.django_db
def test_it_remembers_a_line_that_only_writes_a_value_differently(delivered, tmp_path):
    header, first, *rest = _lines("entries.csv")
    # The same moment, written another way: the same row, another line.
    other_way = first.replace("2010-02-20T10:00:00+00:00", "2010-02-20T11:00:00+01:00")
    lines = [header, other_way, *rest]

    outcome = import_delivery(_delivery(tmp_path / "next", entries=lines))
    again = import_delivery(_delivery(tmp_path / "again", OTHER_BYTES, entries=lines))

    assert outcome.imported, outcome.errors
    assert again.imported, again.errors
    assert outcome.counts["entries.csv"]["written"] == 0
    assert again.counts["entries.csv"]["unchanged"] == len(rest) + 1


@postgresql_only
@pytest.mark.django_db
@pytest.mark.parametrize(
    "line_2",
    # The line delivered before, twice (neither left out); or a changed line whose key the
    # line delivered before, left out, holds.
    [lambda first: first, lambda first: first.replace("Amelie", "Amy")],
    ids=["the same line twice", "a changed line and the line delivered before"],
)
def test_it_reports_a_key_that_comes_twice_whichever_line_was_delivered_before(
    delivered, tmp_path, line_2
):
    header, first, *rest = _lines("entries.csv")

    outcome = import_delivery(
        _delivery(tmp_path / "twice", entries=[header, line_2(first), *rest, first])
    )

    assert not outcome.imported
    last = len(rest) + 3
    assert [str(e) for e in outcome.errors] == [
        f"entries.csv:{last}: centre: same centre, candidate_number, series, type and code "
        "as line 2"
    ]


@postgresql_only
@pytest.mark.django_db
def test_it_keeps_an_award_date_chosen_when_the_learner_line_comes_again(delivered, tmp_path):
    Learner.objects.filter(uln="9276308686").update(
        award_series="2012-06", award_series_edited=True
    )
    header, *rest = _lines("learners.csv")

    outcome = import_delivery(_delivery(tmp_path / "again", OTHER_BYTES, learners=[header, *rest]))

    assert outcome.imported, outcome.errors
    assert outcome.counts["learners.csv"]["unchanged"] == len(rest)
    assert Learner.objects.get(uln="9276308686").award_series == "2012-06"


@postgresql_only
@pytest.mark.django_db
def test_it_checks_again_a_line_read_the_other_way(delivered, tmp_path):
    """COPY reads a plain file; Python reads one with quotes, escaping each backslash. A
    line read one way is never taken for a line read the other."""
    header, first, second, *rest = _lines("learners.csv")
    plain = [header, first.replace("Amélie", "A\\\\B"), second, *rest]
    assert import_delivery(_delivery(tmp_path / "plain", learners=plain)).imported
    quoted = [header, first.replace("Amélie", "A\\B"), second.replace(",Ben,", ',"Ben",'), *rest]

    outcome = import_delivery(_delivery(tmp_path / "quoted", learners=quoted))

    assert outcome.imported, outcome.errors
    assert Learner.objects.get(uln="9276308686").forename == "A\\B"


@postgresql_only
@pytest.mark.django_db
def test_it_checks_again_the_same_line_under_another_header(delivered, tmp_path):
    """A line's digest is of its bytes: the same bytes under a header that names the columns
    in another order are other values, and are written."""
    header, *rest = _lines("learners.csv")
    swapped = header.replace("forename,surname", "surname,forename")
    assert swapped != header
    before = Learner.objects.get(uln="9276308686")

    outcome = import_delivery(_delivery(tmp_path / "swapped", learners=[swapped, *rest]))

    assert outcome.imported, outcome.errors
    assert outcome.counts["learners.csv"].get("unchanged", 0) == 0
    after = Learner.objects.get(uln="9276308686")
    assert (after.forename, after.surname) == (before.surname, before.forename)


@postgresql_only
@pytest.mark.django_db
def test_it_writes_and_remembers_a_last_line_with_no_line_break_after_it(delivered, tmp_path):
    header, first, *rest, last = _lines("entries.csv")
    changed = last.replace(",Fay,", ",Faye,")
    assert changed != last
    folder = tmp_path / "no-break"
    folder.mkdir()
    (folder / "entries.csv").write_text("\n".join([header, first, *rest, changed]))

    outcome = import_delivery(folder)
    again = import_delivery(
        _delivery(tmp_path / "with-break", entries=[header, first, *rest, changed])
    )

    assert outcome.imported, outcome.errors
    assert outcome.counts["entries.csv"]["written"] == 1
    assert outcome.counts["entries.csv"]["unchanged"] == len(rest) + 1
    assert again.counts["entries.csv"]["unchanged"] == len(rest) + 2


def test_it_gives_every_line_its_digest_whatever_the_blocks_it_is_read_in():
    """COPY asks for blocks; a line may end in the next block, or be longer than one."""
    from hashlib import md5
    from io import BytesIO

    from learners.feed.byvalue import _Counted

    class Progress:
        def advance(self, n: int) -> None:
            pass

    long = "x" * 50
    for ending in (b"\n", b"\r\n"):
        lines = [b"a,b", b"1,2", long.encode() + b",3", b"4,5"]
        data = ending.join(lines)  # and no line break after the last
        for block in (1, 3, 7, 64, 1 << 20):
            stream = _Counted(BytesIO(data), Progress(), salt=b"salt")
            copied = b""
            while chunk := stream.read(block):
                copied += chunk
            expected = [b"a,b,digest"] + [
                line + b"," + md5(b"salt" + line, usedforsecurity=False).hexdigest().encode()
                for line in lines[1:]
            ]
            assert copied == ending.join(expected) + ending, (ending, block)
