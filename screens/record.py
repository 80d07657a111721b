"""The Individual Learner Record: the forensic review of each component, computed live.

Turns one learner's input, the catalogue and the evaluated flags into what the page
shows, component by component. Pure presentation: no database, no clock.
"""

import datetime
from dataclasses import dataclass, field

from flags.inputs import CASHIN, Catalogue, DASInput, DiplomaPlan, LearnerData
from flags.rules import ComponentFlags, LearnerFlags, format_date
from learners import diploma


@dataclass
class EntryLine:
    series: str
    kind: str  # "Cash-in" or "Unit entry"
    code: str
    title: str
    centre: str
    received_at: datetime.datetime | None
    note: str = ""  # why it does not count, for an entry listed under a component it cannot


@dataclass
class MarkLine:
    unit: str
    title: str
    series: str
    opens_on: datetime.date | None
    closes_on: datetime.date | None
    submitted_on: datetime.date | None
    resulted: bool
    state: str  # what the centre sees, e.g. "Submitted on 1 May 2010"


@dataclass
class ResultLine:
    series: str
    code: str
    title: str
    kind: str  # "Unit" or "Cash-in"
    grade: str
    points: int | None
    published_on: datetime.date
    note: str = ""


@dataclass
class ClaimLine:
    qualification: str
    title: str
    verified: bool
    claimed_on: datetime.date | None
    result_issued_on: datetime.date | None
    note: str = ""


@dataclass
class ComponentReview:
    code: str
    name: str
    flags: ComponentFlags
    entries: list[EntryLine] = field(default_factory=list)
    marks: list[MarkLine] = field(default_factory=list)
    results: list[ResultLine] = field(default_factory=list)
    claims: list[ClaimLine] = field(default_factory=list)
    das: DASInput | None = None
    non_edexcel: list = field(default_factory=list)


@dataclass
class Record:
    components: list[ComponentReview]
    other_entries: list[EntryLine]  # entries for qualifications not valid for this Diploma
    asl_glh_completed: int | None
    asl_glh_needed: int
    diploma_grade_final: str
    # Published PL or project results of this Diploma, whether or not they earn points.
    points_results_published: bool = False

    @classmethod
    def unreadable(cls) -> "Record":
        """For a learner whose data the record cannot be built from: the page shows the
        learner and the problem, without the component breakdown."""
        return cls([], [], None, 0, "")


def _title(catalogue: Catalogue, code: str) -> str:
    found = catalogue.units.get(code) or catalogue.qualifications.get(code)
    return found.title if found and found.title else code


def _placed(catalogue: Catalogue, plan: DiplomaPlan, qualification: str) -> tuple[str | None, str]:
    """The component a qualification is listed under on the record, and why it does not count.

    A valid qualification goes under its component; an ASL qualification at a level this
    Diploma cannot count still goes under ASL, saying so (DOMAIN.md 4.2); anything else
    (another line's PL, say) is listed apart, as not valid for this Diploma.
    """
    component = plan.component_of.get(qualification)
    if component is not None:
        return component, ""
    info = catalogue.qualifications.get(qualification)
    if info is None or info.component != diploma.ASL or not plan.level.has_asl:
        return None, ""
    why = diploma.asl_level_problem(plan.level, info.level)
    return diploma.ASL, f"{why[0].upper()}{why[1:]}: it cannot count for ASL."


