"""Properties of the flag rules over generated learners (hypothesis)."""

import dataclasses
import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from flags import codes
from flags.inputs import (
    CASHIN,
    UNIT,
    DASInput,
    EntryInput,
    LearnerData,
    LearnerInput,
    MarkInput,
    NonEdexcelInput,
    ResultInput,
    VQStatusInput,
)
from flags.rules import LearnerFlags, evaluate
from learners import diploma

from .builders import CATALOGUE, QUALIFICATIONS, UNITS

SERIES = ("2026-06", "2027-01", "2027-06", "2028-01")
START = datetime.date(2026, 1, 1)
DAYS = 900
# No example database: the tests leave nothing behind in the working tree.
PROPERTY = settings(max_examples=150, deadline=None, database=None)

dates = st.integers(0, DAYS).map(lambda n: START + datetime.timedelta(days=n))
entry_keys = st.one_of(
    st.sampled_from([(CASHIN, q.code, q.code, None) for q in QUALIFICATIONS]),
    st.sampled_from([(UNIT, u.code, u.qualification, u.code) for u in UNITS]),
)
result_targets = st.one_of(
    st.sampled_from([(q.code, q.code, None) for q in QUALIFICATIONS]),
    st.sampled_from([(u.code, u.qualification, u.code) for u in UNITS]),
)


@st.composite
def learners(draw: st.DrawFn) -> LearnerData:
    level = draw(st.sampled_from(tuple(diploma.LEVELS)))
    line = draw(st.sampled_from(("ENG", "CAM")))
    entries = {
        (series, kind, code): EntryInput(series, kind, code, qual, unit, "12345")
        for series, (kind, code, qual, unit) in draw(
            st.lists(st.tuples(st.sampled_from(SERIES), entry_keys), max_size=14)
        )
    }
    results = {
        (series, code): ResultInput(
            series,
            code,
            qual,
            unit,
            draw(st.sampled_from(diploma.RESULT_GRADES)),
            draw(st.none() | st.integers(0, 40)),
            draw(dates),
        )
        for series, (code, qual, unit) in draw(
            st.lists(st.tuples(st.sampled_from(SERIES), result_targets), max_size=6)
        )
    }
    marks = {
        (series, unit): MarkInput(series, unit, draw(dates))
        for series, unit in draw(
            st.lists(
                st.tuples(st.sampled_from(SERIES), st.sampled_from([u.code for u in UNITS])),
                max_size=4,
            )
        )
    }
    statuses = {
        q: VQStatusInput(q, draw(st.booleans()), draw(st.none() | dates), draw(st.none() | dates))
        for q in draw(st.lists(st.sampled_from(["BTECS3"]), max_size=1))
    }
    grade = draw(st.sampled_from(["", "", "A", "C"]))
    das = {
        c: DASInput(c, draw(st.booleans()), draw(st.none() | st.integers(0, 400)), grade)
        for c in draw(st.lists(st.sampled_from(diploma.COMPONENTS), max_size=8))
    }
    non_edexcel = tuple(
        NonEdexcelInput(c, "600/0000/1")
        for c in draw(st.lists(st.sampled_from(diploma.QUALIFICATION_COMPONENTS), max_size=2))
    )
    award = draw(st.sampled_from(("", *SERIES)))
    return LearnerData(
        LearnerInput("9276308686", level, line, None, award),
        tuple(entries.values()),
        tuple(marks.values()),
        tuple(results.values()),
        tuple(statuses.values()),
        tuple(das.values()),
        non_edexcel,
    )


def evaluate_on(data: LearnerData, today: datetime.date) -> LearnerFlags:
    return evaluate(data, CATALOGUE, today)


