"""What changed overnight: each build against the one before (flags.changes), 14 days of it."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_tables2 import RequestConfig

from flags.models import SnapshotChange
from flags.snapshot import current_run
from screens import cohort
from screens.exports import CHANGES_HEADER, changes_csv_rows, stream_csv
from screens.filters import ChangesFilter, applied
from screens.lists import link_suffix
from screens.tables import ChangesTable
from screens.views.cohort import PAGINATE, record_export


def _filtered(request):
    run = current_run()
    filterset = ChangesFilter(
        request.GET,
        queryset=SnapshotChange.objects.all(),
        user=request.user,
        award_series=cohort.award_series_offered(run, request.user),
    )
    return run, filterset


def changes(request: HttpRequest) -> HttpResponse:
    run, filterset = _filtered(request)
    table = ChangesTable(filterset.qs)
    table.link_suffix = link_suffix(request)
    RequestConfig(request, paginate=PAGINATE).configure(table)
    return render(
        request,
        "learners/changes.html",
        {
            "run": run,
            "filter": filterset,
            "table": table,
            "export_query": request.GET.urlencode(),
            "filters_applied": applied(filterset),
        },
    )


def changes_export(request: HttpRequest) -> HttpResponse:
    _, filterset = _filtered(request)
    table = ChangesTable(filterset.qs)
    RequestConfig(request, paginate=False).configure(table)
    record_export(request, "changes.csv", filterset)
    return stream_csv("changes.csv", CHANGES_HEADER, changes_csv_rows(table.data.data))
