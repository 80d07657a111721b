"""Throttles on everything that sends email or checks a password, per client address and
per account, with a plain "try again in N minutes" page.

Counted in the shared cache (Redis in production) by django-ratelimit, in fixed windows.
Every POST counts, valid or not: a guess that fails validation is still a guess. Accounts
are counted by their canonical address or id, so spelling one differently counts the same.
"""

import functools
import ipaddress
import math
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django_ratelimit.core import get_usage

from base.clientaddress import client_address

from .identity import canonical_email_or_none


def rates(group: str) -> tuple[str, str | None]:
    """(per client address, per account), from settings.THROTTLE_RATES."""
    return tuple(settings.THROTTLE_RATES[group])


def posted_address(request: HttpRequest) -> str | None:
    """The account a form is about, by the address typed into it."""
    return canonical_email_or_none(request.POST.get("email", ""))


def signed_in_account(request: HttpRequest) -> str | None:
    return str(request.user.pk) if request.user.is_authenticated else None


def address_key(request: HttpRequest) -> str:
    """The client address as throttles count it: an IPv6 client is its /64 network, which
    one household or office is given whole."""
    address = client_address(request)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def over(
    request: HttpRequest, group: str, kind: str, value: str, rate: str, count: bool = True
) -> int | None:
    """Seconds until the window ends when this attempt is one too many (or, not counting,
    when the limit is already reached); None while within it."""
    usage = get_usage(
        request,
        group=f"{group}:{kind}",
        key=lambda _group, _request: value,
        rate=rate,
        increment=count,
    )
    if usage is None:
        return None
    # Counting, this attempt is one too many; looking only, the limit is already used up.
    if not (usage["should_limit"] if count else usage["count"] >= usage["limit"]):
        return None
    return max(int(usage["time_left"]), 1)


def waiting_time(request: HttpRequest, group: str, account: str) -> int | None:
    """Seconds to wait when the account has used up the group's attempts, without counting
    one: for limits that count only failures (count_failure)."""
    return over(request, group, "account", account, rates(group)[1], count=False)


def count_failure(request: HttpRequest, group: str, account: str) -> None:
    over(request, group, "account", account, rates(group)[1])


def address_waiting_time(request: HttpRequest, group: str) -> int | None:
    return over(request, group, "address", address_key(request), rates(group)[0], count=False)


def count_address_failure(request: HttpRequest, group: str) -> None:
    over(request, group, "address", address_key(request), rates(group)[0])


def too_many(request: HttpRequest, seconds: int) -> HttpResponse:
    minutes = math.ceil(seconds / 60)
    response = render(request, "429.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def throttled(group: str, account: Callable[[HttpRequest], str | None] | None = None):
    """Refuse a POST beyond the group's rates, per client address and (given how to tell
    the account) per account."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "POST":
                wait = throttle_post(request, group, account)
                if wait:
                    return too_many(request, wait)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def throttle_post(
    request: HttpRequest, group: str, account: Callable[[HttpRequest], str | None] | None = None
) -> int | None:
    """Count this attempt per address and per account; seconds to wait if over a limit."""
    per_address, per_account = rates(group)
    waits = [over(request, group, "address", address_key(request), per_address)]
    key = account(request) if account is not None else None
    if key is not None and per_account is not None:
        waits.append(over(request, group, "account", key, per_account))
    waits = [wait for wait in waits if wait is not None]
    return max(waits) if waits else None


class FailedSignInLimit:
    """Every sign-in form (ours and the admin's): an address that has failed too often,
    whatever the names it tried, waits before a password is checked again; each check costs a
    deliberately slow hash. The failures are counted by accounts.signals."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.paths: frozenset[str] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.paths is None:
            self.paths = frozenset((reverse("login"), reverse("admin:login")))
        if request.method == "POST" and request.path in self.paths:
            wait = address_waiting_time(request, "sign-in")
            if wait:
                return too_many(request, wait)
        return self.get_response(request)
