"""Issue 16: signing in with the awarding body's account, end to end against a real OpenID
Connect provider (the npm package oidc-provider) started on loopback by the test."""

import json
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.test import override_settings

from accounts.models import Membership
from accounts.oidc import AwardingBodyBackend, provider_metadata
from tests.factories import CentreFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PROVIDER = ROOT / "tests" / "oidc" / "provider.mjs"
OURS = ("learner-tracking", "our-secret-for-tests-only")
THEIRS = ("another-service", "their-secret-for-tests-only")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def provider(live_server):
    if not shutil.which("node") or not (ROOT / "node_modules" / "oidc-provider").exists():
        pytest.skip("needs node and the npm package oidc-provider (npm ci)")
    port = _free_port()
    callback = f"{live_server.url}/accounts/sso/callback/"
    clients = [
        {
            "client_id": client_id,
            "client_secret": secret,
            "redirect_uris": [callback],
            "post_logout_redirect_uris": [f"{live_server.url}/accounts/login/"],
        }
        for client_id, secret in (OURS, THEIRS)
    ]
    process = subprocess.Popen(
        ["node", str(PROVIDER)],  # noqa: S607
        env={"PORT": str(port), "CLIENTS": json.dumps(clients), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        csp = {**settings.CONTENT_SECURITY_POLICY}
        csp["DIRECTIVES"] = {**csp["DIRECTIVES"], "form-action": ["'self'", issuer]}
        with override_settings(
            OIDC_ENABLED=True,
            OIDC_OP_ISSUER=issuer,
            OIDC_RP_CLIENT_ID=OURS[0],
            OIDC_RP_CLIENT_SECRET=OURS[1],
            SITE_URL=live_server.url,
            CONTENT_SECURITY_POLICY=csp,
        ):
            yield issuer
    finally:
        process.terminate()
        process.wait(10)
        provider_metadata.cache_clear()


@pytest.fixture
def centre_user(db):
    centre = CentreFactory(number="12345", name="Northgate College")
    user = UserFactory(username="northgate", email="exams@northgate.example.org")
    user.set_unusable_password()
    user.save()
    MembershipFactory(user=user, centre=centre, role="administrator", is_centre_user=True)
    return user


def _sign_in_at_provider(page, username: str) -> None:
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", "anything")
    page.click("button[type=submit]")


def _start(page) -> None:
    page.goto("/accounts/login/")
    page.click("text=Sign in with your awarding body account")


def test_a_centre_user_signs_in_and_out_with_the_awarding_body(new_page, provider, centre_user):
    page = new_page()
    _start(page)
    _sign_in_at_provider(page, "northgate")

    page.wait_for_url("**/")
    assert "Northgate College" in page.content()

    page.click("text=Sign out")
    # Signed out at the provider too, so the next person at this computer is not them.
    page.click("text=Yes, sign me out")
    page.wait_for_url("**/accounts/login/")
    page.goto("/")
    assert "/accounts/login/" in page.url
    _start(page)
    assert page.locator("input[name=login]").is_visible()


def test_it_never_creates_an_account_for_someone_the_feed_did_not_deliver(
    new_page, provider, centre_user
):
    UserFactory(username="consortium@example.org")  # a registered, non-centre user
    for stranger in ("stranger", "consortium@example.org"):
        page = new_page()
        _start(page)
        _sign_in_at_provider(page, stranger)

        page.wait_for_url("**/accounts/login/")
        assert "not one of a centre's users" in page.content()
        page.goto("/")
        assert "/accounts/login/" in page.url
    assert not type(centre_user).objects.filter(username="stranger").exists()


def test_a_deactivated_centre_user_is_not_signed_in(new_page, provider, centre_user):
    type(centre_user).objects.filter(pk=centre_user.pk).update(is_active=False)
    page = new_page()
    _start(page)
    _sign_in_at_provider(page, "northgate")

    page.wait_for_url("**/accounts/login/")
    assert "switched off" in page.content()
    page.goto("/")
    assert "/accounts/login/" in page.url


def test_a_code_or_token_issued_to_another_service_is_refused(
    new_page, provider, centre_user, live_server
):
    # A sign-in we started, whose authorisation the attacker has made out to another service
    # registered at the same provider: its code comes back to our callback with our state.
    page = new_page()
    rewritten = []

    def made_out_to_them(route):
        # Our redirect to the provider, with the other service's client id in it.
        response = route.fetch(max_redirects=0)
        headers = {**response.headers}
        headers["location"] = headers["location"].replace(
            f"client_id={OURS[0]}", f"client_id={THEIRS[0]}"
        )
        rewritten.append(headers["location"])
        route.fulfill(response=response, headers=headers)

    page.route(re.compile(re.escape(f"{live_server.url}/accounts/sso/")), made_out_to_them)
    _start(page)
    _sign_in_at_provider(page, "northgate")

    page.wait_for_url("**/accounts/login/")
    assert rewritten, "the authorisation request was not rewritten"
    assert "could not sign you in" in page.content()
    page.goto("/")
    assert "/accounts/login/" in page.url

    # And an ID token the provider really issued to the other service is not ours to accept.
    other = new_page()
    callback = f"{live_server.url}/accounts/sso/callback/"
    other.goto(
        f"{provider}/auth?"
        + urlencode(
            {
                "client_id": THEIRS[0],
                "redirect_uri": callback,
                "response_type": "code",
                "scope": "openid profile",
                "state": "s",
                "nonce": "n0nce",
            }
        )
    )
    with other.expect_request(lambda request: request.url.startswith(callback)) as sent:
        _sign_in_at_provider(other, "northgate")
    [code] = parse_qs(urlparse(sent.value.url).query)["code"]
    token = requests.post(
        f"{provider}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": callback,
            "client_id": THEIRS[0],
            "client_secret": THEIRS[1],
        },
        timeout=10,
    ).json()["id_token"]
    with pytest.raises(SuspiciousOperation, match="another client"):
        AwardingBodyBackend().verify_token(token, nonce="n0nce")
    assert Membership.objects.get(user=centre_user).role == "administrator"


def test_the_sign_in_page_offers_it_only_when_it_is_set_up(new_page, live_server, db):
    page = new_page()
    page.goto("/accounts/login/")
    assert page.locator("text=Sign in with your awarding body account").count() == 0
    assert page.goto("/accounts/sso/").status == 404
