import datetime
import re

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, User
from learners.feed.importer import import_delivery

from .factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


def sign_in(client, username, password=PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_it_signs_in_and_records_it(client):
    UserFactory(username="pat")

    response = sign_in(client, "pat")

    assert response.status_code == 302
    assert AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN).actor_name == "pat"


def test_it_records_a_failed_sign_in_without_the_password(client):
    UserFactory(username="pat")

    response = sign_in(client, "pat", "wrong password")

    assert response.status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert event.subject == "pat"
    assert event.actor is None
    assert "wrong password" not in str(event.before) + str(event.after)


def test_it_throttles_repeated_failures_then_lets_the_user_in_after_the_cool_off(client):
    UserFactory(username="pat")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "pat", "wrong password")

    locked = sign_in(client, "pat")  # even the right password

    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    later = timezone.now() + settings.AXES_COOLOFF_TIME + datetime.timedelta(minutes=1)
    with time_machine.travel(later):
        assert sign_in(client, "pat").status_code == 302


def test_it_throttles_per_username_and_address_together(client):
    UserFactory(username="pat")
    UserFactory(username="sam")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "pat", "wrong password")

    # A colleague at the same school (same address) can still sign in.
    assert sign_in(client, "sam").status_code == 302


def test_a_session_ends_after_the_idle_time(client):
    user = UserFactory(username="pat")
    client.force_login(user)
    assert client.get(reverse("home")).status_code == 200

    idle = datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    with time_machine.travel(timezone.now() + idle):
        response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_changing_the_password_ends_other_sessions(client, django_user_model):
    from django.test import Client

    user = UserFactory(username="pat")
    elsewhere = Client()
    elsewhere.force_login(user)
    client.force_login(user)

    client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another long passphrase",
            "new_password2": "another long passphrase",
        },
    )

    assert client.get(reverse("home")).status_code == 200
    assert elsewhere.get(reverse("home")).status_code == 302


def test_password_reset_does_not_say_whether_an_address_exists(client):
    UserFactory(username="pat", email="pat@example.org")

    known = client.post(reverse("password_reset"), {"email": "pat@example.org"})
    unknown = client.post(reverse("password_reset"), {"email": "nobody@example.org"})

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert [m.to for m in mail.outbox] == [["pat@example.org"]]


def test_new_centre_users_from_the_feed_are_emailed_a_link_to_set_a_password(client, tmp_path):
    (tmp_path / "centres.csv").write_text("number,name\n12345,Northgate College\n")
    (tmp_path / "centre_users.csv").write_text(
        "username,email,first_name,last_name,centre\n"
        "northgate,exams@northgate.example.org,Pat,Officer,12345\n"
    )

    assert import_delivery(tmp_path).imported
    assert import_delivery(tmp_path).imported  # no second email

    [message] = mail.outbox
    assert message.to == ["exams@northgate.example.org"]
    assert "northgate" in message.body
    link = re.search(r"http://\S+", message.body).group(0).replace("http://127.0.0.1:8000", "")
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    client.post(
        form_page.request["PATH_INFO"],
        {"new_password1": "my own long passphrase", "new_password2": "my own long passphrase"},
    )
    assert User.objects.get(username="northgate").check_password("my own long passphrase")
    assert sign_in(client, "northgate", "my own long passphrase").status_code == 302


def test_a_centre_user_who_never_set_a_password_can_ask_for_the_link_again(client, tmp_path):
    (tmp_path / "centres.csv").write_text("number,name\n12345,Northgate College\n")
    (tmp_path / "centre_users.csv").write_text(
        "username,email,first_name,last_name,centre\n"
        "northgate,exams@northgate.example.org,Pat,Officer,12345\n"
    )
    import_delivery(tmp_path)
    mail.outbox.clear()

    client.post(reverse("password_reset"), {"email": "exams@northgate.example.org"})

    assert [m.to for m in mail.outbox] == [["exams@northgate.example.org"]]


def test_password_reset_links_use_the_sites_own_address(client, settings):
    settings.SITE_URL = "https://learnertracking.example.org"
    UserFactory(username="pat", email="pat@example.org")

    client.post(reverse("password_reset"), {"email": "pat@example.org"}, HTTP_HOST="localhost")

    assert "https://learnertracking.example.org/accounts/reset/" in mail.outbox[0].body
    assert "localhost" not in mail.outbox[0].body
