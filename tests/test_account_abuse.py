"""Issue 16, points 2-4 and 6: squatting an address, throttling behind the proxy,
registration timing, and the smaller holes. Each test failed before the fix."""

import datetime
import re
import shutil
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlsafe_base64_encode

from accounts import emails
from accounts.models import AccessRequest, AuditEvent, Membership, User
from accounts.tasks import delete_expired_unconfirmed_registrations
from learners.feed.importer import import_delivery

from .factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"
RATES = settings.THROTTLE_RATES
OWNERS = "a passphrase only the owner knows"
SQUATTERS = "a passphrase the squatter chose"


def register(client, email, password, first_name="Robin"):
    return client.post(
        reverse("register"),
        {
            "first_name": first_name,
            "last_name": "Consort",
            "email": email,
            "organisation": "Northshire Consortium",
            "password1": password,
            "password2": password,
        },
    )


def link_in(message) -> str:
    return re.search(r"http://\S+", message.body).group(0).replace("http://127.0.0.1:8000", "")


def sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


# --- 2. squatting an address ---------------------------------------------------------------


def test_the_owner_clicking_a_squatters_link_does_not_let_the_squatter_in(client):
    register(Client(), "teacher@ivybridge.example", SQUATTERS)
    [message] = mail.outbox

    # The owner follows the link: confirming needs the registration's password.
    refused = client.post(link_in(message), {"password": OWNERS})
    nothing = client.post(link_in(message))

    assert refused.status_code == nothing.status_code == 400
    assert "not the password" in refused.content.decode()
    assert not User.objects.get(email="teacher@ivybridge.example").is_active
    assert sign_in(Client(), "teacher@ivybridge.example", SQUATTERS).status_code == 200


def test_a_new_registration_replaces_an_unconfirmed_one_and_voids_its_link(client):
    register(Client(), "teacher@ivybridge.example", SQUATTERS, first_name="Squatter")
    register(client, "teacher@ivybridge.example", OWNERS, first_name="Owner")

    squatters, owners = mail.outbox
    assert "confirm" in owners.subject.lower()
    assert client.get(link_in(squatters)).status_code == 400
    assert client.post(link_in(owners), {"password": OWNERS}).status_code == 302
    user = User.objects.get(email="teacher@ivybridge.example")
    assert (user.first_name, user.is_active) == ("Owner", True)
    assert sign_in(Client(), "teacher@ivybridge.example", OWNERS).status_code == 302
    assert sign_in(Client(), "teacher@ivybridge.example", SQUATTERS).status_code == 200


def test_password_reset_works_for_an_unconfirmed_registration_and_confirms_it(client):
    register(Client(), "teacher@ivybridge.example", SQUATTERS)
    mail.outbox.clear()

    client.post(reverse("password_reset"), {"email": "teacher@ivybridge.example"})
    [message] = mail.outbox
    form = client.get(link_in(message), follow=True)
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": OWNERS, "new_password2": OWNERS}
    )

    assert done.status_code == 302
    assert sign_in(Client(), "teacher@ivybridge.example", OWNERS).status_code == 302
    assert sign_in(Client(), "teacher@ivybridge.example", SQUATTERS).status_code == 200
    assert User.objects.get(email="teacher@ivybridge.example").confirmation_sent_at is None


def test_it_sends_the_confirmation_again_and_says_the_same_for_any_address(client, viewer):
    register(Client(), "teacher@ivybridge.example", OWNERS)
    mail.outbox.clear()

    waiting = client.post(reverse("resend_confirmation"), {"email": "Teacher@IVYBRIDGE.example"})
    unknown = client.post(reverse("resend_confirmation"), {"email": "nobody@example.org"})
    confirmed = client.post(reverse("resend_confirmation"), {"email": viewer.email})

    assert waiting["Location"] == unknown["Location"] == confirmed["Location"]
    [message] = mail.outbox
    assert message.to == ["teacher@ivybridge.example"]
    assert client.post(link_in(message), {"password": OWNERS}).status_code == 302


