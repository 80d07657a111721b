"""Every form and every query string, fuzzed: never a server error, never a partial write,
and whatever is echoed back is escaped (issue 10, point 4).

The feed import and the non-Edexcel bulk upload are fuzzed in test_import_fuzz.py and
test_nonedexcel.py; this module covers everything else a user can type into:

Accounts
  - sign-in (POST username, password, next; GET next)
  - sign-out (POST next)
  - registration (first_name, last_name, email, organisation, password1, password2)
  - email confirmation (the uidb64 and token in the link; GET and POST)
  - password change (old_password, new_password1, new_password2)
  - password reset request (email)
  - password reset link (uidb64, token) and set password (new_password1, new_password2)
  - access request (centre, role)
Manage Users (centre number in the URL throughout)
  - the page itself
  - grant by email (email, role)
  - change role (membership id, role)
  - revoke (membership id)
  - decide an access request (request id, approve or decline)
The learner's record (ULN in the URL)
  - the record page itself
  - award date edit (award_series)
  - non-Edexcel add (qan, component, awarding_body, title) and remove (item id)
Lists and filters (GET)
  - search (q, page)
  - Overview and Detail filters, sort and paging (line, level, centre, award, award_upto,
    component, flag, show_ready, sort, page, per_page), and their CSV exports
  - unmatched entries (centre number in the URL, page)
  - non-Edexcel list filters (centre, component, page)
Support chat (conversation id in the URL)
  - start a conversation (subject, uln, body; GET uln pre-fills the form)
  - message: reply as a page or as JSON (body, after), and the polling endpoint (after)
  - the conversation page, transcript, claim, close, and the inbox
Pages with no input, whose query strings must be ignored: contact, help.

For each form one hypothesis test sends random text (control characters included;
surrogates excluded, as HTTP cannot carry them), very long strings, repeated keys, absent
fields and the fixed hostile values into every field and path parameter; and one
deterministic test sends each fixed hostile value into each field of a POST form in turn,
the others valid so that it gets past their checks, into all of a GET form's parameters at
once, into each path parameter, and into a field the form does not have. Both assert that
the status is below 500, that a refused request wrote nothing (and an accepted one only
what that form writes, all of it: a record with its audit event), that redirects stay on
the site, and that no markup we sent, or stored earlier, comes back raw. What a request
wrote is read from the SQL it ran. A subject typed on one form and sent in an email's
header by another (the chat transcript) is fuzzed end to end; and the valid values the
fuzzing starts from are checked to be accepted, so that the write checks check something.
"""

import dataclasses
import operator
import re
from collections.abc import Callable
from urllib.parse import quote, urlsplit

import pytest
from django.apps import apps
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Permission
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import emails
from accounts.models import AccessRequest, AuditEvent, Centre, Membership, User
from flags import codes
from flags.snapshot import rebuild
from learners.models import ChangedComponent, DataChange, Learner
from nonedexcel.models import NonEdexcelQualification
from support import chat
from support.models import Conversation, Message

from .factories import EntryFactory, LearnerFactory, SeriesFactory, UserFactory, uln_for
from .test_import_fuzz import HOSTILE as FEED_HOSTILE

pytestmark = [
    pytest.mark.django_db,
    # django-tables2 warns of a "." in a sort key, as random ones have.
    pytest.mark.filterwarnings("ignore:Use '__' to separate path components:DeprecationWarning"),
]

PASSWORD = "correct horse battery"  # the factories' password
NEW_PASSWORD = "a much longer passphrase 2024"

