"""Asking before something that cannot be undone: the same URL shows the question (GET, or a
POST from a page that did not ask) and acts only on the answer."""

from collections.abc import Sequence

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def confirmed(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get("confirmed") == "yes"


def ask(
    request: HttpRequest, *, question: str, details: Sequence[str], action: str, cancel_url: str
) -> HttpResponse:
    return render(
        request,
        "confirm.html",
        {"question": question, "details": details, "action": action, "cancel_url": cancel_url},
    )
