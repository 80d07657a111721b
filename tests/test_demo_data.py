"""generate_demo_data: a deterministic demo delivery in which every flag situation occurs.

The checks read the generated CSV files only (no import), against the shipped catalogue.
"""

import collections
import csv
import datetime
import io
from collections import defaultdict
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command

from base.identifiers import is_valid_centre_number, is_valid_uln
from demo.deliveries import HEADERS, centre_sizes, generate
from learners import diploma

CATALOGUE = Path(__file__).resolve().parent.parent / "learners" / "shipped_catalogue"
TODAY = datetime.date(2026, 5, 14)
# Dates across the exam year: before and after each results day, the summer, September.
TODAYS = [
    datetime.date(2026, 1, 5),
    datetime.date(2026, 3, 20),
    TODAY,
    datetime.date(2026, 7, 1),
    datetime.date(2026, 8, 25),
    datetime.date(2026, 9, 1),
    datetime.date(2026, 11, 28),
]
LETTERS = frozenset(diploma.LETTER_GRADES)


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load(folder: Path) -> dict[str, list[dict[str, str]]]:
    return {name: read(folder / name) for name in HEADERS}


class Catalogue:
    """The shipped catalogue, read straight from its CSV files."""

    def __init__(self) -> None:
        self.qualifications = {row["code"]: row for row in read(CATALOGUE / "qualifications.csv")}
        self.units = {row["code"]: row for row in read(CATALOGUE / "units.csv")}
        self.series = {row["code"]: row for row in read(CATALOGUE / "series.csv")}
        self.mandatory: dict[str, set[str]] = defaultdict(set)
        for unit in self.units.values():
            if unit["mandatory"] == "Y":
                self.mandatory[unit["qualification"]].add(unit["code"])

    def qualification(self, code: str) -> dict[str, str]:
        """The qualification of a unit code or a qualification code."""
        return self.qualifications[
            self.units[code]["qualification"] if code in self.units else code
        ]

    def component(self, code: str) -> str:
        return self.qualification(code)["component"]

    def valid_pl(self, learner: dict[str, str]) -> str:
        level = str(diploma.LEVELS[learner["level"]].qualification_level)
        (code,) = [
            code
            for code, q in self.qualifications.items()
            if q["component"] == "PL" and q["line"] == learner["line"] and q["level"] == level
        ]
        return code


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue()


@pytest.fixture(scope="module")
def delivery(tmp_path_factory) -> dict[str, list[dict[str, str]]]:
    folder = tmp_path_factory.mktemp("demo")
    generate(folder, centres=4, learners=600, seed=3, today=TODAY)
    return load(folder)


