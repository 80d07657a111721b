"""The flag rules: entry and assessment flags, problems, points and grades (DOMAIN.md 4).

Pure functions of `flags.inputs` data and a date: no Django, no database, no clock.
`evaluate` is called for every learner on every overnight rebuild, so it indexes the
learner's data in one pass each and leaves every catalogue lookup to `Catalogue.plan`.

Decisions where DOMAIN.md is silent (each is also noted where it is made):

- Entries, results and VQ statuses only count towards a component when their
  qualification is valid for it for this Diploma: a PL of another line neither earns
  points nor raises mark or claim flags here, and an ASL qualification counts only at the
  Diploma's ASL levels (section 1): one above them is refused as one below is.
- A centre-marked unit entry whose series has no mark window in the catalogue is
  `not-open` with no date while the series is still running: the window has not been
  published, so nothing can be late. Once the series' results day has passed it is closed
  and the same entry is `overdue`.
- A VQ with no VQ status row counts as not verified (`overdue`); a VQ with a result issued
  counts as claimed. The claim deadline is that of the learner's award series, else of the
  latest series the VQ was entered in, else none. A problem's `deadline` is always the last
  day on which acting is in time: the closing day of a mark window, and the day before the
  first late day of a claim ("claim before 5 July" has the deadline 4 July).
- ASL is `complete` when the DAS marks it complete or its GLH reach the level's ASL GLH,
  so the flag and the ASL % never disagree.
- Two valid cash-ins for one component: `eligible` if either has all its mandatory unit
  entries; otherwise the problems name the units missing from the first by code.
- Points: per unit, the best published result counts once (a resit does not add up);
  points computed from a grade use the level's grade scale (anything else earns 0) and
  are whole (floor of GLH / 30 × steps). The project's cash-in result counts, at its best,
  only when no project unit result is published.
- A failed Functional Skill whose subject is already entered again for a later series is
  still `failed`, but its problem asks for no new entries and is an action, not urgent.
- `other-cab` raises no problem: its action is "nothing else to do with Edexcel". So a
  component without problems is `complete`, `eligible` or `other-cab`.
- `not-open` centre marks are on the shopping list for planning, as a problem of severity
  `info` dated by the window's closing date; `problem_count` leaves them out.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from learners import diploma

from . import codes
from .inputs import CASHIN, Catalogue, DiplomaPlan, LearnerData, ResultInput, VQStatusInput

_FS = frozenset(diploma.FUNCTIONAL_SKILLS)
_POINTS_COMPONENTS = frozenset((diploma.PL, diploma.PROJECT))
_FAILING = diploma.FAILING_GRADES
_FAR_FUTURE = datetime.date.max
_ONE_DAY = datetime.timedelta(days=1)
_series_name = diploma.series_name
# Grade -> steps of the PL unit points scale, restricted to each level's scale.
_STEPS_BY_LEVEL: dict[str, dict[str, int]] = {
    level: {g: diploma.GRADE_STEPS[g] for g in grades}
    for level, grades in diploma.GRADES_BY_LEVEL.items()
}
_ASL = diploma.ASL
_NO_RANK = codes.NO_ASSESSMENT_RANK
_NOTHING: frozenset[str] = frozenset()
_DAS_ELEMENTS = {
    diploma.PLTS: "PLTS on the DAS",
    diploma.WEX: "Work experience on the DAS",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One line of the shopping list (DOMAIN.md 4.5)."""

    component: str
    element: str  # e.g. 'Cash-in', 'Unit entry ENG301'
    issue: str  # what is wrong
    action: str  # what to do
    deadline: datetime.date | None
    severity: str  # codes.URGENT, codes.ACTION or codes.INFO
    flag: str  # the flag code behind it, for its icon

    def sort_key(self) -> tuple[int, datetime.date, str]:
        return (codes.SEVERITY_RANK[self.severity], self.deadline or _FAR_FUTURE, self.element)


@dataclass(frozen=True, slots=True)
class ComponentFlags:
    component: str
    entry: str
    assessment: str | None
    problems: tuple[Problem, ...] = ()
    # The date behind the assessment flag: the mark deadline or claim deadline for `due`
    # and `overdue`, the closing date for `not-open`; None when unknown or not applicable.
    deadline: datetime.date | None = None


