"""Demo deliveries: a folder of feed files (DOMAIN.md section 5) for a made-up world.

`generate` writes centres, centre users, learners, entries, marks, results, VQ and DAS
status and mark windows that use only the shipped catalogue (`learners/shipped_catalogue/`), with
every date placed relative to `today`. Every situation of the flag rules (DOMAIN.md 4)
occurs: the first learners follow hand-picked profiles (`SHOWCASE`) so that even a small
delivery has each one, and the rest are drawn with realistic weights.

The same arguments give the same bytes: one `random.Random(seed)` drives everything, in a
fixed order, and nothing iterates over a set. Rows are streamed to the files learner by
learner, so 100,000 learners need little memory.

Three cohorts of learners, by when they registered (always in September):
- first year: registered this academic year, award series two Junes on;
- second year: registered last academic year, award series next June (or this June);
- finished: award series the latest June with published results, mostly aggregated.
"""

from __future__ import annotations

import bisect
import csv
import datetime
import random
from dataclasses import dataclass, replace
from pathlib import Path

import learners
from base.identifiers import PLACEHOLDER_ULN, uln_check_digit
from learners import diploma
from learners.feed.spec import build_specs

CATALOGUE_DIR = Path(learners.__file__).resolve().parent / "shipped_catalogue"

# The files a demo delivery holds, in the order they are written; each file's columns are
# the feed's own (learners.feed.spec), declared there once.
FILES = (
    "centres.csv",
    "centre_users.csv",
    "learners.csv",
    "entries.csv",
    "marks.csv",
    "results.csv",
    "vq_status.csv",
    "das.csv",
    "mark_windows.csv",
)
_COLUMNS = {spec.name: spec.column_names for spec in build_specs()}
HEADERS: dict[str, tuple[str, ...]] = {name: _COLUMNS[name] for name in FILES}

# A candidate number has at most four digits, so a centre can number 9,999 candidates.
MAX_CANDIDATES_PER_CENTRE = 9999
# Learners' ULN stems stay below this; valid ULNs "unknown" to the delivery come from above.
_UNKNOWN_ULN_STEMS = 950_000_000
_DAY = datetime.timedelta(days=1)

# --- cohorts and scenarios -----------------------------------------------------------------

FIRST_YEAR = "first-year"
SECOND_YEAR = "second-year"
FINISHED = "finished"

# Principal learning entries (entry flag in brackets): eligible (eligible), ineligible
# (ineligible: some mandatory unit entries missing), units-only (missing: no cash-in),
# nothing (missing), other-line (missing: cash-in for another line's PL), bad-uln
# (missing: every entry made with a mistyped ULN, so none links to the learner).
PL_SCENARIOS = ("eligible", "ineligible", "units-only", "nothing", "other-line", "bad-uln")
# Centre marks of centre-marked units still waiting for a result (assessment flag):
# submitted (submitted), due (window open, not submitted), not-open (entered for the series
# after next), overdue (window closed, no marks, no result), late (marks after the
# deadline, result to be published in the future: submitted), none (all resulted).
MARK_SCENARIOS = ("submitted", "due", "not-open", "overdue", "late", "none")
PROJECT_SCENARIOS = ("eligible", "ineligible", "units-only", "nothing")
# Per Functional Skills subject (assessment flag): pass (passed), fail (failed; half
# re-entered for the next series), resit-pass (a fail, then a pass at a later series:
# passed), entered (none yet), nothing (missing), below-level (a qualification under the
# level the Diploma needs: missing).
FS_SCENARIOS = ("pass", "fail", "resit-pass", "entered", "nothing", "below-level")
# ASL: a VQ claimed, verified but unclaimed, not verified (a status row saying so) or with
# no status row; Edexcel GQ entries (undetermined); nothing (missing).
ASL_SCENARIOS = ("claimed", "unclaimed", "unverified", "no-status", "gq", "nothing")
# DAS: aggregated (every component complete, a Diploma grade), asl-partial (all complete
# but ASL, part of its GLH done), progress (PLTS, WEX, passed FS, some ASL GLH), none.
DAS_SCENARIOS = ("aggregated", "asl-partial", "progress", "none")
AWARD_SCENARIOS = ("default", "blank", "later")


@dataclass(frozen=True)
class Profile:
    """What happens to one learner; see the scenario tuples above for the values."""

    cohort: str
    level: str
    pl: str
    marks: str
    project: str
    fs: tuple[str, str, str]  # FS_ENGLISH, FS_MATHS, FS_ICT
    asl: str
    das: str
    award: str = "default"
    recent: bool = False  # entries for the coming series received in the last day


# The first learners, so that every flag situation occurs in any delivery of at least
# len(SHOWCASE) learners, whatever today is. Overdue and late marks need a past series in
# the course, which the second-year cohort always has. Columns: cohort, level, pl, marks,
# project, fs (English/Maths/ICT), asl, das, then the award scenario or "recent" (default
# award, entries for the coming series received in the last day); "-" is the default award.
_SHOWCASE_TABLE = """
second-year A eligible   submitted eligible   pass/pass/pass          claimed    progress    -
second-year H ineligible due       ineligible fail/pass/entered       unclaimed  progress    blank
second-year A units-only not-open  units-only resit-pass/nothing/pass unverified none        later
second-year F eligible   overdue   eligible   pass/fail/resit-pass    gq         progress    recent
second-year P eligible   late      eligible   pass/pass/below-level   nothing    progress    -
first-year  H nothing    due       nothing    nothing/nothing/nothing nothing    none        -
second-year A other-line submitted nothing    entered/entered/entered no-status  none        -
second-year H bad-uln    due       units-only pass/pass/pass          gq         progress    -
finished    A eligible   none      eligible   pass/resit-pass/pass    claimed    aggregated  -
finished    F eligible   none      eligible   pass/pass/pass          claimed    aggregated  -
finished    H eligible   none      eligible   pass/pass/pass          gq         asl-partial -
finished    P eligible   none      eligible   pass/pass/pass          nothing    aggregated  -
first-year  F units-only not-open  nothing    entered/nothing/entered unverified none        recent
first-year  A units-only due       units-only nothing/entered/nothing gq         progress    -
second-year A eligible   due       eligible   pass/pass/pass          claimed    progress    -
second-year H ineligible overdue   eligible   pass/below-level/fail   claimed    progress    -
second-year P eligible   not-open  eligible   pass/pass/pass          nothing    progress    -
second-year F units-only late      ineligible fail/pass/pass          unverified none        -
"""


