import csv
import datetime
import io

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from flags.snapshot import rebuild
from screens.exports import OVERVIEW_HEADER

from .builders import learner_with_everything
from .factories import EntryFactory, LearnerFactory, SeriesFactory, UnitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cohort(centre, other_centre):
    learners = {
        "rich": learner_with_everything(centre),
        "ada": LearnerFactory(
            centre=centre, surname="Adams", forename="Ada", level="F", line_id="IT", award_series=""
        ),
        "zed": LearnerFactory(
            centre=centre, surname="Zephyr", forename="Zed", level="P", award_series="2011-06"
        ),
        "other": LearnerFactory(centre=other_centre, surname="Elsewhere"),
    }
    rebuild()
    return learners


def rows(client, url="overview", **params):
    response = client.get(reverse(url), params)
    assert response.status_code == 200
    return response, [row.record for row in response.context["table"].page.object_list]


def export(client, url="overview_export", **params):
    response = client.get(reverse(url), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_it_lists_only_the_learners_of_the_users_centres(client, viewer, cohort):
    client.force_login(viewer)

    response, records = rows(client)

    assert {r.uln for r in records} == {cohort[k].uln for k in ("rich", "ada", "zed")}
    text = response.content.decode()
    assert "Built overnight — data as of" in text
    # The record opened from here leads back to this list (issue 19).
    assert f'href="/learners/{cohort["ada"].uln}/?list=%2Foverview%2F"' in text
    assert 'data-component="PL" data-kind="entry" data-flag="eligible"' in text
    assert 'aria-sort="ascending"' in text  # sorted by learner name by default


def test_it_sorts_by_name_problems_and_a_components_status(client, viewer, cohort):
    client.force_login(viewer)

    _, by_name = rows(client)
    _, by_name_desc = rows(client, sort="-name")
    _, by_pl = rows(client, sort="pl")

    assert [r.surname for r in by_name] == sorted(r.surname for r in by_name)
    assert [r.surname for r in by_name_desc] == sorted((r.surname for r in by_name), reverse=True)
    assert by_pl[-1].uln == cohort["rich"].uln  # eligible sorts after missing (worst first)


def test_it_filters_by_level_line_award_date_and_flag(client, viewer, cohort):
    client.force_login(viewer)

    assert [r.uln for r in rows(client, level="F")[1]] == [cohort["ada"].uln]
    assert [r.uln for r in rows(client, line="IT")[1]] == [cohort["ada"].uln]
    assert [r.uln for r in rows(client, award="none")[1]] == [cohort["ada"].uln]
    assert [r.uln for r in rows(client, award="2011-06")[1]] == [cohort["zed"].uln]
    upto = {r.uln for r in rows(client, award_upto="2010-06")[1]}
    assert upto == {cohort["rich"].uln}
    eligible_pl = rows(client, component="PL", flag="eligible")[1]
    assert [r.uln for r in eligible_pl] == [cohort["rich"].uln]
    any_other_cab = rows(client, flag="other-cab")[1]
    assert [r.uln for r in any_other_cab] == [cohort["rich"].uln]


def test_it_offers_only_the_users_centres_and_award_dates(client, viewer, cohort):
    client.force_login(viewer)

    form = rows(client)[0].context["filter"].form

    assert [v for v, _ in form.fields["centre"].choices if v] == ["12345"]
    assert [v for v, _ in form.fields["award"].choices if v] == ["2010-06", "2011-06", "none"]


def test_a_centre_filter_for_another_centre_is_refused(client, viewer, cohort):
    client.force_login(viewer)
    response = client.get(reverse("overview"), {"centre": "54321"})
    assert response.context["filter"].form.errors["centre"]


def test_it_exports_exactly_the_contract_columns_with_the_filters(client, viewer, cohort):
    client.force_login(viewer)

    table = export(client, level="P")

    assert tuple(table[0]) == OVERVIEW_HEADER
    assert table[0][:7] == ["uln", "surname", "forename", "centre", "line", "level", "award_series"]
    # DOMAIN.md 8's columns end with these; ASL % comes after them (issue 19).
    assert table[0][-5:] == ["problems", "points", "grade", "grade_is_estimate", "asl_percent"]
    [zed] = table[1:]
    record = dict(zip(table[0], zed, strict=True))
    assert record["uln"] == cohort["zed"].uln
    assert record["award_series"] == "2011-06"
    assert record["ASL_entry"] == "" and record["ASL_assessment"] == ""  # Progression
    assert record["PL_entry"] == "missing"
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.EXPORTED, actor__isnull=False
    ).exists()