@dataclass(frozen=True, slots=True)
class LearnerFlags:
    uln: str
    level: str
    components: tuple[ComponentFlags, ...]  # in the level's component order
    points: int
    grade: str | None
    grade_is_estimate: bool
    asl_percent_complete: int | None  # None for Progression (no ASL)
    problem_count: int  # problems that need action: `info` lines are for planning only

    def component(self, code: str) -> ComponentFlags | None:
        for flags in self.components:
            if flags.component == code:
                return flags
        return None

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Every problem, most urgent first, components in order where otherwise equal."""
        order = {code: i for i, code in enumerate(diploma.COMPONENTS)}
        every = [p for flags in self.components for p in flags.problems]
        every.sort(key=lambda p: (*p.sort_key()[:2], order[p.component]))
        return tuple(every)


def format_date(day: datetime.date) -> str:
    """'5 July 2010': British order, independent of the process locale."""
    return f"{diploma.day_and_month(day)} {day.year}"


def evaluate(data: LearnerData, catalogue: Catalogue, today: datetime.date) -> LearnerFlags:
    """The flags, problems, points and grade of one learner as at `today`."""
    learner = data.learner
    plan = catalogue.plan(learner.level, learner.line)
    level = plan.level
    component_of = plan.component_of
    units = catalogue.units

    # --- DAS -------------------------------------------------------------------------------
    das_complete: set[str] = set()
    asl_glh_completed: int | None = None
    das_grade = ""
    for row in data.das:
        if row.complete:
            das_complete.add(row.component)
        if row.component == _ASL:
            asl_glh_completed = row.asl_glh_completed
        if row.diploma_grade and not das_grade:
            das_grade = row.diploma_grade

    # --- entries ---------------------------------------------------------------------------
    ctx = _Context(catalogue, plan, today, learner.award_series)
    cashins = ctx.cashins
    entered = ctx.entered
    unit_entered = ctx.unit_entered
    marked = ctx.marked
    centre_marked = catalogue.centre_marked_units
    for entry in data.entries:
        qual = entry.qualification
        component = component_of.get(qual)
        if component is None:
            info = catalogue.qualifications.get(qual)
            if info is not None:
                ctx.invalid.setdefault(info.component, set()).add(qual)
            continue
        series = entry.series
        seen = entered.get(component)
        if seen is None:
            entered[component] = {qual: series}
        else:
            latest = seen.get(qual)
            if latest is None or series > latest:
                seen[qual] = series
        if entry.kind == CASHIN:
            quals = cashins.get(component)
            if quals is None:
                cashins[component] = {qual}
            else:
                quals.add(qual)
        else:
            unit_code = entry.unit or entry.code
            unit_entered.add(unit_code)
            if unit_code in centre_marked:
                keys = marked.get(component)
                if keys is None:
                    marked[component] = {(series, unit_code): None}
                else:
                    keys[(series, unit_code)] = None

    # --- results (visible from their publication day) -------------------------------------
    resulted_units = ctx.resulted_units
    unit_result_series = ctx.unit_result_series
    fs_results = ctx.fs_results
    best_points: dict[str, int] = {}  # unit -> best points
    # The project qualification's own (cash-in) result: (points, GLH) at its best.
    project_cashin: tuple[int, int] | None = None
    steps = _STEPS_BY_LEVEL[level.code]
    for result in data.results:
        if result.published_on > today:
            continue
        component = component_of.get(result.qualification)
        unit_code = result.unit
        if unit_code is not None:
            resulted_units.add(unit_code)
            latest = unit_result_series.get(unit_code)
            if latest is None or result.series > latest:
                unit_result_series[unit_code] = result.series
            if component in _POINTS_COMPONENTS:
                unit = units.get(unit_code)
                if unit is None:
                    continue
                points = _points(result, unit.glh, steps)
                if points >= best_points.get(unit_code, -1):
                    best_points[unit_code] = points
        elif component in _FS:
            # Only the cash-in result is the Functional Skills result.
            found = fs_results.get(component)
            if found is None:
                fs_results[component] = [result]
            else:
                found.append(result)
        elif component == diploma.PROJECT:
            # The project is a single unit: a grade reported against the qualification
            # itself is its result (PL cash-in grades earn nothing: the units already count).
            glh = catalogue.qualifications[result.qualification].glh
            points = _points(result, glh, steps)
            if project_cashin is None or points > project_cashin[0]:
                project_cashin = (points, glh)

    if data.marks:
        ctx.marks = {(m.series, m.unit) for m in data.marks}
    if data.vq_statuses:
        vq_codes = plan.vq
        qualifications = catalogue.qualifications
        for status in data.vq_statuses:
            qual = status.qualification
            ctx.vq_status[qual] = status
            if qual in vq_codes:
                ctx.vq_by_component.setdefault(component_of[qual], set()).add(qual)
            elif qual not in component_of:
                # A registration on a VQ this Diploma cannot count (an ASL below its levels).
                info = qualifications.get(qual)
                if info is not None:
                    ctx.invalid.setdefault(info.component, set()).add(qual)
    for qual_codes in entered.values():
        for qual in qual_codes:
            if qual in plan.vq:
                ctx.vq_by_component.setdefault(component_of[qual], set()).add(qual)
    non_edexcel = {q.component for q in data.non_edexcel} if data.non_edexcel else _NOTHING

    # --- components ------------------------------------------------------------------------
    results: list[ComponentFlags] = []
    problem_count = 0
    for component in level.components:
        if component in das_complete:
            flags = _COMPLETE[component]
        elif component in _DAS_MISSING:
            flags = _DAS_MISSING[component]
        elif component == _ASL:
            if asl_glh_completed is not None and asl_glh_completed >= level.asl_glh:
                flags = _COMPLETE[component]
            else:
                flags = _asl(ctx, component in non_edexcel)
        else:
            flags = _qualification_component(ctx, component, component in non_edexcel)
        for problem in flags.problems:
            if problem.severity != codes.INFO:
                problem_count += 1
        results.append(flags)

    # --- points, grade, ASL % --------------------------------------------------------------
    total_points = 0
    resulted_glh = 0
    project_unit_resulted = False
    for unit_code, points in best_points.items():
        unit = units[unit_code]
        total_points += points
        resulted_glh += unit.glh
        if component_of.get(unit.qualification) == diploma.PROJECT:
            project_unit_resulted = True
    if project_cashin is not None and not project_unit_resulted:
        total_points += project_cashin[0]
        resulted_glh += project_cashin[1]
    if das_grade:
        grade: str | None = das_grade
        estimate = False
    elif resulted_glh:
        grade = _estimate_grade(
            total_points,
            resulted_glh,
            level.pl_glh + level.project_glh,
            catalogue.thresholds[level.code],
        )
        estimate = True
    else:
        grade = None
        estimate = False

    if not level.has_asl:
        asl_percent: int | None = None
    elif _ASL in das_complete:
        asl_percent = 100  # whatever GLH it reports: the flag and the % never disagree
    elif asl_glh_completed is None:
        asl_percent = 0
    else:
        # Floor, so that 99.5% never reads as 100% while something is still to do.
        asl_percent = min(100, asl_glh_completed * 100 // level.asl_glh)

    return LearnerFlags(
        learner.uln,
        level.code,
        tuple(results),
        total_points,
        grade,
        estimate,
        asl_percent,
        problem_count,
    )


def _points(result: ResultInput, glh: int, steps: dict[str, int]) -> int:
    """The feed's points, else the grade on the level's scale (a fail earns nothing)."""
    if result.points is not None:
        return result.points
    if result.grade in _FAILING:
        return 0
    return glh * steps.get(result.grade, 0) // 30


def _estimate_grade(
    points: int, resulted_glh: int, total_glh: int, thresholds: tuple[tuple[str, int], ...]
) -> str:
    """Points so far scaled to the full PL + project GLH, read against the thresholds.

    Compared as points × total ≥ min × resulted, so no rounding can move a boundary.
    """
    scaled = points * total_glh
    for grade, min_points in thresholds:
        if scaled >= min_points * resulted_glh:
            return grade
    return "U"


class _Context:
    """One learner's data indexed for the component rules of one evaluation."""

    __slots__ = (
        "catalogue",
        "plan",
        "today",
        "award_series",
        "cashins",
        "entered",
        "unit_entered",
        "marked",
        "invalid",
        "resulted_units",
        "unit_result_series",
        "fs_results",
        "marks",
        "vq_status",
        "vq_by_component",
    )

    def __init__(
        self, catalogue: Catalogue, plan: DiplomaPlan, today: datetime.date, award_series: str
    ) -> None:
        self.catalogue = catalogue
        self.plan = plan
        self.today = today
        self.award_series = award_series
        # component -> the valid qualifications cashed in
        self.cashins: dict[str, set[str]] = {}
        # component -> valid qualification entered -> the latest series it was entered in
        self.entered: dict[str, dict[str, str]] = {}
        self.unit_entered: set[str] = set()
        # component -> (series, unit) of centre-marked unit entries; a dict keeps the order
        self.marked: dict[str, dict[tuple[str, str], None]] = {}
        # component -> entered qualifications that are not valid for it in this Diploma
        self.invalid: dict[str, set[str]] = {}
        self.resulted_units: set[str] = set()
        # unit -> the latest series in which it has a published result
        self.unit_result_series: dict[str, str] = {}
        # FS component -> its published cash-in results, in any order
        self.fs_results: dict[str, list[ResultInput]] = {}
        self.marks: frozenset[tuple[str, str]] | set[tuple[str, str]] = frozenset()
        self.vq_status: dict[str, VQStatusInput] = {}
        # component -> the VQs entered for it, or with a VQ status row
        self.vq_by_component: dict[str, set[str]] = {}


