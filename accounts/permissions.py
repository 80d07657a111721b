"""Who may see and change which centre: the one place that answers it.

A user holds a role on a centre through a Membership. Awarding-body support staff, who
hold the accounts.read_every_centre permission (being staff is not enough), may read every
centre, but administer only where they hold the administrator role.
Not holding any role on a centre answers 404, so that a guessed URL reveals nothing;
holding a role too weak for the action answers 403.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from base.identifiers import is_valid_centre_number

from .models import Centre, Membership

VIEWER = Membership.Role.VIEWER
ADMINISTRATOR = Membership.Role.ADMINISTRATOR


READ_EVERY_CENTRE = "accounts.read_every_centre"


def reads_every_centre(user) -> bool:
    """Support staff: staff accounts holding the permission, who may read every centre's
    learners (each record read is audited). Everyone else is answered without a query."""
    if not (user.is_authenticated and user.is_staff):
        return False
    cached = getattr(user, "_reads_every_centre", None)
    if cached is None:
        cached = user._reads_every_centre = user.has_perm(READ_EVERY_CENTRE)
    return cached


def roles(user) -> dict[str, str]:
    """Centre number -> role, for a signed-in user; read once per request."""
    if not user.is_authenticated:
        return {}
    cached = getattr(user, "_centre_roles", None)
    if cached is None:
        cached = dict(Membership.objects.filter(user=user).values_list("centre_id", "role"))
        user._centre_roles = cached
    return cached


def forget_roles(*users) -> None:
    """After a change of roles: the next check reads them again rather than from before."""
    for user in users:
        user.__dict__.pop("_centre_roles", None)


def role_on(user, centre_number: str) -> str | None:
    role = roles(user).get(centre_number)
    if role is None and reads_every_centre(user):
        return VIEWER
    return role


def visible_centre_numbers(user) -> list[str] | None:
    """The centres whose learners the user may see; None: every centre (staff).

    The one scope every learner query goes through; anonymous users see none. A list of
    numbers rather than a subquery: the planner then reads one centre's rows straight from
    the (run, centre, key) indexes instead of checking each row against the memberships.
    """
    if reads_every_centre(user):
        return None
    return sorted(roles(user))


def visible_centres(user) -> QuerySet[Centre]:
    """The centres whose learners the user may see."""
    if not user.is_authenticated:
        return Centre.objects.none()
    if reads_every_centre(user):
        return Centre.objects.all()
    return Centre.objects.filter(memberships__user=user)


def administered_centres(user) -> QuerySet[Centre]:
    if not user.is_authenticated:
        return Centre.objects.none()
    return Centre.objects.filter(memberships__user=user, memberships__role=ADMINISTRATOR)


def can_administer(user, centre_number: str) -> bool:
    return role_on(user, centre_number) == ADMINISTRATOR


def centre_for(user, number: str, *, administer: bool = False) -> Centre:
    """The centre, if the user holds a role on it: 404 when not, 403 when the role is too weak."""
    if not is_valid_centre_number(number):
        # No centre has such a number; and a NUL in it would make PostgreSQL refuse the query.
        raise Http404("No such centre")
    role = role_on(user, number)
    if role is None:
        raise Http404("No such centre")
    if administer and role != ADMINISTRATOR:
        raise PermissionDenied("Only the centre's administrators can do this.")
    try:
        return Centre.objects.get(number=number)
    except Centre.DoesNotExist:
        raise Http404("No such centre") from None