# Markup that must never come back raw: each is in HOSTILE, in a stored value, or both.
MARKERS = ("<script>alert(", "<img src=x onerror=", "<svg onload=", "<i data-fuzz>")
HOSTILE = [
    *FEED_HOSTILE,  # huge, control characters, formula prefixes, SQL, HTML, odd digits
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</textarea><script>alert(2)</script>",
    "javascript:alert(1)",
    "//evil.example.com/",
    "/\\evil.example.com",
    "https://evil.example.com/",
    "{{ request }}{% debug %}",
    "%(name)s %s %n",
    "1; SELECT pg_sleep(5)--",
    "%00",
    "../../../etc/passwd",
    "a\x00b",
    "Help\r\nBcc: victim@example.org",
    "Help\rBcc: victim@example.org",
    "line\u2028separator",
    "\u202egnp.exe",
    "\u200b",
    "Ｆｕｌｌ　ｗｉｄｔｈ",
    # overlong and malformed ULNs, numbers and ids
    "10000000351",
    "1" * 5000,  # more digits than int() will parse
    "0",
    "1e3",
    " 12345 ",
    "123456",
    "1234",
    "NULL",
    "[]",
    "x" * 100_000,
    # email addresses
    "admin@la.example.org\x00",
    '"<script>alert(3)</script>"@example.org',
    "a@" + "b" * 300 + ".example.org",
    "a" * 60 + "@" + "b" * 60 + "." + "c" * 60 + ".example.org",  # valid, 194 characters
    "viewer@consortium.example.org\r\nBcc: victim@example.org",
]

# gunicorn refuses a request line over 4094 bytes, so a longer path never reaches Django.
MAX_PATH = 2000
PATH_HOSTILE = [value for value in HOSTILE if len(value) <= MAX_PATH]

_chars = st.characters(exclude_categories=("Cs",))
TEXT = st.text(_chars, max_size=60)
LONG = st.builds(operator.mul, st.text(_chars, min_size=1, max_size=4), st.integers(100, 3000))
TAGGED = st.builds("<i data-fuzz>{}</i>".format, TEXT)
OMIT = object()


def fuzzed(good: str):
    """A value for a field: valid, hostile, random, long, markup, repeated, or absent."""
    return st.one_of(
        st.just(good),
        st.sampled_from(HOSTILE),
        TEXT,
        LONG,
        TAGGED,
        st.lists(st.one_of(st.just(good), TEXT), min_size=2, max_size=3),
        st.just(OMIT),
    )


FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- the world every form is tried against ------------------------------------------------


@dataclasses.dataclass(repr=False)
class World:
    centre: Centre
    users: dict[str, User]
    learner: Learner
    membership: Membership
    access_request: AccessRequest
    item: NonEdexcelQualification
    conversation: Conversation
    closed: Conversation
    newcomer: User
    # Each form's page as its user sees it with nothing sent, asked for before anything was.
    own_markup: dict[str, str] = dataclasses.field(default_factory=dict)

    def __repr__(self) -> str:
        return "World()"


@pytest.fixture
def world(centre, other_centre, administrator, viewer, no_centre, staff) -> World:
    officer = UserFactory(username="officer", first_name="Olu", last_name="Officer")
    officer.user_permissions.add(Permission.objects.get(codename="answer_chat"))
    asker = UserFactory(username="asker@example.org", first_name="<svg onload=alert(9)>")
    newcomer = UserFactory(
        username="new@example.org", is_active=False, confirmation_sent_at=timezone.now()
    )
    for code in ("2010-06", "2011-06", "2012-06"):
        SeriesFactory(code=code)
    learner = LearnerFactory(centre=centre, uln=uln_for(9000), forename="Priya", surname="Patel")
    # Hostile values already stored (from the feed, a form or the chat) must show safely too.
    LearnerFactory(
        centre=centre,
        uln=uln_for(9001),
        forename="<script>alert(9)</script>",
        surname='"><img src=x onerror=alert(9)>',
        award_series="",
    )
    EntryFactory(centre=centre, uln="12", forename="<svg onload=alert(9)>", surname="=1+1")
    item = NonEdexcelQualification.objects.create(
        learner=learner,
        qan="500/1234/5",
        awarding_body='=HYPERLINK("http://evil")',
        title="<script>alert(9)</script>",
    )
    conversation = chat.open_conversation(viewer, "<script>alert(9)</script>", "Hello", "")
    chat.post_message(conversation, viewer, '"><img src=x onerror=alert(9)>')
    closed = chat.open_conversation(viewer, "Closed one", "<svg onload=alert(9)>")
    chat.close(closed, viewer)
    rebuild()
    return World(
        centre=centre,
        users={
            "administrator": administrator,
            "viewer": viewer,
            "no_centre": no_centre,
            "staff": staff,
            "officer": officer,
        },
        learner=learner,
        membership=Membership.objects.get(user=viewer, centre=centre),
        access_request=AccessRequest.objects.create(user=asker, centre=centre, role="viewer"),
        item=item,
        conversation=conversation,
        closed=closed,
        newcomer=newcomer,
    )


