"""Decision tables for the flag rules, DOMAIN.md 4.1–4.6, boundaries included."""

import datetime

import pytest

from flags import codes
from flags.inputs import GradeThresholdInfo, MarkWindowInfo
from flags.rules import ComponentFlags, LearnerFlags, evaluate

from .builders import (
    CATALOGUE,
    CLAIM_DEADLINE,
    CLOSES,
    OPENS,
    RESULTS_DAY,
    SERIES,
    TODAY,
    cashin,
    catalogue,
    das,
    full_cashin,
    learner,
    mark,
    other_cab,
    result,
    unit_entry,
    vq,
)

ONE_DAY = datetime.timedelta(days=1)
# Claims are due *before* the claim deadline: the last day to claim is the day before.
LAST_CLAIM_DAY = CLAIM_DEADLINE - ONE_DAY


def d_before(day: datetime.date) -> datetime.date:
    """A day well before `day`: an earlier series' results day."""
    return day - datetime.timedelta(days=200)


def run(*items: object, today: datetime.date = TODAY, **kw: str) -> LearnerFlags:
    return evaluate(learner(*items, **kw), CATALOGUE, today)


def flags_of(component: str, *items: object, today: datetime.date = TODAY, **kw) -> ComponentFlags:
    flags = run(*items, today=today, **kw).component(component)
    assert flags is not None
    return flags


# --- 4.1 entry flags of PL, PROJECT and Functional Skills --------------------------------


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        pytest.param((), codes.MISSING, id="nothing"),
        pytest.param(full_cashin("DPL3ENG"), codes.ELIGIBLE, id="cash-in and every unit"),
        pytest.param(
            (cashin("DPL3ENG"), unit_entry("ENG301")), codes.INELIGIBLE, id="units missing"
        ),
        pytest.param(
            (unit_entry("ENG301"), unit_entry("ENG302"), unit_entry("ENG303")),
            codes.MISSING,
            id="unit entries without a cash-in",
        ),
        pytest.param(full_cashin("DPL3CAM"), codes.MISSING, id="another line's PL"),
        pytest.param(full_cashin("DPL2ENG"), codes.MISSING, id="another level's PL"),
        pytest.param((other_cab("PL"),), codes.OTHER_CAB, id="non-Edexcel only"),
        pytest.param(
            (*full_cashin("DPL3ENG"), other_cab("PL")),
            codes.ELIGIBLE,
            id="non-Edexcel beside a full cash-in: the cash-in wins",
        ),
        pytest.param(
            (cashin("DPL3ENG"), other_cab("PL")),
            codes.INELIGIBLE,
            id="non-Edexcel beside a partial cash-in: the cash-in wins",
        ),
        pytest.param((das("PL"),), codes.COMPLETE, id="DAS complete with nothing else"),
        pytest.param(
            (das("PL"), cashin("DPL3ENG"), other_cab("PL")),
            codes.COMPLETE,
            id="DAS complete wins over everything",
        ),
        pytest.param(
            (das("PL", complete=False), *full_cashin("DPL3ENG")),
            codes.ELIGIBLE,
            id="DAS row not complete",
        ),
    ],
)
def test_it_gives_the_pl_entry_flag_by_the_first_rule_that_matches(items, expected) -> None:
    assert flags_of("PL", *items).entry == expected


def test_it_ignores_optional_units_when_checking_a_cash_in() -> None:
    items = (cashin("DPL3ENG"), *(unit_entry(u) for u in ("ENG301", "ENG302", "ENG303")))
    assert flags_of("PL", *items).entry == codes.ELIGIBLE


def test_it_accepts_unit_entries_from_any_series() -> None:
    items = (cashin("DPL3ENG"), unit_entry("ENG301", "2026-06"), unit_entry("ENG302", "2027-01"))
    assert flags_of("PL", *items, unit_entry("ENG303")).entry == codes.ELIGIBLE


def test_it_accepts_a_published_result_in_place_of_a_unit_entry() -> None:
    items = (cashin("DPL3ENG"), unit_entry("ENG302"), unit_entry("ENG303"))
    earlier = result("ENG301", "B", published_on=TODAY - ONE_DAY, series="2026-06")
    assert flags_of("PL", *items, earlier).entry == codes.ELIGIBLE


@pytest.mark.parametrize(
    ("published_on", "expected"),
    [
        pytest.param(TODAY, codes.ELIGIBLE, id="published today: visible"),
        pytest.param(TODAY + ONE_DAY, codes.INELIGIBLE, id="published tomorrow: not yet"),
    ],
)
def test_it_sees_results_only_from_their_publication_day(published_on, expected) -> None:
    items = (cashin("DPL3ENG"), unit_entry("ENG302"), unit_entry("ENG303"))
    published = result("ENG301", "B", published_on=published_on, series="2026-06")
    assert flags_of("PL", *items, published).entry == expected


def test_it_lists_one_problem_per_missing_mandatory_unit() -> None:
    flags = flags_of("PL", cashin("DPL3ENG"), unit_entry("ENG301"))
    assert flags.entry == codes.INELIGIBLE
    assert [p.element for p in flags.problems] == ["Unit entry ENG302", "Unit entry ENG303"]
    assert {p.action for p in flags.problems} == {codes.ENTRY_FLAG_INFO[codes.INELIGIBLE].action}