def _showcase(table: str) -> tuple[Profile, ...]:
    profiles = []
    for row in table.strip().splitlines():
        cohort, level, pl, marks, project, fs, asl, das, last = row.split()
        english, maths, ict = fs.split("/")
        recent = last == "recent"
        award = "default" if recent or last == "-" else last
        profile = Profile(
            cohort, level, pl, marks, project, (english, maths, ict), asl, das, award, recent
        )
        # A typo in the table would silently make a learner without the situation it is for.
        for value, allowed in (
            (cohort, (FIRST_YEAR, SECOND_YEAR, FINISHED)),
            (level, tuple(diploma.LEVELS)),
            (pl, PL_SCENARIOS),
            (marks, MARK_SCENARIOS),
            (project, PROJECT_SCENARIOS),
            (asl, ASL_SCENARIOS),
            (das, DAS_SCENARIOS),
            (award, AWARD_SCENARIOS),
            *((subject, FS_SCENARIOS) for subject in profile.fs),
        ):
            if value not in allowed:
                raise ValueError(f"Unknown scenario {value!r} in the showcase table.")
        profiles.append(profile)
    return tuple(profiles)


SHOWCASE: tuple[Profile, ...] = _showcase(_SHOWCASE_TABLE)


class _Table:
    """Weighted choices, drawn with one random number each."""

    def __init__(self, weights: dict[str, int]) -> None:
        self.values = tuple(weights)
        self.cumulative: list[int] = []
        total = 0
        for weight in weights.values():
            total += weight
            self.cumulative.append(total)
        self.total = total

    def pick(self, rng: random.Random) -> str:
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


_COHORTS = _Table({FIRST_YEAR: 40, SECOND_YEAR: 45, FINISHED: 15})
_LEVELS = _Table(
    {diploma.FOUNDATION: 20, diploma.HIGHER: 35, diploma.ADVANCED: 30, diploma.PROGRESSION: 15}
)
_AWARDS = _Table({"default": 90, "blank": 5, "later": 5})
_WEIGHTS: dict[str, dict[str, _Table]] = {
    SECOND_YEAR: {
        "pl": _Table(
            {
                "eligible": 60,
                "ineligible": 14,
                "units-only": 14,
                "nothing": 4,
                "other-line": 3,
                "bad-uln": 5,
            }
        ),
        "marks": _Table({"submitted": 35, "due": 30, "not-open": 10, "overdue": 15, "late": 10}),
        "project": _Table({"eligible": 55, "ineligible": 10, "units-only": 20, "nothing": 15}),
        "fs": _Table(
            {
                "pass": 50,
                "fail": 10,
                "resit-pass": 8,
                "entered": 17,
                "nothing": 10,
                "below-level": 5,
            }
        ),
        "asl": _Table(
            {
                "claimed": 30,
                "unclaimed": 25,
                "unverified": 12,
                "no-status": 5,
                "gq": 20,
                "nothing": 8,
            }
        ),
        "das": _Table({"progress": 85, "none": 15}),
    },
    FIRST_YEAR: {
        "pl": _Table(
            {
                "units-only": 55,
                "eligible": 15,
                "ineligible": 5,
                "nothing": 18,
                "other-line": 2,
                "bad-uln": 5,
            }
        ),
        "marks": _Table({"submitted": 25, "due": 35, "not-open": 32, "overdue": 5, "late": 3}),
        "project": _Table({"nothing": 70, "units-only": 30}),
        "fs": _Table({"entered": 40, "nothing": 40, "pass": 10, "fail": 5, "below-level": 5}),
        "asl": _Table({"unclaimed": 20, "no-status": 10, "unverified": 8, "gq": 27, "nothing": 35}),
        "das": _Table({"none": 70, "progress": 30}),
    },
    FINISHED: {
        "fs": _Table({"pass": 85, "resit-pass": 15}),
        "asl": _Table({"claimed": 60, "gq": 40}),
        "das": _Table({"aggregated": 80, "asl-partial": 20}),
    },
}


def random_profile(rng: random.Random) -> Profile:
    """A learner drawn with the weights of a typical centre."""
    cohort = _COHORTS.pick(rng)
    level = _LEVELS.pick(rng)
    weights = _WEIGHTS[cohort]
    fs = (weights["fs"].pick(rng), weights["fs"].pick(rng), weights["fs"].pick(rng))
    if cohort == FINISHED:
        return Profile(
            cohort,
            level,
            "eligible",
            "none",
            "eligible",
            fs,
            weights["asl"].pick(rng),
            weights["das"].pick(rng),
            _AWARDS.pick(rng),
        )
    return Profile(
        cohort,
        level,
        weights["pl"].pick(rng),
        weights["marks"].pick(rng),
        weights["project"].pick(rng),
        fs,
        weights["asl"].pick(rng),
        weights["das"].pick(rng),
        _AWARDS.pick(rng),
        recent=rng.random() < 0.01,
    )


# --- the shipped catalogue -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CatalogueUnit:
    code: str
    glh: int
    centre_marked: bool
    mandatory: bool


@dataclass(frozen=True, slots=True)
class CatalogueQualification:
    code: str
    component: str
    kind: str
    level: int
    line: str
    glh: int
    units: tuple[CatalogueUnit, ...]

    @property
    def mandatory_units(self) -> tuple[CatalogueUnit, ...]:
        return tuple(u for u in self.units if u.mandatory)