def test_unconfirmed_registrations_are_deleted_after_the_links_lifetime(client, viewer):
    register(Client(), "teacher@ivybridge.example", SQUATTERS)
    deactivated = UserFactory(username="gone@example.org", is_active=False)
    lifetime = datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)

    with time_machine.travel(timezone.now() + lifetime - datetime.timedelta(minutes=5)):
        assert delete_expired_unconfirmed_registrations() == 0
    with time_machine.travel(timezone.now() + lifetime + datetime.timedelta(minutes=5)):
        assert delete_expired_unconfirmed_registrations() == 1

    assert not User.objects.filter(email="teacher@ivybridge.example").exists()
    assert set(User.objects.values_list("pk", flat=True)) == {viewer.pk, deactivated.pk}
    # The address is free: its owner registers and gets a confirmation.
    mail.outbox.clear()
    register(client, "teacher@ivybridge.example", OWNERS)
    assert "confirm" in mail.outbox[0].subject.lower()


@pytest.fixture
def delivery(tmp_path):
    folder = tmp_path / "delivery"
    shutil.copytree(Path(__file__).parent / "data" / "valid_delivery", folder)
    return folder


@pytest.mark.parametrize(
    "squatted",
    [
        {"username": "northgate", "email": "someone@example.org"},
        {"username": "exams@northgate.example.org", "email": "Exams@Northgate.example.org"},
    ],
    ids=["username", "email"],
)
def test_a_centre_user_in_the_feed_takes_over_an_unconfirmed_self_registration(delivery, squatted):
    UserFactory(**squatted, is_active=False, confirmation_sent_at=timezone.now())

    outcome = import_delivery(delivery)

    assert outcome.imported, [str(e) for e in outcome.errors]
    user = User.objects.get(email_key="exams@northgate.example.org")
    assert (user.username, user.is_active, user.has_usable_password()) == (
        "northgate",
        True,
        False,
    )
    assert Membership.objects.get(user=user).is_centre_user
    assert User.objects.count() == 1


# --- 3. throttling behind the proxy -------------------------------------------------------


def _behind_proxy(address: str, spoofed: str = "") -> dict:
    # The proxy (REMOTE_ADDR) appends the address it was reached from; a client may send
    # anything to the left of it.
    forwarded = f"{spoofed}, {address}" if spoofed else address
    return {"REMOTE_ADDR": "172.18.0.5", "HTTP_X_FORWARDED_FOR": forwarded}


@override_settings(PROXY_COUNT=1)
def test_two_clients_behind_one_proxy_are_throttled_apart(client):
    UserFactory(username="pat")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("login"),
            {"username": "pat", "password": "wrong password"},
            **_behind_proxy("198.51.100.7", spoofed=f"10.9.8.{attempt}"),
        )

    # The guesser is locked out whatever it writes into the header...
    locked = client.post(
        reverse("login"),
        {"username": "pat", "password": PASSWORD},
        **_behind_proxy("198.51.100.7", spoofed="203.0.113.99"),
    )
    assert locked.status_code == 429
    # ...and Pat, at another address behind the same proxy, is not.
    pat = Client().post(
        reverse("login"),
        {"username": "pat", "password": PASSWORD},
        **_behind_proxy("198.51.100.8"),
    )
    assert pat.status_code == 302


def _posts(name: str, user: User, newcomer_uid: str):
    """How each throttled form is sent: (url, data, signed-in user or None)."""
    return {
        "register": (
            reverse("register"),
            lambda email: {
                "first_name": "Robin",
                "last_name": "Consort",
                "email": email,
                "organisation": "LA",
                "password1": OWNERS,
                "password2": OWNERS,
            },
            None,
        ),
        "password-reset": (reverse("password_reset"), lambda email: {"email": email}, None),
        "resend-confirmation": (
            reverse("resend_confirmation"),
            lambda email: {"email": email},
            None,
        ),
        "change-password": (
            reverse("password_change"),
            lambda email: {
                "old_password": "wrong",
                "new_password1": OWNERS,
                "new_password2": OWNERS,
            },
            user,
        ),
        "request-access": (
            reverse("request_access"),
            lambda email: {"centre": "1234", "role": "viewer"},
            user,
        ),
        "confirm-email": (
            newcomer_uid,  # a real link (see _confirmation_link)
            lambda email: {"password": "a guess"},
            None,
        ),
    }[name]