class Writes:
    """The tables a request wrote to and kept, read from the SQL it ran.

    Exact and free: no snapshot of the tables before and after. A statement that failed,
    changed no row, or was undone by rolling back to a savepoint does not count.
    """

    _WRITE = re.compile(
        r'(?:INSERT\s+(?:OR\s+IGNORE\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE
    )
    # Sessions change on every request (SESSION_SAVE_EVERY_REQUEST); they hold no data.
    _IGNORED = frozenset({"django_session"})

    def __init__(self) -> None:
        self.tables: list[str] = []
        self._savepoints: dict[str, int] = {}
        self._labels = {m._meta.db_table: m._meta.label for m in apps.get_models()}

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        words = sql.split()
        if words[:1] == ["SAVEPOINT"]:
            self._savepoints[words[-1]] = len(self.tables)
        elif words[:3] == ["ROLLBACK", "TO", "SAVEPOINT"]:
            del self.tables[self._savepoints.get(words[-1], 0) :]
        elif (
            (match := self._WRITE.match(sql))
            and match[1] not in self._IGNORED
            # An INSERT's rowcount may not be known before its RETURNING rows are read.
            and (words[0].upper() == "INSERT" or context["cursor"].rowcount != 0)
        ):
            self.tables.append(self._labels.get(match[1], match[1]))
        return result

    @property
    def labels(self) -> set[str]:
        return set(self.tables)


USER, MEMBERSHIP, ACCESS, AUDIT = (
    m._meta.label for m in (User, Membership, AccessRequest, AuditEvent)
)
LEARNER, NON_EDEXCEL, CONVERSATION, MESSAGE = (
    m._meta.label for m in (Learner, NonEdexcelQualification, Conversation, Message)
)
# What a write of learner data notes for "received since the last overnight update" (4.4).
DATA_CHANGE = frozenset({DataChange._meta.label, ChangedComponent._meta.label})
AXES = frozenset({m._meta.label for m in apps.get_app_config("axes").get_models()})


# --- the forms ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Form:
    name: str
    method: str
    route: str  # with {placeholders} for the path parameters
    role: str | None  # the fixture signed in; None: anonymous
    fields: Callable[[World], dict[str, str]] = lambda w: {}
    path: Callable[[World], dict[str, str]] = lambda w: {}
    writes: frozenset[str] = frozenset()  # what an accepted request may change
    together: frozenset[str] = frozenset()  # changed all together or not at all
    refused_writes: frozenset[str] = frozenset()  # e.g. the audit of a failed sign-in
    headers: dict = dataclasses.field(default_factory=dict)
    prepare: Callable | None = None  # run before each request, e.g. to open a reset link

    def __repr__(self) -> str:
        return f"Form({self.name!r})"

    __str__ = __repr__


