import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import AccessRequest, AuditEvent, User

pytestmark = pytest.mark.django_db

GOOD = {
    "first_name": "Robin",
    "last_name": "Consort",
    "email": "Robin@Consortium.example.org",
    "organisation": "Northshire Consortium",
    "password1": "a perfectly long passphrase",
    "password2": "a perfectly long passphrase",
}


def link_in(message) -> str:
    return re.search(r"http://\S+", message.body).group(0).replace("http://127.0.0.1:8000", "")


def test_it_registers_an_inactive_account_and_emails_a_confirmation_link(client):
    response = client.post(reverse("register"), GOOD)

    assert response.status_code == 302
    assert response["Location"] == reverse("register_sent")
    user = User.objects.get(email="robin@consortium.example.org")
    assert not user.is_active
    assert user.organisation == "Northshire Consortium"
    [message] = mail.outbox
    assert message.to == ["robin@consortium.example.org"]

    page = client.get(link_in(message))
    user.refresh_from_db()
    assert page.status_code == 200 and not user.is_active  # following the link is not enough

    response = client.post(link_in(message), {"password": GOOD["password1"]})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active and user.confirmation_sent_at is None
    # The link is spent.
    assert client.get(link_in(message)).status_code == 400


def test_it_writes_names_in_emails_as_typed_not_as_html(client):
    client.post(
        reverse("register"), {**GOOD, "first_name": "Siobhán & <Co>", "last_name": "O'Brien"}
    )

    [message] = mail.outbox
    assert "Siobhán & <Co>" in message.body
    assert "&amp;" not in message.body and "&lt;" not in message.body


def test_it_does_not_reveal_that_an_address_is_registered(client, no_centre):
    response = client.post(reverse("register"), {**GOOD, "email": no_centre.email})

    assert response.status_code == 302
    assert response["Location"] == reverse("register_sent")
    assert User.objects.filter(email=no_centre.email).count() == 1
    [message] = mail.outbox
    assert "already have" in message.subject


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"password2": "something else entirely"}, "password2", "do not match"),
        ({"password1": "short", "password2": "short"}, "password1", "at least 12 characters"),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"organisation": ""}, "organisation", "required"),
    ],
)
def test_it_shows_errors_next_to_fields_and_in_a_summary(client, change, field, message):
    response = client.post(reverse("register"), {**GOOD, **change})

    assert response.status_code == 200
    assert message in response.context["form"].errors[field][0]
    text = response.content.decode()
    assert "There is a problem" in text
    assert f'href="#id_{field}"' in text
    assert not User.objects.exists()


def test_a_user_without_a_role_is_told_why_and_can_request_access(client, no_centre, centre):
    client.force_login(no_centre)

    home = client.get(reverse("home")).content.decode()
    assert "Why you see no learners yet" in home

    response = client.post(reverse("request_access"), {"centre": "12345", "role": "viewer"})

    assert response.status_code == 302
    access_request = AccessRequest.objects.get()
    assert (access_request.user, access_request.centre, access_request.role) == (
        no_centre,
        centre,
        "viewer",
    )
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ACCESS_REQUESTED).count() == 1
    home = client.get(reverse("home")).content.decode()
    assert "Viewer of centre 12345" in home
    assert "Northgate College" not in home  # a name would tell that the number exists


def test_it_refuses_a_centre_number_that_is_not_five_digits(client, no_centre, centre):
    client.force_login(no_centre)

    response = client.post(reverse("request_access"), {"centre": "1234", "role": "viewer"})

    assert "five digits" in response.context["form"].errors["centre"][0]
    assert not AccessRequest.objects.exists()


def test_it_refuses_a_second_request_while_one_is_pending(client, no_centre, centre):
    client.force_login(no_centre)
    client.post(reverse("request_access"), {"centre": "12345", "role": "viewer"})

    response = client.post(reverse("request_access"), {"centre": "12345", "role": "administrator"})

    assert "already asked" in response.context["form"].errors["centre"][0]
    assert AccessRequest.objects.count() == 1
