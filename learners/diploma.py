"""What a 14-19 Diploma is made of: components, levels, lines of learning and grade scales.

Plain data with no Django imports, so that the flag rules, the feed import and the pages
all read one definition (DOMAIN.md sections 1, 4.6 and 6).
"""

import datetime
from dataclasses import dataclass

# Component codes are a contract: feeds, exports, URLs and data-component use them.
PL = "PL"
PROJECT = "PROJECT"
FS_ENGLISH = "FS_ENGLISH"
FS_MATHS = "FS_MATHS"
FS_ICT = "FS_ICT"
ASL = "ASL"
PLTS = "PLTS"
WEX = "WEX"

COMPONENTS: tuple[str, ...] = (PL, PROJECT, FS_ENGLISH, FS_MATHS, FS_ICT, ASL, PLTS, WEX)
FUNCTIONAL_SKILLS: tuple[str, ...] = (FS_ENGLISH, FS_MATHS, FS_ICT)
# Components that an Edexcel qualification in the catalogue can belong to.
QUALIFICATION_COMPONENTS: tuple[str, ...] = (PL, PROJECT, FS_ENGLISH, FS_MATHS, FS_ICT, ASL)
# Components the centre records directly on the DAS.
DAS_ONLY_COMPONENTS: tuple[str, ...] = (PLTS, WEX)

COMPONENT_NAMES: dict[str, str] = {
    PL: "Principal learning",
    PROJECT: "Project",
    FS_ENGLISH: "Functional Skills English",
    FS_MATHS: "Functional Skills Mathematics",
    FS_ICT: "Functional Skills ICT",
    ASL: "Additional and specialist learning",
    PLTS: "Personal, learning and thinking skills",
    WEX: "Work experience",
}
COMPONENT_SHORT_NAMES: dict[str, str] = {
    PL: "PL",
    PROJECT: "Project",
    FS_ENGLISH: "FS English",
    FS_MATHS: "FS Maths",
    FS_ICT: "FS ICT",
    ASL: "ASL",
    PLTS: "PLTS",
    WEX: "Work exp.",
}


@dataclass(frozen=True)
class Level:
    code: str
    name: str
    qualification_level: int  # the level of its PL and project qualifications
    fs_level: int  # Functional Skills level needed, or above
    project_glh: int
    total_glh: int
    pl_glh: int
    generic_glh: int
    asl_glh: int  # 0: the Diploma has no ASL component

    @property
    def has_asl(self) -> bool:
        return self.asl_glh > 0

    @property
    def asl_levels(self) -> tuple[int, ...]:
        """The qualification levels that can count for ASL: the Diploma's own or one above."""
        if not self.has_asl:
            return ()
        return (self.qualification_level, self.qualification_level + 1)

    @property
    def components(self) -> tuple[str, ...]:
        return COMPONENTS if self.has_asl else tuple(c for c in COMPONENTS if c != ASL)


FOUNDATION, HIGHER, ADVANCED, PROGRESSION = "F", "H", "A", "P"
LEVELS: dict[str, Level] = {
    FOUNDATION: Level(FOUNDATION, "Foundation", 1, 1, 60, 600, 240, 240, 120),
    HIGHER: Level(HIGHER, "Higher", 2, 2, 60, 800, 420, 200, 180),
    ADVANCED: Level(ADVANCED, "Advanced", 3, 2, 120, 1080, 540, 180, 360),
    PROGRESSION: Level(PROGRESSION, "Progression", 3, 2, 120, 720, 540, 180, 0),
}
LEVEL_CHOICES: list[tuple[str, str]] = [(lv.code, lv.name) for lv in LEVELS.values()]
QUALIFICATION_LEVELS: tuple[int, ...] = (1, 2, 3)

# Grade scales of PL, the project and the Diploma, best first.
GRADES_BY_LEVEL: dict[str, tuple[str, ...]] = {
    FOUNDATION: ("A*", "A", "B"),
    HIGHER: ("A*", "A", "B", "C"),
    ADVANCED: ("A*", "A", "B", "C", "D", "E"),
    PROGRESSION: ("A*", "A", "B", "C", "D", "E"),
}
LETTER_GRADES: tuple[str, ...] = ("A*", "A", "B", "C", "D", "E", "U")
# Steps of the PL unit points scale (DOMAIN.md 4.6): E = 1 step ... A* = 6 steps.
GRADE_STEPS: dict[str, int] = {"A*": 6, "A": 5, "B": 4, "C": 3, "D": 2, "E": 1}

