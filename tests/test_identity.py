"""One canonical address per mailbox, compared exactly everywhere (issue: look-alike emails).

PostgreSQL's UPPER('ı') is 'I', so a case-insensitive comparison in the database took
`teacher@ıvybridge.example` for `teacher@ivybridge.example`. These tests run on both
databases; on PostgreSQL they failed before addresses were compared canonically.
"""

import importlib
import shutil
from pathlib import Path

import pytest
from django.apps import apps
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.identity import ascii_email, canonical_email
from accounts.models import Membership, User
from learners.feed.importer import import_delivery

from .factories import UserFactory

pytestmark = pytest.mark.django_db

REAL = "teacher@ivybridge.example"
LOOK_ALIKE = "teacher@ıvybridge.example"  # a dotless ı
PASSWORD = "a long enough password 1"


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("Teacher@IvyBridge.Example", REAL),
        ("  teacher@ivybridge.example.  ", REAL),
        ("ｔｅａｃｈｅｒ@ivybridge.example", REAL),  # full-width letters: NFKC
        ("Straße@bücher.example", "strasse@xn--bcher-kva.example"),
        (LOOK_ALIKE, "teacher@xn--vybridge-skb.example"),
    ],
)
def test_it_gives_each_mailbox_one_canonical_address(typed, canonical):
    assert canonical_email(typed) == canonical


def test_a_look_alike_domain_is_another_address():
    assert canonical_email(LOOK_ALIKE) != canonical_email(REAL)
    assert ascii_email(LOOK_ALIKE) == "teacher@xn--vybridge-skb.example"


def _register(client: Client, email: str, first: str = "Terry") -> None:
    client.post(
        reverse("register"),
        {
            "first_name": first,
            "last_name": "Teacher",
            "email": email,
            "organisation": "Ivybridge LA",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )


def test_a_grant_to_the_real_address_never_reaches_a_look_alike(client, administrator, centre):
    _register(Client(), LOOK_ALIKE, first="Squatter")
    User.objects.filter(email=LOOK_ALIKE).update(is_active=True)
    client.force_login(administrator)

    response = client.post(
        reverse("grant_role", args=[centre.number]), {"email": REAL, "role": "viewer"}
    )

    assert "No one has registered with that email address" in response.content.decode()
    assert not Membership.objects.filter(user__email=LOOK_ALIKE).exists()


def test_the_real_person_registers_despite_a_look_alike(client):
    _register(Client(), LOOK_ALIKE, first="Squatter")
    mail.outbox.clear()

    _register(client, REAL)

    assert User.objects.filter(email_key=canonical_email(REAL)).exists()
    [message] = mail.outbox
    assert message.to == [REAL]  # their confirmation, not an "already registered" to the other
    assert "confirm" in message.body.lower()


def test_registering_a_known_address_in_another_case_is_the_same_account(client):
    _register(Client(), REAL)
    mail.outbox.clear()

    _register(client, "TEACHER@IvyBridge.example")

    assert User.objects.count() == 1
    [message] = mail.outbox
    assert message.to == [REAL]


def test_a_reset_for_the_real_address_never_mails_the_look_alike(client):
    UserFactory(username="squatter", email=LOOK_ALIKE)
    UserFactory(username="teacher", email=REAL)

    client.post(reverse("password_reset"), {"email": REAL})

    assert [m.to for m in mail.outbox] == [[REAL]]


def test_signing_in_by_address_compares_it_canonically(client):
    real = UserFactory(username="t.teacher", email=REAL, password=PASSWORD)
    UserFactory(username="squatter", email=LOOK_ALIKE, password=PASSWORD)

    signed_in = client.post(
        reverse("login"), {"username": "Teacher@IVYBRIDGE.example", "password": PASSWORD}
    )
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(real.pk)

    other = Client()
    other.post(reverse("login"), {"username": REAL.upper(), "password": "wrong " + PASSWORD})
    assert "_auth_user_id" not in other.session


def test_the_feed_refuses_a_centre_user_with_another_accounts_address(tmp_path):
    UserFactory(username="registered", email="Exams@Northgate.Example.org")
    delivery = tmp_path / "delivery"
    shutil.copytree(Path(__file__).parent / "data" / "valid_delivery", delivery)

    outcome = import_delivery(delivery)

    assert not outcome.imported
    assert [str(e) for e in outcome.errors] == [
        "centre_users.csv:2: email: already the address of another account"
    ]


def test_manage_users_shows_a_look_alike_domain_as_the_dns_knows_it(client, administrator, centre):
    squatter = UserFactory(username="squatter", email=LOOK_ALIKE)
    Membership.objects.create(user=squatter, centre=centre, role="viewer")
    client.force_login(administrator)

    text = client.get(reverse("manage_users", args=[centre.number])).content.decode()

    assert "teacher@xn--vybridge-skb.example" in text
    assert LOOK_ALIKE not in text


def test_a_grant_matching_two_accounts_is_refused(client, administrator, centre):
    # Two accounts that shared an address before canonical keys existed keep no key.
    first = UserFactory(username="first", email=REAL)
    second = UserFactory(username="second", email="someone@else.example")
    User.objects.filter(pk__in=[first.pk, second.pk]).update(email_key=None)
    User.objects.filter(pk=second.pk).update(email="Teacher@Ivybridge.example.")
    client.force_login(administrator)

    response = client.post(
        reverse("grant_role", args=[centre.number]), {"email": REAL, "role": "viewer"}
    )

    assert "More than one account uses that email address" in response.content.decode()
    assert not Membership.objects.filter(user__in=[first, second]).exists()


def test_the_migration_keys_every_account_but_those_sharing_an_address():
    migration = importlib.import_module("accounts.migrations.0003_email_key")
    UserFactory(username="alone", email="Alone@Example.org")
    twins = [UserFactory(username=f"twin{n}", email=f"twin{n}@example.org") for n in (0, 1)]
    User.objects.update(email_key=None)
    User.objects.filter(username="twin1").update(email="TWIN0@example.org.")

    migration.fill_email_keys(apps, None)

    keys = dict(User.objects.values_list("username", "email_key"))
    assert keys["alone"] == "alone@example.org"
    assert [keys[t.username] for t in twins] == [None, None]
