"""The address a request came from, as the reverse proxy in front of the app saw it."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind PROXY_COUNT proxies the address the
    outermost of ours appended to X-Forwarded-For.

    Each proxy appends the address it was reached from, so only the last PROXY_COUNT entries
    were written by us; anything to their left is whatever the client chose to send. A request
    that did not pass through all of our proxies is known by its direct peer.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.PROXY_COUNT
    if not count:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < count:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote
