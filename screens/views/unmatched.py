from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.permissions import centre_for
from base.identifiers import PLACEHOLDER_ULN, uln_problem
from learners.diploma import series_name
from learners.models import Entry

PAGE_SIZE = 100


def reason(uln: str) -> str:
    """Why an entry could not be matched to a learner, in the centre's words."""
    if not uln:
        return "No ULN was given"
    if uln == PLACEHOLDER_ULN:
        return f"A placeholder ULN ({PLACEHOLDER_ULN}) was given"
    problem = uln_problem(uln)
    if problem:
        return f"The ULN is not valid: it {problem}"
    return "No learner with this ULN is registered with us as DAB"


def unmatched_entries(request: HttpRequest, number: str) -> HttpResponse:
    centre = centre_for(request.user, number)
    entries = (
        Entry.objects.filter(centre=centre, learner=None)
        .order_by("-received_at", "candidate_number", "code")
        .values_list(
            "candidate_number",
            "uln",
            "forename",
            "surname",
            "series_id",
            "kind",
            "code",
            "received_at",
        )
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "candidate_number": c,
            "uln": u,
            "name": f"{f} {s}".strip(),
            "series": series_name(series),
            "kind": "Cash-in" if kind == Entry.Kind.CASHIN else "Unit entry",
            "code": code,
            "received_at": received,
            "reason": reason(u),
        }
        for c, u, f, s, series, kind, code, received in page.object_list
    ]
    return render(
        request,
        "learners/unmatched.html",
        {"centre": centre, "page": page, "rows": rows},
    )
