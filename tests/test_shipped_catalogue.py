"""The shipped catalogue (learners/shipped_catalogue/): complete, consistent, in feed format."""

import csv
import datetime
import re
from collections import Counter
from pathlib import Path

import pytest

from base.identifiers import is_valid_qan, is_valid_series_code
from learners import diploma

CATALOGUE = Path(__file__).resolve().parent.parent / "learners" / "shipped_catalogue"
HEADERS = {
    "qualifications.csv": ["code", "qan", "title", "component", "kind", "level", "line", "glh"],
    "units.csv": ["code", "qualification", "title", "glh", "centre_marked", "mandatory"],
    "series.csv": ["code", "name", "results_published_on"],
    "grade_thresholds.csv": ["level", "grade", "min_points"],
}
CODE = re.compile(r"[A-Za-z0-9_-]{1,20}")


def read(name: str) -> list[dict[str, str]]:
    with (CATALOGUE / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def qualifications() -> dict[str, dict[str, str]]:
    return {row["code"]: row for row in read("qualifications.csv")}


@pytest.fixture(scope="module")
def units() -> list[dict[str, str]]:
    return read("units.csv")


def test_it_ships_only_catalogue_files_with_their_headers():
    assert sorted(p.name for p in CATALOGUE.glob("*.csv")) == sorted(HEADERS)
    for name, header in HEADERS.items():
        with (CATALOGUE / name).open(newline="", encoding="utf-8") as handle:
            assert next(csv.reader(handle)) == header, name


def test_it_has_principal_learning_for_every_line_at_every_level(qualifications):
    pl = {(q["line"], q["level"]): q for q in qualifications.values() if q["component"] == "PL"}
    assert len(pl) == 14 * 3
    expected_glh = {"1": 240, "2": 420, "3": 540}
    for line in diploma.LINES_OF_LEARNING:
        for level in ("1", "2", "3"):
            qual = pl[(line, level)]
            assert qual["kind"] == "GQ"
            assert int(qual["glh"]) == expected_glh[level]


def test_it_gives_principal_learning_units_adding_up_to_the_qualification(qualifications, units):
    glh: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    for unit in units:
        glh[unit["qualification"]] += int(unit["glh"])
        counts[unit["qualification"]] += 1
    for code, qual in qualifications.items():
        if qual["component"] == "PL":
            assert glh[code] == int(qual["glh"]), code
            assert 4 <= counts[code] <= 9, code
    pl_units = [u for u in units if qualifications[u["qualification"]]["component"] == "PL"]
    assert all(u["mandatory"] == "Y" for u in pl_units)
    assert {u["centre_marked"] for u in pl_units} == {"Y", "N"}


def test_it_has_the_three_projects(qualifications, units):
    projects = {q["level"]: q for q in qualifications.values() if q["component"] == "PROJECT"}
    assert {level: int(q["glh"]) for level, q in projects.items()} == {"1": 60, "2": 60, "3": 120}
    for qual in projects.values():
        (unit,) = [u for u in units if u["qualification"] == qual["code"]]
        assert unit["centre_marked"] == "Y"
        assert unit["glh"] == qual["glh"]


def test_it_has_functional_skills_at_levels_1_and_2(qualifications):
    fs = {
        (q["component"], q["level"])
        for q in qualifications.values()
        if q["component"] in diploma.FUNCTIONAL_SKILLS
    }
    assert fs == {(c, level) for c in diploma.FUNCTIONAL_SKILLS for level in ("1", "2")}


def test_it_has_general_and_vocational_asl(qualifications):
    asl = [q for q in qualifications.values() if q["component"] == "ASL"]
    assert {q["kind"] for q in asl} == {"GQ", "VQ"}
    # Every Diploma with ASL can take both kinds at its level or one above.
    for level in (lv for lv in diploma.LEVELS.values() if lv.has_asl):
        allowed = {str(level.qualification_level), str(level.qualification_level + 1)}
        assert {q["kind"] for q in asl if q["level"] in allowed} == {"GQ", "VQ"}


def test_it_sets_the_line_only_for_principal_learning(qualifications):
    for qual in qualifications.values():
        if qual["component"] == "PL":
            assert qual["line"] in diploma.LINES_OF_LEARNING
        else:
            assert qual["line"] == ""
        assert qual["component"] in diploma.QUALIFICATION_COMPONENTS
        assert qual["kind"] in ("GQ", "VQ")
        assert qual["level"] in ("1", "2", "3")


def test_it_gives_every_qualification_a_valid_unique_qan(qualifications):
    qans = [q["qan"] for q in qualifications.values()]
    assert all(is_valid_qan(qan) for qan in qans)
    assert len(set(qans)) == len(qans)


def test_it_keeps_codes_unique_across_units_and_qualifications(qualifications, units):
    codes = list(qualifications) + [u["code"] for u in units]
    assert len(set(codes)) == len(codes)
    assert all(CODE.fullmatch(code) for code in codes)


def test_it_gives_every_qualification_units_of_its_own(qualifications, units):
    assert {u["qualification"] for u in units} == set(qualifications)
    for unit in units:
        assert int(unit["glh"]) > 0
        assert unit["centre_marked"] in ("Y", "N")
        assert unit["mandatory"] in ("Y", "N")


def test_it_has_january_and_june_series_from_2008_to_2035():
    series = read("series.csv")
    assert [s["code"] for s in series] == [
        f"{year}-{month}" for year in range(2008, 2036) for month in ("01", "06")
    ]
    for row in series:
        assert is_valid_series_code(row["code"])
        published = datetime.date.fromisoformat(row["results_published_on"])
        assert published.weekday() == 3  # a Thursday
        if row["code"].endswith("-01"):
            assert row["name"] == f"January {row['code'][:4]}"
            assert published.month == 3 and 8 <= published.day <= 14
        else:
            assert row["name"] == f"June {row['code'][:4]}"
            assert published.month == 8 and 15 <= published.day <= 21
    assert {"code": "2010-06", "name": "June 2010", "results_published_on": "2010-08-19"} in series


def test_it_has_the_default_grade_thresholds():
    thresholds: dict[str, dict[str, int]] = {}
    for row in read("grade_thresholds.csv"):
        thresholds.setdefault(row["level"], {})[row["grade"]] = int(row["min_points"])
    assert thresholds["A"] == {"E": 22, "D": 44, "C": 66, "B": 88, "A": 110, "A*": 132}
    assert thresholds["P"] == thresholds["A"]
    assert thresholds["F"] == {"B": 40, "A": 50, "A*": 60}
    assert thresholds["H"] == {"C": 48, "B": 64, "A": 80, "A*": 96}
    for level, grades in thresholds.items():
        assert set(grades) == set(diploma.GRADES_BY_LEVEL[level])
