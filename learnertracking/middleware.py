from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render

from base.text import without_invisible


class NoStoreForSignedInUsers:
    """Pages for a signed-in user may show learners' personal data: never cache them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "Cache-Control" not in response:
            response["Cache-Control"] = "no-store, private"
        return response


class LimitRequestBody:
    """Refuses a request whose body is larger than anything the service accepts, before
    anything reads it: an anonymous 60 MB upload would otherwise be read in full (the CSRF
    check reads the form). The largest legitimate body is the bulk upload's file."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            return render(
                request,
                "413.html",
                {"limit_mb": settings.MAX_REQUEST_BYTES // (1024 * 1024)},
                status=413,
            )
        return self.get_response(request)


class CleanInput:
    """Takes bidirectional controls and invisible characters out of every submitted value
    (query string and form), whatever the form: text that cannot spoof is the rule for
    everything a person types (base.text). Passwords are left as typed: they are
    never shown, and one set before would stop working. A session cookie that is not a
    session key (a NUL in it was a 500 on PostgreSQL) is dropped before it is looked up."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if session is not None and not (session.isascii() and session.isalnum()):
            del request.COOKIES[settings.SESSION_COOKIE_NAME]
        request.GET = _cleaned(request.GET)
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            request.POST = _cleaned(request.POST)
        return self.get_response(request)


def _cleaned(data: QueryDict) -> QueryDict:
    def clean(key: str, value):
        if not isinstance(value, str) or "password" in key:
            return value
        return without_invisible(value)

    if all(clean(key, v) == v for key, values in data.lists() for v in values):
        return data
    cleaned = QueryDict(mutable=True)
    for key, values in data.lists():
        cleaned.setlist(without_invisible(key), [clean(key, v) for v in values])
    cleaned._mutable = False
    return cleaned


class ErrorTitle:
    """A page showing an error summary says so first in its title ("Error: …"), which is what
    a screen reader announces on load. Here once, for every form on every page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            not response.streaming
            and response.get("Content-Type", "").startswith("text/html")
            and b'class="error-summary"' in response.content
        ):
            response.content = response.content.replace(b"<title>", b"<title>Error: ", 1)
        return response