@dataclass(frozen=True, slots=True)
class CatalogueSeries:
    code: str
    starts_on: datetime.date  # the first day of the series' month
    results_published_on: datetime.date

    @property
    def is_january(self) -> bool:
        return self.starts_on.month == 1


@dataclass(frozen=True)
class ShippedCatalogue:
    """The qualifications, units and series of a catalogue folder, indexed for the generator."""

    qualifications: dict[str, CatalogueQualification]
    series: tuple[CatalogueSeries, ...]  # in date order

    @classmethod
    def load(cls, folder: Path = CATALOGUE_DIR) -> ShippedCatalogue:
        units: dict[str, list[CatalogueUnit]] = {}
        for row in _read(folder / "units.csv"):
            units.setdefault(row["qualification"], []).append(
                CatalogueUnit(
                    row["code"],
                    int(row["glh"]),
                    row["centre_marked"].upper() == "Y",
                    row["mandatory"].upper() == "Y",
                )
            )
        qualifications = {
            row["code"]: CatalogueQualification(
                row["code"],
                row["component"],
                row["kind"],
                int(row["level"]),
                row["line"],
                int(row["glh"]),
                tuple(units.get(row["code"], ())),
            )
            for row in _read(folder / "qualifications.csv")
        }
        series = sorted(
            (
                CatalogueSeries(
                    row["code"],
                    datetime.date(int(row["code"][:4]), int(row["code"][5:7]), 1),
                    datetime.date.fromisoformat(row["results_published_on"]),
                )
                for row in _read(folder / "series.csv")
                if row["results_published_on"]
            ),
            key=lambda s: s.starts_on,
        )
        return cls(qualifications, tuple(series))

    def find(self, component: str, level: int, line: str = "") -> CatalogueQualification:
        for qual in self.qualifications.values():
            if qual.component == component and qual.level == level and qual.line == line:
                return qual
        raise ValueError(f"The catalogue has no {component} qualification at level {level}.")

    def asl(self, kind: str, levels: tuple[int, ...]) -> tuple[CatalogueQualification, ...]:
        return tuple(
            q
            for q in self.qualifications.values()
            if q.component == diploma.ASL and q.kind == kind and q.level in levels
        )

    @property
    def centre_marked_units(self) -> tuple[str, ...]:
        return tuple(
            u.code for q in self.qualifications.values() for u in q.units if u.centre_marked
        )


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


# --- names ---------------------------------------------------------------------------------

FORENAMES = (
    "Oliver", "Amelia", "Harry", "Olivia", "Jack", "Isla", "Charlie", "Emily", "Thomas",
    "Poppy", "Jacob", "Ava", "Alfie", "Isabella", "Riley", "Jessica", "William", "Lily",
    "James", "Sophie", "Joshua", "Grace", "George", "Evie", "Ethan", "Ruby", "Noah", "Mia",
    "Samuel", "Ella", "Daniel", "Chloé", "Mohammed", "Aisha", "Liam", "Zoë", "Kai", "Amélie",
    "Rhys", "Siân", "Seán", "Niamh", "Callum", "Freya", "Kieran", "Priya", "Arjun", "Leah",
    "Dylan", "Megan", "Tyler", "Hannah", "Lewis", "Ellie", "Jayden", "Abigail", "Owen",
    "Katie", "Reece", "Holly",
)  # fmt: skip
SURNAMES = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards",
    "Hughes", "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood",
    "Turner", "Martin", "Cooper", "Hill", "Ward", "Morris", "Moore", "Clark", "Lee", "King",
    "Baker", "Harrison", "Morgan", "Allen", "James", "Scott", "Phillips", "Watson", "Davis",
    "Parker", "Price", "Bennett", "Young", "Griffiths", "O'Brien", "Smith-Jones", "Khan",
    "Begum", "Nowak", "Ørsted", "Müller", "Kowalski", "McDonald", "Ó Súilleabháin",
)  # fmt: skip
TOWNS = (
    "Northgate", "Southfield", "Eastbrook", "Westmoor", "Ashford", "Bramley", "Carlton",
    "Denholme", "Elmswell", "Fairhaven", "Greystone", "Hartley", "Ivybridge", "Kingsmead",
    "Langley", "Milford", "Newbury", "Oakwood", "Penrith", "Queensbury", "Redhill",
    "Stanmore", "Thornbury", "Upton", "Wexcombe", "Yarmouth", "Abbotsford", "Beckton",
    "Clifton", "Dunmore", "Hatfield", "Kirkby", "Lydford", "Marston", "Norwood", "Orton",
    "Pemberton", "Ryecroft", "Sheldon", "Whitby",
)  # fmt: skip
CENTRE_KINDS = (
    "College", "Academy", "High School", "School", "Sixth Form College",
    "Community College", "Technical College", "Learning Centre",
)  # fmt: skip

# --- generation ----------------------------------------------------------------------------


@dataclass
class _Learner:
    index: int
    centre: str
    centre_index: int
    candidate: str
    uln: str
    forename: str
    surname: str
    profile: Profile
    line: str
    ability: int  # 0 = A* ... a position on the level's grade scale


