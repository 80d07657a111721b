import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import AccessRequest, AuditEvent, Membership

from .factories import MembershipFactory, UserFactory

# The answer to "Are you sure?" (issue 19): removing takes it.
CONFIRMED = {"confirmed": "yes"}

pytestmark = pytest.mark.django_db


def page(number="12345"):
    return reverse("manage_users", args=[number])


def events(action):
    return list(AuditEvent.objects.filter(action=action))


def test_it_lists_members_pending_requests_and_history(client, centre_user, viewer, centre):
    requester = UserFactory(username="r@example.org", email="r@example.org", organisation="LA")
    AccessRequest.objects.create(user=requester, centre=centre, role="viewer")
    client.force_login(centre_user)

    response = client.get(page())

    text = response.content.decode()
    assert "exams@northgate.example.org" in text
    assert "viewer@consortium.example.org" in text
    assert "(centre user)" in text
    assert "r@example.org" in text


def test_it_grants_a_role_to_a_registered_user_and_records_it(client, centre_user, centre):
    newcomer = UserFactory(username="new@example.org", email="new@example.org")
    client.force_login(centre_user)

    response = client.post(
        reverse("grant_role", args=["12345"]), {"email": "NEW@example.org", "role": "viewer"}
    )

    assert response.status_code == 302
    assert Membership.objects.get(user=newcomer, centre=centre).role == "viewer"
    [event] = events(AuditEvent.Action.ROLE_GRANTED)
    assert (event.actor, event.centre_id, event.subject, event.after) == (
        centre_user,
        "12345",
        "new@example.org",
        {"role": "viewer"},
    )


def test_it_refuses_to_grant_to_someone_not_registered(client, centre_user):
    client.force_login(centre_user)

    response = client.post(
        reverse("grant_role", args=["12345"]), {"email": "ghost@example.org", "role": "viewer"}
    )

    assert response.status_code == 400
    assert "No one has registered with that email address" in response.content.decode()
    assert not events(AuditEvent.Action.ROLE_GRANTED)


def test_a_viewer_cannot_grant_any_role(client, viewer, no_centre):
    client.force_login(viewer)

    response = client.post(
        reverse("grant_role", args=["12345"]), {"email": no_centre.email, "role": "viewer"}
    )

    assert response.status_code == 403
    assert not Membership.objects.filter(user=no_centre).exists()
    assert not events(AuditEvent.Action.ROLE_GRANTED)


def test_an_administrator_of_another_centre_cannot_grant_here(
    client, other_centre, no_centre, centre
):
    outsider = UserFactory(username="otheradmin")
    MembershipFactory(user=outsider, centre=other_centre, role="administrator")
    client.force_login(outsider)

    response = client.post(
        reverse("grant_role", args=["12345"]), {"email": no_centre.email, "role": "administrator"}
    )

    assert response.status_code == 404
    assert not Membership.objects.filter(user=no_centre).exists()


def test_it_changes_a_role_and_records_before_and_after(client, administrator, viewer, centre):
    membership = Membership.objects.get(user=viewer, centre=centre)
    client.force_login(administrator)

    client.post(reverse("change_role", args=["12345", membership.pk]), {"role": "administrator"})

    membership.refresh_from_db()
    assert membership.role == "administrator"
    [event] = events(AuditEvent.Action.ROLE_CHANGED)
    assert (event.before, event.after) == ({"role": "viewer"}, {"role": "administrator"})


def test_it_revokes_a_role_and_records_it(client, administrator, viewer, centre):
    membership = Membership.objects.get(user=viewer, centre=centre)
    client.force_login(administrator)

    client.post(reverse("revoke_role", args=["12345", membership.pk]), CONFIRMED)

    assert not Membership.objects.filter(pk=membership.pk).exists()
    [event] = events(AuditEvent.Action.ROLE_REVOKED)
    assert event.before == {"role": "viewer"}


def test_it_answers_404_for_a_membership_of_another_centre(client, administrator, other_viewer):
    membership = Membership.objects.get(user=other_viewer)
    client.force_login(administrator)

    response = client.post(reverse("revoke_role", args=["12345", membership.pk]), CONFIRMED)

    assert response.status_code == 404
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_the_last_centre_user_administrator_cannot_be_removed(client, administrator, centre_user):
    membership = Membership.objects.get(user=centre_user)
    client.force_login(administrator)

    response = client.post(
        reverse("revoke_role", args=["12345", membership.pk]), CONFIRMED, follow=True
    )

    assert Membership.objects.filter(pk=membership.pk).exists()
    assert "last centre-user administrator" in response.content.decode()
    assert not events(AuditEvent.Action.ROLE_REVOKED)


def test_the_last_centre_user_administrator_cannot_be_demoted(client, centre_user):
    membership = Membership.objects.get(user=centre_user)
    client.force_login(centre_user)

    client.post(reverse("change_role", args=["12345", membership.pk]), {"role": "viewer"})

    membership.refresh_from_db()
    assert membership.role == "administrator"
    assert not events(AuditEvent.Action.ROLE_CHANGED)


def test_a_centre_user_administrator_can_go_when_another_remains(client, centre_user, centre):
    second = UserFactory(username="second")
    MembershipFactory(user=second, centre=centre, role="administrator", is_centre_user=True)
    membership = Membership.objects.get(user=second)
    client.force_login(centre_user)

    client.post(reverse("revoke_role", args=["12345", membership.pk]), CONFIRMED)

    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_a_deactivated_administrator_does_not_count_as_another(client, centre_user, centre):
    gone = UserFactory(username="gone", is_active=False)
    MembershipFactory(user=gone, centre=centre, role="administrator", is_centre_user=True)
    membership = Membership.objects.get(user=centre_user)
    client.force_login(centre_user)

    response = client.post(
        reverse("change_role", args=["12345", membership.pk]), {"role": "viewer"}, follow=True
    )

    membership.refresh_from_db()
    assert membership.role == "administrator"
    assert "last centre-user administrator" in response.content.decode()
    assert not events(AuditEvent.Action.ROLE_CHANGED)


