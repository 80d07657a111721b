"""The home page: the user's centres, the snapshot's age and the readiness picture, and the
access requests waiting on them or on their centres."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import AccessRequest, Membership
from accounts.permissions import reads_every_centre, visible_centres
from accounts.permissions import roles as roles_of
from flags.snapshot import current_run
from screens.cohort import is_stale
from screens.readiness import BAR_WIDTH, legend, readiness


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
    return render(
        request,
        "home.html",
        {
            "run": run,
            "reads_every_centre": every_centre,
            "stale": is_stale(run),
            "readiness": readiness([centre for centre, _ in centres[:20]], run=run),
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