def build_record(
    data: LearnerData, catalogue: Catalogue, flags: LearnerFlags, today: datetime.date
) -> Record:
    learner = data.learner
    plan = catalogue.plan(learner.level, learner.line)
    reviews = {
        c.component: ComponentReview(c.component, diploma.COMPONENT_NAMES[c.component], c)
        for c in flags.components
    }
    das_by_component = {d.component: d for d in data.das}
    for code, review in reviews.items():
        review.das = das_by_component.get(code)
    for item in data.non_edexcel:
        if item.component in reviews:
            reviews[item.component].non_edexcel.append(item)

    other: list[EntryLine] = []
    for entry in sorted(data.entries, key=lambda e: (e.series, e.kind != CASHIN, e.code)):
        component, note = _placed(catalogue, plan, entry.qualification)
        line = EntryLine(
            series=entry.series,
            kind="Cash-in" if entry.kind == CASHIN else "Unit entry",
            code=entry.code,
            title=_title(catalogue, entry.code),
            centre=entry.centre,
            received_at=entry.received_at,
            note=note,
        )
        (reviews[component].entries if component in reviews else other).append(line)

    submitted = {(m.series, m.unit): m.submitted_on for m in data.marks}
    published = [r for r in data.results if r.published_on <= today]
    # unit -> the latest series it has a published result in (a later one settles an entry)
    resulted_in: dict[str, str] = {}
    for r in published:
        if r.unit and r.series > resulted_in.get(r.unit, ""):
            resulted_in[r.unit] = r.series
    for entry in data.entries:
        component = plan.component_of.get(entry.qualification)
        if component not in reviews or entry.unit not in catalogue.centre_marked_units:
            continue
        window = catalogue.mark_windows.get((entry.series, entry.unit))
        key = (entry.series, entry.unit)
        latest_result = resulted_in.get(entry.unit, "")
        resulted = latest_result >= entry.series
        reviews[component].marks.append(
            MarkLine(
                unit=entry.unit,
                title=_title(catalogue, entry.unit),
                series=entry.series,
                opens_on=window.opens_on if window else None,
                closes_on=window.closes_on if window else None,
                submitted_on=submitted.get(key),
                resulted=resulted,
                state=_mark_state(
                    window,
                    submitted.get(key),
                    "" if not resulted else latest_result,
                    entry.series,
                    catalogue.results_day(entry.series),
                    today,
                ),
            )
        )
    points_results = False
    for result in sorted(published, key=lambda r: (r.series, r.unit is None, r.code)):
        component, note = _placed(catalogue, plan, result.qualification)
        if component in reviews:
            points_results = points_results or component in (diploma.PL, diploma.PROJECT)
            reviews[component].results.append(
                ResultLine(
                    series=result.series,
                    code=result.code,
                    title=_title(catalogue, result.code),
                    kind="Unit" if result.unit else "Cash-in",
                    grade=result.grade,
                    points=result.points,
                    published_on=result.published_on,
                    note=note,
                )
            )
    for status in data.vq_statuses:
        component, note = _placed(catalogue, plan, status.qualification)
        if component in reviews:
            reviews[component].claims.append(
                ClaimLine(
                    qualification=status.qualification,
                    title=_title(catalogue, status.qualification),
                    verified=status.verified,
                    claimed_on=status.claimed_on,
                    result_issued_on=status.result_issued_on,
                    note=note,
                )
            )
    for review in reviews.values():
        review.marks.sort(key=lambda m: (m.series, m.unit))

    asl = das_by_component.get(diploma.ASL)
    final = next((d.diploma_grade for d in data.das if d.diploma_grade), "")
    return Record(
        components=list(reviews.values()),
        other_entries=other,
        asl_glh_completed=asl.asl_glh_completed if asl else None,
        asl_glh_needed=diploma.LEVELS[learner.level].asl_glh,
        diploma_grade_final=final,
        points_results_published=points_results,
    )


def _mark_state(
    window,
    submitted_on: datetime.date | None,
    resulted_in: str,
    series: str,
    results_day: datetime.date,
    today: datetime.date,
) -> str:
    """What the centre sees of one centre-marked entry; the same cases as the rules."""
    if submitted_on:
        return f"Submitted on {format_date(submitted_on)}"
    if resulted_in == series:
        return "Resulted"
    if resulted_in:
        return f"Not needed: resulted in {diploma.series_name(resulted_in)}"
    if today > results_day:
        return f"Overdue: {diploma.series_name(series)} is over, and no marks were submitted"
    if window is None:
        return "Mark window not yet published"
    if today < window.opens_on:
        return f"Window opens on {format_date(window.opens_on)}"
    if today <= window.closes_on:
        return f"Due by {format_date(window.closes_on)}"
    return f"Overdue: the deadline was {format_date(window.closes_on)}"