def test_approving_a_request_grants_the_role_and_emails_the_requester(
    client, centre_user, centre, django_capture_on_commit_callbacks
):
    requester = UserFactory(username="r@example.org", email="r@example.org")
    access_request = AccessRequest.objects.create(user=requester, centre=centre, role="viewer")
    client.force_login(centre_user)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("decide_request", args=["12345", access_request.pk, "approve"]))

    access_request.refresh_from_db()
    assert access_request.status == "approved"
    assert access_request.decided_by == centre_user
    assert Membership.objects.get(user=requester, centre=centre).role == "viewer"
    [message] = mail.outbox
    assert message.to == ["r@example.org"]
    assert "approved" in message.subject
    assert events(AuditEvent.Action.ACCESS_APPROVED)


def test_declining_a_request_grants_nothing_and_emails_the_requester(
    client, centre_user, centre, django_capture_on_commit_callbacks
):
    requester = UserFactory(username="r@example.org", email="r@example.org")
    access_request = AccessRequest.objects.create(
        user=requester, centre=centre, role="administrator"
    )
    client.force_login(centre_user)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("decide_request", args=["12345", access_request.pk, "decline"]))

    access_request.refresh_from_db()
    assert access_request.status == "declined"
    assert not Membership.objects.filter(user=requester).exists()
    assert "declined" in mail.outbox[0].subject
    assert events(AuditEvent.Action.ACCESS_DECLINED)


def test_a_request_is_decided_once(client, centre_user, centre):
    requester = UserFactory(username="r@example.org", email="r@example.org")
    access_request = AccessRequest.objects.create(user=requester, centre=centre, role="viewer")
    client.force_login(centre_user)
    url = reverse("decide_request", args=["12345", access_request.pk, "approve"])

    client.post(url)
    client.post(url.replace("approve", "decline"))

    access_request.refresh_from_db()
    assert access_request.status == "approved"
    assert len(events(AuditEvent.Action.ACCESS_APPROVED)) == 1
    assert not events(AuditEvent.Action.ACCESS_DECLINED)


def test_audit_events_cannot_be_changed_or_deleted(client, administrator, viewer, centre):
    membership = Membership.objects.get(user=viewer, centre=centre)
    client.force_login(administrator)
    client.post(reverse("revoke_role", args=["12345", membership.pk]), CONFIRMED)
    event = AuditEvent.objects.get(action=AuditEvent.Action.ROLE_REVOKED)

    event.subject = "someone else"
    with pytest.raises(ValueError, match="never changed"):
        event.save()
    with pytest.raises(ValueError, match="never deleted"):
        event.delete()


def test_approving_gives_the_role_asked_for_even_to_a_member(client, centre_user, viewer, centre):
    access_request = AccessRequest.objects.create(user=viewer, centre=centre, role="administrator")
    client.force_login(centre_user)

    client.post(reverse("decide_request", args=["12345", access_request.pk, "approve"]))

    assert Membership.objects.get(user=viewer, centre=centre).role == "administrator"


def test_a_change_of_role_is_seen_by_the_next_check_in_the_same_request(
    administrator, centre, no_centre
):
    from accounts import roles
    from accounts.permissions import role_on, visible_centre_numbers

    assert visible_centre_numbers(no_centre) == []  # read, and kept for the request
    membership = roles.grant(administrator, centre, no_centre, "administrator")
    assert visible_centre_numbers(no_centre) == [centre.number]

    # Demoting oneself: the same user object is the one signed in.
    own = Membership.objects.get(user=administrator, centre=centre)
    assert role_on(administrator, centre.number) == "administrator"
    roles.change_role(administrator, own, "viewer")
    assert role_on(administrator, centre.number) == "viewer"

    # Leaving a centre oneself.
    roles.revoke(no_centre, Membership.objects.get(pk=membership.pk))
    assert visible_centre_numbers(no_centre) == []


def test_the_centres_administrators_are_told_of_a_request_for_access(
    client,
    no_centre,
    administrator,
    centre_user,
    viewer,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    gone = UserFactory(username="gone@example.org", email="gone@example.org", is_active=False)
    MembershipFactory(user=gone, centre=centre_user.memberships.get().centre, role="administrator")
    no_centre.first_name, no_centre.last_name, no_centre.organisation = (
        "Nia",
        "Newcomer",
        "Northshire LA",
    )
    no_centre.save()
    client.force_login(no_centre)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("request_access"), {"centre": "12345", "role": "viewer"})

    told = sorted(message.to[0] for message in mailoutbox)
    assert told == sorted([administrator.email, centre_user.email])  # not the viewer, not gone
    message = mailoutbox[0]
    assert message.subject == "Nia Newcomer asks for access to centre 12345"
    assert (
        "Northshire LA" in message.body and "viewer role at 12345 Northgate College" in message.body
    )
    assert "/centres/12345/users/" in message.body


def test_a_request_to_a_number_no_centre_has_tells_no_one(
    client, no_centre, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(no_centre)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("request_access"), {"centre": "99999", "role": "viewer"})

    assert response.status_code == 302
    assert mailoutbox == []