# Result grades a feed may carry. Letters for GQ units and cash-ins; PASS/FAIL for
# Functional Skills; PASS/MERIT/DISTINCTION for VQs; X for absent.
RESULT_GRADES: tuple[str, ...] = (
    *LETTER_GRADES,
    "X",
    "PASS",
    "MERIT",
    "DISTINCTION",
    "FAIL",
)
FAILING_GRADES: frozenset[str] = frozenset({"U", "X", "FAIL"})


@dataclass(frozen=True)
class LineOfLearning:
    code: str
    name: str
    first_teaching: int


LINES_OF_LEARNING: dict[str, LineOfLearning] = {
    line.code: line
    for line in (
        LineOfLearning("BAF", "Business, Administration and Finance", 2009),
        LineOfLearning("CBE", "Construction and the Built Environment", 2008),
        LineOfLearning("CAM", "Creative and Media", 2008),
        LineOfLearning("ENG", "Engineering", 2008),
        LineOfLearning("ELS", "Environmental and Land-based Studies", 2009),
        LineOfLearning("HAB", "Hair and Beauty Studies", 2009),
        LineOfLearning("HOS", "Hospitality", 2009),
        LineOfLearning("IT", "Information Technology", 2008),
        LineOfLearning("MPD", "Manufacturing and Product Design", 2009),
        LineOfLearning("PUB", "Public Services", 2010),
        LineOfLearning("RET", "Retail Business", 2010),
        LineOfLearning("SHD", "Society, Health and Development", 2008),
        LineOfLearning("SAL", "Sport and Active Leisure", 2010),
        LineOfLearning("TAT", "Travel and Tourism", 2010),
    )
}


MONTHS: tuple[str, ...] = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def series_name(code: str) -> str:
    """'2010-06' -> 'June 2010': how a person reads a series (codes stay in exports).

    Anything that is not a series code comes back as it was, so a stray value still shows.
    """
    if len(code) != 7 or code[4] != "-" or not (code[:4] + code[5:]).isdigit():
        return code
    month = int(code[5:])
    return f"{MONTHS[month]} {code[:4]}" if 1 <= month <= 12 else code


def day_and_month(day: datetime.date) -> str:
    """'5 July': British order, independent of the process locale."""
    return f"{day.day} {MONTHS[day.month]}"


def academic_year_start(day: datetime.date) -> int:
    """The calendar year in which `day`'s academic year began (courses start in September)."""
    return day.year if day.month >= 9 else day.year - 1


def default_award_series(registered_on: datetime.date) -> str:
    """The June series two years after the start of the academic year of registration
    (DOMAIN.md 4.7): registered October 2008 -> June 2010, January 2026 -> June 2027."""
    return f"{academic_year_start(registered_on) + 2:04d}-06"


def default_claim_deadline(series_code: str) -> datetime.date | None:
    """The first day a VQ claim for a Diploma aggregating in the series is late.

    Claims must be made *before* it. The seed gives "before 5 July" for summer 2010; without
    a `claims_due_on` in the feed we assume 5 July for every June series and 5 February for
    a January series. Both are stated on the Help page as assumptions.
    """
    year, month = int(series_code[:4]), int(series_code[5:7])
    if month == 6:
        return datetime.date(year, 7, 5)
    if month == 1:
        return datetime.date(year, 2, 5)
    return None


def assumed_results_day(series_code: str) -> datetime.date:
    """When a series is over if the feed has not given its results day: the last day of the
    second month after it (31 August for June, 31 March for January). Results come out
    before then, so a series is never closed too early; stated on the Help page."""
    year, month = int(series_code[:4]), int(series_code[5:7]) + 3
    if month > 12:
        year, month = year + 1, month - 12
    return datetime.date(year, month, 1) - datetime.timedelta(days=1)


def asl_level_problem(level: Level, qualification_level: int) -> str:
    """Why an ASL qualification at `qualification_level` cannot count for a Diploma at
    `level`; empty when it can (DOMAIN.md 1 and 4.2)."""
    levels = level.asl_levels
    if not levels:
        return "this Diploma has no ASL"
    if qualification_level < levels[0]:
        return "below the level this Diploma needs"
    if qualification_level > levels[-1]:
        return "above the levels this Diploma accepts"
    return ""
