"""Every page state, for each role, at 1280 px and at 320 px (issue 19): the page never scrolls
sideways, axe-core finds no serious or critical violation, an error summary takes focus
under a title that starts "Error:", and no aria-describedby points at a missing id.

axe-core comes from npm (`npm ci`, run by `make test`); the site is a small demo built from
the shipped catalogue and generated data.
"""

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission

from accounts.models import Centre, Membership
from learners.models import Entry, Learner
from nonedexcel.models import NonEdexcelQualification, PendingUpload
from support.models import Conversation, Message

from ..factories import UserFactory
from .conftest import PASSWORD, screenshot

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 320)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not AXE.exists(), reason="axe-core not installed (npm ci)"),
]

State = str | Callable  # a URL, or what a person does to reach the state


@pytest.fixture
def site(demo_delivery):
    centre = Centre.objects.order_by("number").first()
    admin = demo_delivery(
        "admin@la.example.org", centre, "administrator", first_name="Alex", last_name="Admin"
    )
    viewer = demo_delivery(
        "viewer@consortium.example.org", centre, "viewer", first_name="Vic", last_name="Viewer"
    )
    nobody = UserFactory(username="nobody@example.org", email="nobody@example.org")
    nobody.set_password(PASSWORD)
    nobody.save()
    officer = UserFactory(username="officer", first_name="Olu", last_name="Officer")
    officer.set_password(PASSWORD)
    officer.save()
    officer.is_staff = True
    officer.save()
    officer.user_permissions.add(
        Permission.objects.get(codename="answer_chat"),
        Permission.objects.get(codename="read_every_centre"),
    )

    learner = Learner.objects.filter(centre=centre, entries__isnull=False).order_by("uln").first()
    record = NonEdexcelQualification.objects.create(
        learner=learner, qan="500/1234/5", awarding_body="AQA", title="GCE Physics"
    )
    upload = PendingUpload.objects.create(
        user=admin, filename="quals.csv", content=f"uln,qan\n{learner.uln},600/1234/5\n".encode()
    )
    bad_upload = PendingUpload.objects.create(
        user=admin, filename="bad.csv", content=b"uln,qan\n123,nonsense\n"
    )
    conversation = Conversation.objects.create(
        user=viewer, subject="Award date will not save", learner_uln=learner.uln
    )
    Message.objects.create(conversation=conversation, author=viewer, body="It will not save.")
    Message.objects.create(
        conversation=conversation, author=officer, from_support=True, body="Let me look."
    )
    assert Entry.objects.filter(centre=centre, learner=None).exists()
    return {
        "centre": centre,
        "learner": learner,
        "record": record,
        "viewer": viewer,
        "viewer_membership": Membership.objects.get(user=viewer, centre=centre),
        "upload": upload,
        "bad_upload": bad_upload,
        "conversation": conversation,
        "admin": admin,
    }


def submit(url: str, **fields: str) -> Callable:
    """Fill in a form on the page at `url` by label, then send it."""

    def act(page) -> None:
        page.goto(url)
        for label, value in fields.items():
            page.get_by_label(label.replace("_", " "), exact=True).first.fill(value)
        page.locator("main form[method=post] button[type=submit]").last.click()
        page.wait_for_load_state()

    return act


def anonymous_states(site) -> dict[str, State]:
    return {
        "login": "/accounts/login/",
        "login-error": submit("/accounts/login/", Username="someone", Password="wrong"),
        "register": "/accounts/register/",
        "register-errors": _register_with_errors,
        "password-reset": "/accounts/password_reset/",
        "resend-confirmation": "/accounts/register/resend/",
    }


def _register_with_errors(page) -> None:
    page.goto("/accounts/register/")
    page.get_by_role("button", name="Register").click()
    page.wait_for_load_state()


def no_role_states(site) -> dict[str, State]:
    return {
        "home-no-role": "/",
        "overview-no-role": "/overview/",
        "request-access": "/accounts/request-access/",
        "help": "/help/",
        "contact": "/contact/",
    }


def viewer_states(site) -> dict[str, State]:
    number, learner = site["centre"].number, site["learner"]
    return {
        "home": "/",
        "overview": "/overview/",
        "overview-sorted": "/overview/?level=A&sort=-problems",
        "overview-invalid-filter": "/overview/?level=Z&award=nonsense&flag=unknown",
        "detail": "/detail/?show_ready=on",
        "detail-invalid-filter": "/detail/?component=NOPE",
        "changes": "/changes/",
        "calendar": "/calendar/",
        "notifications": "/notifications/",
        "digest-preview": "/notifications/digest/",
        "changes-last-build": "/changes/?since=build&kind=resolved",
        "learner-record": f"/learners/{learner.uln}/",
        "search-found": f"/search/?q={learner.surname}",
        "search-none": "/search/?q=Nobodyatall",
        "unmatched": f"/centres/{number}/unmatched/",
        "non-edexcel": "/nonedexcel/",
        "password-change": "/accounts/password_change/",
        "password-change-errors": submit(
            "/accounts/password_change/", Old_password="not my password"
        ),
        "chat-start": "/support/",
        "chat-conversation": f"/support/conversations/{site['conversation'].pk}/",
        "help": "/help/",
    }


