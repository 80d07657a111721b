"""record_changes against a plain reading of its rule, on any two builds: every flag that
differs, and every problem (learner, component, element) one build has and the other lacks,
for learners in both builds; duplicates, learners in one build only, and a refresh's few."""

import datetime
from collections import Counter
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flags.changes import record_changes
from flags.models import DetailLine, OverviewRow, RebuildRun, SnapshotChange

pytestmark = pytest.mark.django_db

ULNS = ("1000000001", "1000000002", "1000000003")
FLAGS = ("", "missing", "entered")
line = st.tuples(
    st.sampled_from(ULNS),
    st.sampled_from(("PL", "PROJECT")),
    st.sampled_from(("Unit A", "Unit B", "")),
    st.sampled_from(("No entry.", "Late.")),
    st.booleans(),  # ready
    st.sampled_from(("action", "urgent", "info")),
)
build = st.fixed_dictionaries(
    {
        "learners": st.dictionaries(
            st.sampled_from(ULNS), st.tuples(st.sampled_from(FLAGS), st.sampled_from(FLAGS))
        ),
        "lines": st.lists(line, max_size=8),
    }
)


def _write(build: dict, day: datetime.date) -> RebuildRun:
    run = RebuildRun.objects.create(
        started_at=datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC), built_for=day
    )
    who = {"centre_id": "12345", "surname": "S", "forename": "F", "line": "IT", "level": "A"}
    for uln, (entry, assessment) in build["learners"].items():
        OverviewRow.objects.create(
            run=run, uln=uln, pl_entry=entry, pl_assessment=assessment, **who
        )
    for uln, component, element, issue, ready, severity in build["lines"]:
        DetailLine.objects.create(
            run=run,
            uln=uln,
            component=component,
            component_order=0,
            element=element,
            issue=issue,
            ready=ready,
            severity=severity,
            **who,
        )
    return run


def _expected(before: dict, after: dict, only: set[str] | None) -> Counter:
    both = set(before["learners"]) & set(after["learners"])
    found = Counter()
    for uln in both:
        for number, kind in enumerate(
            (SnapshotChange.Kind.ENTRY_FLAG, SnapshotChange.Kind.ASSESSMENT_FLAG)
        ):
            old, new = before["learners"][uln][number], after["learners"][uln][number]
            if old != new:
                found[(uln, "PL", kind.value, old, new)] += 1

    def problems(build: dict, of: set[str] | None) -> list[tuple]:
        return [
            (uln, component, element, issue)
            for uln, component, element, issue, ready, severity in build["lines"]
            if not ready and severity != "info" and (of is None or uln in of)
        ]

    old, new = problems(before, only), problems(after, None)
    old_keys, new_keys = {p[:3] for p in old}, {p[:3] for p in new}
    for uln, component, element, issue in new:
        if (uln, component, element) not in old_keys and uln in both:
            found[(uln, component, "new problem", "", f"{element}: {issue}")] += 1
    for uln, component, element, issue in old:
        if (uln, component, element) not in new_keys and uln in both:
            found[(uln, component, "resolved", f"{element}: {issue}", "")] += 1
    return found


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(before=build, after=build, refresh=st.booleans(), full_join=st.booleans())
def test_it_records_what_differs_between_any_two_builds(before, after, refresh, full_join):
    SnapshotChange.objects.all().delete()
    day = datetime.date(2026, 12, 1)
    previous, current = _write(before, day), _write(after, day)

    # Both forms of the problems' query, whichever this database would choose.
    with mock.patch("flags.changes.has_full_join", return_value=full_join):
        written = record_changes(previous, current, only_current_learners=refresh)

    # A refresh's build holds only its learners: their lines alone are compared.
    only = set(after["learners"]) if refresh else None
    expected = _expected(before, after, only)
    recorded = Counter(
        SnapshotChange.objects.filter(run=current).values_list(
            "uln", "component", "kind", "before", "after"
        )
    )
    assert recorded == expected
    assert written == sum(expected.values())
