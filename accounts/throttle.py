"""Throttles on everything that sends email or checks a password, per client address and
per account, with a plain "try again in N minutes" page.

Counted in the shared cache (Redis in production) by django-ratelimit, in fixed windows.
Every POST counts, valid or not: a guess that fails validation is still a guess.
"""

import functools
import math
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django_ratelimit.core import get_usage

from learnertracking.clientaddress import client_address

from .identity import canonical_email_or_none

# (per client address, per account): generous for a school's staff behind one address,
# tight for one account.
RATES = {
    "register": ("20/h", "3/h"),
    "resend-confirmation": ("20/h", "3/h"),
    "password-reset": ("20/h", "3/h"),
    "confirm-email": ("20/h", "5/h"),
    "change-password": ("20/h", "5/h"),
    "request-access": ("30/h", "10/h"),
}


def posted_address(request: HttpRequest) -> str | None:
    """The account a form is about, by the address typed into it."""
    return canonical_email_or_none(request.POST.get("email", ""))


def signed_in_account(request: HttpRequest) -> str | None:
    return str(request.user.pk) if request.user.is_authenticated else None


def account_in_link(request: HttpRequest) -> str | None:
    """The account an emailed link is for, however its id is spelt in the link."""
    uidb64 = request.resolver_match.kwargs.get("uidb64", "") if request.resolver_match else ""
    try:
        return str(int(force_str(urlsafe_base64_decode(uidb64))))
    except (ValueError, TypeError, OverflowError):
        return uidb64


def _over(request: HttpRequest, group: str, kind: str, value: str, rate: str) -> int | None:
    """Seconds until the window ends when this attempt is one too many, else None."""
    usage = get_usage(
        request,
        group=f"{group}:{kind}",
        key=lambda _group, _request: value,
        rate=rate,
        increment=True,
    )
    if usage is None or not usage["should_limit"]:
        return None
    return max(int(usage["time_left"]), 1)


def too_many(request: HttpRequest, seconds: int) -> HttpResponse:
    minutes = math.ceil(seconds / 60)
    response = render(request, "429.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def throttled(group: str, account: Callable[[HttpRequest], str | None]):
    """Refuse a POST beyond the group's rates, per client address and per account."""
    per_address, per_account = RATES[group]

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "POST":
                waits = [_over(request, group, "address", client_address(request), per_address)]
                key = account(request)
                if key is not None:
                    waits.append(_over(request, group, "account", key, per_account))
                waits = [wait for wait in waits if wait is not None]
                if waits:
                    return too_many(request, max(waits))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
