"""Signing in with the awarding body's account, through OpenID Connect (mozilla-django-oidc).

The FAQ promises centre users their existing awarding-body username and password. The
provider's identity is matched to the account the feed provisioned, by the username claim
(settings.OIDC_USERNAME_CLAIM), exactly: never by email alone, and no account is ever created
for someone the feed has not delivered. The ID token must be the provider's (issuer) and ours
(audience), which mozilla-django-oidc does not check itself.

Configured by OIDC_OP_ISSUER, OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET; the provider's
endpoints are read from its discovery document on first use, unless set one by one.
"""

import functools
import logging
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from .models import User

logger = logging.getLogger(__name__)

# Settings that, when not set, come from the provider's discovery document.
_DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "OIDC_OP_LOGOUT_ENDPOINT": "end_session_endpoint",
}


@functools.lru_cache(maxsize=4)
def provider_metadata(issuer: str) -> dict:
    """The provider's discovery document (cached per process; a failure is not cached)."""
    response = requests.get(
        issuer.rstrip("/") + "/.well-known/openid-configuration",
        timeout=settings.OIDC_TIMEOUT,
    )
    response.raise_for_status()
    metadata = response.json()
    if metadata.get("issuer") != issuer:
        raise ImproperlyConfigured(
            f"The provider at {issuer} calls itself {metadata.get('issuer')!r}: "
            "OIDC_OP_ISSUER must be its issuer exactly."
        )
    return metadata


def oidc_setting(attr: str, *default):
    if attr in _DISCOVERED and not getattr(settings, attr, None):
        return provider_metadata(settings.OIDC_OP_ISSUER).get(_DISCOVERED[attr], *default)
    return import_from_settings(attr, *default)


def _refuse(request: HttpRequest, reason: str) -> None:
    """Why signing in failed, for the sign-in page to say."""
    request.oidc_refusal = reason


class AwardingBodyBackend(OIDCAuthenticationBackend):
    """The provider's identity, matched to a centre user the feed delivered."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs) -> None:
        # Nothing read here: Django builds every backend for every sign-in, password ones
        # too, and the endpoints may need the provider's discovery document.
        self.UserModel = get_user_model()

    OIDC_OP_TOKEN_ENDPOINT = property(lambda self: oidc_setting("OIDC_OP_TOKEN_ENDPOINT"))
    OIDC_OP_USER_ENDPOINT = property(lambda self: oidc_setting("OIDC_OP_USER_ENDPOINT"))
    OIDC_OP_JWKS_ENDPOINT = property(lambda self: oidc_setting("OIDC_OP_JWKS_ENDPOINT"))
    OIDC_RP_CLIENT_ID = property(lambda self: settings.OIDC_RP_CLIENT_ID)
    OIDC_RP_CLIENT_SECRET = property(lambda self: settings.OIDC_RP_CLIENT_SECRET)
    OIDC_RP_SIGN_ALGO = property(lambda self: settings.OIDC_RP_SIGN_ALGO)
    OIDC_RP_IDP_SIGN_KEY = None

    def authenticate(self, request, **kwargs):
        if not settings.OIDC_ENABLED or request is None or "username" in kwargs:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except (requests.RequestException, SuspiciousOperation, jwt.PyJWTError) as exc:
            # The provider refused the code (perhaps issued to another client), or the
            # token is not for us: no one is signed in, and the page says so plainly.
            logger.warning("Sign-in with the awarding body failed: %s", type(exc).__name__)
            _refuse(request, "The awarding body's answer could not be accepted.")
            return None

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if payload.get("iss") != settings.OIDC_OP_ISSUER:
            raise SuspiciousOperation("The ID token is from another issuer.")
        if self.OIDC_RP_CLIENT_ID not in audiences or (
            len(audiences) > 1 and payload.get("azp") != self.OIDC_RP_CLIENT_ID
        ):
            raise SuspiciousOperation("The ID token was issued to another client.")
        return payload

    def verify_claims(self, claims) -> bool:
        username = claims.get(settings.OIDC_USERNAME_CLAIM)
        return isinstance(username, str) and bool(username)

    def filter_users_by_claims(self, claims):
        users = User.objects.filter(
            username=claims[settings.OIDC_USERNAME_CLAIM], memberships__is_centre_user=True
        ).distinct()
        if not users:
            _refuse(
                self.request,
                "Your awarding body account is not one of a centre's users in Learner "
                "Tracking. If you work for a consortium or local authority, sign in with the "
                "email address and password you registered with.",
            )
        elif not users[0].is_active:
            _refuse(self.request, "Your Learner Tracking account has been switched off.")
        return users

    def create_user(self, claims):
        raise SuspiciousOperation("Accounts are never created from a sign-in.")

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


def _available() -> None:
    if not settings.OIDC_ENABLED:
        raise Http404("Signing in with the awarding body is not set up here.")


@method_decorator(login_not_required, name="dispatch")
class SignInStart(OIDCAuthenticationRequestView):
    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs) -> None:
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        _available()
        self.OIDC_OP_AUTH_ENDPOINT = oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


@method_decorator(login_not_required, name="dispatch")
class SignInCallback(OIDCAuthenticationCallbackView):
    get_settings = staticmethod(oidc_setting)

    def get(self, request: HttpRequest) -> HttpResponse:
        _available()
        return super().get(request)

    def login_failure(self) -> HttpResponse:
        reason = getattr(self.request, "oidc_refusal", None)
        if self.request.GET.get("error"):
            reason = "You did not finish signing in with your awarding body account."
        messages.error(
            self.request,
            "We could not sign you in with your awarding body account. " + (reason or "Try again."),
        )
        return HttpResponseRedirect(reverse("login"))


def provider_sign_out_url(request: HttpRequest, id_token: str) -> str | None:
    """Where to send someone who signed in through the provider when they sign out here, so
    that the next person at a shared computer is not signed in as them."""
    end_session = oidc_setting("OIDC_OP_LOGOUT_ENDPOINT", None)
    if not end_session:
        return None
    return (
        end_session
        + "?"
        + urlencode(
            {
                "id_token_hint": id_token,
                "client_id": settings.OIDC_RP_CLIENT_ID,
                "post_logout_redirect_uri": settings.SITE_URL.rstrip("/") + reverse("login"),
            }
        )
    )
