"""Granting, changing and revoking roles, and deciding access requests.

Each change and its audit event are written in one transaction. The rules: only a
centre's administrators manage its users (so no one grants above their own role), and
the last active centre-user administrator of a centre can be neither removed nor demoted.
"""

import functools
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import audit, emails
from .models import AccessRequest, AuditEvent, Centre, Membership, User
from .permissions import forget_roles


class RoleRuleBroken(Exception):
    """The change would break a rule; the message says which, in the user's words."""


class AlreadyDone(RoleRuleBroken):
    """Another click or another administrator got there first."""


def _lock_centre(actor: User, centre: str, membership: int | None = None) -> dict[int, Membership]:
    """What a change at a centre depends on, locked, always in one order (by id).

    Locked: the membership changed (if any), the actor's own role at the centre, and the
    centre's active centre-user administrators (whom the last-administrator rule counts). Two
    administrators changing each other's roles at once then queue rather than deadlock, and
    the second is refused, as it would be after the first, if it has just lost its role. A
    viewer's change does not wait for rows it does not depend on.
    """
    depends = Q(centre_id=centre, user_id=actor.pk)
    depends |= Q(
        centre_id=centre,
        is_centre_user=True,
        role=Membership.Role.ADMINISTRATOR,
        user__is_active=True,
    )
    if membership is not None:
        depends |= Q(pk=membership)
    locked = {
        m.pk: m
        for m in Membership.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(depends)
        .order_by("pk")
    }
    if not actor.is_staff and not any(
        m.user_id == actor.pk and m.role == Membership.Role.ADMINISTRATOR for m in locked.values()
    ):
        raise RoleRuleBroken("You are no longer an administrator of this centre.")
    return locked


def _locked(actor: User, membership: Membership) -> Membership:
    """The membership, locked with what its change depends on (_lock_centre)."""
    locked = _lock_centre(actor, membership.centre_id, membership.pk)
    if membership.pk not in locked:
        raise AlreadyDone("That role has already been removed.")
    return locked[membership.pk]


# What a role becomes: (centre, role, is_centre_user, the account is active).
State = tuple[str, str, bool, bool]


def centres_left_without_administrator(
    replaced: Iterable[int], after: Iterable[State]
) -> list[str]:
    """The last-administrator rule, the one copy of it: the centres that would have no active
    centre-user administrator if the stored memberships `replaced` (ids) gave way to the
    states `after` (a removed role has none; a new one has a state and no id).

    Only centres where a replaced role was a centre-user administrator are at stake. A
    deactivated account cannot sign in to manage the centre: it does not count.
    """
    replaced = [pk for pk in replaced if pk is not None]
    after = list(after)
    at_stake = set(
        Membership.objects.filter(
            pk__in=replaced, is_centre_user=True, role=Membership.Role.ADMINISTRATOR
        ).values_list("centre_id", flat=True)
    )
    broken = []
    for centre in sorted(at_stake):
        if any(
            c == centre and cu and role == Membership.Role.ADMINISTRATOR and active
            for c, role, cu, active in after
        ):
            continue
        others = Membership.objects.filter(
            centre_id=centre,
            is_centre_user=True,
            role=Membership.Role.ADMINISTRATOR,
            user__is_active=True,
        ).exclude(pk__in=replaced)
        if not others.exists():
            broken.append(centre)
    return broken


def _state(membership: Membership, **changes) -> State:
    values = {
        "centre": membership.centre_id,
        "role": membership.role,
        "is_centre_user": membership.is_centre_user,
        "active": membership.user.is_active,
        **changes,
    }
    return (values["centre"], values["role"], values["is_centre_user"], values["active"])


def centres_only_they_administer(user: User) -> list[str]:
    """Centres of which `user` is the last active centre-user administrator: deactivating or
    deleting the account would leave them with no one to manage their users."""
    return centres_left_without_administrator(
        Membership.objects.filter(user=user).values_list("pk", flat=True), []
    )


def grant(
    actor: User, centre: Centre, user: User, role: str, *, is_centre_user: bool = False
) -> Membership:
    with transaction.atomic():
        membership = Membership.objects.create(
            user=user, centre=centre, role=role, is_centre_user=is_centre_user
        )
        audit.record(
            actor,
            AuditEvent.Action.ROLE_GRANTED,
            centre=centre,
            subject=user.email or user.get_username(),
            after={"role": role},
        )
    forget_roles(actor, user)
    return membership


