"""The plain, immutable input of the flag rules (DOMAIN.md section 4).

No Django here: a loader maps database rows (or feed rows, or test data) to these
dataclasses, and `flags.rules.evaluate` reads nothing else. One `Catalogue` is built once
per run and shared by every learner, so every lookup that depends only on the catalogue
(which qualifications are valid for a Diploma, the mandatory units of a qualification…)
is worked out once here rather than once per learner.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from learners import diploma

GQ = "GQ"
VQ = "VQ"
UNIT = "UNIT"
CASHIN = "CASHIN"


# --- the learner's own data -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LearnerInput:
    uln: str
    level: str  # F, H, A or P (learners.diploma.LEVELS)
    line: str  # line of learning code, e.g. ENG
    registered_on: datetime.date | None = None
    award_series: str = ""  # YYYY-MM; empty when not set


@dataclass(frozen=True, slots=True)
class EntryInput:
    series: str
    kind: str  # UNIT or CASHIN
    code: str  # the unit code or the qualification code as entered
    qualification: str  # the qualification cashed in, or the one the unit belongs to
    unit: str | None  # the unit code for a unit entry; None for a cash-in
    centre: str = ""  # the entering centre's number
    received_at: datetime.datetime | None = None


@dataclass(frozen=True, slots=True)
class MarkInput:
    series: str
    unit: str
    submitted_on: datetime.date


@dataclass(frozen=True, slots=True)
class ResultInput:
    series: str
    code: str  # unit code or qualification code
    qualification: str
    unit: str | None  # None for a cash-in (qualification) result
    grade: str
    points: int | None  # None when the feed left it blank
    published_on: datetime.date


@dataclass(frozen=True, slots=True)
class VQStatusInput:
    qualification: str
    verified: bool
    claimed_on: datetime.date | None = None
    result_issued_on: datetime.date | None = None


@dataclass(frozen=True, slots=True)
class DASInput:
    component: str
    complete: bool
    asl_glh_completed: int | None = None
    diploma_grade: str = ""  # set once the DAS has aggregated the Diploma


@dataclass(frozen=True, slots=True)
class NonEdexcelInput:
    component: str
    qan: str = ""
    awarding_body: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class LearnerData:
    """Everything known about one learner; the tuples may be in any order."""

    learner: LearnerInput
    entries: tuple[EntryInput, ...] = ()
    marks: tuple[MarkInput, ...] = ()
    results: tuple[ResultInput, ...] = ()
    vq_statuses: tuple[VQStatusInput, ...] = ()
    das: tuple[DASInput, ...] = ()
    non_edexcel: tuple[NonEdexcelInput, ...] = ()


# --- the catalogue ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QualificationInfo:
    code: str
    component: str  # one of learners.diploma.QUALIFICATION_COMPONENTS
    kind: str  # GQ or VQ
    level: int  # 1, 2 or 3
    line: str | None  # PL only
    glh: int
    title: str = ""


@dataclass(frozen=True, slots=True)
class UnitInfo:
    code: str
    qualification: str
    glh: int
    centre_marked: bool = False
    mandatory: bool = True
    title: str = ""


@dataclass(frozen=True, slots=True)
class MarkWindowInfo:
    series: str
    unit: str
    opens_on: datetime.date
    closes_on: datetime.date


@dataclass(frozen=True, slots=True)
class GradeThresholdInfo:
    level: str  # F, H, A or P
    grade: str
    min_points: int


def default_thresholds(level_code: str) -> dict[str, int]:
    """The shipped Diploma thresholds of a level (DOMAIN.md 4.6).

    A grade needs (PL GLH + project GLH) / 30 points per step of the PL unit scale
    (E = 1 step … A* = 6). Every level's PL + project GLH is a multiple of 30, so the
    figures are whole; floor division keeps them whole should that ever change.
    """
    level = diploma.LEVELS[level_code]
    glh = level.pl_glh + level.project_glh
    return {
        grade: glh * diploma.GRADE_STEPS[grade] // 30
        for grade in diploma.GRADES_BY_LEVEL[level_code]
    }


@dataclass(frozen=True, slots=True)
class DiplomaPlan:
    """What is valid for one Diploma (a level and a line), worked out once per catalogue."""

    level: diploma.Level
    line: str
    # Qualification code -> the component it counts towards for this Diploma. Every ASL
    # qualification at the Diploma's ASL levels is here: only the national validator can say
    # which of them is valid; one below (or above) those levels can never count.
    component_of: Mapping[str, str]
    # Component -> the qualifications valid for it (PL, PROJECT, FS_* and ASL).
    valid: Mapping[str, frozenset[str]]
    # The VQs among them: their assessment flag comes from the VQ status.
    vq: frozenset[str] = frozenset()


class Catalogue:
    """Qualifications, units, mark windows, thresholds, claim deadlines and results days,
    indexed once.

    Treat it as immutable once built: its mappings are shared by every evaluation. The
    only thing that grows is the cache of Diploma plans, keyed by (level, line), which is
    filled on first use and is safe to share (each entry is computed from immutable data).
    """

    __slots__ = (
        "qualifications",
        "units",
        "units_by_qualification",
        "mandatory_units",
        "mark_windows",
        "centre_marked_units",
        "thresholds",
        "claim_deadlines",
        "results_days",
        "_plans",
        "_by_component",
    )

    def __init__(
        self,
        qualifications: Iterable[QualificationInfo],
        units: Iterable[UnitInfo] = (),
        mark_windows: Iterable[MarkWindowInfo] = (),
        thresholds: Iterable[GradeThresholdInfo] = (),
        claim_deadlines: Mapping[str, datetime.date] | None = None,
        results_days: Mapping[str, datetime.date] | None = None,
    ) -> None:
        self.qualifications: dict[str, QualificationInfo] = {q.code: q for q in qualifications}
        self.units: dict[str, UnitInfo] = {u.code: u for u in units}

        by_qualification: dict[str, list[UnitInfo]] = {q: [] for q in self.qualifications}
        for unit in sorted(self.units.values(), key=lambda u: u.code):
            by_qualification.setdefault(unit.qualification, []).append(unit)
        self.units_by_qualification: dict[str, tuple[UnitInfo, ...]] = {
            q: tuple(us) for q, us in by_qualification.items()
        }
        self.mandatory_units: dict[str, tuple[str, ...]] = {
            q: tuple(u.code for u in us if u.mandatory)
            for q, us in self.units_by_qualification.items()
        }
        self.centre_marked_units: frozenset[str] = frozenset(
            u.code for u in self.units.values() if u.centre_marked
        )
        self.mark_windows: dict[tuple[str, str], MarkWindowInfo] = {
            (w.series, w.unit): w for w in mark_windows
        }

        # A feed may supply only some grades of a level; the shipped defaults fill the
        # rest, so a partial delivery never leaves a level unable to grade.
        merged = {code: default_thresholds(code) for code in diploma.LEVELS}
        for row in thresholds:
            merged.setdefault(row.level, {})[row.grade] = row.min_points
        # Best grade first (highest points), so reading a grade is a first-match scan.
        self.thresholds: dict[str, tuple[tuple[str, int], ...]] = {
            code: tuple(sorted(grades.items(), key=lambda item: -item[1]))
            for code, grades in merged.items()
        }
        # Series -> the first day a VQ claim for a Diploma aggregating in it is late, where
        # the feed gave one (`claim_deadline` supplies the default for the others).
        self.claim_deadlines: dict[str, datetime.date] = dict(claim_deadlines or {})
        # Series -> its results day, where the feed gave one (see `results_day`).
        self.results_days: dict[str, datetime.date] = dict(results_days or {})

        self._by_component: dict[str, list[QualificationInfo]] = {}
        for q in self.qualifications.values():
            self._by_component.setdefault(q.component, []).append(q)
        self._plans: dict[tuple[str, str], DiplomaPlan] = {}

    def claim_deadline(self, series: str) -> datetime.date | None:
        """The first day a VQ claim for a Diploma awarded in `series` is late: the feed's,
        else the documented default, whether or not the series has been delivered yet."""
        given = self.claim_deadlines.get(series)
        return given if given is not None else diploma.default_claim_deadline(series)

    def results_day(self, series: str) -> datetime.date:
        """The series' results day (the feed's, else an assumed one): after it, the series
        is closed."""
        given = self.results_days.get(series)
        return given if given is not None else diploma.assumed_results_day(series)

    def plan(self, level_code: str, line: str) -> DiplomaPlan:
        """The valid qualifications of the Diploma `line` at `level_code` (cached)."""
        key = (level_code, line)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._build_plan(level_code, line)
        return plan

    def _build_plan(self, level_code: str, line: str) -> DiplomaPlan:
        level = diploma.LEVELS[level_code]
        qual_level = level.qualification_level  # Progression uses the level-3 PL/project
        by_component = self._by_component

        def codes(component: str, accept) -> frozenset[str]:
            return frozenset(q.code for q in by_component.get(component, ()) if accept(q))

        valid = {
            diploma.PL: codes(diploma.PL, lambda q: q.line == line and q.level == qual_level),
            diploma.PROJECT: codes(diploma.PROJECT, lambda q: q.level == qual_level),
            diploma.ASL: codes(diploma.ASL, lambda q: q.level in level.asl_levels),
        }
        for fs in diploma.FUNCTIONAL_SKILLS:
            valid[fs] = codes(fs, lambda q: q.level >= level.fs_level)
        component_of = {code: component for component, qs in valid.items() for code in qs}
        vq = frozenset(code for code in component_of if self.qualifications[code].kind == VQ)
        return DiplomaPlan(level=level, line=line, component_of=component_of, valid=valid, vq=vq)