def _qualification_component(
    ctx: _Context, component: str, has_non_edexcel: bool
) -> ComponentFlags:
    """PL, PROJECT and Functional Skills (DOMAIN.md 4.1), not complete on the DAS."""
    problems: list[Problem] = []
    cashed_in = ctx.cashins.get(component)
    if cashed_in:
        mandatory_units = ctx.catalogue.mandatory_units
        unit_entered = ctx.unit_entered
        resulted_units = ctx.resulted_units
        first_gap: tuple[str, list[str]] | None = None
        for qual in sorted(cashed_in) if len(cashed_in) > 1 else cashed_in:
            gaps = [
                u
                for u in mandatory_units.get(qual, ())
                if u not in unit_entered and u not in resulted_units
            ]
            if not gaps:
                first_gap = None
                break
            if first_gap is None:
                first_gap = (qual, gaps)
        if first_gap is None:
            entry = codes.ELIGIBLE
        else:
            entry = codes.INELIGIBLE
            qual, gaps = first_gap
            action = codes.ENTRY_FLAG_INFO[codes.INELIGIBLE].action
            for unit_code in gaps:
                problems.append(
                    Problem(
                        component,
                        f"Unit entry {unit_code}",
                        f"{qual} has been cashed in but mandatory unit {unit_code} has "
                        "no unit entry.",
                        action,
                        None,
                        codes.ACTION,
                        entry,
                    )
                )
    elif has_non_edexcel:
        entry = codes.OTHER_CAB
    else:
        entry = codes.MISSING
        entered = ctx.entered.get(component)
        invalid = ctx.invalid.get(component)
        action = codes.ENTRY_FLAG_INFO[codes.MISSING].action
        if entered and invalid:
            # A cash-in was made, for the wrong qualification: it must be corrected.
            issue = (
                f"Unit entries found for {', '.join(sorted(entered))}, but no cash-in for "
                f"it: the entries for {', '.join(sorted(invalid))} are for a qualification "
                "this Diploma cannot use (another line of learning or level)."
            )
            action = _correct_the_entry(ctx, component)
        elif entered:
            issue = f"Unit entries found for {', '.join(sorted(entered))}, but no cash-in."
        elif invalid:
            # A cash-in was made, for the wrong qualification: making one is not the fix.
            issue = (
                f"Entries found only for {', '.join(sorted(invalid))}, which this Diploma "
                "cannot use (another line of learning or level)."
            )
            action = _correct_the_entry(ctx, component)
        else:
            issue = "No entries found for this component."
        problems.append(Problem(component, "Cash-in", issue, action, None, codes.ACTION, entry))
    return _with_assessment(ctx, component, entry, problems)