def test_exports_defuse_spreadsheet_formulas(client, viewer, centre):
    LearnerFactory(centre=centre, surname='=HYPERLINK("http://x")', forename="@SUM(A1)")
    rebuild()
    client.force_login(viewer)

    [_, row] = export(client)

    assert row[1] == '\'=HYPERLINK("http://x")'
    assert row[2] == "'@SUM(A1)"


def test_the_detail_lists_problems_and_hides_ready_components_by_default(client, viewer, cohort):
    client.force_login(viewer)

    _, problems = rows(client, "detail")
    _, everything = rows(client, "detail", show_ready="on")

    assert problems and all(not line.ready for line in problems)
    assert any(line.ready for line in everything)
    assert {line.uln for line in problems} <= {cohort[k].uln for k in ("rich", "ada", "zed")}
    detail = export(client, "detail_export")
    assert detail[0][:4] == ["uln", "surname", "forename", "centre"]
    assert len(detail) - 1 == rows(client, "detail")[0].context["table"].paginator.count


def test_it_sorts_the_detail_by_deadline(client, viewer, cohort, centre):
    from learners.models import MarkWindow

    today = timezone.localdate()
    series = SeriesFactory(code=f"{today.year + 1}-06")
    for n, days in enumerate((20, 5, 40)):
        unit = UnitFactory(code=f"ENG3{50 + n}", qualification__code="DPL3ENG", centre_marked=True)
        MarkWindow.objects.create(
            series=series,
            unit=unit,
            opens_on=today - datetime.timedelta(days=1),
            closes_on=today + datetime.timedelta(days=days),
        )
        EntryFactory(
            centre=centre, unit=unit, series=series, learner=cohort["rich"], uln=cohort["rich"].uln
        )
    rebuild()
    client.force_login(viewer)
    _, lines = rows(client, "detail", sort="deadline")
    deadlines = [line.deadline for line in lines]
    dated = [d for d in deadlines if d]
    assert dated and dated == sorted(dated)
    assert deadlines == dated + [None] * (len(deadlines) - len(dated))  # undated last


def test_it_says_when_the_snapshot_is_old(client, viewer, cohort):
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=27)):
        client.force_login(viewer)
        response = client.get(reverse("overview"))
    assert b"This data may be out of date" in response.content


def test_it_explains_an_overview_never_built(client, viewer, centre):
    client.force_login(viewer)
    response = client.get(reverse("overview"))
    assert b"has not run yet" in response.content


@pytest.mark.parametrize("learners", [1, 60])
def test_the_overview_takes_the_same_queries_for_1_row_and_50(
    client, viewer, centre, learners, django_assert_max_num_queries
):
    for n in range(learners):
        LearnerFactory(centre=centre, surname=f"Learner{n:03d}")
    rebuild()
    client.force_login(viewer)
    with django_assert_max_num_queries(12):
        client.get(reverse("overview"), {"sort": "-problems", "level": "A"})
    with django_assert_max_num_queries(12):
        client.get(reverse("detail"), {"sort": "deadline"})


def test_it_reads_the_centre_list_only_where_it_is_needed(client, viewer, cohort):
    """The filters' centre list is read once for a page, and not at all for an export that
    does not filter by centre (the list is never shown there)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(viewer)

    def centre_lists(url, **params) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse(url), params)
            if response.streaming:
                b"".join(response.streaming_content)
        return sum('"accounts_centre"."name"' in q["sql"] for q in queries.captured_queries)

    assert centre_lists("overview", centre="12345") == 1
    assert centre_lists("detail", centre="12345") == 1
    assert centre_lists("overview_export") == 0
    assert centre_lists("detail_export") == 0
    assert centre_lists("overview_export", centre="12345") == 1
