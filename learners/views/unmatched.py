from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.permissions import centre_for
from learners.identifiers import is_valid_uln
from learners.models import Entry

PAGE_SIZE = 100


def reason(uln: str) -> str:
    """Why an entry could not be matched to a learner, in the centre's words."""
    if not uln:
        return "No ULN was given"
    if uln == "9999999999":
        return "A placeholder ULN (9999999999) was given"
    if not is_valid_uln(uln):
        return "The ULN is not valid: its check digit is wrong"
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
            "series": series,
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