@pytest.mark.parametrize(
    ("items", "issue_fragment"),
    [
        pytest.param((), "No entries found", id="nothing"),
        pytest.param((unit_entry("ENG301"),), "no cash-in", id="units only"),
    ],
)
def test_it_gives_a_missing_cash_in_one_problem(items, issue_fragment) -> None:
    (problem,) = flags_of("PL", *items).problems
    assert problem.element == "Cash-in"
    assert issue_fragment in problem.issue
    assert problem.action == codes.ENTRY_FLAG_INFO[codes.MISSING].action
    assert problem.flag == codes.MISSING


def test_it_asks_for_a_wrong_cash_in_beside_valid_unit_entries_to_be_corrected() -> None:
    flags = flags_of("PL", cashin("DPL3CAM"), unit_entry("ENG301"))
    (problem,) = [p for p in flags.problems if p.element == "Cash-in"]
    assert "DPL3CAM" in problem.issue and "cannot use" in problem.issue
    assert problem.action.startswith("Correct the entries to DPL3ENG ")


@pytest.mark.parametrize(
    ("items", "level", "component", "wanted"),
    [
        pytest.param(full_cashin("DPL3CAM"), "A", "PL", "DPL3ENG", id="another line's PL"),
        pytest.param(full_cashin("DPL2ENG"), "A", "PL", "DPL3ENG", id="another level's PL"),
        pytest.param(full_cashin("PRJ2"), "A", "PROJECT", "PRJ3", id="another level's project"),
        pytest.param((cashin("FSE1"),), "H", "FS_ENGLISH", "FSE2", id="FS below the level"),
    ],
)
def test_it_asks_for_a_wrong_entry_to_be_corrected_not_for_a_cash_in(
    items, level, component, wanted
) -> None:
    # The cash-in was made, for a qualification this Diploma cannot use: "make the cash-in"
    # would send the centre to do what it has done.
    flags = flags_of(component, *items, level=level)
    assert flags.entry == codes.MISSING
    (problem,) = [p for p in flags.problems if p.element == "Cash-in"]
    assert "cannot use" in problem.issue
    assert problem.action.startswith(f"Correct the entries to {wanted} ")
    assert "Make the cash-in" not in problem.action


@pytest.mark.parametrize(
    ("level", "pl", "project", "expected"),
    [
        ("F", "DPL1ENG", "PRJ1", codes.ELIGIBLE),
        ("H", "DPL2ENG", "PRJ2", codes.ELIGIBLE),
        ("A", "DPL3ENG", "PRJ3", codes.ELIGIBLE),
        pytest.param("P", "DPL3ENG", "PRJ3", codes.ELIGIBLE, id="Progression uses level 3"),
        ("H", "DPL3ENG", "PRJ3", codes.MISSING),
        ("A", "DPL2ENG", "PRJ2", codes.MISSING),
        ("F", "DPL2ENG", "PRJ2", codes.MISSING),
    ],
)
def test_it_accepts_pl_and_the_project_of_the_diplomas_level_only(
    level, pl, project, expected
) -> None:
    flags = run(*full_cashin(pl), *full_cashin(project), level=level)
    assert flags.component("PL").entry == expected
    assert flags.component("PROJECT").entry == expected


@pytest.mark.parametrize(
    ("level", "qualification", "expected"),
    [
        pytest.param("F", "FSE1", codes.ELIGIBLE, id="Foundation needs level 1"),
        pytest.param("F", "FSE2", codes.ELIGIBLE, id="Foundation accepts level 2"),
        pytest.param("H", "FSE1", codes.MISSING, id="Higher refuses level 1"),
        ("H", "FSE2", codes.ELIGIBLE),
        ("A", "FSE1", codes.MISSING),
        ("P", "FSE2", codes.ELIGIBLE),
    ],
)
def test_it_accepts_functional_skills_at_the_required_level_or_above(
    level, qualification, expected
) -> None:
    assert flags_of("FS_ENGLISH", cashin(qualification), level=level).entry == expected


def test_it_keeps_functional_skills_subjects_apart() -> None:
    flags = run(cashin("FSE2"))
    assert flags.component("FS_ENGLISH").entry == codes.ELIGIBLE
    assert flags.component("FS_MATHS").entry == codes.MISSING
    assert flags.component("FS_ICT").entry == codes.MISSING


@pytest.mark.parametrize("component", ["PLTS", "WEX"])
def test_it_reports_plts_and_wex_as_the_das_shows_them(component) -> None:
    done = flags_of(component, das(component))
    assert (done.entry, done.assessment, done.problems) == (codes.COMPLETE, None, ())
    not_done = flags_of(component, das(component, complete=False))
    assert (not_done.entry, not_done.assessment) == (codes.MISSING, None)
    (problem,) = not_done.problems
    assert problem.element.endswith("on the DAS")
    assert problem.action == codes.ACTION_CONFIRM_ON_DAS