def situations(files: dict[str, list[dict[str, str]]], catalogue: Catalogue, today) -> set[str]:
    """The flag situations of DOMAIN.md section 4 that the delivery's rows set up."""
    found: set[str] = set()
    learners = {row["uln"]: row for row in files["learners.csv"]}
    found |= {f"level {row['level']}" for row in learners.values()}

    entries = defaultdict(list)
    for row in files["entries.csv"]:
        uln = row["uln"]
        if uln in learners:
            entries[uln].append(row)
        elif uln == "":
            found.add("entry with a blank ULN")
        elif uln == "9999999999":
            found.add("entry with the placeholder ULN")
        elif is_valid_uln(uln):
            found.add("entry with a valid but unknown ULN")
        else:
            found.add("entry with a ULN failing the check")
        received = datetime.datetime.fromisoformat(row["received_at"])
        if received.date() == today - datetime.timedelta(days=1):
            found.add("entry received in the last day")

    results = {(r["uln"], r["series"], r["code"]) for r in files["results.csv"]}
    marks = {(m["uln"], m["series"], m["unit"]) for m in files["marks.csv"]}
    if any(r["published_on"] > today.isoformat() for r in files["results.csv"]):
        found.add("result published in the future")

    # Entry flags of principal learning (4.1).
    for uln, learner in learners.items():
        valid = catalogue.valid_pl(learner)
        rows = [e for e in entries[uln] if catalogue.component(e["code"]) == "PL"]
        cashins = {e["code"] for e in rows if e["type"] == "CASHIN"}
        units = {e["code"] for e in rows if e["type"] == "UNIT"}
        if not rows:
            found.add("PL: nothing entered")
        elif valid in cashins:
            if catalogue.mandatory[valid] <= units:
                found.add("PL: cash-in and every mandatory unit")
            else:
                found.add("PL: cash-in, a mandatory unit missing")
        elif cashins:
            found.add("PL: cash-in only for another line")
        elif units & catalogue.mandatory[valid]:
            found.add("PL: unit entries without a cash-in")
        asl_kinds = {
            catalogue.qualification(e["code"])["kind"]
            for e in entries[uln]
            if catalogue.component(e["code"]) == "ASL"
        }
        if asl_kinds == {"GQ"}:
            found.add("ASL: Edexcel GQ entries only")

    # Centre marks (4.3), by the state of the unit's window today.
    windows = {(w["series"], w["unit"]): w for w in files["mark_windows.csv"]}
    for window in windows.values():
        opens = datetime.date.fromisoformat(window["opens_on"])
        closes = datetime.date.fromisoformat(window["closes_on"])
        assert opens <= closes
        found.add(
            "window closed"
            if closes < today
            else ("window open" if opens <= today else "window not open yet")
        )
    for uln, rows in entries.items():
        for e in rows:
            if e["type"] != "UNIT" or catalogue.units[e["code"]]["centre_marked"] != "Y":
                continue
            window = windows[(e["series"], e["code"])]
            key = (uln, e["series"], e["code"])
            if window["opens_on"] > today.isoformat():
                found.add("marks: window not open")
            elif key in marks:
                found.add("marks: submitted")
            elif key in results:
                continue
            elif window["closes_on"] >= today.isoformat():
                found.add("marks: due")
            else:
                found.add("marks: overdue")

    # VQ claims (4.3).
    for row in files["vq_status.csv"]:
        assert catalogue.qualifications[row["qualification"]]["kind"] == "VQ"
        if row["verified"] == "N":
            found.add("VQ: not verified")
        elif row["claimed_on"]:
            found.add("VQ: verified and claimed")
        else:
            found.add("VQ: verified, not claimed")

    # Functional Skills results (4.3): the cash-in result, the latest one counting.
    fs_results = defaultdict(list)
    for row in files["results.csv"]:
        if row["code"] in catalogue.qualifications and catalogue.component(row["code"]).startswith(
            "FS_"
        ):
            fs_results[(row["uln"], catalogue.component(row["code"]))].append(row)
            found.add(f"FS: {row['grade']}")
    for rows in fs_results.values():
        grades = [r["grade"] for r in sorted(rows, key=lambda r: r["series"])]
        if grades[0] == "FAIL" and grades[-1] == "PASS":
            found.add("FS: a fail, then a pass")

    # The DAS.
    for row in files["das.csv"]:
        level = diploma.LEVELS[learners[row["uln"]]["level"]]
        if row["complete"] == "Y":
            found.add(f"DAS: {row['component']} complete")
        if row["diploma_grade"]:
            found.add("DAS: a Diploma grade")
        if row["component"] == "ASL" and row["complete"] == "N" and row["asl_glh_completed"]:
            assert 0 < int(row["asl_glh_completed"]) < level.asl_glh
            found.add("DAS: ASL partly complete")
    return found


EXPECTED = {
    *(f"level {code}" for code in diploma.LEVELS),
    "entry with a blank ULN",
    "entry with the placeholder ULN",
    "entry with a valid but unknown ULN",
    "entry with a ULN failing the check",
    "entry received in the last day",
    "result published in the future",
    "PL: nothing entered",
    "PL: cash-in and every mandatory unit",
    "PL: cash-in, a mandatory unit missing",
    "PL: cash-in only for another line",
    "PL: unit entries without a cash-in",
    "ASL: Edexcel GQ entries only",
    "window closed",
    "window open",
    "window not open yet",
    "marks: window not open",
    "marks: submitted",
    "marks: due",
    "marks: overdue",
    "VQ: not verified",
    "VQ: verified and claimed",
    "VQ: verified, not claimed",
    "FS: PASS",
    "FS: FAIL",
    "FS: a fail, then a pass",
    *(f"DAS: {component} complete" for component in diploma.COMPONENTS),
    "DAS: a Diploma grade",
    "DAS: ASL partly complete",
}


def test_it_is_deterministic_for_a_seed(tmp_path):
    for name in ("one", "two"):
        generate(tmp_path / name, centres=3, learners=250, seed=11, today=TODAY)
    generate(tmp_path / "other", centres=3, learners=250, seed=12, today=TODAY)
    for name in HEADERS:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    assert any(
        (tmp_path / "one" / name).read_bytes() != (tmp_path / "other" / name).read_bytes()
        for name in HEADERS
    )