def _correct_the_entry(ctx: _Context, component: str) -> str:
    valid = sorted(ctx.plan.valid.get(component, ()))
    return codes.ACTION_CORRECT_ENTRY.format(
        wanted=f" to {' or '.join(valid)}" if valid and len(valid) <= 3 else "",
        component=diploma.COMPONENT_NAMES[component].lower(),
    )


def _asl(ctx: _Context, has_non_edexcel: bool) -> ComponentFlags:
    """ASL (DOMAIN.md 4.2), not complete on the DAS."""
    component = _ASL
    entered = ctx.entered.get(component)
    problems: list[Problem] = []
    if component in ctx.vq_by_component:
        entry = codes.ELIGIBLE
    elif entered:  # Edexcel GQ entries: only the national validator can judge them
        entry = codes.UNDETERMINED
        problems.append(
            Problem(
                component,
                "ASL validity",
                "Learner Tracking cannot check that the ASL entries "
                f"({', '.join(sorted(entered))}) are valid for this Diploma.",
                codes.ACTION_ASL_VALIDITY,
                None,
                codes.ACTION,
                entry,
            )
        )
    elif has_non_edexcel:
        entry = codes.OTHER_CAB
    elif ctx.invalid.get(component):
        entry = codes.MISSING
        problems.append(_asl_below_level(ctx, sorted(ctx.invalid[component])))
    else:
        entry = codes.MISSING
        problems.append(
            Problem(
                component,
                "ASL entries",
                "No Edexcel ASL entries found.",
                codes.ACTION_ASL_MISSING,
                None,
                codes.ACTION,
                entry,
            )
        )
    return _with_assessment(ctx, component, entry, problems)