# --- 4.2 ASL -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        pytest.param((das("ASL", asl_glh=360),), codes.COMPLETE, id="DAS complete"),
        pytest.param(
            (das("ASL", complete=False, asl_glh=360),), codes.COMPLETE, id="DAS 100% of GLH"
        ),
        pytest.param(
            (das("ASL", complete=False, asl_glh=359),), codes.MISSING, id="DAS just short"
        ),
        pytest.param((das("ASL"), unit_entry("PHY1")), codes.COMPLETE, id="DAS beats GQ"),
        pytest.param((cashin("BTECS3"),), codes.ELIGIBLE, id="Edexcel VQ"),
        pytest.param((vq("BTECS3"),), codes.ELIGIBLE, id="VQ status only"),
        pytest.param((cashin("BTECS3"), unit_entry("PHY1")), codes.ELIGIBLE, id="VQ and GQ"),
        pytest.param((unit_entry("PHY1"),), codes.UNDETERMINED, id="GQ only"),
        pytest.param(
            (cashin("GCEPHY"), other_cab()), codes.UNDETERMINED, id="GQ beats non-Edexcel"
        ),
        pytest.param((other_cab(),), codes.OTHER_CAB, id="non-Edexcel"),
        pytest.param((), codes.MISSING, id="nothing"),
        pytest.param((other_cab("PL"),), codes.MISSING, id="non-Edexcel for another component"),
    ],
)
def test_it_gives_the_asl_entry_flag_by_the_first_rule_that_matches(items, expected) -> None:
    assert flags_of("ASL", *items).entry == expected


@pytest.mark.parametrize(
    ("level", "items", "expected"),
    [
        pytest.param("H", (cashin("BTEC1CON"),), codes.MISSING, id="Higher: level-1 VQ entry"),
        pytest.param("H", (vq("BTEC1CON"),), codes.MISSING, id="Higher: level-1 VQ status row"),
        pytest.param("A", (cashin("GCSESTA"),), codes.MISSING, id="Advanced: level-2 GQ"),
        pytest.param("H", (cashin("GCSESTA"),), codes.UNDETERMINED, id="Higher: level-2 GQ"),
        pytest.param("F", (vq("BTEC1CON"),), codes.ELIGIBLE, id="Foundation: level-1 VQ"),
        pytest.param("F", (cashin("GCEPHY"),), codes.MISSING, id="Foundation: level-3 GQ, above"),
        pytest.param(
            "H", (cashin("BTEC1CON"), cashin("BTECS3")), codes.ELIGIBLE, id="a VQ at the level"
        ),
        pytest.param(
            "H", (cashin("BTEC1CON"), other_cab()), codes.OTHER_CAB, id="below, and elsewhere"
        ),
    ],
)
def test_it_counts_asl_only_at_the_diplomas_asl_levels(level, items, expected) -> None:
    assert flags_of("ASL", *items, level=level).entry == expected


@pytest.mark.parametrize("items", [(cashin("BTEC1CON"),), (vq("BTEC1CON", claimed_on=TODAY),)])
def test_it_raises_an_asl_validity_problem_for_asl_below_the_level(items) -> None:
    flags = flags_of("ASL", *items, level="H")
    (problem,) = flags.problems
    assert (flags.entry, flags.assessment) == (codes.MISSING, None)
    assert problem.element == "ASL validity"
    assert "BTEC1CON" in problem.issue
    assert "below the level this Diploma needs (level 2 or 3)" in problem.issue
    assert "level 2 or 3" in problem.action


def test_it_raises_no_claim_problem_for_a_vq_that_cannot_count() -> None:
    flags = flags_of("ASL", cashin("BTEC1CON"), vq("BTEC1CON", verified=False), level="H")
    assert flags.assessment is None
    assert [p.element for p in flags.problems] == ["ASL validity"]


def test_it_asks_for_the_national_validator_when_asl_is_undetermined() -> None:
    (problem,) = flags_of("ASL", cashin("GCEPHY")).problems
    assert problem.element == "ASL validity"
    assert problem.action == codes.ACTION_ASL_VALIDITY
    assert "validator" in problem.action


def test_it_raises_no_problem_for_another_awarding_body() -> None:
    assert flags_of("ASL", other_cab()).problems == ()
    assert flags_of("PL", other_cab("PL")).problems == ()


def test_it_gives_progression_no_asl_component() -> None:
    flags = run(cashin("BTECS3"), das("ASL", asl_glh=100), level="P")
    assert flags.component("ASL") is None
    assert [c.component for c in flags.components] == [
        "PL",
        "PROJECT",
        "FS_ENGLISH",
        "FS_MATHS",
        "FS_ICT",
        "PLTS",
        "WEX",
    ]
    assert flags.asl_percent_complete is None


def test_it_lists_components_in_the_levels_order() -> None:
    flags = run()
    assert [c.component for c in flags.components] == [
        "PL",
        "PROJECT",
        "FS_ENGLISH",
        "FS_MATHS",
        "FS_ICT",
        "ASL",
        "PLTS",
        "WEX",
    ]


# --- 4.3 assessment flags ----------------------------------------------------------------

MARKED = (cashin("DPL3ENG"), unit_entry("ENG301"), unit_entry("ENG302"))


