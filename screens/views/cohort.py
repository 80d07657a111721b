"""Diploma Learner Overview and Diploma Learner Detail, read from the overnight snapshot."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_tables2 import RequestConfig

from accounts import audit
from accounts.models import AuditEvent, Membership
from accounts.permissions import roles, visible_centre_numbers
from flags.clock import today
from flags.snapshot import current_run
from screens import cohort
from screens.exports import (
    DETAIL_HEADER,
    OVERVIEW_HEADER,
    detail_csv_rows,
    overview_csv_rows,
    stream_csv,
)
from screens.filters import DetailFilter, OverviewFilter, applied
from screens.lists import link_suffix
from screens.tables import DetailTable, OverviewTable

PER_PAGE = 50


class _FixedPageSize(Paginator):
    """PER_PAGE rows a page, whatever `per_page` the query string gives django-tables2:
    a negative one was a server error, a huge one the whole cohort on one page."""

    def __init__(self, object_list, per_page, *args, **kwargs) -> None:
        super().__init__(object_list, PER_PAGE, *args, **kwargs)


PAGINATE = {"per_page": PER_PAGE, "paginator_class": _FixedPageSize}


def _filtered(request, filter_class, rows, run, late: tuple[int, ...]):
    filterset = filter_class(
        request.GET,
        queryset=rows,
        user=request.user,
        # From the Overview's rows even for the Detail: one row a learner, not a line a problem.
        award_series=cohort.award_series_offered(run, request.user),
        late_changes=late,
    )
    return filterset, filterset.qs


def _render(request, template, run, filterset, table) -> HttpResponse:
    return render(
        request,
        template,
        {
            "run": run,
            "stale": cohort.is_stale(run),
            "filter": filterset,
            "table": table,
            "export_query": request.GET.urlencode(),
            "no_role": visible_centre_numbers(request.user) == [],
            "administers": _administers(request.user),
            "filters_applied": applied(filterset),
            "sorted_by": _sorted_by(table),
        },
    )


def _administers(user) -> bool:
    return any(role == Membership.Role.ADMINISTRATOR for role in roles(user).values())


def _sorted_by(table) -> str:
    if not table.order_by:
        return ""
    alias = table.order_by[0]
    column = table.columns[alias.bare]
    return f"{column.header}, {'descending' if alias.is_descending else 'ascending'}"


def overview(request: HttpRequest) -> HttpResponse:
    run = current_run()
    late = cohort.late_changes(run)
    filterset, rows = _filtered(request, OverviewFilter, cohort.overview_rows(run), run, late)
    table = OverviewTable(rows)
    table.link_suffix = link_suffix(request)
    table.selectable = _administers(request.user)
    RequestConfig(request, paginate=PAGINATE).configure(table)
    # Read the page once, then mark components whose data arrived after the snapshot.
    records = [row.record for row in table.page.object_list] if table.page else []
    components = cohort.late_components(late, (r.uln for r in records))
    stale = cohort.stale_problems(
        run, components, ((r.uln, r.centre_id, r.surname) for r in records)
    )
    for record in records:
        record.late_components = components.get(record.uln, set())
        record.problems -= stale.get(record.uln, 0)
    return _render(request, "learners/overview.html", run, filterset, table)


def overview_export(request: HttpRequest) -> HttpResponse:
    run = current_run()
    late = cohort.late_changes(run)
    filterset, rows = _filtered(request, OverviewFilter, cohort.overview_rows(run), run, late)
    table = OverviewTable(rows)
    RequestConfig(request, paginate=False).configure(table)
    record_export(request, "overview.csv", filterset)
    return stream_csv(
        "overview.csv", OVERVIEW_HEADER, overview_csv_rows(table.data.data, run, late)
    )


def _detail_filtered(request, run):
    late = cohort.late_changes(run)
    lines = cohort.detail_lines(run, late)
    return _filtered(request, DetailFilter, lines, run, late)


def detail(request: HttpRequest) -> HttpResponse:
    run = current_run()
    filterset, lines = _detail_filtered(request, run)
    table = DetailTable(lines)
    table.link_suffix = link_suffix(request)
    table.today = today()
    RequestConfig(request, paginate=PAGINATE).configure(table)
    return _render(request, "learners/detail.html", run, filterset, table)


def detail_export(request: HttpRequest) -> HttpResponse:
    run = current_run()
    filterset, lines = _detail_filtered(request, run)
    table = DetailTable(lines)
    RequestConfig(request, paginate=False).configure(table)
    record_export(request, "detail.csv", filterset)
    return stream_csv("detail.csv", DETAIL_HEADER, detail_csv_rows(table.data.data))


# What an export's audit event keeps of its filters: the filters the page has, each value
# cut short; anything else in the address is not the export's business.
_FILTER_VALUE_KEPT = 40


def record_export(request, name: str, filterset) -> None:
    known = set(filterset.filters) | {"sort"}
    filters = {
        key: request.GET.get(key, "")[:_FILTER_VALUE_KEPT]
        for key in sorted(known & set(request.GET))
        if request.GET.get(key)
    }
    audit.record(request.user, AuditEvent.Action.EXPORTED, subject=name, after={"filters": filters})