def _asl_below_level(ctx: _Context, quals: list[str]) -> Problem:
    level = ctx.plan.level
    low, high = level.asl_levels
    qualifications = ctx.catalogue.qualifications
    reasons = {diploma.asl_level_problem(level, qualifications[q].level) for q in quals}
    where = reasons.pop() if len(reasons) == 1 else "not at a level this Diploma can count"
    return Problem(
        _ASL,
        "ASL validity",
        f"The ASL entries found ({', '.join(quals)}) are {where} (level {low} or {high}), "
        "so they cannot count.",
        codes.ACTION_ASL_BELOW_LEVEL.format(low=low, high=high),
        None,
        codes.ACTION,
        codes.MISSING,
    )


class _Worst:
    """The worst assessment flag so far and the earliest date behind it (DOMAIN.md 4.3)."""

    __slots__ = ("rank", "deadline")

    def __init__(self) -> None:
        self.rank = codes.NO_ASSESSMENT_RANK
        self.deadline: datetime.date | None = None

    def consider(self, flag: str, when: datetime.date | None) -> None:
        rank = codes.ASSESSMENT_RANK[flag]
        if rank < self.rank:
            self.rank, self.deadline = rank, when
        elif (
            rank == self.rank
            and when is not None
            and (self.deadline is None or when < self.deadline)
        ):
            self.deadline = when


def _with_assessment(
    ctx: _Context, component: str, entry: str, problems: list[Problem]
) -> ComponentFlags:
    """Add the assessment flag and its problems: the worst item wins."""
    fs_results = ctx.fs_results.get(component)
    vq_quals = ctx.vq_by_component.get(component)
    marked = ctx.marked.get(component)
    if not fs_results and not vq_quals and not marked:
        # Most components of most learners: nothing to assess.
        return ComponentFlags(component, entry, None, tuple(problems))

    worst = _Worst()
    if fs_results:
        _fs_item(ctx, component, fs_results, worst, problems)
    if vq_quals:
        for qual in sorted(vq_quals) if len(vq_quals) > 1 else vq_quals:
            _vq_item(ctx, component, qual, worst, problems)
    if marked:
        _mark_items(ctx, component, marked, worst, problems)

    if len(problems) > 1:
        problems.sort(key=Problem.sort_key)
    assessment = codes.ASSESSMENT_FLAGS[worst.rank] if worst.rank < _NO_RANK else None
    return ComponentFlags(component, entry, assessment, tuple(problems), worst.deadline)