@pytest.mark.parametrize(
    ("today", "expected", "deadline"),
    [
        pytest.param(OPENS - ONE_DAY, codes.NOT_OPEN, CLOSES, id="opens tomorrow"),
        pytest.param(OPENS, codes.DUE, CLOSES, id="opening today"),
        pytest.param(CLOSES, codes.DUE, CLOSES, id="closing today"),
        pytest.param(CLOSES + ONE_DAY, codes.OVERDUE, CLOSES, id="closed yesterday"),
    ],
)
def test_it_flags_centre_marks_by_the_mark_window(today, expected, deadline) -> None:
    flags = flags_of("PL", *MARKED, today=today)
    assert flags.assessment == expected
    assert flags.deadline == deadline
    (marks_problem,) = [p for p in flags.problems if p.element.startswith("Centre marks")]
    assert marks_problem.element == "Centre marks for unit ENG302 in June 2027"
    assert marks_problem.flag == expected
    assert marks_problem.deadline == deadline


@pytest.mark.parametrize(
    ("flag", "severity", "action"),
    [
        (codes.NOT_OPEN, codes.INFO, codes.ASSESSMENT_FLAG_INFO[codes.NOT_OPEN].action),
        (codes.DUE, codes.ACTION, codes.ASSESSMENT_FLAG_INFO[codes.DUE].gq_action),
        (codes.OVERDUE, codes.URGENT, codes.ASSESSMENT_FLAG_INFO[codes.OVERDUE].gq_action),
    ],
)
def test_it_gives_centre_mark_problems_their_severity_and_action(flag, severity, action) -> None:
    today = {codes.NOT_OPEN: OPENS - ONE_DAY, codes.DUE: OPENS, codes.OVERDUE: CLOSES + ONE_DAY}
    (problem,) = [p for p in flags_of("PL", *MARKED, today=today[flag]).problems if p.flag == flag]
    assert (problem.severity, problem.action) == (severity, action)


def test_it_counts_submitted_marks_as_submitted_whatever_the_date() -> None:
    for today in (OPENS - ONE_DAY, OPENS, CLOSES + ONE_DAY):
        flags = flags_of("PL", *MARKED, mark("ENG302"), today=today)
        assert flags.assessment == codes.SUBMITTED
        assert not [p for p in flags.problems if p.element.startswith("Centre marks")]


def test_it_skips_centre_marked_units_with_a_published_result_in_that_series() -> None:
    late = CLOSES + ONE_DAY
    published = result("ENG302", "C", published_on=late)
    assert flags_of("PL", *MARKED, published, today=late).assessment is None
    tomorrow = result("ENG302", "C", published_on=late + ONE_DAY)
    assert flags_of("PL", *MARKED, tomorrow, today=late).assessment == codes.OVERDUE


def test_it_still_wants_marks_for_a_resit_after_an_earlier_result() -> None:
    earlier = result("ENG302", "E", published_on=d_before(OPENS), series="2026-06")
    flags = flags_of("PL", *MARKED, earlier, today=CLOSES + ONE_DAY)
    assert flags.assessment == codes.OVERDUE


def test_it_treats_a_centre_marked_unit_without_a_known_window_as_not_open() -> None:
    # Decision: with no window published nothing can be late; the centre is told the
    # window is not open, with no date, as information only.
    flags = flags_of("PL", cashin("DPL3ENG"), unit_entry("ENG302", "2028-01"))
    assert flags.assessment == codes.NOT_OPEN
    assert flags.deadline is None
    (problem,) = [p for p in flags.problems if p.flag == codes.NOT_OPEN]
    assert (problem.deadline, problem.severity) == (None, codes.INFO)
    assert problem.element == "Centre marks for unit ENG302 in January 2028"


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        pytest.param(RESULTS_DAY, codes.NOT_OPEN, id="on results day: not yet closed"),
        pytest.param(RESULTS_DAY + ONE_DAY, codes.OVERDUE, id="after results day: closed"),
    ],
)
def test_it_closes_a_series_once_its_results_day_has_passed(today, expected) -> None:
    # No mark window was ever published for ENG302 in June 2027.
    cat = catalogue()
    cat.mark_windows.pop((SERIES, "ENG302"))
    flags = evaluate(learner(cashin("DPL3ENG"), unit_entry("ENG302")), cat, today).component("PL")
    assert flags.assessment == expected
    (problem,) = [p for p in flags.problems if p.element.startswith("Centre marks")]
    if expected == codes.OVERDUE:
        assert problem.severity == codes.URGENT
        assert "June 2027 is over" in problem.issue
        assert "19 August 2027" in problem.issue


def test_it_closes_a_series_the_feed_gave_no_results_day_for() -> None:
    # 2010-06 has no results day in the catalogue: it is assumed over after 31 August 2010.
    data = learner(cashin("DPL3ENG"), unit_entry("ENG302", "2010-06"))
    flags = evaluate(data, CATALOGUE, TODAY).component("PL")
    assert flags.assessment == codes.OVERDUE
    (problem,) = [p for p in flags.problems if p.element.startswith("Centre marks")]
    assert "its results day was 31 August 2010" in problem.issue
    assert problem.severity == codes.URGENT


def test_it_never_calls_an_unmarked_entry_in_a_past_series_not_open() -> None:
    # A window published for the future by mistake does not reopen a closed series.
    odd = MarkWindowInfo("2026-06", "ENG302", datetime.date(2027, 9, 1), datetime.date(2027, 10, 1))
    data = learner(cashin("DPL3ENG"), unit_entry("ENG302", "2026-06"))
    flags = evaluate(data, catalogue(windows=(odd,)), TODAY).component("PL")
    assert flags.assessment == codes.OVERDUE
    assert flags.deadline == datetime.date(2027, 10, 1)


