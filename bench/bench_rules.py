"""Benchmark of the pure flag rules: learners evaluated per second on one core.

Builds a realistic catalogue (14 lines × 3 levels of principal learning with 6–8 units,
projects, Functional Skills, ASL) and 100,000 generated learners in memory, then times
`flags.rules.evaluate` over all of them. No database, no Django.

    .venv/bin/python bench/bench_rules.py [--learners N] [--seed S]
"""

from __future__ import annotations

import argparse
import datetime
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flags.inputs import (
    CASHIN,
    GQ,
    UNIT,
    VQ,
    Catalogue,
    DASInput,
    EntryInput,
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
from flags.rules import evaluate
from learners import diploma

SERIES = ("2026-01", "2026-06", "2027-01", "2027-06")
RESULTS_DAY = {
    "2026-01": datetime.date(2026, 3, 12),
    "2026-06": datetime.date(2026, 8, 20),
    "2027-01": datetime.date(2027, 3, 11),
    "2027-06": datetime.date(2027, 8, 19),
}
TODAY = datetime.date(2027, 4, 20)  # inside the June 2027 mark windows
PL_GLH = {1: 240, 2: 420, 3: 540}
UNIT_GRADES = ("A*", "A", "B", "C", "D", "E", "U")


def build_catalogue(rng: random.Random) -> Catalogue:
    quals: list[QualificationInfo] = []
    units: list[UnitInfo] = []
    for line in diploma.LINES_OF_LEARNING:
        for level in (1, 2, 3):
            code = f"DPL{level}{line}"
            quals.append(QualificationInfo(code, diploma.PL, GQ, level, line, PL_GLH[level]))
            count = rng.randint(6, 8)
            base, extra = divmod(PL_GLH[level], 30 * count)
            for n in range(count):
                glh = 30 * (base + (1 if n < extra else 0)) or 30
                units.append(
                    UnitInfo(
                        f"{line}{level}{n:02d}",
                        code,
                        glh,
                        centre_marked=rng.random() < 0.5,
                        mandatory=n < count - 1 or rng.random() < 0.5,
                    )
                )
    for level, glh in ((1, 60), (2, 60), (3, 120)):
        quals.append(QualificationInfo(f"PRJ{level}", diploma.PROJECT, GQ, level, None, glh))
        units.append(UnitInfo(f"PRJ{level}01", f"PRJ{level}", glh, centre_marked=True))
    for component, prefix in zip(diploma.FUNCTIONAL_SKILLS, ("FSE", "FSM", "FSI"), strict=True):
        for level in (1, 2):
            quals.append(QualificationInfo(f"{prefix}{level}", component, GQ, level, None, 45))
    for n in range(20):
        level = 1 + n % 3
        quals.append(QualificationInfo(f"BTEC{n:02d}", diploma.ASL, VQ, level, None, 180))
        code = f"GCE{n:02d}"
        quals.append(QualificationInfo(code, diploma.ASL, GQ, level, None, 180))
        for u in range(4):
            units.append(UnitInfo(f"{code}U{u}", code, 45, centre_marked=u == 3))
    windows = []
    for series in SERIES:
        year, month = int(series[:4]), int(series[5:])
        opens = datetime.date(year, month - 3 if month > 3 else 1, 1) if month == 6 else None
        opens = opens or datetime.date(year - 1, 11, 1)
        closes = opens + datetime.timedelta(days=75)
        windows.extend(
            MarkWindowInfo(series, u.code, opens, closes) for u in units if u.centre_marked
        )
    claims = {s: RESULTS_DAY[s] - datetime.timedelta(days=45) for s in SERIES}
    return Catalogue(quals, units, windows, (), claims)


def build_learner(n: int, catalogue: Catalogue, rng: random.Random) -> LearnerData:
    level = rng.choice("FHHAAAP")
    line = rng.choice(tuple(diploma.LINES_OF_LEARNING))
    lv = diploma.LEVELS[level]
    q_level = lv.qualification_level
    entries: list[EntryInput] = []
    results: list[ResultInput] = []
    marks: list[MarkInput] = []
    received = datetime.datetime(2027, 2, 1, 9, 0)

    def enter(qual: str, unit: str | None, series: str) -> None:
        kind = UNIT if unit else CASHIN
        entries.append(EntryInput(series, kind, unit or qual, qual, unit, "12345", received))

    def unit_work(qual: str, share: float) -> None:
        for unit in catalogue.units_by_qualification[qual]:
            if rng.random() > share:
                continue  # a missing unit entry
            series = rng.choice(SERIES)
            enter(qual, unit.code, series)
            if unit.centre_marked and rng.random() < 0.7:
                marks.append(MarkInput(series, unit.code, RESULTS_DAY[series]))
            if RESULTS_DAY[series] <= TODAY and rng.random() < 0.9:
                grade = rng.choice(UNIT_GRADES)
                points = None if rng.random() < 0.5 else 3 * rng.randint(0, 12)
                results.append(
                    ResultInput(
                        series, unit.code, qual, unit.code, grade, points, RESULTS_DAY[series]
                    )
                )

    # A few learners carry another line's PL, as real data does.
    pl_line = line if rng.random() < 0.95 else rng.choice(tuple(diploma.LINES_OF_LEARNING))
    pl = f"DPL{q_level}{pl_line}"
    if rng.random() < 0.85:
        enter(pl, None, "2027-06")
    unit_work(pl, 0.92)
    project = f"PRJ{q_level}"
    if rng.random() < 0.8:
        enter(project, None, "2027-06")
        unit_work(project, 1.0)
    for prefix in ("FSE", "FSM", "FSI"):
        if rng.random() < 0.7:
            qual = f"{prefix}{lv.fs_level}"
            series = rng.choice(SERIES)
            enter(qual, None, series)
            if RESULTS_DAY[series] <= TODAY:
                grade = "PASS" if rng.random() < 0.8 else "FAIL"
                results.append(
                    ResultInput(series, qual, qual, None, grade, None, RESULTS_DAY[series])
                )
    vq_statuses: list[VQStatusInput] = []
    non_edexcel: list[NonEdexcelInput] = []
    if lv.has_asl:
        choice = rng.random()
        if choice < 0.35:
            qual = f"BTEC{rng.randrange(20):02d}"
            enter(qual, None, "2027-06")
            vq_statuses.append(
                VQStatusInput(
                    qual,
                    rng.random() < 0.8,
                    datetime.date(2027, 3, 1) if rng.random() < 0.5 else None,
                    None,
                )
            )
        elif choice < 0.7:
            qual = f"GCE{rng.randrange(20):02d}"
            enter(qual, None, "2027-06")
            unit_work(qual, 0.8)
        elif choice < 0.85:
            non_edexcel.append(NonEdexcelInput(diploma.ASL, "600/1234/5", "AQA", "GCE Physics"))
    das = [DASInput(c, True) for c in (diploma.PLTS, diploma.WEX) if rng.random() < 0.5]
    if lv.has_asl and rng.random() < 0.4:
        glh = rng.randrange(0, lv.asl_glh + 60, 30)
        das.append(DASInput(diploma.ASL, glh >= lv.asl_glh, glh))
    if rng.random() < 0.05:
        das.append(DASInput(diploma.PL, True, None, rng.choice(diploma.GRADES_BY_LEVEL[level])))
    uln = f"{1000000000 + n}"
    return LearnerData(
        LearnerInput(uln, level, line, datetime.date(2025, 9, 1), "2027-06"),
        tuple(entries),
        tuple(marks),
        tuple(results),
        tuple(vq_statuses),
        tuple(das),
        tuple(non_edexcel),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2008)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    catalogue = build_catalogue(rng)
    started = time.perf_counter()
    learners = [build_learner(n, catalogue, rng) for n in range(args.learners)]
    built = time.perf_counter() - started
    entries = sum(len(d.entries) for d in learners) / len(learners)
    results = sum(len(d.results) for d in learners) / len(learners)
    print(
        f"built {len(learners):,} learners in {built:.1f}s "
        f"({entries:.1f} entries, {results:.1f} results each on average)"
    )

    started = time.perf_counter()
    problems = 0
    for data in learners:
        problems += evaluate(data, catalogue, TODAY).problem_count
    elapsed = time.perf_counter() - started
    print(
        f"evaluated {len(learners):,} learners in {elapsed:.2f}s: "
        f"{len(learners) / elapsed:,.0f} learners/s ({problems / len(learners):.1f} problems each)"
    )


if __name__ == "__main__":
    main()