def change_role(
    actor: User, membership: Membership, role: str, *, is_centre_user: bool | None = None
) -> None:
    with transaction.atomic():
        membership = _locked(actor, membership)
        if is_centre_user is None:
            is_centre_user = membership.is_centre_user
        if (role, is_centre_user) == (membership.role, membership.is_centre_user):
            return
        after = _state(membership, role=role, is_centre_user=is_centre_user)
        if centres_left_without_administrator([membership.pk], [after]):
            raise RoleRuleBroken(
                "This is the centre's last centre-user administrator, who cannot be demoted."
            )
        before = membership.role
        membership.role, membership.is_centre_user = role, is_centre_user
        membership.save(update_fields=["role", "is_centre_user"])
        if before != role:
            audit.record(
                actor,
                AuditEvent.Action.ROLE_CHANGED,
                centre=membership.centre_id,
                subject=membership.user.email or membership.user.get_username(),
                before={"role": before},
                after={"role": role},
            )
    forget_roles(actor, membership.user)


def revoke(actor: User, membership: Membership) -> None:
    with transaction.atomic():
        membership = _locked(actor, membership)
        if centres_left_without_administrator([membership.pk], []):
            raise RoleRuleBroken(
                "This is the centre's last centre-user administrator, who cannot be removed."
            )
        audit.record(
            actor,
            AuditEvent.Action.ROLE_REVOKED,
            centre=membership.centre_id,
            subject=membership.user.email or membership.user.get_username(),
            before={"role": membership.role},
        )
        membership.delete()
    forget_roles(actor, membership.user)


def request_access(user: User, centre_number: str, role: str) -> AccessRequest:
    """Ask a centre, by number, for a role. Recorded the same whether or not a centre has the
    number (the audit event names the centre only when it exists)."""
    with transaction.atomic():
        access_request = AccessRequest.objects.create(user=user, centre_id=centre_number, role=role)
        centre = Centre.objects.filter(number=centre_number).first()
        audit.record(
            user,
            AuditEvent.Action.ACCESS_REQUESTED,
            centre=centre,
            subject=user.email or user.get_username(),
            after={"role": role, "centre": centre_number},
        )
        # Queued whether or not a centre has the number, so that nothing the requester sees
        # tells; the task tells the centre's administrators, if there is a centre.
        transaction.on_commit(
            functools.partial(emails.tell_administrators_of_request.delay, access_request.pk)
        )
    return access_request


def decide(actor: User, access_request: AccessRequest, approve: bool) -> None:
    """Approve (the requester gets the role asked for) or decline; the requester is emailed.

    The rules are checked now, not when the request was made: the requester may have been
    given a role meanwhile (perhaps as the centre's last centre-user administrator, whom an
    approval of "viewer" must not demote), and no one decides their own request.
    """
    with transaction.atomic():
        access_request = AccessRequest.objects.select_for_update().get(pk=access_request.pk)
        if access_request.status != AccessRequest.Status.PENDING:
            raise RoleRuleBroken("That request has already been decided.")
        if access_request.user_id == actor.pk:
            raise RoleRuleBroken(
                "You cannot decide your own request: another administrator of the centre must."
            )
        current = Membership.objects.filter(
            user_id=access_request.user_id, centre_id=access_request.centre_id
        ).first()
        locked = _lock_centre(actor, access_request.centre_id, current and current.pk)
        current = current and locked.get(current.pk)
        if (
            approve
            and current is not None
            and access_request.role != Membership.Role.ADMINISTRATOR
            and centres_left_without_administrator(
                [current.pk], [_state(current, role=access_request.role)]
            )
        ):
            raise RoleRuleBroken(
                "They are now the centre's last centre-user administrator, who cannot be made "
                "a viewer: decline the request instead."
            )
        access_request.status = (
            AccessRequest.Status.APPROVED if approve else AccessRequest.Status.DECLINED
        )
        access_request.decided_by = actor
        access_request.decided_at = timezone.now()
        access_request.save(update_fields=["status", "decided_by", "decided_at"])
        if approve and current is None:
            Membership.objects.create(
                user=access_request.user,
                centre_id=access_request.centre_id,
                role=access_request.role,
            )
        elif approve and current.role != access_request.role:
            current.role = access_request.role
            current.save(update_fields=["role"])
        audit.record(
            actor,
            AuditEvent.Action.ACCESS_APPROVED if approve else AuditEvent.Action.ACCESS_DECLINED,
            centre=access_request.centre,
            subject=access_request.user.email or access_request.user.get_username(),
            after={"role": access_request.role, "status": access_request.status},
        )
        transaction.on_commit(lambda: emails.send_decision(access_request))
    forget_roles(actor, access_request.user)
