from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.permissions import visible_centres
from base.identifiers import is_valid_uln
from learners.search import search_learners

PAGE_SIZE = 50


def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100]
    learners = search_learners(request.user, query).order_by("surname", "forename", "uln")
    if is_valid_uln(query.strip()):
        # A ULN names one learner: straight to their record, when they are there to open.
        only = list(learners.values_list("uln", flat=True)[:2])
        if len(only) == 1:
            return redirect("learner_record", uln=only[0])
    page = (
        Paginator(learners, PAGE_SIZE).get_page(request.GET.get("page")) if query.strip() else None
    )
    unmatched_at = (
        list(visible_centres(request.user).order_by("number")[:20])
        if page is not None and not page.paginator.count
        else []
    )
    return render(
        request,
        "learners/search.html",
        {"query": query, "page": page, "unmatched_at": unmatched_at},
    )