@pytest.mark.parametrize(
    ("result_series", "chased"),
    [
        pytest.param("2027-01", False, id="resulted in a later series: not chased"),
        pytest.param("2026-06", True, id="resulted in an earlier series: still chased"),
    ],
)
def test_it_stops_chasing_an_old_entry_once_the_unit_is_resulted_later(
    result_series, chased
) -> None:
    items = (
        cashin("DPL3ENG"),
        unit_entry("ENG302", "2026-06" if not chased else "2027-01"),
        result("ENG302", "C", published_on=d_before(TODAY), series=result_series),
    )
    flags = flags_of("PL", *items)
    marks = [p for p in flags.problems if p.element.startswith("Centre marks")]
    assert bool(marks) is chased
    assert (flags.assessment == codes.OVERDUE) is chased


@pytest.mark.parametrize(
    ("marked", "expected"),
    [
        pytest.param((("ENG302", SERIES), ("ENG303", "2028-01")), codes.DUE, id="due>not-open"),
        pytest.param((("ENG302", "2026-06"), ("ENG303", SERIES)), codes.OVERDUE, id="overdue>due"),
    ],
)
def test_it_lets_the_worst_centre_mark_flag_win(marked, expected) -> None:
    last_year = MarkWindowInfo(
        "2026-06", "ENG302", datetime.date(2026, 3, 1), datetime.date(2026, 5, 15)
    )
    cat = catalogue(windows=(last_year,))
    data = learner(cashin("DPL3ENG"), *(unit_entry(u, s) for u, s in marked))
    flags = evaluate(data, cat, OPENS).component("PL")
    assert flags.assessment == expected
    assert len([p for p in flags.problems if p.element.startswith("Centre marks")]) == 2


def test_it_gives_no_assessment_flag_when_the_component_is_complete() -> None:
    flags = flags_of("PL", das("PL"), *MARKED, today=CLOSES + ONE_DAY)
    assert (flags.entry, flags.assessment, flags.problems, flags.deadline) == (
        codes.COMPLETE,
        None,
        (),
        None,
    )


def test_it_shows_centre_marks_even_before_the_cash_in() -> None:
    flags = flags_of("PL", unit_entry("ENG302"), today=CLOSES + ONE_DAY)
    assert (flags.entry, flags.assessment) == (codes.MISSING, codes.OVERDUE)
    assert [p.element for p in flags.problems] == [
        "Centre marks for unit ENG302 in June 2027",
        "Cash-in",
    ]


def test_it_ignores_centre_marks_for_qualifications_not_valid_for_the_diploma() -> None:
    assert flags_of("PL", unit_entry("ENG202"), today=CLOSES + ONE_DAY).assessment is None


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        pytest.param((), None, id="no result"),
        pytest.param((("PASS", RESULTS_DAY),), codes.PASSED, id="pass"),
        pytest.param((("FAIL", RESULTS_DAY),), codes.FAILED, id="fail"),
        pytest.param((("X", RESULTS_DAY),), codes.FAILED, id="absent"),
        pytest.param(
            (("FAIL", d_before(RESULTS_DAY)), ("PASS", RESULTS_DAY)),
            codes.PASSED,
            id="failed then passed",
        ),
        pytest.param(
            (("PASS", d_before(RESULTS_DAY)), ("FAIL", RESULTS_DAY)),
            codes.PASSED,
            id="passed then failed: the pass is banked",
        ),
        pytest.param(
            (("FAIL", RESULTS_DAY), ("PASS", RESULTS_DAY)),
            codes.PASSED,
            id="a fail and a pass on the same day",
        ),
        pytest.param(
            (("PASS", d_before(RESULTS_DAY)), ("X", RESULTS_DAY)),
            codes.PASSED,
            id="passed, then absent from a re-sit",
        ),
        pytest.param((("PASS", RESULTS_DAY + ONE_DAY),), None, id="published tomorrow"),
        pytest.param(
            (("FAIL", d_before(RESULTS_DAY)), ("PASS", RESULTS_DAY + ONE_DAY)),
            codes.FAILED,
            id="the pass is not published yet",
        ),
    ],
)
def test_it_flags_functional_skills_by_a_banked_pass_else_the_latest_result(
    results, expected
) -> None:
    items = [cashin("FSE2")]
    for n, (grade, published_on) in enumerate(results):
        items.append(result("FSE2", grade, published_on=published_on, series=f"202{n}-06"))
    assert flags_of("FS_ENGLISH", *items, today=RESULTS_DAY).assessment == expected


def test_it_raises_an_urgent_problem_for_a_failed_functional_skill() -> None:
    failed = result("FSE2", "FAIL", published_on=TODAY)
    (problem,) = flags_of("FS_ENGLISH", cashin("FSE2"), failed).problems
    assert problem.element == "Functional Skills result"
    assert (problem.severity, problem.flag) == (codes.URGENT, codes.FAILED)
    assert problem.action == codes.ASSESSMENT_FLAG_INFO[codes.FAILED].action


