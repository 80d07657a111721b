"""Every page, checked with axe-core in Chromium: no serious or critical violations.

axe-core comes from npm (`npm ci`, run by `make test`); pages are those of a small demo
site built from the shipped catalogue and generated data, seen by an administrator.
"""

import json
from pathlib import Path

import pytest

from accounts.models import Centre
from learners.models import Entry, Learner
from nonedexcel.models import PendingUpload

from .conftest import PASSWORD, screenshot

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not AXE.exists(), reason="axe-core not installed (npm ci)"),
]


@pytest.fixture
def demo_site(demo_delivery):
    centre = Centre.objects.order_by("number").first()
    admin = demo_delivery(
        "admin@la.example.org", centre, "administrator", first_name="Alex", last_name="Admin"
    )
    learner = Learner.objects.filter(centre=centre, entries__isnull=False).order_by("uln").first()
    upload = PendingUpload.objects.create(
        user=admin, filename="quals.csv", content=f"uln,qan\n{learner.uln},500/1234/5\n".encode()
    )
    bad_upload = PendingUpload.objects.create(
        user=admin, filename="bad.csv", content=b"uln,qan\n123,nonsense\n"
    )
    assert Entry.objects.filter(centre=centre, learner=None).exists()
    return {"centre": centre, "learner": learner, "upload": upload, "bad_upload": bad_upload}


def pages(site) -> dict[str, str]:
    number, uln = site["centre"].number, site["learner"].uln
    return {
        "home": "/",
        "overview": "/overview/",
        "overview-filtered": "/overview/?level=A&sort=-problems",
        "detail": "/detail/?show_ready=on",
        "learner-record": f"/learners/{uln}/",
        "search": f"/search/?q={uln}",
        "unmatched": f"/centres/{number}/unmatched/",
        "manage-users": f"/centres/{number}/users/",
        "non-edexcel": "/nonedexcel/",
        "upload-preview": f"/nonedexcel/upload/{site['upload'].pk}/",
        "upload-errors": f"/nonedexcel/upload/{site['bad_upload'].pk}/",
        "request-access": "/accounts/request-access/",
        "password-change": "/accounts/password_change/",
        "help": "/help/",
        "chat": "/support/",
        "contact": "/contact/",
    }


PUBLIC = {
    "login": "/accounts/login/",
    "register": "/accounts/register/",
    "password-reset": "/accounts/password_reset/",
    "resend-confirmation": "/accounts/register/resend/",
}


def serious_violations(page) -> list[dict]:
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_every_page_passes_axe(browser, live_server, demo_site):
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    page = context.new_page()
    failures = {}
    for name, url in PUBLIC.items():
        page.goto(url)
        if found := serious_violations(page):
            failures[name] = found
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("admin@la.example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    for name, url in pages(demo_site).items():
        response = page.goto(url)
        assert response.status == 200 or (name == "upload-errors" and response.status == 400), (
            name,
            response.status,
        )
        screenshot(page, f"page-{name}")
        if found := serious_violations(page):
            failures[name] = found
    context.close()
    assert not failures, json.dumps(failures, indent=1)