def _uid(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def _open_reset_link(client, world: World) -> None:
    """The reset view keeps the token in the session, then asks for the new password."""
    user = world.users["viewer"]
    client.get(
        f"/accounts/reset/{_uid(user)}/{default_token_generator.make_token(user)}/", follow=False
    )


def _filters(world: World, **more) -> dict[str, str]:
    return {
        "line": "ENG",
        "level": "A",
        "centre": world.centre.number,
        "award": "2010-06",
        "award_upto": "2011-06",
        "sort": "name",
        "page": "1",
        "per_page": "50",
        **more,
    }


FORMS = [
    Form(
        "sign_in",
        "post",
        "/accounts/login/",
        None,
        lambda w: {"username": w.users["viewer"].username, "password": PASSWORD, "next": "/"},
        # Signing in writes the audit event, last_login and axes' records; failing, the
        # audit event and axes' count of failures.
        writes=frozenset({AUDIT, USER, *AXES}),
        refused_writes=frozenset({AUDIT, *AXES}),
    ),
    Form("sign_in_page", "get", "/accounts/login/", None, lambda w: {"next": "/search/"}),
    Form(
        "sign_out",
        "post",
        "/accounts/logout/",
        "viewer",
        lambda w: {"next": "/help/"},
        writes=AXES,  # axes notes the time of signing out
    ),
    Form(
        "register",
        "post",
        "/accounts/register/",
        None,
        lambda w: {
            "first_name": "Rita",
            "last_name": "Register",
            "email": "rita@example.org",
            "organisation": "Somewhere LA",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
        writes=frozenset({USER}),
    ),
    Form(
        "confirm_email",
        "post",
        "/accounts/confirm/{uidb64}/{token}/",
        None,
        lambda w: {"password": PASSWORD},
        path=lambda w: {
            "uidb64": _uid(w.newcomer),
            "token": emails.confirmation_tokens.make_token(w.newcomer),
        },
        writes=frozenset({USER}),
    ),
    Form(
        "confirm_email_page",
        "get",
        "/accounts/confirm/{uidb64}/{token}/",
        None,
        path=lambda w: {
            "uidb64": _uid(w.newcomer),
            "token": emails.confirmation_tokens.make_token(w.newcomer),
        },
    ),
    Form(
        "password_change",
        "post",
        "/accounts/password_change/",
        "viewer",
        lambda w: {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        writes=frozenset({USER}),
    ),
    Form(
        "password_reset",
        "post",
        "/accounts/password_reset/",
        None,
        lambda w: {"email": w.users["viewer"].email},
    ),
    Form(
        "password_reset_link",
        "get",
        "/accounts/reset/{uidb64}/{token}/",
        None,
        path=lambda w: {
            "uidb64": _uid(w.users["viewer"]),
            "token": default_token_generator.make_token(w.users["viewer"]),
        },
    ),
    Form(
        "password_reset_set",
        "post",
        "/accounts/reset/{uidb64}/set-password/",
        None,
        lambda w: {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        path=lambda w: {"uidb64": _uid(w.users["viewer"])},
        writes=frozenset({USER}),
        prepare=_open_reset_link,
    ),
    Form(
        "request_access",
        "post",
        "/accounts/request-access/",
        "no_centre",
        lambda w: {"centre": w.centre.number, "role": "viewer"},
        writes=frozenset({ACCESS, AUDIT}),
        together=frozenset({ACCESS, AUDIT}),
    ),
    Form(
        "manage_users",
        "get",
        "/centres/{number}/users/",
        "administrator",
        path=lambda w: {"number": w.centre.number},
    ),
    Form(
        "grant_role",
        "post",
        "/centres/{number}/users/grant/",
        "administrator",
        lambda w: {"email": "nobody@example.org", "role": "viewer"},
        path=lambda w: {"number": w.centre.number},
        writes=frozenset({MEMBERSHIP, AUDIT}),
        together=frozenset({MEMBERSHIP, AUDIT}),
    ),
    Form(
        "change_role",
        "post",
        "/centres/{number}/users/{membership_id}/role/",
        "administrator",
        lambda w: {"role": "administrator"},
        path=lambda w: {"number": w.centre.number, "membership_id": str(w.membership.pk)},
        writes=frozenset({MEMBERSHIP, AUDIT}),
        together=frozenset({MEMBERSHIP, AUDIT}),
    ),
    Form(
        "revoke_role",
        "post",
        "/centres/{number}/users/{membership_id}/revoke/",
        "administrator",
        lambda w: {"confirmed": "yes"},
        path=lambda w: {"number": w.centre.number, "membership_id": str(w.membership.pk)},
        writes=frozenset({MEMBERSHIP, AUDIT}),
        together=frozenset({MEMBERSHIP, AUDIT}),
    ),
    Form(
        "decide_request",
        "post",
        "/centres/{number}/requests/{request_id}/{decision}/",
        "administrator",
        path=lambda w: {
            "number": w.centre.number,
            "request_id": str(w.access_request.pk),
            "decision": "approve",
        },
        writes=frozenset({ACCESS, MEMBERSHIP, AUDIT}),
        together=frozenset({ACCESS, AUDIT}),
    ),
    Form(
        "learner_record",
        "get",
        "/learners/{uln}/",
        "viewer",
        path=lambda w: {"uln": w.learner.uln},
    ),
    Form(
        "award_date",
        "post",
        "/learners/{uln}/award-date/",
        "administrator",
        lambda w: {"award_series": "2011-06"},
        path=lambda w: {"uln": w.learner.uln},
        # The change is numbered, so the learner's snapshot rows are worked out again.
        writes=frozenset({LEARNER, AUDIT, *DATA_CHANGE}),
        together=frozenset({LEARNER, AUDIT, *DATA_CHANGE}),
    ),
    Form(
        "non_edexcel_add",
        "post",
        "/learners/{uln}/non-edexcel/",
        "administrator",
        lambda w: {
            "qan": "600/0001/2",
            "component": "ASL",
            "awarding_body": "AQA",
            "title": "Extended Project",
        },
        path=lambda w: {"uln": w.learner.uln},
        writes=frozenset({NON_EDEXCEL, AUDIT, *DATA_CHANGE}),
        together=frozenset({NON_EDEXCEL, AUDIT, *DATA_CHANGE}),
    ),
    Form(
        "non_edexcel_remove",
        "post",
        "/learners/{uln}/non-edexcel/{item_id}/remove/",
        "administrator",
        lambda w: {"confirmed": "yes"},
        path=lambda w: {"uln": w.learner.uln, "item_id": str(w.item.pk)},
        writes=frozenset({NON_EDEXCEL, AUDIT, *DATA_CHANGE}),
        together=frozenset({NON_EDEXCEL, AUDIT, *DATA_CHANGE}),
    ),
    Form(
        "non_edexcel_list",
        "get",
        "/nonedexcel/",
        "viewer",
        lambda w: {"centre": w.centre.number, "component": "ASL", "page": "1"},
    ),
    Form("search", "get", "/search/", "viewer", lambda w: {"q": "Patel", "page": "1"}),
    Form(
        "overview",
        "get",
        "/overview/",
        "viewer",
        lambda w: _filters(w, component="PL", flag=codes.ENTRY_FLAGS[0]),
    ),
    Form(
        "overview_export",
        "get",
        "/overview/export.csv",
        "viewer",
        lambda w: _filters(w, component="PL", flag=codes.ASSESSMENT_FLAGS[0]),
        writes=frozenset({AUDIT}),
    ),
    Form("detail", "get", "/detail/", "viewer", lambda w: _filters(w, show_ready="on")),
    Form(
        "detail_export",
        "get",
        "/detail/export.csv",
        "viewer",
        lambda w: _filters(w, show_ready="on"),
        writes=frozenset({AUDIT}),
    ),
    Form(
        "unmatched",
        "get",
        "/centres/{number}/unmatched/",
        "staff",  # staff look the centre up by number: the path reaches the database
        lambda w: {"page": "1"},
        path=lambda w: {"number": w.centre.number},
    ),
    Form(
        "support_start_page",
        "get",
        "/support/",
        "viewer",
        lambda w: {"uln": w.learner.uln},
    ),
    Form(
        "support_start",
        "post",
        "/support/",
        "viewer",
        lambda w: {"subject": "Award date", "uln": w.learner.uln, "body": "It will not save."},
        writes=frozenset({CONVERSATION, MESSAGE}),
        together=frozenset({CONVERSATION, MESSAGE}),
    ),
    Form(
        "support_reply",
        "post",
        "/support/conversations/{conversation_id}/reply/",
        "viewer",
        lambda w: {"body": "Any news?", "after": "0"},
        path=lambda w: {"conversation_id": str(w.conversation.pk)},
        writes=frozenset({CONVERSATION, MESSAGE}),
        together=frozenset({MESSAGE}),
    ),
    Form(
        "support_reply_json",
        "post",
        "/support/conversations/{conversation_id}/reply/",
        "officer",
        lambda w: {"body": "Looking now.", "after": "0"},
        path=lambda w: {"conversation_id": str(w.conversation.pk)},
        writes=frozenset({CONVERSATION, MESSAGE}),
        together=frozenset({MESSAGE}),
        headers={"HTTP_ACCEPT": "application/json"},
    ),
    Form(
        "support_messages",
        "get",
        "/support/conversations/{conversation_id}/messages/",
        "viewer",
        lambda w: {"after": "0"},
        path=lambda w: {"conversation_id": str(w.conversation.pk)},
        headers={"HTTP_ACCEPT": "application/json"},
    ),
    Form(
        "support_conversation",
        "get",
        "/support/conversations/{conversation_id}/",
        "officer",
        path=lambda w: {"conversation_id": str(w.conversation.pk)},
    ),
    Form(
        "support_claim",
        "post",
        "/support/conversations/{conversation_id}/claim/",
        "officer",
        path=lambda w: {"conversation_id": str(w.conversation.pk)},
        writes=frozenset({CONVERSATION}),
    ),
    Form(
        "support_close",
        "post",
        "/support/conversations/{conversation_id}/close/",
        "viewer",
        path=lambda w: {"conversation_id": str(w.conversation.pk)},
        writes=frozenset({CONVERSATION}),
    ),
    Form(
        "support_transcript",
        "post",
        "/support/conversations/{conversation_id}/transcript/",
        "viewer",
        path=lambda w: {"conversation_id": str(w.closed.pk)},
    ),
    Form("support_inbox", "get", "/support/inbox/", "officer", lambda w: {"status": "open"}),
    Form("contact", "get", "/contact/", None, lambda w: {"q": "x"}),
    Form("help", "get", "/help/", None, lambda w: {"q": "x"}),
]
BY_NAME = {form.name: form for form in FORMS}


# --- sending and checking -----------------------------------------------------------------


def _values(data: dict) -> list[str]:
    found = []
    for value in data.values():
        found.extend(value if isinstance(value, list) else [value])
    return found


def send(client, form: Form, world: World, data: dict, path: dict):
    """Send one request as the form's user; check it and return what it wrote."""
    user = world.users[form.role] if form.role else None
    if client.session.get(SESSION_KEY) != (str(user.pk) if user else None):
        client.logout()
        if user:
            client.force_login(user)
    if form.name not in world.own_markup:
        # The markup the page holds anyway (a value like "\n</selec" is in every page with a
        # select), from its valid address, before any value was sent or kept.
        page = form.route.format(**{k: quote(v, safe="") for k, v in form.path(world).items()})
        world.own_markup[form.name] = _body(client.get(page, **form.headers))
    if form.prepare:
        form.prepare(client, world)
    data = {k: v for k, v in data.items() if v is not OMIT}
    url = form.route.format(**{k: quote(v, safe="") for k, v in path.items()})
    writes = Writes()
    with connection.execute_wrapper(writes):
        response = getattr(client, form.method)(url, data, **form.headers)
        body = _body(response)
    wrote = writes.labels
    sent = _values(data) + _values(path)

    assert response.status_code < 500, response.status_code
    _assert_shown_safely(response, body, sent, world.own_markup[form.name])
    refused = response.status_code >= 400 or (
        form.method == "post" and response.status_code == 200 and not _is_json(response)
    )
    if refused or form.method == "get" and not form.writes:
        assert wrote <= form.refused_writes, f"refused, yet wrote {wrote}"
    else:
        assert wrote <= form.writes, f"wrote {wrote}, allowed {set(form.writes)}"
        assert not form.together & wrote or form.together <= wrote, f"partial write: {wrote}"
    return response, wrote


def _is_json(response) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


def _body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", errors="replace")


def _assert_shown_safely(response, body: str, sent: list[str], own_markup: str) -> None:
    location = response.get("Location")
    if location is not None:
        # Our own pages only: no scheme, no host, not even one hidden by backslashes,
        # which browsers read as slashes.
        parts = urlsplit(location.replace("\\", "/"))
        assert not parts.scheme and not parts.netloc, location
    if response.get("Content-Type", "").startswith("text/html"):
        for marker in MARKERS:
            assert marker not in body, f"{marker!r} shown raw"
        for value in sent:
            # A value holding markup may only come back escaped.
            # (Short ones could be any page's own tags, like "<a".)
            if len(value) >= 8 and re.search(r"<[A-Za-z/!]", value) and value in body:
                assert body.count(value) <= own_markup.count(value), f"{value[:80]!r} shown raw"


# --- the tests ----------------------------------------------------------------------------


@pytest.mark.parametrize("form", [f for f in FORMS if f.writes], ids=operator.attrgetter("name"))
def test_it_accepts_the_valid_values_the_fuzzing_starts_from(client, world, form):
    """Else the tests below would only ever see refusals, and the write checks nothing."""
    response, wrote = send(client, form, world, form.fields(world), form.path(world))

    assert response.status_code in (200, 302)
    assert wrote and wrote <= form.writes and form.together <= wrote, wrote


@FUZZ
@given(data=st.data())
@pytest.mark.parametrize("form", FORMS, ids=operator.attrgetter("name"))
def test_it_never_fails_nor_half_writes_on_random_input(client, world, form, data):
    fields = {k: data.draw(fuzzed(v), label=k) for k, v in form.fields(world).items()}
    path = {
        k: data.draw(st.one_of(st.just(v), st.sampled_from(PATH_HOSTILE), TEXT), label=k)
        for k, v in form.path(world).items()
    }
    send(client, form, world, fields, path)


@pytest.mark.parametrize("form", FORMS, ids=operator.attrgetter("name"))
def test_it_refuses_or_keeps_safely_every_hostile_value_in_every_field(client, world, form):
    good_fields, good_path = form.fields(world), form.path(world)
    failures = []
    for value in HOSTILE:
        if form.method == "post":
            # One field at a time, the others valid, to get past their checks.
            tries = [({**good_fields, name: value}, good_path) for name in good_fields]
        else:
            # A query string's filters are each applied or ignored alone: all at once.
            tries = [(dict.fromkeys(good_fields, value), good_path)]
        # And in a field the form does not have.
        tries[:1] = [({**fields, "unexpected": value}, path) for fields, path in tries[:1]]
        if len(value) <= MAX_PATH:
            tries += [(good_fields, {**good_path, name: value}) for name in good_path]
        for fields, path in tries:
            try:
                with transaction.atomic():  # a failure must not spoil the next try
                    send(client, form, world, fields, path)
            except Exception as problem:  # noqa: BLE001 - collected and reported below
                sent = {k: v[:40] for k, v in (fields | path).items()}
                failures.append(f"{problem!r}"[:300] + f"\n    sending {sent}")
    assert not failures, "\n".join(failures)


# --- a subject typed on one form, sent in an email's header by another --------------------

MAIL_HEADERS = {
    b"Content-Type",
    b"MIME-Version",
    b"Content-Transfer-Encoding",
    b"Subject",
    b"From",
    b"To",
    b"Date",
    b"Message-ID",
}


def _transcript_of(client, world: World, subject: str) -> None:
    """Start a conversation with this subject, close it, and have its transcript emailed."""
    mail.outbox.clear()
    cache.clear()  # the hourly limits on chats and transcripts (tested in test_chat_limits)
    started, _ = send(
        client, BY_NAME["support_start"], world, {"subject": subject, "body": "Hello"}, {}
    )
    if started.status_code != 302:
        return
    (conversation,) = Conversation.objects.filter(pk=started["Location"].split("/")[-2])
    path = {"conversation_id": str(conversation.pk)}
    send(client, BY_NAME["support_close"], world, {}, path)
    sent, _ = send(client, BY_NAME["support_transcript"], world, {}, path)

    assert sent.status_code == 302
    (message,) = mail.outbox
    assert "\n" not in message.subject and "\r" not in message.subject
    head = message.message().as_bytes().split(b"\n\n", 1)[0]
    # Each line a header of ours or the folded continuation of one: nothing injected.
    names = {line.split(b":", 1)[0] for line in head.split(b"\n") if not line[:1].isspace()}
    assert names <= MAIL_HEADERS, names


@FUZZ
@given(subject=st.one_of(st.sampled_from(HOSTILE), TEXT, TAGGED))
def test_it_emails_a_transcript_whatever_the_subject_typed(client, world, subject):
    _transcript_of(client, world, subject)


def test_it_emails_a_transcript_for_every_hostile_subject(client, world):
    failures = []
    for subject in HOSTILE:
        try:
            with transaction.atomic():
                _transcript_of(client, world, subject)
        except Exception as problem:  # noqa: BLE001 - collected and reported below
            failures.append(f"{problem!r}"[:300] + f"\n    subject {subject[:40]!r}")
    assert not failures, "\n".join(failures)