def test_it_writes_every_file_with_its_header(tmp_path):
    counts = generate(tmp_path, centres=2, learners=40, seed=1, today=TODAY)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(HEADERS)
    for name, header in HEADERS.items():
        with (tmp_path / name).open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert tuple(rows[0]) == header, name
        assert all(len(row) == len(header) for row in rows), name
        assert counts[name] == len(rows) - 1, name
    assert counts["learners.csv"] == 40
    assert counts["centres.csv"] == 2


def test_it_gives_learners_valid_unique_ulns(delivery):
    ulns = [row["uln"] for row in delivery["learners.csv"]]
    assert len(ulns) == 600
    assert len(set(ulns)) == len(ulns)
    assert all(is_valid_uln(uln) for uln in ulns)
    for name in ("marks.csv", "results.csv", "vq_status.csv", "das.csv"):
        assert all(row["uln"] in set(ulns) for row in delivery[name]), name


def test_it_refers_only_to_the_shipped_catalogue(delivery, catalogue):
    units, quals, series = catalogue.units, catalogue.qualifications, catalogue.series
    centres = {row["number"] for row in delivery["centres.csv"]}
    assert all(is_valid_centre_number(number) for number in centres)
    for row in delivery["centre_users.csv"]:
        assert row["centre"] in centres
        assert row["email"] == f"{row['username']}@example.org"
    for row in delivery["learners.csv"]:
        assert row["centre"] in centres
        assert row["line"] in diploma.LINES_OF_LEARNING
        assert row["award_series"] == "" or row["award_series"][:4].isdigit()
    for row in delivery["entries.csv"]:
        assert row["centre"] in centres
        assert row["series"] in series
        assert len(row["candidate_number"]) == 4 and row["candidate_number"].isdigit()
        assert row["code"] in (units if row["type"] == "UNIT" else quals), row
    for row in delivery["marks.csv"]:
        assert row["series"] in series
        assert units[row["unit"]]["centre_marked"] == "Y"
    for row in delivery["results.csv"]:
        assert row["series"] in series
        assert row["code"] in units or row["code"] in quals
        assert row["grade"] in diploma.RESULT_GRADES
    for row in delivery["mark_windows.csv"]:
        assert row["series"] in series
        assert units[row["unit"]]["centre_marked"] == "Y"
    for row in delivery["das.csv"]:
        assert row["component"] in diploma.COMPONENTS
        assert row["diploma_grade"] in ("", *diploma.LETTER_GRADES)


@pytest.mark.parametrize("today", TODAYS, ids=str)
def test_it_sets_up_every_flag_situation(tmp_path, catalogue, today):
    generate(tmp_path, centres=3, learners=300, seed=5, today=today)
    assert EXPECTED - situations(load(tmp_path), catalogue, today) == set()


def test_it_sets_up_every_flag_situation_with_the_showcase_learners_alone(tmp_path, catalogue):
    generate(tmp_path, centres=1, learners=18, seed=2, today=TODAY)
    assert EXPECTED - situations(load(tmp_path), catalogue, TODAY) == set()


def test_it_gives_results_the_points_of_their_grade(delivery, catalogue):
    learners = {row["uln"]: row for row in delivery["learners.csv"]}
    pointed = 0
    for row in delivery["results.csv"]:
        unit = catalogue.units.get(row["code"])
        if unit and catalogue.component(row["code"]) in ("PL", "PROJECT"):
            assert row["grade"] in diploma.GRADES_BY_LEVEL[learners[row["uln"]]["level"]] + ("U",)
            steps = diploma.GRADE_STEPS.get(row["grade"], 0)
            assert int(row["points"]) == int(unit["glh"]) // 30 * steps
            pointed += 1
        else:
            assert row["points"] == ""
        if catalogue.component(row["code"]).startswith("FS_"):
            assert row["grade"] in ("PASS", "FAIL")
        elif catalogue.qualifications.get(row["code"], {}).get("kind") == "VQ":
            assert row["grade"] in ("PASS", "MERIT", "DISTINCTION")
        else:
            assert row["grade"] in LETTERS
    assert pointed > 100