def _fs_item(
    ctx: _Context,
    component: str,
    results: list[ResultInput],
    worst: _Worst,
    problems: list[Problem],
) -> None:
    """A pass is banked: any published pass at a valid level, whatever came after it."""
    for result in results:
        if result.grade not in _FAILING:
            worst.consider(codes.PASSED, None)
            return
    # Every result is a fail: the latest says what happened (ties broken by series, then
    # code, so the input order never matters).
    latest = max(results, key=lambda r: (r.published_on, r.series, r.code))
    worst.consider(codes.FAILED, None)
    issue = (
        f"The latest result for {latest.code}, in {_series_name(latest.series)}, is "
        f"{latest.grade}: a fail."
    )
    # A re-sit is "entered" only in a later series that is not over yet: one whose results
    # day has passed without a result was missed, and new entries are needed.
    resit = max(
        (s for s in ctx.entered.get(component, {}).values() if s > latest.series), default=None
    )
    if resit is not None and ctx.today > ctx.catalogue.results_day(resit):
        resit = None
    if resit is None:
        action, severity = codes.ASSESSMENT_FLAG_INFO[codes.FAILED].action, codes.URGENT
    else:
        issue += f" A re-sit is entered for {_series_name(resit)}."
        action, severity = codes.ACTION_FS_RESIT_ENTERED, codes.ACTION
    problems.append(
        Problem(component, "Functional Skills result", issue, action, None, severity, codes.FAILED)
    )


def _vq_item(
    ctx: _Context, component: str, qual: str, worst: _Worst, problems: list[Problem]
) -> None:
    flag_info = codes.ASSESSMENT_FLAG_INFO
    status = ctx.vq_status.get(qual)
    element = f"Certification claim for {qual}"
    if status is None or not status.verified:
        # No status row: verification has not been confirmed as far as we know.
        worst.consider(codes.OVERDUE, None)
        problems.append(
            Problem(
                component,
                element,
                "The centre's verification has not been confirmed.",
                flag_info[codes.OVERDUE].vq_action,
                None,
                codes.URGENT,
                codes.OVERDUE,
            )
        )
        return
    if status.claimed_on is not None or status.result_issued_on is not None:
        worst.consider(codes.SUBMITTED, None)
        return
    # The claim must beat aggregation in the award series, delivered yet or not; without an
    # award series, the series the VQ was last entered in is the best guess. `too_late` is
    # the first day that is too late.
    claims_series = ctx.award_series or ctx.entered.get(component, {}).get(qual)
    too_late = ctx.catalogue.claim_deadline(claims_series) if claims_series else None
    if too_late is None:
        flag, severity, last_day = codes.DUE, codes.ACTION, None
        issue = "The centre has been verified but certification has not been claimed."
        action = flag_info[codes.DUE].vq_action
    elif ctx.today < too_late:
        flag, severity, last_day = codes.DUE, codes.ACTION, too_late - _ONE_DAY
        issue = (
            "The centre has been verified but certification has not been claimed: "
            f"claim before {format_date(too_late)}."
        )
        action = flag_info[codes.DUE].vq_action
    else:
        flag, severity, last_day = codes.OVERDUE, codes.URGENT, too_late - _ONE_DAY
        issue = (
            "The centre has been verified but certification has not been claimed, and the "
            f"claim deadline ({format_date(too_late)}) has passed."
        )
        action = codes.ACTION_CLAIM_OVERDUE
    worst.consider(flag, last_day)
    problems.append(Problem(component, element, issue, action, last_day, severity, flag))


