"""Every URL × every role, after pretix's test_permissions: who gets in, and how they are kept out.

Outcomes: 'login' = redirected to sign in; 'admin-login' = to the admin's sign-in; a number
is the status code. A URL added to the project without a row here fails
test_it_has_a_row_for_every_url.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import AccessRequest, Membership
from nonedexcel.models import NonEdexcelQualification, PendingUpload
from support import chat

from .conftest import ROLES
from .factories import LearnerFactory, MembershipFactory, UserFactory, uln_for

GET, POST = "get", "post"
LOGIN_REQUIRED = {"anonymous": "login"}
EVERYONE = dict.fromkeys(ROLES, 200)
SIGNED_IN = {**EVERYONE, **LOGIN_REQUIRED}
# Centre administration: outsiders 404, viewers (and staff, who only read) 403.
ADMINISTER = {
    "anonymous": "login",
    "no_centre": 404,
    "other_viewer": 404,
    "viewer": 403,
    "staff": 403,
}

# Centre data: outsiders 404; viewers, administrators and staff read it.
READ = {"anonymous": "login", "no_centre": 404, "other_viewer": 404, "staff": 200}

# A support conversation: its owner (the viewer) and the support team read it; others 404.
CONVERSATION_READ = {**dict.fromkeys(ROLES, 404), "anonymous": "login", "viewer": 200, "staff": 200}

MATRIX = {
    # name: (method, kwargs, outcomes by role)
    "home": (GET, {}, SIGNED_IN),
    "health": (GET, {}, EVERYONE),
    "contact": (GET, {}, EVERYONE),
    "help": (GET, {}, EVERYONE),
    "login": (GET, {}, EVERYONE),
    "logout": (POST, {}, dict.fromkeys(ROLES, 302)),
    "register": (GET, {}, EVERYONE),
    "register_sent": (GET, {}, EVERYONE),
    "resend_confirmation": (GET, {}, EVERYONE),
    # Signing in with the awarding body: not found unless OIDC_* settings are present (its
    # journeys are in tests/browser/test_awarding_body_sign_in.py).
    "oidc_authentication_init": (GET, {}, dict.fromkeys(ROLES, 404)),
    "oidc_authentication_callback": (GET, {}, dict.fromkeys(ROLES, 404)),
    "confirm_email": (GET, {"uidb64": "MQ", "token": "bad-token"}, dict.fromkeys(ROLES, 400)),
    "password_reset": (GET, {}, EVERYONE),
    "password_reset_done": (GET, {}, EVERYONE),
    "password_reset_confirm": (GET, {"uidb64": "MQ", "token": "bad-token"}, EVERYONE),
    "password_reset_complete": (GET, {}, EVERYONE),
    "password_change": (GET, {}, SIGNED_IN),
    "password_change_done": (GET, {}, SIGNED_IN),
    "request_access": (GET, {}, SIGNED_IN),
    "search": (GET, {}, SIGNED_IN),
    # Cohort pages list only the user's own centres: empty, not refused, for no role.
    "overview": (GET, {}, SIGNED_IN),
    "overview_export": (GET, {}, SIGNED_IN),
    "detail": (GET, {}, SIGNED_IN),
    "detail_export": (GET, {}, SIGNED_IN),
    # What changed overnight: the user's centres' changes, empty for no role (tests/test_changes).
    "changes": (GET, {}, SIGNED_IN),
    # Award dates for many: administrators of some centre; everyone else is refused (403).
    "bulk_award_date": (
        GET,
        {},
        {**dict.fromkeys(ROLES, 403), "anonymous": "login", "administrator": 200},
    ),
    "bulk_award_file": (
        GET,
        {},
        {**dict.fromkeys(ROLES, 403), "anonymous": "login", "administrator": 200},
    ),
    # The calendar link is its owner's; the feed answers a token, not a session: one no one
    # has is not found, whoever asks.
    "calendar_link": (GET, {}, SIGNED_IN),
    "calendar_feed": (GET, {"token": "no-such-token"}, dict.fromkeys(ROLES, 404)),
    "changes_export": (GET, {}, SIGNED_IN),
    # Each person's own choice of the weekly digest, and what theirs would say.
    "notifications": (GET, {}, SIGNED_IN),
    "digest_preview": (GET, {}, SIGNED_IN),
    "nonedexcel_list": (GET, {}, SIGNED_IN),
    "nonedexcel_template": (GET, {}, SIGNED_IN),
    # Uploading needs an administrator role on some centre; an empty form is refused (400).
    "nonedexcel_upload": (
        POST,
        {},
        {**dict.fromkeys(ROLES, 403), "anonymous": "login", "administrator": 400},
    ),
    # An upload belongs to the person who made it: anyone else gets 404.
    "nonedexcel_preview": (
        GET,
        {"upload_id": "PENDING_UPLOAD"},
        {**dict.fromkeys(ROLES, 403), "anonymous": "login", "administrator": 200},
    ),
    "nonedexcel_confirm": (
        POST,
        {"upload_id": "PENDING_UPLOAD"},
        {**dict.fromkeys(ROLES, 403), "anonymous": "login", "administrator": 302},
    ),
    "nonedexcel_add": (POST, {"uln": "LEARNER"}, {**ADMINISTER, "administrator": 400}),
    # Removing asks first: without the answer, the administrator gets the question (200).
    "nonedexcel_remove": (
        POST,
        {"uln": "LEARNER", "item_id": "NON_EDEXCEL"},
        {**ADMINISTER, "administrator": 200},
    ),
    "learner_record": (GET, {"uln": "LEARNER"}, {**READ, "viewer": 200, "administrator": 200}),
    "edit_award_date": (POST, {"uln": "LEARNER"}, {**ADMINISTER, "administrator": 302}),
    "unmatched_entries": (GET, {"number": "12345"}, {**READ, "viewer": 200, "administrator": 200}),
    "manage_users": (GET, {"number": "12345"}, {**ADMINISTER, "administrator": 200}),
    "grant_role": (POST, {"number": "12345"}, {**ADMINISTER, "administrator": 400}),
    "change_role": (
        POST,
        {"number": "12345", "membership_id": "VIEWER_MEMBERSHIP"},
        {**ADMINISTER, "administrator": 302},
    ),
    "revoke_role": (
        POST,
        {"number": "12345", "membership_id": "VIEWER_MEMBERSHIP"},
        {**ADMINISTER, "administrator": 200},
    ),
    "decide_request": (
        POST,
        {"number": "12345", "request_id": "PENDING_REQUEST", "decision": "approve"},
        {**ADMINISTER, "administrator": 302},
    ),
    # Live chat: anyone signed in starts one; a conversation is its owner's (the viewer
    # here) and the support team's (staff, a superuser, holds support.answer_chat).
    "support_start": (GET, {}, SIGNED_IN),
    "support_inbox": (GET, {}, {**dict.fromkeys(ROLES, 403), "anonymous": "login", "staff": 200}),
    "support_conversation": (GET, {"conversation_id": "CONVERSATION"}, CONVERSATION_READ),
    "support_messages": (GET, {"conversation_id": "CONVERSATION"}, CONVERSATION_READ),
    # An empty reply is refused (400) once the sender is allowed to write.
    "support_reply": (
        POST,
        {"conversation_id": "CONVERSATION"},
        {**CONVERSATION_READ, "viewer": 400, "staff": 400},
    ),
    "support_claim": (
        POST,
        {"conversation_id": "CONVERSATION"},
        {**CONVERSATION_READ, "viewer": 403, "staff": 302},
    ),
    "support_close": (
        POST,
        {"conversation_id": "CONVERSATION"},
        {**CONVERSATION_READ, "viewer": 302, "staff": 302},
    ),
    # Only the owner has the transcript emailed, to their own address.
    "support_transcript": (
        POST,
        {"conversation_id": "CLOSED_CONVERSATION"},
        {**CONVERSATION_READ, "viewer": 302, "staff": 403},
    ),
    "admin:index": (GET, {}, {**dict.fromkeys(ROLES, "admin-login"), "staff": 200}),
}


def _named_urls(resolver=None, namespace=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue  # the admin's own pages: covered by admin:index and test_admin
            yield from _named_urls(pattern, namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield namespace + pattern.name


def test_it_has_a_row_for_every_url():
    assert set(_named_urls()) | {"admin:index"} == set(MATRIX)


@pytest.fixture
def world(centre, other_centre, viewer, administrator, other_viewer, no_centre, staff):
    requester = UserFactory(username="requester@example.org", email="requester@example.org")
    pending = AccessRequest.objects.create(user=requester, centre=centre, role="viewer")
    MembershipFactory(
        user=UserFactory(username="centreuser"),
        centre=centre,
        role=Membership.Role.ADMINISTRATOR,
        is_centre_user=True,
    )
    learner = LearnerFactory(centre=centre)
    conversation = chat.open_conversation(viewer, "A question", "Hello", learner.uln)
    closed = chat.open_conversation(viewer, "An old question", "Hello again")
    chat.close(closed, viewer)
    return {
        "LEARNER": learner.uln,
        "NON_EDEXCEL": NonEdexcelQualification.objects.create(learner=learner, qan="500/1234/5").pk,
        "PENDING_UPLOAD": PendingUpload.objects.create(
            user=administrator,
            filename="x.csv",
            content=f"uln,qan\n{learner.uln},500/9999/1\n".encode(),
        ).pk,
        "VIEWER_MEMBERSHIP": Membership.objects.get(user=viewer, centre=centre).pk,
        "PENDING_REQUEST": pending.pk,
        "CONVERSATION": conversation.pk,
        "CLOSED_CONVERSATION": closed.pk,
    }


CASES = [pytest.param(name, role, id=f"{name}-{role}") for name in MATRIX for role in ROLES]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role"), CASES)
def test_it_lets_in_only_the_right_roles(world, as_role, name, role):
    method, kwargs, outcomes = MATRIX[name]
    kwargs = {k: world.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}
    url = reverse(name, kwargs=kwargs)
    client = as_role(role)

    response = getattr(client, method)(url)

    expected = outcomes[role]
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")
    elif expected == "admin-login":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    else:
        assert response.status_code == expected, response.content[:500]


# --- the rows each role receives (issue 18): a forgotten filter would pass the status checks --

LISTING = {
    "overview": {},
    "overview_export": {},
    "detail": {"show_ready": "on"},
    "detail_export": {"show_ready": "on"},
    "search": {"q": "Rowcheck"},
    "nonedexcel_list": {},
}
SEES = {
    "no_centre": set(),
    "other_viewer": {"54321"},
    "viewer": {"12345"},
    "administrator": {"12345"},
    "staff": {"12345", "54321"},  # support staff: every centre
}


@pytest.fixture
def learners_at_both_centres(centre, other_centre):
    from flags.snapshot import rebuild

    by_centre = {}
    for number, first in ((centre, 7100), (other_centre, 7200)):
        ulns = set()
        for n in range(3):
            learner = LearnerFactory(centre=number, uln=uln_for(first + n), surname="Rowcheck")
            NonEdexcelQualification.objects.create(learner=learner, qan="500/1234/5")
            ulns.add(learner.uln)
        by_centre[number.number] = ulns
    rebuild()
    return by_centre


@pytest.mark.django_db
@pytest.mark.parametrize("name", LISTING)
@pytest.mark.parametrize("role", SEES)
def test_each_role_receives_exactly_the_rows_it_may_see(
    learners_at_both_centres, viewer, administrator, other_viewer, as_role, name, role
):
    client = as_role(role)

    response = client.get(reverse(name), LISTING[name])

    assert response.status_code == 200
    body = (
        b"".join(response.streaming_content) if response.streaming else response.content
    ).decode()
    every = set().union(*learners_at_both_centres.values())
    expected = set().union(*(learners_at_both_centres[c] for c in SEES[role]))
    assert {uln for uln in every if uln in body} == expected