@PROPERTY
@given(learners(), dates)
def test_it_only_ever_gives_flags_from_the_defined_sets(data, today) -> None:
    flags = evaluate_on(data, today)
    assert [c.component for c in flags.components] == list(
        diploma.LEVELS[data.learner.level].components
    )
    for component in flags.components:
        assert component.entry in codes.ENTRY_FLAGS
        assert component.assessment is None or component.assessment in codes.ASSESSMENT_FLAGS
        for problem in component.problems:
            assert problem.component == component.component
            assert problem.severity in codes.SEVERITIES
            assert problem.flag in codes.FLAGS
            assert problem.action and problem.issue and problem.element
    # Lines shown for information (a window not open yet) are not things to do.
    assert flags.problem_count == sum(
        p.severity != codes.INFO for c in flags.components for p in c.problems
    )
    assert flags.grade is None or flags.grade in (*diploma.LETTER_GRADES, "C", "A")
    if flags.asl_percent_complete is not None:
        assert 0 <= flags.asl_percent_complete <= 100


@PROPERTY
@given(learners(), dates)
def test_it_always_lets_complete_on_the_das_win(data, today) -> None:
    flags = evaluate_on(data, today)
    done = {row.component for row in data.das if row.complete}
    for component in flags.components:
        if component.component in done:
            assert component.entry == codes.COMPLETE
            assert component.assessment is None
            assert component.problems == ()


@PROPERTY
@given(learners(), dates)
def test_it_never_makes_the_entry_flag_worse_for_a_missing_mandatory_unit_entry(
    data, today
) -> None:
    before = evaluate_on(data, today)
    entered = {e.unit for e in data.entries if e.unit}
    cashed = sorted({e.qualification for e in data.entries if e.kind == CASHIN})
    for qual in cashed:
        for unit in CATALOGUE.mandatory_units[qual]:
            if unit in entered:
                continue
            extra = EntryInput("2027-06", UNIT, unit, qual, unit, "12345")
            more = dataclasses.replace(data, entries=(*data.entries, extra))
            after = evaluate_on(more, today)
            for old, new in zip(before.components, after.components, strict=True):
                assert codes.ENTRY_RANK[new.entry] >= codes.ENTRY_RANK[old.entry], (unit, old)


@PROPERTY
@given(learners(), dates)
def test_it_leaves_a_component_without_problems_only_when_nothing_needs_doing(data, today) -> None:
    # other-cab raises no problem: its action is that nothing else is needed with us.
    for component in evaluate_on(data, today).components:
        if not component.problems:
            assert component.entry in (codes.COMPLETE, codes.ELIGIBLE, codes.OTHER_CAB)
            assert component.assessment in (None, codes.SUBMITTED, codes.PASSED)


@PROPERTY
@given(learners(), dates)
def test_it_sorts_every_problem_list_most_urgent_first(data, today) -> None:
    flags = evaluate_on(data, today)
    for problems in (flags.problems, *(c.problems for c in flags.components)):
        keys = [p.sort_key()[:2] for p in problems]
        assert keys == sorted(keys)


@PROPERTY
@given(learners(), dates, st.sampled_from(SERIES), st.sampled_from(["FAIL", "X", "U"]))
def test_it_never_lets_a_fail_undo_a_functional_skills_pass(data, today, series, grade) -> None:
    # FSE2 (level 2) is valid for every level: a published pass of it is always banked.
    passed = ResultInput("2026-06", "FSE2", "FSE2", None, "PASS", None, START)
    with_pass = dataclasses.replace(data, results=(*data.results, passed))
    fails = tuple(ResultInput(series, q, q, None, grade, None, today) for q in ("FSE1", "FSE2"))
    with_fails = dataclasses.replace(with_pass, results=(*with_pass.results, *fails))
    for flags in (evaluate_on(with_pass, today), evaluate_on(with_fails, today)):
        english = flags.component("FS_ENGLISH")
        assert english.assessment == (None if english.entry == codes.COMPLETE else codes.PASSED)


@PROPERTY
@given(learners(), dates, st.randoms(use_true_random=False))
def test_it_does_not_depend_on_the_order_of_its_input(data, today, random) -> None:
    def shuffled(items: tuple) -> tuple:
        items = list(items)
        random.shuffle(items)
        return tuple(items)

    mixed = dataclasses.replace(
        data,
        entries=shuffled(data.entries),
        marks=shuffled(data.marks),
        results=shuffled(data.results),
        vq_statuses=shuffled(data.vq_statuses),
        das=shuffled(data.das),
        non_edexcel=shuffled(data.non_edexcel),
    )
    assert evaluate_on(mixed, today) == evaluate_on(data, today)