def _confirmation_link(user: User) -> str:
    User.objects.filter(pk=user.pk).update(is_active=False, confirmation_sent_at=timezone.now())
    user.refresh_from_db()
    uid = urlsafe_base64_encode(b"%d" % user.pk)
    return reverse("confirm_email", args=[uid, emails.confirmation_tokens.make_token(user)])


# The calendar's is a token read by GET, not a form: tests/test_calendar.py limits it.
THROTTLED_FORMS = sorted(
    set(RATES) - {"sign-in", "calendar"} - {g for g in RATES if g.startswith("chat-")}
)


@pytest.mark.parametrize("group", THROTTLED_FORMS)
def test_every_form_that_sends_email_or_checks_a_password_is_throttled_per_account(
    group, no_centre
):
    url, data, signed_in = _posts(group, no_centre, "")
    if group == "confirm-email":
        url = _confirmation_link(UserFactory(username="pat@example.org"))
    limit = int(RATES[group][1].split("/")[0])
    responses = []
    for attempt in range(limit + 1):
        # A new address each time, and the account's address spelt differently each time:
        # only the account is the same.
        client = Client()
        if signed_in:
            client.force_login(signed_in)
        spelling = "".join(
            c.upper() if attempt >> i & 1 else c for i, c in enumerate("pat@example.org")
        )
        responses.append(client.post(url, data(spelling), REMOTE_ADDR=f"198.51.100.{attempt + 1}"))

    assert all(r.status_code != 429 for r in responses[:limit])
    refused = responses[-1]
    assert refused.status_code == 429
    minutes = int(re.search(r"Try again in (\d+) minute", refused.content.decode()).group(1))
    assert 1 <= minutes <= 60
    assert int(refused["Retry-After"]) == minutes * 60


@pytest.mark.parametrize("group", THROTTLED_FORMS)
def test_every_form_that_sends_email_or_checks_a_password_is_throttled_per_address(group):
    limit = int(RATES[group][0].split("/")[0])
    responses = []
    for attempt in range(limit + 1):
        # A new account each time: only the address is the same.
        user = UserFactory(username=f"user{attempt}@example.org")
        url, data, signed_in = _posts(group, user, "")
        if group == "confirm-email":
            url = _confirmation_link(user)
        client = Client()
        if signed_in:
            client.force_login(signed_in)
        responses.append(
            client.post(url, data(f"user{attempt}@example.org"), REMOTE_ADDR="198.51.100.1")
        )

    assert all(r.status_code != 429 for r in responses[:limit])
    assert responses[-1].status_code == 429
    assert "Try again in" in responses[-1].content.decode()


def test_a_stranger_cannot_use_up_the_owners_confirmation_attempts(client):
    register(Client(), "robin@example.org", OWNERS)
    user = User.objects.get(email="robin@example.org")
    uid = urlsafe_base64_encode(b"%d" % user.pk)
    for attempt in range(10):
        Client().post(
            reverse("confirm_email", args=[uid, f"made-up-{attempt}"]),
            {"password": "a guess"},
            REMOTE_ADDR=f"198.51.100.{attempt + 1}",
        )

    [message] = mail.outbox
    assert client.post(link_in(message), {"password": OWNERS}).status_code == 302


def test_failed_sign_ins_from_one_address_are_throttled_whatever_the_names(client):
    limit = int(RATES["sign-in"][0].split("/")[0])
    for attempt in range(limit):
        sign_in(client, f"random-{attempt}", "a guess")

    refused = sign_in(client, "another-random-name", "a guess")

    assert refused.status_code == 429
    assert "Try again in" in refused.content.decode()
    # Another address is not held up.
    assert sign_in(Client(REMOTE_ADDR="198.51.100.9"), "nobody", "x").status_code == 200


def test_spelling_an_address_differently_does_not_buy_more_guesses(client):
    UserFactory(username="pat", email="pat@example.org")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        spelling = "".join(
            c.upper() if attempt >> i & 1 else c for i, c in enumerate("pat@example.org")
        )
        sign_in(client, spelling, "wrong password")

    assert sign_in(client, "PAT@example.org", PASSWORD).status_code == 429
    assert sign_in(client, "pat", PASSWORD).status_code == 429


