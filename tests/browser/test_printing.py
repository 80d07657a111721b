"""Printing (issue 19): page counts read from PDFs Chromium prints, A4."""

import re

import pytest

from accounts.models import Centre
from flags.models import OverviewRow

from .conftest import ARTIFACTS, PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pages_in(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def printed(page, name: str, **options) -> bytes:
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", prefer_css_page_size=True, **options)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"print-{name}.pdf").write_bytes(pdf)
    page.emulate_media(media="screen")
    return pdf


@pytest.fixture
def signed_in(new_page, demo_delivery):
    centre = Centre.objects.order_by("number").first()
    demo_delivery("admin@la.example.org", centre, "administrator")
    page = new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("admin@la.example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return page, centre


def test_the_record_with_most_problems_prints_on_three_pages_at_most(signed_in):
    page, centre = signed_in
    worst = OverviewRow.objects.filter(centre=centre).order_by("-problems", "uln").first()
    page.goto(f"/learners/{worst.uln}/")

    pdf = printed(page, "record")

    assert pages_in(pdf) <= 3, (worst.problems, pages_in(pdf))
    page.emulate_media(media="print")
    assert page.locator(".print-date").is_visible()
    # In black and white the symbol must still show: dark on light, not white on colour.
    colour = page.locator(".flag__icon").first.evaluate("e => getComputedStyle(e).color")
    assert colour in ("rgb(0, 0, 0)", "rgb(27, 27, 27)"), colour


@pytest.mark.parametrize("url", ["/overview/?level=A", "/detail/?level=A&show_ready=on"])
def test_the_lists_print_landscape_with_every_column_and_their_filters(signed_in, url):
    page, _ = signed_in
    page.goto(url)

    pdf = printed(page, url.strip("/").split("/")[0])
    # Laid out as on the paper: A4 landscape less its margins is 1,047 CSS pixels wide.
    page.set_viewport_size({"width": 1047, "height": 700})
    page.emulate_media(media="print")

    width, height = (
        float(n) for n in re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", pdf).groups()
    )
    assert width > height  # landscape
    assert "Level: Advanced" in page.locator(".print-filters").inner_text()
    table = page.locator(".data-table").first
    wrap = page.locator(".table-wrap").first
    assert table.evaluate("t => t.scrollWidth") <= wrap.evaluate("w => w.clientWidth") + 1
    for header in page.locator(".data-table thead th").all():
        assert header.is_visible()
