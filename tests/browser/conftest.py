"""Browser tests: Playwright driving the system Chromium (Debian's), headless, no downloads."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between page actions are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (CI installs Debian's chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """Open a fresh browser context (its own cookies) on the live server."""
    contexts = []

    def open_page():
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def demo_delivery(tmp_path):
    """The shipped catalogue and a small generated delivery, imported and rebuilt.

    Returns a function that signs up a person with a password and a role on a centre.
    """
    from django.utils import timezone

    from demo.deliveries import generate
    from flags.snapshot import rebuild
    from learners.feed.importer import import_delivery
    from screens.management.commands.setup_demo import SHIPPED_CATALOGUE

    from ..factories import MembershipFactory, UserFactory

    assert import_delivery(SHIPPED_CATALOGUE).imported
    generate(tmp_path / "delivery", centres=2, learners=40, seed=3, today=timezone.localdate())
    assert import_delivery(tmp_path / "delivery").imported
    rebuild()

    def person(username: str, centre, role: str, *, centre_user: bool = False, **names):
        user = UserFactory(username=username, **names)
        user.set_password(PASSWORD)
        user.save()
        MembershipFactory(user=user, centre=centre, role=role, is_centre_user=centre_user)
        return user

    return person


PASSWORD = "a perfectly long passphrase"