def administrator_states(site) -> dict[str, State]:
    number, learner = site["centre"].number, site["learner"]
    return {
        "manage-users": f"/centres/{number}/users/",
        "manage-users-error": submit(
            f"/centres/{number}/users/", Email_address="nobody-registered@example.org"
        ),
        "learner-record": f"/learners/{learner.uln}/",
        "learner-record-invalid-qan": submit(f"/learners/{learner.uln}/", QAN="not a QAN"),
        "upload-preview": f"/nonedexcel/upload/{site['upload'].pk}/",
        "upload-errors": f"/nonedexcel/upload/{site['bad_upload'].pk}/",
        "non-edexcel": "/nonedexcel/",
        "bulk-award-date": "/overview/award-date/?level=A",
        "overview-choosing": "/overview/?level=A",
        "award-file": "/overview/award-date/file/",
        "notifications": "/notifications/",
        "digest-preview": "/notifications/digest/",
        "remove-record-confirm": f"/learners/{learner.uln}/non-edexcel/{site['record'].pk}/remove/",
        "remove-role-confirm": f"/centres/{number}/users/{site['viewer_membership'].pk}/revoke/",
    }


def support_states(site) -> dict[str, State]:
    return {
        "inbox": "/support/inbox/",
        "conversation": f"/support/conversations/{site['conversation'].pk}/",
        "learner-record": f"/learners/{site['learner'].uln}/",
    }


ROLES = {
    "anonymous": (None, anonymous_states),
    "no-role": ("nobody@example.org", no_role_states),
    "viewer": ("viewer@consortium.example.org", viewer_states),
    "administrator": ("admin@la.example.org", administrator_states),
    "support": ("officer", support_states),
}

CHECK = """() => {
  const missing = [];
  for (const el of document.querySelectorAll('[aria-describedby]')) {
    for (const id of el.getAttribute('aria-describedby').split(/\\s+/)) {
      if (id && !document.getElementById(id)) missing.push(id);
    }
  }
  // Inside a scroll region that itself fits, an element may be as wide as it likes.
  const clipped = (el) => {
    for (let up = el.parentElement; up; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX)) {
        return up.getBoundingClientRect().right <= window.innerWidth + 1;
      }
    }
    return false;
  };
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.right > window.innerWidth + 1 && !clipped(el) && wide.length < 3) {
      wide.push(el.tagName + '.' + el.className + ' ' + (el.textContent || '').trim().slice(0, 40));
    }
  }
  // Text that overflows its box widens the page without widening any element.
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node && wide.length < 3; node = walker.nextNode()) {
    range.selectNodeContents(node);
    const box = range.getBoundingClientRect();
    if (box.right > window.innerWidth + 1 && !clipped(node)) {
      const words = node.textContent.trim().slice(0, 40);
      wide.push('text in ' + node.parentElement.tagName + ': ' + words);
    }
  }
  // Form controls meet the 24 px target size (WCAG 2.2, 2.5.8).
  const small = [];
  const controls = 'main select, main button, main input:not([type=hidden])';
  for (const el of document.querySelectorAll(controls)) {
    const box = el.getBoundingClientRect();
    const checkable = ['checkbox', 'radio'].includes(el.type);  // their labels are the target
    if (box.width && !checkable && (box.height < 24 || box.width < 24)) {
      const size = Math.round(box.width) + 'x' + Math.round(box.height);
      small.push(el.tagName + '#' + el.id + ' ' + size);
    }
  }
  const summary = document.querySelector('.error-summary');
  return {
    wider: document.documentElement.scrollWidth - window.innerWidth,
    wide,
    title: document.title,
    summary: !!summary,
    focused: !!summary && summary.contains(document.activeElement),
    missing,
    small,
  };
}"""


def problems_with(page) -> list:
    found = []
    state = page.evaluate(CHECK)
    if state["wider"] > 0:
        found.append(f"scrolls sideways by {state['wider']} px: {state['wide']}")
    if state["small"]:
        found.append(f"controls under 24 px: {state['small'][:3]}")
    if state["missing"]:
        found.append(f"aria-describedby points at missing ids {state['missing']}")
    if state["summary"] and not state["title"].startswith("Error:"):
        found.append(f"an error summary under the title {state['title']!r}")
    if state["summary"] and not state["focused"]:
        found.append("the error summary does not take focus")
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    found += [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    return found


@pytest.mark.parametrize("role", ROLES)
def test_every_page_state_fits_the_screen_and_passes_axe(browser, live_server, site, role):
    username, states = ROLES[role]
    failures = {}
    for width in WIDTHS:
        context = browser.new_context(
            base_url=live_server.url, bypass_csp=True, viewport={"width": width, "height": 900}
        )
        page = context.new_page()
        if username:
            page.goto("/accounts/login/")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(lambda url: "/accounts/login/" not in url)
        for name, state in states(site).items():
            if callable(state):
                state(page)
            else:
                response = page.goto(state)
                assert response.status in (200, 400), (name, response.status)
            if width == WIDTHS[0]:
                screenshot(page, f"{role}-{name}")
            if found := problems_with(page):
                failures[f"{role} {name} at {width} px"] = found
        context.close()
    assert not failures, json.dumps(failures, indent=1)