def test_it_dates_what_has_happened_in_the_past(delivery):
    today = TODAY.isoformat()
    start_of_today = datetime.datetime.combine(TODAY, datetime.time(), datetime.UTC)
    for row in delivery["entries.csv"]:
        assert datetime.datetime.fromisoformat(row["received_at"]) < start_of_today
    assert all(row["submitted_on"] <= today for row in delivery["marks.csv"])
    assert all(row["claimed_on"] <= today for row in delivery["vq_status.csv"])
    for row in delivery["learners.csv"]:
        assert row["registered_on"] <= today
        assert row["registered_on"][5:7] == "09"
        assert row["date_of_birth"] < row["registered_on"]


def test_it_registers_learners_one_or_two_years_ago_with_june_awards(delivery):
    years = {int(row["registered_on"][:4]) for row in delivery["learners.csv"]}
    assert {2024, 2025} <= years
    awards = [row["award_series"] for row in delivery["learners.csv"]]
    assert "" in awards
    defaults = sum(
        award == f"{int(row['registered_on'][:4]) + 2}-06"
        for award, row in zip(awards, delivery["learners.csv"], strict=True)
    )
    assert defaults > len(awards) * 0.8
    assert any(not a.endswith("-06") for a in awards if a)


def test_it_spreads_learners_over_centres_and_lines(delivery):
    assert {row["centre"] for row in delivery["learners.csv"]} == {
        row["number"] for row in delivery["centres.csv"]
    }
    assert {row["line"] for row in delivery["learners.csv"]} == set(diploma.LINES_OF_LEARNING)


def test_it_gives_the_largest_centre_its_share_and_spreads_the_rest(tmp_path):
    call_command(
        "generate_demo_data",
        str(tmp_path),
        centres=5,
        learners=130,
        largest=50,
        stdout=io.StringIO(),
    )
    delivery = load(tmp_path)
    first = delivery["centres.csv"][0]["number"]
    per_centre = collections.Counter(row["centre"] for row in delivery["learners.csv"])
    assert per_centre[first] == 50
    assert sorted(count for centre, count in per_centre.items() if centre != first) == [20] * 4
    # Candidate numbers run from 0001 at every centre, the unmatched candidates after them.
    ulns = {row["uln"] for row in delivery["learners.csv"] if row["centre"] == first}
    ours = [row for row in delivery["entries.csv"] if row["centre"] == first]
    matched = {row["candidate_number"] for row in ours if row["uln"] in ulns}
    unmatched = {row["candidate_number"] for row in ours if row["uln"] not in ulns}
    assert len(matched) > 40
    assert matched <= {f"{n:04d}" for n in range(1, 51)}
    assert "0051" in unmatched


@pytest.mark.parametrize(
    ("centres", "learners", "largest", "sizes"),
    [
        (3, 10, None, [4, 3, 3]),
        (3, 10, 6, [6, 2, 2]),
        (1, 10, 10, [10]),
        (4, 10, 4, [4, 2, 2, 2]),
    ],
)
def test_it_sizes_centres(centres, learners, largest, sizes):
    assert centre_sizes(centres, learners, largest) == sizes


@pytest.mark.parametrize(
    ("centres", "learners", "largest"), [(3, 10, 11), (1, 10, 5), (3, 10, 2), (2, 10, -1)]
)
def test_it_refuses_a_largest_centre_that_cannot_be(centres, learners, largest):
    with pytest.raises(ValueError):
        centre_sizes(centres, learners, largest)


def test_it_refuses_more_learners_than_a_centre_can_number(tmp_path):
    with pytest.raises(ValueError, match="more centres"):
        generate(tmp_path, centres=1, learners=10_000, seed=1, today=TODAY)


def test_it_writes_through_the_command_for_today_in_london(tmp_path):
    out = io.StringIO()
    # 23:30 UTC on 13 May is already 14 May in London (BST).
    with time_machine.travel(datetime.datetime(2026, 5, 13, 23, 30, tzinfo=datetime.UTC)):
        call_command(
            "generate_demo_data", str(tmp_path / "cmd"), centres=2, learners=30, seed=4, stdout=out
        )
    generate(tmp_path / "direct", centres=2, learners=30, seed=4, today=TODAY)
    for name in HEADERS:
        assert (tmp_path / "cmd" / name).read_bytes() == (tmp_path / "direct" / name).read_bytes()
    assert "learners.csv: 30 rows" in out.getvalue()


def test_it_reports_a_delivery_it_cannot_write_as_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="more centres"):
        call_command(
            "generate_demo_data", str(tmp_path), centres=1, learners=20_000, stdout=io.StringIO()
        )
