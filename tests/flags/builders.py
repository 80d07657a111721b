"""A small catalogue and terse builders for the flag rule tests (no database)."""

import datetime

from flags.inputs import (
    CASHIN,
    GQ,
    UNIT,
    VQ,
    Catalogue,
    DASInput,
    EntryInput,
    GradeThresholdInfo,
    LearnerData,
    LearnerInput,
    MarkInput,
    MarkWindowInfo,
    NonEdexcelInput,
    QualificationInfo,
    ResultInput,
    UnitInfo,
    VQStatusInput,
)

SERIES = "2027-06"
TODAY = datetime.date(2027, 4, 1)
OPENS = datetime.date(2027, 3, 1)
CLOSES = datetime.date(2027, 5, 15)
CLAIM_DEADLINE = datetime.date(2027, 7, 5)
RESULTS_DAY = datetime.date(2027, 8, 19)


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


QUALIFICATIONS = (
    QualificationInfo("DPL1ENG", "PL", GQ, 1, "ENG", 240),
    QualificationInfo("DPL2ENG", "PL", GQ, 2, "ENG", 420),
    QualificationInfo("DPL3ENG", "PL", GQ, 3, "ENG", 540),
    QualificationInfo("DPL3CAM", "PL", GQ, 3, "CAM", 540),
    QualificationInfo("PRJ1", "PROJECT", GQ, 1, None, 60),
    QualificationInfo("PRJ2", "PROJECT", GQ, 2, None, 60),
    QualificationInfo("PRJ3", "PROJECT", GQ, 3, None, 120),
    QualificationInfo("FSE1", "FS_ENGLISH", GQ, 1, None, 45),
    QualificationInfo("FSE2", "FS_ENGLISH", GQ, 2, None, 45),
    QualificationInfo("FSM1", "FS_MATHS", GQ, 1, None, 45),
    QualificationInfo("FSM2", "FS_MATHS", GQ, 2, None, 45),
    QualificationInfo("FSI1", "FS_ICT", GQ, 1, None, 45),
    QualificationInfo("FSI2", "FS_ICT", GQ, 2, None, 45),
    QualificationInfo("BTECS3", "ASL", VQ, 3, None, 360),
    QualificationInfo("GCEPHY", "ASL", GQ, 3, None, 180),
    QualificationInfo("BTEC1CON", "ASL", VQ, 1, None, 120),
    QualificationInfo("GCSESTA", "ASL", GQ, 2, None, 120),
)
UNITS = (
    UnitInfo("ENG101", "DPL1ENG", 120),
    UnitInfo("ENG102", "DPL1ENG", 120, centre_marked=True),
    UnitInfo("ENG201", "DPL2ENG", 210),
    UnitInfo("ENG202", "DPL2ENG", 210, centre_marked=True),
    UnitInfo("ENG301", "DPL3ENG", 180),
    UnitInfo("ENG302", "DPL3ENG", 180, centre_marked=True),
    UnitInfo("ENG303", "DPL3ENG", 180, centre_marked=True),
    UnitInfo("ENG304", "DPL3ENG", 60, mandatory=False),
    UnitInfo("CAM301", "DPL3CAM", 540),
    UnitInfo("PRJ101", "PRJ1", 60, centre_marked=True),
    UnitInfo("PRJ201", "PRJ2", 60, centre_marked=True),
    UnitInfo("PRJ301", "PRJ3", 120, centre_marked=True),
    UnitInfo("PHY1", "GCEPHY", 90),
    UnitInfo("PHY2", "GCEPHY", 90, centre_marked=True),
)
MARK_WINDOWS = tuple(
    MarkWindowInfo(SERIES, unit, OPENS, CLOSES)
    for unit in ("ENG102", "ENG202", "ENG302", "ENG303", "PRJ101", "PRJ201", "PRJ301", "PHY2")
)


# Results days of the series the tests use: a series is closed once its day has passed.
RESULTS_DAYS = {
    "2026-06": datetime.date(2026, 8, 20),
    "2027-01": datetime.date(2027, 3, 11),
    SERIES: RESULTS_DAY,
}


def catalogue(
    thresholds: tuple[GradeThresholdInfo, ...] = (),
    windows: tuple[MarkWindowInfo, ...] = (),
    claim_deadlines: dict[str, datetime.date] | None = None,
) -> Catalogue:
    return Catalogue(
        QUALIFICATIONS,
        UNITS,
        MARK_WINDOWS + windows,
        thresholds,
        {SERIES: CLAIM_DEADLINE} if claim_deadlines is None else claim_deadlines,
        RESULTS_DAYS,
    )


CATALOGUE = catalogue()
UNITS_BY_CODE = {u.code: u for u in UNITS}


# --- the learner's data -----------------------------------------------------------------


def cashin(qualification: str, series: str = SERIES) -> EntryInput:
    return EntryInput(series, CASHIN, qualification, qualification, None, "12345")


def unit_entry(unit: str, series: str = SERIES) -> EntryInput:
    qualification = UNITS_BY_CODE[unit].qualification
    return EntryInput(series, UNIT, unit, qualification, unit, "12345")


def full_cashin(qualification: str, series: str = SERIES) -> tuple[EntryInput, ...]:
    """A cash-in with every mandatory unit entered."""
    units = CATALOGUE.mandatory_units[qualification]
    return (cashin(qualification, series), *(unit_entry(u, series) for u in units))


def mark(unit: str, series: str = SERIES, on: datetime.date = OPENS) -> MarkInput:
    return MarkInput(series, unit, on)


def result(
    code: str,
    grade: str,
    published_on: datetime.date = RESULTS_DAY,
    points: int | None = None,
    series: str = SERIES,
) -> ResultInput:
    unit = UNITS_BY_CODE.get(code)
    qualification = unit.qualification if unit else code
    return ResultInput(
        series, code, qualification, unit.code if unit else None, grade, points, published_on
    )


def vq(qualification: str = "BTECS3", verified: bool = True, claimed_on=None) -> VQStatusInput:
    return VQStatusInput(qualification, verified, claimed_on, None)


def das(
    component: str, complete: bool = True, asl_glh: int | None = None, grade: str = ""
) -> DASInput:
    return DASInput(component, complete, asl_glh, grade)


def other_cab(component: str = "ASL") -> NonEdexcelInput:
    return NonEdexcelInput(component, "600/1234/5", "AQA", "Something elsewhere")


def learner(*items: object, level: str = "A", line: str = "ENG", award: str = SERIES):
    """LearnerData from any mix of inputs (and tuples of them), sorted by type."""
    flat: list[object] = []
    for item in items:
        flat.extend(item if isinstance(item, tuple) else (item,))

    def of(kind: type) -> tuple:
        return tuple(i for i in flat if isinstance(i, kind))

    return LearnerData(
        LearnerInput("9276308686", level, line, d("2025-09-01"), award),
        entries=of(EntryInput),
        marks=of(MarkInput),
        results=of(ResultInput),
        vq_statuses=of(VQStatusInput),
        das=of(DASInput),
        non_edexcel=of(NonEdexcelInput),
    )