def test_a_failed_sign_in_records_the_account_not_what_was_typed(client):
    UserFactory(username="pat")
    sign_in(client, "my secret password", "x")
    sign_in(client, "pat", "wrong")

    subjects = list(
        AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_FAILED)
        .order_by("pk")
        .values_list("subject", flat=True)
    )
    assert subjects == ["(no such account)", "pat"]


# --- 4. registration timing ---------------------------------------------------------------


class CountingHasher(MD5PasswordHasher):
    algorithm = "counting-md5"
    hashed = 0

    def encode(self, password, salt):
        CountingHasher.hashed += 1
        return super().encode(password, salt)


@override_settings(PASSWORD_HASHERS=["tests.test_account_abuse.CountingHasher"])
@pytest.mark.parametrize("address", ["new@example.org", "known@example.org"])
def test_registering_a_new_or_a_known_address_does_the_same_work(client, address):
    UserFactory(username="known@example.org", email="known@example.org")
    CountingHasher.hashed = 0

    response = register(client, address, OWNERS)

    # One password hash (the slow step) and one email, whoever has the address.
    assert (response.status_code, CountingHasher.hashed, len(mail.outbox)) == (302, 1, 1)


# --- 6. smaller holes ---------------------------------------------------------------------


def test_approving_a_stale_request_cannot_demote_the_last_centre_user_administrator(
    client, centre, administrator
):
    requester = UserFactory(username="pat@example.org")
    AccessRequest.objects.create(user=requester, centre=centre, role="viewer")
    # Meanwhile the feed made them the centre's only centre user.
    MembershipFactory(user=requester, centre=centre, role="administrator", is_centre_user=True)
    pending = AccessRequest.objects.get()
    client.force_login(administrator)

    response = client.post(
        reverse("decide_request", args=[centre.number, pending.pk, "approve"]), follow=True
    )

    assert "last centre-user administrator" in response.content.decode()
    assert Membership.objects.get(user=requester).role == "administrator"
    assert AccessRequest.objects.get().status == "pending"


def test_no_one_decides_their_own_request(client, centre, administrator):
    pending = AccessRequest.objects.create(user=administrator, centre=centre, role="viewer")
    client.force_login(administrator)

    response = client.post(
        reverse("decide_request", args=[centre.number, pending.pk, "approve"]), follow=True
    )

    assert "cannot decide your own request" in response.content.decode()
    assert Membership.objects.get(user=administrator).role == "administrator"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.ACCESS_APPROVED).exists()


def test_a_deactivated_account_cannot_reactivate_itself_with_its_old_link(client):
    register(Client(), "robin@example.org", OWNERS)
    [message] = mail.outbox
    assert client.post(link_in(message), {"password": OWNERS}).status_code == 302
    # Staff deactivate the account before it ever signs in.
    User.objects.filter(email="robin@example.org").update(is_active=False)

    again = client.post(link_in(message), {"password": OWNERS})

    assert again.status_code == 400
    assert not User.objects.get(email="robin@example.org").is_active


def test_requesting_access_does_not_reveal_which_centre_numbers_exist(centre):
    def ask(number):
        client = Client()
        client.force_login(UserFactory(username=f"asks-{number}@example.org"))
        response = client.post(
            reverse("request_access"), {"centre": number, "role": "viewer"}, follow=True
        )
        page = re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", response.content.decode())
        return response.status_code, page.replace(number, "N")

    assert ask("12345") == ask("99999")
    assert AccessRequest.objects.count() == 2


@pytest.mark.parametrize(
    "name",
    ["Robin\nYour account is locked: visit evil.example", "Visit https://evil.example", "a@b.c"],
)
def test_the_confirmation_email_quotes_nothing_typed_but_a_name(client, name):
    response = register(client, "robin@example.org", OWNERS, first_name=name)

    assert response.status_code == 200
    assert "Enter a name only" in response.content.decode()
    assert not mail.outbox