class _Generator:
    """One generation run: the catalogue indexed, the series around today, date pools."""

    def __init__(
        self, catalogue: ShippedCatalogue, rng: random.Random, today: datetime.date
    ) -> None:
        self.rng = rng
        self.today = today
        self.series = catalogue.series
        self.series_by_code = {s.code: s for s in self.series}
        # The next series: the first whose month has not started; the one after it; the
        # previous one. Windows are set so that the previous series' are closed, the next
        # one's open today and the one after's not yet open, whatever today is.
        upcoming = [i for i, s in enumerate(self.series) if s.starts_on > today]
        if len(upcoming) < 2 or upcoming[0] < 8:
            raise ValueError(f"The catalogue's series do not cover the years around {today}.")
        self.next_series = self.series[upcoming[0]]
        self.after_next = self.series[upcoming[0] + 1]
        self.previous = self.series[upcoming[0] - 1]

        self.academic_year = today.year if today.month >= 9 else today.year - 1
        finished_award = max(
            (s for s in self.series if not s.is_january and s.results_published_on <= today),
            key=lambda s: s.starts_on,
        ).starts_on.year
        self.cohort_year = {
            FIRST_YEAR: self.academic_year,
            SECOND_YEAR: self.academic_year - 1,
            FINISHED: finished_award - 2,
        }
        # Each cohort's course: the four series from the January after registration.
        try:
            self.course = {
                cohort: tuple(
                    self.series_by_code[f"{year + 1 + (i // 2)}-{'01' if i % 2 == 0 else '06'}"]
                    for i in range(4)
                )
                for cohort, year in self.cohort_year.items()
            }
        except KeyError as missing:
            raise ValueError(f"The catalogue has no series {missing} for {today}.") from None
        self.done = {
            cohort: tuple(s for s in course if s.starts_on <= today)
            for cohort, course in self.course.items()
        }
        first = self.course[FINISHED][0]
        self.window_series = tuple(
            s for s in self.series if first.starts_on <= s.starts_on <= self.after_next.starts_on
        )
        self.windows = {s.code: self._window(s) for s in self.window_series}

        self.pl = {
            (q.line, q.level): q
            for q in catalogue.qualifications.values()
            if q.component == diploma.PL
        }
        self.lines = tuple(sorted({line for line, _ in self.pl}))
        self.projects = {level: catalogue.find(diploma.PROJECT, level) for level in (1, 2, 3)}
        self.fs = {
            (c, level): catalogue.find(c, level)
            for c in diploma.FUNCTIONAL_SKILLS
            for level in (1, 2)
        }
        self.asl = {
            (kind, lv.code): catalogue.asl(
                kind, (lv.qualification_level, lv.qualification_level + 1)
            )
            for kind in ("GQ", "VQ")
            for lv in diploma.LEVELS.values()
            if lv.has_asl
        }
        self._received: dict[tuple[int, str], tuple[str, ...]] = {}
        self._recent: dict[int, tuple[str, ...]] = {}
        self._submitted: dict[tuple[int, str], tuple[str, ...]] = {}
        self._iso: dict[datetime.date, str] = {}

    # --- dates ------------------------------------------------------------------------------

    def iso(self, day: datetime.date) -> str:
        text = self._iso.get(day)
        if text is None:
            text = self._iso[day] = day.isoformat()
        return text

    def _window(self, series: CatalogueSeries) -> tuple[datetime.date, datetime.date]:
        """Centre marks window: the usual calendar, moved where needed around today."""
        year = series.starts_on.year
        if series.is_january:
            opens, closes = datetime.date(year - 1, 10, 1), datetime.date(year, 1, 10)
        else:
            opens, closes = datetime.date(year, 1, 15), datetime.date(year, 5, 15)
        today = self.today
        if series.starts_on < self.next_series.starts_on:  # closed before today
            closes = min(closes, today - _DAY)
            opens = min(opens, closes - 30 * _DAY)
        elif series is self.next_series:  # open today, at least another week
            opens = min(opens, today)
            closes = max(closes, today + 7 * _DAY)
        else:  # not open yet
            opens = max(opens, today + _DAY)
            closes = max(closes, opens + 28 * _DAY)
        return opens, closes

    def received_at(self, learner: _Learner, series: CatalogueSeries) -> str:
        """When the centre's entries for a series arrived: in batches, before the deadline."""
        if learner.profile.recent and series.starts_on >= self.next_series.starts_on:
            pool = self._recent.get(learner.centre_index)
            if pool is None:
                pool = self._recent[learner.centre_index] = tuple(
                    self._moment(self.today - _DAY, 12, 22) for _ in range(3)
                )
        else:
            key = (learner.centre_index, series.code)
            pool = self._received.get(key)
            if pool is None:
                year = series.starts_on.year
                deadline = (
                    datetime.date(year - 1, 10, 21)
                    if series.is_january
                    else datetime.date(year, 2, 21)
                )
                latest = min(deadline, self.today - 2 * _DAY)
                pool = self._received[key] = tuple(
                    self._moment(latest - self.rng.randrange(30) * _DAY, 8, 18) for _ in range(3)
                )
        return pool[learner.index % 3]

    def _moment(self, day: datetime.date, first_hour: int, end_hour: int) -> str:
        hour = self.rng.randrange(first_hour, end_hour)
        return f"{day.isoformat()}T{hour:02d}:{self.rng.randrange(60):02d}:00+00:00"

    def submitted_on(self, learner: _Learner, series: CatalogueSeries) -> str:
        """Marks submitted in the series' window (up to today for a window still open)."""
        key = (learner.centre_index, series.code)
        pool = self._submitted.get(key)
        if pool is None:
            opens, closes = self.windows[series.code]
            last = min(closes, self.today)
            span = (last - opens).days
            pool = self._submitted[key] = tuple(
                self.iso(opens + self.rng.randint(max(0, span - 40), span) * _DAY) for _ in range(3)
            )
        return pool[learner.index % 3]

    def submitted_late(self, series: CatalogueSeries) -> str:
        closes = self.windows[series.code][1]
        return self.iso(closes + self.rng.randint(1, max(1, (self.today - closes).days)) * _DAY)

    def status(self, series: CatalogueSeries) -> str:
        """resulted, pending (sat, results not out), open (next series) or future."""
        if series.starts_on > self.today:
            return "open" if series is self.next_series else "future"
        return "resulted" if series.results_published_on <= self.today else "pending"


class _Rows:
    """The rows of one learner, written to the files together."""

    __slots__ = ("entries", "marks", "results", "vq", "das")

    def __init__(self) -> None:
        self.entries: list[tuple] = []
        self.marks: list[tuple] = []
        self.results: list[tuple] = []
        self.vq: list[tuple] = []
        self.das: list[tuple] = []