def test_it_says_a_resit_is_entered_rather_than_ask_for_new_entries() -> None:
    failed = result("FSE2", "FAIL", published_on=d_before(TODAY), series="2026-06")
    resit = cashin("FSE2", SERIES)
    flags = flags_of("FS_ENGLISH", cashin("FSE2", "2026-06"), resit, failed)
    assert flags.assessment == codes.FAILED
    (problem,) = flags.problems
    assert "A re-sit is entered for June 2027" in problem.issue
    assert "in June 2026" in problem.issue
    assert problem.action == codes.ACTION_FS_RESIT_ENTERED
    assert "Make new" not in problem.action
    assert problem.severity == codes.ACTION


def test_it_asks_for_new_entries_when_the_resit_series_is_over_without_a_result() -> None:
    # Entered for January 2027 and absent: its results day has passed with no result.
    failed = result("FSE2", "FAIL", published_on=d_before(TODAY), series="2026-06")
    flags = flags_of("FS_ENGLISH", cashin("FSE2", "2026-06"), cashin("FSE2", "2027-01"), failed)
    (problem,) = flags.problems
    assert "re-sit is entered" not in problem.issue
    assert problem.action == codes.ASSESSMENT_FLAG_INFO[codes.FAILED].action
    assert problem.severity == codes.URGENT


def test_it_asks_for_new_entries_when_no_resit_is_entered() -> None:
    failed = result("FSE2", "FAIL", published_on=TODAY)
    (problem,) = flags_of("FS_ENGLISH", cashin("FSE2"), failed).problems
    assert problem.action == codes.ASSESSMENT_FLAG_INFO[codes.FAILED].action
    assert "re-sit is entered" not in problem.issue


def test_it_banks_a_pass_at_a_higher_level_than_needed() -> None:
    items = (
        cashin("FSE1"),
        result("FSE2", "PASS", published_on=d_before(TODAY), series="2026-06"),
        result("FSE1", "FAIL", published_on=TODAY),
    )
    assert flags_of("FS_ENGLISH", *items, level="F").assessment == codes.PASSED


def test_it_ignores_a_level_1_pass_for_a_higher_diploma() -> None:
    passed = result("FSE1", "PASS", published_on=TODAY)
    flags = flags_of("FS_ENGLISH", cashin("FSE1"), passed, level="H")
    assert (flags.entry, flags.assessment) == (codes.MISSING, None)
    flags = flags_of("FS_ENGLISH", cashin("FSE1"), passed, level="F")
    assert (flags.entry, flags.assessment) == (codes.ELIGIBLE, codes.PASSED)


@pytest.mark.parametrize(
    ("status", "expected", "deadline", "severity"),
    [
        pytest.param(vq(claimed_on=TODAY), codes.SUBMITTED, None, None, id="verified, claimed"),
        pytest.param(vq(), codes.DUE, LAST_CLAIM_DAY, codes.ACTION, id="verified, not claimed"),
        pytest.param(vq(verified=False), codes.OVERDUE, None, codes.URGENT, id="not verified"),
        pytest.param(None, codes.OVERDUE, None, codes.URGENT, id="no status"),
    ],
)
def test_it_flags_a_vq_by_verification_and_claim(status, expected, deadline, severity) -> None:
    items = (cashin("BTECS3"), status) if status else (cashin("BTECS3"),)
    flags = flags_of("ASL", *items)
    assert (flags.entry, flags.assessment, flags.deadline) == (codes.ELIGIBLE, expected, deadline)
    assert [p.severity for p in flags.problems] == ([severity] if severity else [])
    for problem in flags.problems:
        assert problem.element == "Certification claim for BTECS3"
        assert problem.deadline == deadline


@pytest.mark.parametrize(
    ("today", "expected", "severity"),
    [
        pytest.param(LAST_CLAIM_DAY, codes.DUE, codes.ACTION, id="the day before: due"),
        pytest.param(CLAIM_DEADLINE, codes.OVERDUE, codes.URGENT, id="on the deadline: late"),
        pytest.param(CLAIM_DEADLINE + ONE_DAY, codes.OVERDUE, codes.URGENT, id="after it"),
    ],
)
def test_it_wants_claims_before_the_claim_deadline(today, expected, severity) -> None:
    flags = flags_of("ASL", cashin("BTECS3"), vq(), today=today)
    assert (flags.assessment, flags.deadline) == (expected, LAST_CLAIM_DAY)
    (problem,) = flags.problems
    assert (problem.flag, problem.severity) == (expected, severity)
    if expected == codes.DUE:
        assert "claim before 5 July 2027" in problem.issue
    else:
        assert "the claim deadline (5 July 2027) has passed" in problem.issue
        assert problem.action == codes.ACTION_CLAIM_OVERDUE
        assert problem.action.startswith("The claim deadline has passed: claim")


def test_it_takes_the_claim_deadline_the_feed_gives() -> None:
    cat = catalogue(claim_deadlines={SERIES: datetime.date(2027, 6, 20)})
    data = learner(cashin("BTECS3"), vq())
    assert evaluate(data, cat, datetime.date(2027, 6, 19)).component("ASL").assessment == "due"
    assert evaluate(data, cat, datetime.date(2027, 6, 20)).component("ASL").assessment == (
        "overdue"
    )


