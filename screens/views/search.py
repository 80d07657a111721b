from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from learners.search import search_learners

PAGE_SIZE = 50


def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100]
    learners = search_learners(request.user, query).order_by("surname", "forename", "uln")
    page = (
        Paginator(learners, PAGE_SIZE).get_page(request.GET.get("page")) if query.strip() else None
    )
    return render(request, "learners/search.html", {"query": query, "page": page})