def _mark_items(
    ctx: _Context,
    component: str,
    marked: dict[tuple[str, str], None],
    worst: _Worst,
    problems: list[Problem],
) -> None:
    """Centre-marked unit entries still waiting for their marks (DOMAIN.md 4.3)."""
    today = ctx.today
    catalogue = ctx.catalogue
    windows = catalogue.mark_windows
    resulted_in = ctx.unit_result_series
    marks = ctx.marks
    flag_info = codes.ASSESSMENT_FLAG_INFO
    for key in marked:
        series, unit_code = key
        latest_result = resulted_in.get(unit_code)
        if latest_result is not None and latest_result >= series:
            # Resulted in this series, or re-sat and resulted later: nothing to chase.
            continue
        if key in marks:
            worst.consider(codes.SUBMITTED, None)
            continue
        name = _series_name(series)
        element = f"Centre marks for unit {unit_code} in {name}"
        window = windows.get(key)
        results_day = catalogue.results_day(series)
        if today > results_day:
            # The series is over, published window or not: the marks are late, not "not open".
            flag, severity = codes.OVERDUE, codes.URGENT
            when = window.closes_on if window is not None else None
            issue = (
                f"Centre marks were not submitted, and {name} is over: its results day was "
                f"{format_date(results_day)}."
            )
            action = flag_info[codes.OVERDUE].gq_action
        elif window is None:
            # No window published for this series yet: nothing can be late, and the
            # centre cannot submit, so it is 'not open' with no date.
            flag, severity, when = codes.NOT_OPEN, codes.INFO, None
            issue = "No mark submission window has been published for this unit yet."
            action = flag_info[codes.NOT_OPEN].action
        elif today < window.opens_on:
            flag, severity, when = codes.NOT_OPEN, codes.INFO, window.closes_on
            issue = (
                f"Centre marks not submitted; the window opens on {format_date(window.opens_on)} "
                f"and closes on {format_date(window.closes_on)}."
            )
            action = flag_info[codes.NOT_OPEN].action
        elif today <= window.closes_on:
            flag, severity, when = codes.DUE, codes.ACTION, window.closes_on
            issue = (
                f"Centre marks not submitted; the window closes on {format_date(window.closes_on)}."
            )
            action = flag_info[codes.DUE].gq_action
        else:
            flag, severity, when = codes.OVERDUE, codes.URGENT, window.closes_on
            issue = f"Centre marks not submitted; the deadline was {format_date(window.closes_on)}."
            action = flag_info[codes.OVERDUE].gq_action
        worst.consider(flag, when)
        problems.append(Problem(component, element, issue, action, when, severity, flag))


# Immutable, so every learner shares them rather than building new ones.
_COMPLETE: dict[str, ComponentFlags] = {
    c: ComponentFlags(c, codes.COMPLETE, None) for c in diploma.COMPONENTS
}
# PLTS and WEX: the centre records them on the DAS; we only report what it shows.
_DAS_MISSING: dict[str, ComponentFlags] = {
    c: ComponentFlags(
        c,
        codes.MISSING,
        None,
        (
            Problem(
                c,
                element,
                f"The DAS does not show {diploma.COMPONENT_NAMES[c].lower()} as complete yet.",
                codes.ACTION_CONFIRM_ON_DAS,
                None,
                codes.ACTION,
                codes.MISSING,
            ),
        ),
    )
    for c, element in _DAS_ELEMENTS.items()
}


def could_not_check(data: LearnerData) -> LearnerFlags:
    """What a learner shows when the rules fail on its data (a value the checks at the door
    let through): every component "Cannot be checked", with one problem that says so. One
    learner's bad data is that learner's visible problem, never a failed page or rebuild."""
    learner = data.learner
    level = diploma.LEVELS.get(learner.level)
    components = level.components if level is not None else diploma.COMPONENTS
    problem = Problem(
        components[0],
        "This learner's record",
        "Learner Tracking could not check this learner: part of the awarding body's data for "
        "them is not in a form it can read.",
        "Contact the Diploma support team, giving the learner's ULN; they have been told.",
        None,
        codes.ACTION,
        codes.UNDETERMINED,
    )
    return LearnerFlags(
        uln=learner.uln,
        level=learner.level,
        components=tuple(
            ComponentFlags(code, codes.UNDETERMINED, None, (problem,) if i == 0 else ())
            for i, code in enumerate(components)
        ),
        points=0,
        grade=None,
        grade_is_estimate=False,
        asl_percent_complete=None,
        problem_count=1,
    )


def evaluate_or_report(
    data: LearnerData, catalogue: Catalogue, today: datetime.date
) -> tuple[LearnerFlags, Exception | None]:
    """evaluate(), or, when it fails on this learner's data, could_not_check() and why."""
    try:
        return evaluate(data, catalogue, today), None
    except Exception as error:  # noqa: BLE001 - reported by the caller, shown on the learner
        return could_not_check(data), error
