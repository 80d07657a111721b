"""The home page: the user's centres, the snapshot's age and the readiness picture, and the
access requests waiting on them or on their centres."""

import hashlib

from django.core.cache import cache
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import AccessRequest, Membership
from accounts.permissions import reads_every_centre, visible_centres
from accounts.permissions import roles as roles_of
from flags.models import SnapshotChange
from flags.snapshot import current_run, snapshot_version
from screens.cohort import STALE_AFTER, is_stale
from screens.readiness import BAR_WIDTH, legend, readiness


def changes_since_last_build(run, numbers: list[str]) -> dict[str, dict[str, int]]:
    """Centre -> {"new": n, "resolved": m}: what the last build changed, in one query."""
    if run is None or not numbers:
        return {}
    # The same until the next build: worked out once a build per set of centres.
    key = (
        f"changes:{snapshot_version(run)}:"
        + hashlib.sha256(",".join(numbers).encode()).hexdigest()[:16]
    )
    counts = cache.get(key)
    if counts is None:
        counts = _count_changes(run, numbers)
        cache.set(key, counts, timeout=STALE_AFTER.total_seconds())
    return counts


def _count_changes(run, numbers: list[str]) -> dict[str, dict[str, int]]:
    said = {SnapshotChange.Kind.NEW_PROBLEM: "new", SnapshotChange.Kind.RESOLVED: "resolved"}
    counts: dict[str, dict[str, int]] = {}
    for centre, kind, n in (
        SnapshotChange.objects.filter(run=run, centre_id__in=numbers, kind__in=list(said))
        .values_list("centre_id", "kind")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts.setdefault(centre, {"new": 0, "resolved": 0})[said[kind]] = n
    return counts


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    my_roles = roles_of(user)
    every_centre = reads_every_centre(user)
    centres = (
        [
            (centre, my_roles.get(centre.number, Membership.Role.VIEWER))
            for centre in visible_centres(user)[:200]
        ]
        if not every_centre
        else []
    )
    administered = [
        number for number, role in my_roles.items() if role == Membership.Role.ADMINISTRATOR
    ]
    run = current_run()
    since = changes_since_last_build(run, [centre.number for centre, _ in centres])
    centres = [(centre, role, since.get(centre.number, {})) for centre, role in centres]
    return render(
        request,
        "home.html",
        {
            "run": run,
            "reads_every_centre": every_centre,
            "stale": is_stale(run),
            "readiness": readiness([centre for centre, _, _ in centres[:20]], run=run),
            "legend": legend(),
            "bar_width": BAR_WIDTH,
            "centres": centres,
            # By number only: a centre's name would tell whether the number exists.
            "my_requests": AccessRequest.objects.filter(
                user=user, status=AccessRequest.Status.PENDING
            ),
            "requests_to_decide": AccessRequest.objects.filter(
                centre_id__in=administered, status=AccessRequest.Status.PENDING
            ).count(),
        },
    )