def test_it_takes_the_claim_deadline_of_the_entry_series_without_an_award_series() -> None:
    assert flags_of("ASL", cashin("BTECS3"), vq(), award="").deadline == LAST_CLAIM_DAY
    # Not delivered yet: the default deadline of that series, the day before 5 July 2028.
    later = flags_of("ASL", cashin("BTECS3", "2028-06"), vq(), award="")
    assert later.deadline == datetime.date(2028, 7, 4)
    assert flags_of("ASL", cashin("BTECS3", "2028-03"), vq(), award="").deadline is None


def test_it_takes_the_award_series_deadline_even_before_that_series_is_delivered() -> None:
    # The award series is two years on and not in the catalogue yet: a claim is not overdue
    # because the series it was entered in has passed its deadline.
    flags = flags_of(
        "ASL", cashin("BTECS3"), vq(), award="2029-06", today=datetime.date(2028, 1, 1)
    )
    assert (flags.assessment, flags.deadline) == (codes.DUE, datetime.date(2029, 7, 4))


def test_it_lets_the_worst_of_vq_and_centre_marks_win() -> None:
    items = (cashin("BTECS3"), vq(), unit_entry("PHY2"))
    assert flags_of("ASL", *items, today=CLOSES + ONE_DAY).assessment == codes.OVERDUE
    assert flags_of("ASL", *items, today=OPENS - ONE_DAY).assessment == codes.DUE
    submitted = (cashin("BTECS3"), vq(claimed_on=TODAY), unit_entry("PHY2"))
    assert flags_of("ASL", *submitted, today=OPENS - ONE_DAY).assessment == codes.NOT_OPEN


# --- 4.5 problems ---------------------------------------------------------------------------


def test_it_sorts_problems_most_urgent_first_then_by_deadline() -> None:
    data = learner(
        cashin("DPL3ENG"),
        unit_entry("ENG301"),
        unit_entry("ENG302", "2028-01"),  # no window: not-open, info
        unit_entry("ENG303"),  # overdue on the day after closing
        cashin("BTECS3"),
        vq(),  # due, deadline 5 July
    )
    flags = evaluate(data, CATALOGUE, CLOSES + ONE_DAY)
    problems = flags.problems
    severities = [codes.SEVERITY_RANK[p.severity] for p in problems]
    assert severities == sorted(severities)
    assert problems[0].flag == codes.OVERDUE
    assert problems[-1].flag == codes.NOT_OPEN
    assert len(problems) == sum(len(c.problems) for c in flags.components)
    # The window not yet open is shown for planning, not counted as a thing to do.
    assert flags.problem_count == len(problems) - 1
    actions = [p for p in problems if p.severity == codes.ACTION]
    dated = [p.deadline for p in actions if p.deadline]
    assert dated == sorted(dated)
    # Undated problems of one severity follow the dated ones.
    assert actions.index(next(p for p in actions if p.deadline is None)) >= len(dated)


def test_it_does_not_count_a_window_not_yet_open_as_a_problem() -> None:
    flags = run(*full_cashin("DPL3ENG"), today=OPENS - ONE_DAY)
    pl = flags.component("PL")
    assert pl.assessment == codes.NOT_OPEN
    assert {p.severity for p in pl.problems} == {codes.INFO}
    assert flags.problem_count == len([p for p in flags.problems if p.severity != codes.INFO])
    assert flags.problem_count == len(flags.problems) - len(pl.problems)


def test_it_gives_complete_and_eligible_components_without_flags_to_chase_no_problems() -> None:
    flags = run(*full_cashin("DPL3ENG"), mark("ENG302"), mark("ENG303"), das("WEX"))
    assert flags.component("PL").problems == ()
    assert flags.component("WEX").problems == ()


# --- 4.6 points, grades, ASL % ------------------------------------------------------------


def test_it_ships_default_thresholds_from_the_pl_points_scale() -> None:
    assert dict(CATALOGUE.thresholds["A"]) == {
        "A*": 132,
        "A": 110,
        "B": 88,
        "C": 66,
        "D": 44,
        "E": 22,
    }
    assert dict(CATALOGUE.thresholds["P"]) == dict(CATALOGUE.thresholds["A"])
    assert dict(CATALOGUE.thresholds["H"]) == {"A*": 96, "A": 80, "B": 64, "C": 48}
    assert dict(CATALOGUE.thresholds["F"]) == {"A*": 60, "A": 50, "B": 40}


def test_it_lets_the_feed_replace_thresholds_grade_by_grade() -> None:
    cat = catalogue((GradeThresholdInfo("A", "E", 20), GradeThresholdInfo("A", "A*", 130)))
    assert dict(cat.thresholds["A"]) == {"A*": 130, "A": 110, "B": 88, "C": 66, "D": 44, "E": 20}