def _grade(gen: _Generator, learner: _Learner) -> str:
    """A letter near the learner's ability on the level's scale; now and then a U."""
    rng = gen.rng
    scale = diploma.GRADES_BY_LEVEL[learner.profile.level]
    roll = rng.random()
    if roll < 0.03:
        return "U"
    shift = -1 if roll < 0.2 else (1 if roll > 0.8 else 0)
    return scale[min(len(scale) - 1, max(0, learner.ability + shift))]


def _learner_rows(gen: _Generator, learner: _Learner) -> _Rows:
    rows = _Rows()
    profile = learner.profile
    level = diploma.LEVELS[profile.level]
    _principal_learning(gen, learner, rows, level)
    _project(gen, learner, rows, level)
    passed_fs = _functional_skills(gen, learner, rows, level)
    if level.has_asl:
        _asl(gen, learner, rows, level)
    _das(gen, learner, rows, level, passed_fs)
    return rows


def _take_units(
    gen: _Generator,
    learner: _Learner,
    rows: _Rows,
    units: tuple[CatalogueUnit, ...],
    marks: str,
    points: bool,
    dropped: frozenset[str] = frozenset(),
) -> tuple[CatalogueSeries | None, bool]:
    """Enter the units over the learner's course: the share of the course already sat in
    the series sat so far (with results and marks), the rest in the next series (or the
    one after for `not-open`). Returns the last series used and whether every unit has a
    published result.
    """
    profile = learner.profile
    done = gen.done[profile.cohort]
    count = len(units)
    done_count = count * len(done) // 4
    if marks in ("submitted", "due", "not-open"):
        # Keep a centre-marked unit (the last one of each qualification) for the coming series.
        done_count = min(done_count, count - 1)
    current = None
    if done_count < count:
        current = gen.after_next if marks == "not-open" else gen.next_series
    # The unit whose marks never came (overdue) or came after the deadline (late): the
    # last centre-marked unit sat so far, moved to the previous series.
    special = None
    if marks in ("overdue", "late") and done and done[-1] is gen.previous:
        for unit in reversed(units[:done_count]):
            if unit.centre_marked:
                special = unit.code
                break
    entries, results, marks_rows = rows.entries, rows.results, rows.marks
    who = (learner.centre, learner.candidate, learner.uln, learner.forename, learner.surname)
    uln = learner.uln
    pending_results = learner.index % 2 == 0  # results delivered ahead of results day
    all_resulted = not dropped
    last = None
    for position, unit in enumerate(units):
        # The units sat so far spread over the series sat so far, the rest still to come.
        series = done[position * len(done) // done_count] if position < done_count else current
        if unit.code == special:
            series = gen.previous
        if unit.code in dropped:
            continue
        last = series if last is None or series.starts_on > last.starts_on else last
        entries.append((*who, series.code, unit.code, "UNIT", gen.received_at(learner, series)))
        status = gen.status(series)
        if unit.code == special:
            all_resulted = False
            if marks == "late":
                marks_rows.append((uln, series.code, unit.code, gen.submitted_late(series)))
                published = max(
                    series.results_published_on, gen.today + gen.rng.randint(7, 35) * _DAY
                )
                results.append(_unit_result(gen, learner, uln, series, unit, points, published))
            continue
        if status == "resulted" or (status == "pending" and pending_results):
            results.append(
                _unit_result(gen, learner, uln, series, unit, points, series.results_published_on)
            )
        if status != "resulted":
            all_resulted = False
        if unit.centre_marked and (
            status in ("resulted", "pending")
            or (status == "open" and marks in ("submitted", "overdue", "late"))
        ):
            marks_rows.append((uln, series.code, unit.code, gen.submitted_on(learner, series)))
    return last, all_resulted


def _unit_result(gen, learner, uln, series, unit, points, published) -> tuple:
    """A unit result row: a grade drawn for the learner, its points, published that day."""
    grade = _grade(gen, learner)
    return (uln, series.code, unit.code, grade, _points(unit, grade, points), gen.iso(published))


def _points(unit: CatalogueUnit, grade: str, points: bool) -> str | int:
    """PL and project units carry points: GLH / 30 per step of the grade (DOMAIN.md 4.6)."""
    if not points:
        return ""
    return unit.glh // 30 * diploma.GRADE_STEPS.get(grade, 0)


def _cash_in(
    gen: _Generator,
    learner: _Learner,
    rows: _Rows,
    qual: CatalogueQualification,
    series: CatalogueSeries,
    resulted: bool,
    uln: str | None = None,
) -> None:
    rows.entries.append(
        (
            learner.centre,
            learner.candidate,
            learner.uln if uln is None else uln,
            learner.forename,
            learner.surname,
            series.code,
            qual.code,
            "CASHIN",
            gen.received_at(learner, series),
        )
    )
    if resulted:
        scale = diploma.GRADES_BY_LEVEL[learner.profile.level]
        grade = scale[min(learner.ability, len(scale) - 1)]
        rows.results.append(
            (learner.uln, series.code, qual.code, grade, "", gen.iso(series.results_published_on))
        )


def _principal_learning(
    gen: _Generator, learner: _Learner, rows: _Rows, level: diploma.Level
) -> None:
    profile = learner.profile
    scenario = profile.pl
    qual = gen.pl[(learner.line, level.qualification_level)]
    if scenario == "nothing":
        return
    if scenario in ("other-line", "bad-uln"):
        # Entries the learner's Diploma cannot use: another line's PL, or this line's PL
        # entered under a mistyped ULN (two digits swapped, so the check digit fails).
        uln = learner.uln
        if scenario == "other-line":
            other = gen.lines[(gen.lines.index(learner.line) + 1) % len(gen.lines)]
            qual = gen.pl[(other, level.qualification_level)]
        else:
            uln = uln[:3] + uln[4] + uln[3] + uln[5:]
            if uln == learner.uln:
                uln = ""
        series = gen.next_series
        who = (learner.centre, learner.candidate, uln, learner.forename, learner.surname)
        received = gen.received_at(learner, series)
        for unit in qual.units:
            rows.entries.append((*who, series.code, unit.code, "UNIT", received))
        _cash_in(gen, learner, rows, qual, series, False, uln)
        return
    dropped: frozenset[str] = frozenset()
    if scenario == "ineligible":
        # One or two mandatory units never entered, the latest ones of the course.
        mandatory = qual.mandatory_units
        dropped = frozenset(u.code for u in mandatory[-2 - learner.index % 2 : -1])
    last, resulted = _take_units(
        gen, learner, rows, qual.units, profile.marks, points=True, dropped=dropped
    )
    if scenario in ("eligible", "ineligible") and last is not None:
        _cash_in(gen, learner, rows, qual, last, resulted and gen.status(last) == "resulted")


def _project(gen: _Generator, learner: _Learner, rows: _Rows, level: diploma.Level) -> None:
    scenario = learner.profile.project
    if scenario == "nothing":
        return
    qual = gen.projects[level.qualification_level]
    marks = {"overdue": "submitted", "late": "submitted"}.get(
        learner.profile.marks, learner.profile.marks
    )
    if scenario == "ineligible":
        series = gen.after_next if marks == "not-open" else gen.next_series
        _cash_in(gen, learner, rows, qual, series, False)
        return
    last, resulted = _take_units(gen, learner, rows, qual.units, marks, points=True)
    if scenario == "eligible" and last is not None:
        _cash_in(gen, learner, rows, qual, last, resulted)


def _functional_skills(
    gen: _Generator, learner: _Learner, rows: _Rows, level: diploma.Level
) -> list[str]:
    """Entries and results of the three subjects; returns the components passed."""
    passed = []
    sat = [s for s in gen.done[learner.profile.cohort] if gen.status(s) == "resulted"]
    for component, scenario in zip(diploma.FUNCTIONAL_SKILLS, learner.profile.fs, strict=True):
        if scenario == "nothing":
            continue
        needed = level.fs_level
        if scenario == "below-level":
            if needed == 1:
                continue  # nothing is below level 1
            needed = 1
            scenario = "pass" if learner.index % 2 else "entered"
        elif needed == 1 and learner.index % 5 == 0:
            needed = 2  # a Foundation learner taking the level above, which also counts
        qual = gen.fs[(component, needed)]
        if scenario == "resit-pass" and len(sat) < 2:
            scenario = "fail"
        if scenario in ("pass", "fail") and not sat:
            scenario = "entered"
        if scenario == "entered":
            attempts = [(gen.next_series, "")]
        elif scenario == "resit-pass":
            attempts = [(sat[0], "FAIL"), (sat[-1], "PASS")]
        else:
            series = sat[learner.index % len(sat)]
            attempts = [(series, "PASS" if scenario == "pass" else "FAIL")]
            if scenario == "fail" and learner.index % 2:
                attempts.append((gen.next_series, ""))  # re-entered for the next series
        for series, grade in attempts:
            _fs_attempt(gen, learner, rows, qual, series, grade)
        if attempts[-1][1] == "PASS" and needed >= level.fs_level:
            passed.append(component)
    return passed


def _fs_attempt(
    gen: _Generator,
    learner: _Learner,
    rows: _Rows,
    qual: CatalogueQualification,
    series: CatalogueSeries,
    grade: str,
) -> None:
    who = (learner.centre, learner.candidate, learner.uln, learner.forename, learner.surname)
    received = gen.received_at(learner, series)
    rows.entries.append((*who, series.code, qual.code, "CASHIN", received))
    rows.entries.append((*who, series.code, qual.units[0].code, "UNIT", received))
    if grade:
        # The Functional Skills result is the cash-in result.
        rows.results.append(
            (learner.uln, series.code, qual.code, grade, "", gen.iso(series.results_published_on))
        )


def _asl(gen: _Generator, learner: _Learner, rows: _Rows, level: diploma.Level) -> None:
    profile = learner.profile
    scenario = profile.asl
    if scenario == "nothing":
        return
    if scenario == "gq":
        choices = gen.asl[("GQ", level.code)]
        qual = choices[learner.index % len(choices)]
        marks = "due" if learner.index % 4 == 0 else "submitted"
        if profile.cohort == FINISHED:
            marks = "none"
        units = qual.mandatory_units
        # A GCE learner adds an optional unit (a realistic mix; not needed to cash in).
        optional = [u for u in qual.units if not u.mandatory]
        if optional and learner.index % 3 == 0:
            units = (*units, optional[0])
        last, resulted = _take_units(gen, learner, rows, units, marks, points=False)
        if last is not None and (profile.cohort == FINISHED or learner.index % 2 == 0):
            _cash_in(gen, learner, rows, qual, last, resulted)
        return
    # A VQ: the registration is a cash-in entry for the qualification.
    choices = gen.asl[("VQ", level.code)]
    qual = choices[learner.index % len(choices)]
    done = gen.done[profile.cohort]
    series = done[0] if done else gen.next_series
    _cash_in(gen, learner, rows, qual, series, False)
    if scenario == "no-status":
        return
    verified = "N" if scenario == "unverified" else "Y"
    claimed = issued = ""
    if scenario == "claimed":
        claimed_day = gen.today - gen.rng.randint(3, 120) * _DAY
        if profile.cohort == FINISHED:
            final = gen.course[FINISHED][-1]
            claimed_day = final.results_published_on - gen.rng.randint(40, 60) * _DAY
            issued = gen.iso(final.results_published_on)
            grade = ("DISTINCTION", "MERIT", "PASS")[min(2, learner.ability // 2)]
            rows.results.append((learner.uln, final.code, qual.code, grade, "", issued))
        claimed = gen.iso(claimed_day)
    rows.vq.append((learner.uln, qual.code, verified, claimed, issued))


def _das(
    gen: _Generator, learner: _Learner, rows: _Rows, level: diploma.Level, passed_fs: list[str]
) -> None:
    scenario = learner.profile.das
    uln = learner.uln
    if scenario == "none":
        return
    if scenario in ("aggregated", "asl-partial"):
        partial = scenario == "asl-partial" and level.has_asl
        grade = (
            ""
            if partial
            else diploma.GRADES_BY_LEVEL[level.code][
                min(learner.ability, len(diploma.GRADES_BY_LEVEL[level.code]) - 1)
            ]
        )
        for component in level.components:
            if component == diploma.ASL:
                glh = level.asl_glh // 60 * 30 if partial else level.asl_glh
                rows.das.append((uln, component, "N" if partial else "Y", glh, grade))
            else:
                rows.das.append((uln, component, "Y", "", grade))
        return
    # In progress: what the centre has confirmed so far.
    rng = gen.rng
    for component in passed_fs:
        if rng.random() < 0.6:
            rows.das.append((uln, component, "Y", "", ""))
    if level.has_asl and learner.profile.asl != "nothing" and rng.random() < 0.5:
        glh = rng.randrange(1, level.asl_glh // 30) * 30
        rows.das.append((uln, diploma.ASL, "N", glh, ""))
    rows.das.append((uln, diploma.PLTS, "Y" if rng.random() < 0.7 else "N", "", ""))
    if rng.random() < 0.8:
        rows.das.append((uln, diploma.WEX, "Y" if rng.random() < 0.6 else "N", "", ""))


# --- the delivery --------------------------------------------------------------------------


def _centres(rng: random.Random, count: int) -> list[tuple[str, str]]:
    numbers = sorted(rng.sample(range(10000, 100000), count))
    names = [f"{town} {kind}" for town in TOWNS for kind in CENTRE_KINDS]
    rng.shuffle(names)
    return [
        (number, names[i] if i < len(names) else f"{names[i % len(names)]} ({number})")
        for i, number in enumerate(f"{n:05d}" for n in numbers)
    ]


def _centre_users(rng: random.Random, centres: list[tuple[str, str]]) -> list[tuple]:
    users = []
    for i, (number, _) in enumerate(centres):
        # Every centre has an exams officer; some a second centre user as well.
        for suffix in ("", "b") if i % 3 == 0 else ("",):
            username = f"centre{number}{suffix}"
            users.append(
                (
                    username,
                    f"{username}@example.org",
                    rng.choice(FORENAMES),
                    rng.choice(SURNAMES),
                    number,
                )
            )
    return users


# Candidates entered without a valid or known ULN: only `recent` matters for their entries.
_UNMATCHED = Profile(
    FIRST_YEAR, "H", "units-only", "due", "nothing", ("nothing",) * 3, "nothing", "none"
)
_UNMATCHED_RECENT = replace(_UNMATCHED, recent=True)


def _unmatched_entries(
    gen: _Generator, centre: str, centre_index: int, first_candidate: int, count: int
) -> list[tuple]:
    """Entries a centre made for candidates without a valid or known ULN (DOMAIN.md 4.5)."""
    rng = gen.rng
    rows = []
    for k in range(count):
        kind = k % 5
        if kind == 0:
            uln = ""
        elif kind == 1:
            uln = _uln(rng.randrange(100_000_000, _UNKNOWN_ULN_STEMS))
            uln = uln[:9] + str((int(uln[9]) + 1) % 10)  # the check digit fails
        elif kind == 2:
            uln = PLACEHOLDER_ULN  # some systems send it
        elif kind == 3:
            uln = _uln(rng.randrange(_UNKNOWN_ULN_STEMS, 999_999_999))  # valid, not registered
        else:
            uln = str(rng.randrange(10_000, 99_999_999))  # too short
        learner = _Learner(
            index=k,
            centre=centre,
            centre_index=centre_index,
            candidate=f"{first_candidate + k:04d}",
            uln=uln,
            forename=rng.choice(FORENAMES),
            surname=rng.choice(SURNAMES),
            profile=_UNMATCHED_RECENT if k % 4 == 0 else _UNMATCHED,
            line=gen.lines[rng.randrange(len(gen.lines))],
            ability=0,
        )
        qual = gen.pl[(learner.line, 1 + k % 3)]
        series = gen.next_series
        received = gen.received_at(learner, series)
        who = (centre, learner.candidate, uln, learner.forename, learner.surname, series.code)
        for unit in qual.units[: 2 + k % 2]:
            rows.append((*who, unit.code, "UNIT", received))
        if k % 2:
            rows.append((*who, qual.code, "CASHIN", received))
    return rows


def _uln(stem: int) -> str:
    """The valid ULN on or after a nine-digit stem."""
    while True:
        check = uln_check_digit(str(stem))
        if check is not None:
            return f"{stem}{check}"
        stem += 1


def generate(
    out_dir: str | Path,
    centres: int,
    learners: int,
    seed: int,
    today: datetime.date,
    catalogue_dir: str | Path = CATALOGUE_DIR,
    largest: int | None = None,
) -> dict[str, int]:
    """Write a demo delivery to `out_dir`; returns the data rows written per file.

    Learners are spread evenly over the centres, unless `largest` gives the first centre
    that many and spreads the rest over the others (a national delivery is lopsided).
    """
    if centres < 1 or learners < 0:
        raise ValueError("At least one centre is needed, and no fewer than no learners.")
    sizes = centre_sizes(centres, learners, largest)
    # Room for each centre's learners plus its candidates without a valid ULN.
    unmatched = max(5, max(sizes) // 40)
    if max(sizes) + unmatched > MAX_CANDIDATES_PER_CENTRE:
        raise ValueError(
            f"{max(sizes):,} learners at one centre is more than a centre can number "
            f"with four-digit candidate numbers: use more centres."
        )
    if centres > 89999:
        raise ValueError("There are only 90,000 five-digit centre numbers.")
    rng = random.Random(seed)
    catalogue = ShippedCatalogue.load(Path(catalogue_dir))
    gen = _Generator(catalogue, rng, today)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    handles = {name: (out / name).open("w", newline="", encoding="utf-8") for name in HEADERS}
    counts = dict.fromkeys(HEADERS, 0)
    try:
        writers = {
            name: csv.writer(handle, lineterminator="\n") for name, handle in handles.items()
        }
        for name, header in HEADERS.items():
            writers[name].writerow(header)

        centre_rows = _centres(rng, centres)
        writers["centres.csv"].writerows(centre_rows)
        counts["centres.csv"] = len(centre_rows)
        user_rows = _centre_users(rng, centre_rows)
        writers["centre_users.csv"].writerows(user_rows)
        counts["centre_users.csv"] = len(user_rows)

        window_rows = [
            (s.code, unit, gen.iso(gen.windows[s.code][0]), gen.iso(gen.windows[s.code][1]))
            for s in gen.window_series
            for unit in catalogue.centre_marked_units
        ]
        writers["mark_windows.csv"].writerows(window_rows)
        counts["mark_windows.csv"] = len(window_rows)

        counts.update(_write_learners(gen, writers, centre_rows, sizes))

        entries = writers["entries.csv"]
        for index, (number, _) in enumerate(centre_rows):
            rows = _unmatched_entries(gen, number, index, sizes[index] + 1, unmatched)
            entries.writerows(rows)
            counts["entries.csv"] += len(rows)
    finally:
        for handle in handles.values():
            handle.close()
    return counts


def centre_sizes(centres: int, learners: int, largest: int | None = None) -> list[int]:
    """How many learners each centre gets: evenly, or `largest` at the first centre."""
    if largest is None:
        return [learners // centres + (1 if i < learners % centres else 0) for i in range(centres)]
    if not 0 <= largest <= learners:
        raise ValueError("The largest centre cannot have more learners than there are.")
    if centres == 1:
        if largest != learners:
            raise ValueError("With one centre, the largest centre has every learner.")
        return [learners]
    rest = centre_sizes(centres - 1, learners - largest)
    if rest[0] > largest:
        raise ValueError(
            f"The other centres would have up to {rest[0]:,} learners, more than the "
            f"largest centre's {largest:,}."
        )
    return [largest, *rest]


def _centre_order(sizes: list[int]) -> list[int]:
    """The centre of each learner in turn, interleaved so every centre's share is spread
    through the delivery: with equal sizes, plain round-robin."""
    slots = [((k + 0.5) / size, centre) for centre, size in enumerate(sizes) for k in range(size)]
    slots.sort()
    return [centre for _, centre in slots]


def _write_learners(
    gen: _Generator, writers: dict, centre_rows: list[tuple[str, str]], sizes: list[int]
) -> dict[str, int]:
    rng = gen.rng
    write_learner = writers["learners.csv"].writerow
    write_entries = writers["entries.csv"].writerows
    write_marks = writers["marks.csv"].writerows
    write_results = writers["results.csv"].writerows
    write_vq = writers["vq_status.csv"].writerows
    write_das = writers["das.csv"].writerows
    counts = dict.fromkeys(
        ("learners.csv", "entries.csv", "marks.csv", "results.csv", "vq_status.csv", "das.csv"),
        0,
    )
    order = _centre_order(sizes)
    count = len(order)
    candidates = [0] * len(sizes)
    stem = rng.randrange(100_000_000, 400_000_000)
    lines = gen.lines
    today = gen.today
    for index in range(count):
        profile = SHOWCASE[index] if index < len(SHOWCASE) else random_profile(rng)
        centre_index = order[index]
        candidates[centre_index] += 1
        # ULNs ascend in random steps: unique, and never from the "unknown" range.
        stem = _next_stem(stem + rng.randrange(1, 30))
        if stem >= _UNKNOWN_ULN_STEMS:
            raise ValueError("Too many learners for the demo's ULN range.")
        year = gen.cohort_year[profile.cohort]
        line = lines[index % len(lines)] if index < len(SHOWCASE) else rng.choice(lines)
        learner = _Learner(
            index=index,
            centre=centre_rows[centre_index][0],
            centre_index=centre_index,
            candidate=f"{candidates[centre_index]:04d}",
            uln=f"{stem}{uln_check_digit(str(stem))}",
            forename=rng.choice(FORENAMES),
            surname=rng.choice(SURNAMES),
            profile=profile,
            line=line,
            ability=min(5, int(rng.triangular(0, 6, 2.5))),
        )
        young = profile.level in (diploma.FOUNDATION, diploma.HIGHER) and rng.random() < 0.7
        age = 14 if young else 16
        born = datetime.date(year - age - 1, 9, 1) + rng.randrange(365) * _DAY
        registered = datetime.date(year, 9, rng.randint(1, 30))
        if registered > today:  # this September's registrations so far
            registered = datetime.date(year, 9, rng.randint(1, today.day))
        award = {
            "default": f"{year + 2}-06",
            "blank": "",  # the importer's default applies: June two years on
            "later": f"{year + 3}-{'01' if index % 2 else '06'}",
        }[profile.award]
        write_learner(
            (
                learner.uln,
                learner.forename,
                learner.surname,
                born.isoformat(),
                learner.centre,
                line,
                profile.level,
                registered.isoformat(),
                award,
            )
        )
        rows = _learner_rows(gen, learner)
        write_entries(rows.entries)
        write_marks(rows.marks)
        write_results(rows.results)
        write_vq(rows.vq)
        write_das(rows.das)
        counts["entries.csv"] += len(rows.entries)
        counts["marks.csv"] += len(rows.marks)
        counts["results.csv"] += len(rows.results)
        counts["vq_status.csv"] += len(rows.vq)
        counts["das.csv"] += len(rows.das)
    counts["learners.csv"] = count
    return counts


def _next_stem(stem: int) -> int:
    """The stem itself, or the next one that has a check digit."""
    while uln_check_digit(str(stem)) is None:
        stem += 1
    return stem