@pytest.mark.parametrize(
    ("results", "points", "grade"),
    [
        pytest.param((), 0, None, id="no results: no grade"),
        # 180 GLH: 6 points a step; A = 5 steps = 30; scaled 30 × 660 / 180 = 110 = A.
        pytest.param((("ENG301", "A", None),), 30, "A", id="one unit, A"),
        pytest.param((("ENG301", "B", None),), 24, "B", id="one unit, B (88 exactly)"),
        pytest.param((("ENG301", "A", 29),), 29, "B", id="feed points win (106.3)"),
        pytest.param((("ENG301", "U", None),), 0, "U", id="a fail earns nothing"),
        pytest.param((("ENG301", "E", None),), 6, "E", id="E: 22 exactly"),
        pytest.param(
            (("ENG301", "A*", None), ("ENG302", "A*", None), ("ENG303", "A*", None)),
            108,
            "A*",
            id="all PL at A*",
        ),
        pytest.param(
            (("ENG301", "A", None), ("PRJ301", "C", None)),
            30 + 12,
            "B",
            id="PL and project: 42 × 660 / 300 = 92.4",
        ),
        pytest.param((("ENG301", "PASS", None),), 0, "U", id="a grade off the scale"),
    ],
)
def test_it_estimates_the_advanced_grade_from_points_so_far(results, points, grade) -> None:
    items = [result(code, g, published_on=TODAY, points=p) for code, g, p in results]
    flags = run(*items)
    assert (flags.points, flags.grade) == (points, grade)
    assert flags.grade_is_estimate is (grade is not None)


def test_it_reads_the_full_points_straight_against_the_thresholds() -> None:
    units = ("ENG301", "ENG302", "ENG303", "PRJ301")
    flags = run(*(result(u, "A*", published_on=TODAY) for u in units))
    assert (flags.points, flags.grade, flags.grade_is_estimate) == (132, "A*", True)
    flags = run(*(result(u, "E", published_on=TODAY) for u in units))
    assert (flags.points, flags.grade) == (22, "E")


def test_it_counts_only_published_results_of_this_diplomas_pl_and_project() -> None:
    items = (
        result("ENG301", "A", published_on=TODAY + ONE_DAY),  # not yet published
        result("CAM301", "A", published_on=TODAY),  # another line's PL
        result("PHY1", "A", published_on=TODAY),  # ASL earns no Diploma points
        result("FSE2", "PASS", published_on=TODAY),
    )
    flags = run(*items)
    assert (flags.points, flags.grade, flags.grade_is_estimate) == (0, None, False)


def test_it_counts_a_resit_once_at_its_best() -> None:
    earlier = result("ENG301", "A", published_on=d_before(TODAY), series="2026-06")
    later = result("ENG301", "C", published_on=TODAY)
    flags = run(earlier, later)
    assert (flags.points, flags.grade) == (30, "A")


def test_it_grades_foundation_units_on_the_foundation_scale() -> None:
    # ENG101: 120 GLH, 4 points a step; Foundation is A*–B, so a C earns nothing.
    assert run(result("ENG101", "B", published_on=TODAY), level="F").points == 16
    assert run(result("ENG101", "C", published_on=TODAY), level="F").points == 0


@pytest.mark.parametrize(
    ("results", "points"),
    [
        pytest.param((("PRJ3", "B", None),), 16, id="project cash-in grade: 120 GLH, B = 4 steps"),
        pytest.param((("PRJ3", "B", 18),), 18, id="project cash-in with the feed's points"),
        pytest.param((("PRJ3", "A", None), ("PRJ301", "C", None)), 12, id="a unit result wins"),
        pytest.param((("PRJ3", "U", None),), 0, id="a failed project earns nothing"),
        pytest.param((("DPL3ENG", "A", None),), 0, id="a PL cash-in grade earns nothing"),
        pytest.param((("PRJ2", "A", None),), 0, id="another level's project"),
    ],
)
def test_it_gives_the_project_grade_its_points_when_no_unit_result_does(results, points) -> None:
    items = [result(code, g, published_on=TODAY, points=p) for code, g, p in results]
    flags = run(*items)
    assert flags.points == points


def test_it_estimates_a_grade_from_a_project_cash_in_grade() -> None:
    flags = run(result("PRJ3", "A", published_on=TODAY))
    # 120 GLH at A (5 steps) = 20 points; scaled 20 × 660 / 120 = 110 = A.
    assert (flags.points, flags.grade, flags.grade_is_estimate) == (20, "A", True)


def test_it_shows_the_das_diploma_grade_as_final() -> None:
    flags = run(result("ENG301", "E", published_on=TODAY), das("PLTS", grade="B"))
    assert (flags.grade, flags.grade_is_estimate) == ("B", False)
    assert flags.points == 6


@pytest.mark.parametrize(
    ("row", "level", "percent"),
    [
        (None, "A", 0),
        (das("ASL", complete=False, asl_glh=180), "A", 50),
        (das("ASL", complete=False, asl_glh=359), "A", 99),
        (das("ASL", complete=True, asl_glh=500), "A", 100),
        (das("ASL", complete=True), "A", 100),
        pytest.param(das("ASL", complete=True, asl_glh=100), "A", 100, id="complete says 100"),
        (das("ASL", complete=False, asl_glh=60), "F", 50),
        (das("ASL", complete=False, asl_glh=90), "H", 50),
        (das("ASL", complete=False, asl_glh=400), "P", None),
    ],
)
def test_it_works_out_asl_percent_complete_capped_at_100(row, level, percent) -> None:
    items = (row,) if row else ()
    assert run(*items, level=level).asl_percent_complete == percent
