"""The cohort screens at work (issue 19): tables that tell the truth about their order."""

import re

import pytest
from django.urls import reverse

from flags import codes

from .builders import snapshot_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def cohort(centre):
    return snapshot_of(centre, [(3, 40), (0, 120), (7, 0), (1, 300), (12, 80)])


def _column(response, accessor: str) -> list[int]:
    return [getattr(row.record, accessor) for row in response.context["table"].page.object_list]


def _aria_sort(response, header: str) -> str:
    text = response.content.decode()
    th = re.search(rf'<th scope="col"[^>]*aria-sort="(\w+)"[^>]*>\s*<a [^>]*>{header}', text)
    assert th, header
    return th.group(1)


@pytest.mark.parametrize(
    ("url", "column", "accessor", "header"),
    [
        ("overview", "problems", "problems", "Problems"),
        ("overview", "points", "points", "Points"),
        ("detail", "points", "points", "Points"),
    ],
)
def test_it_sorts_numbers_in_the_direction_it_says(
    client, viewer, cohort, url, column, accessor, header
):
    client.force_login(viewer)
    params = {"show_ready": "on"} if url == "detail" else {}

    up = client.get(reverse(url), {**params, "sort": column})
    down = client.get(reverse(url), {**params, "sort": f"-{column}"})

    assert _column(up, accessor) == sorted(_column(up, accessor))
    assert _column(down, accessor) == sorted(_column(down, accessor), reverse=True)
    assert len(set(_column(up, accessor))) > 1  # the order is not trivially true
    assert _aria_sort(up, header) == "ascending"
    assert _aria_sort(down, header) == "descending"


def test_it_offers_the_most_problems_first_on_the_first_select(client, viewer, cohort):
    client.force_login(viewer)

    text = client.get(reverse("overview")).content.decode()

    link = re.search(r'<a href="\?([^"]*)">Problems', text)
    assert link and "sort=-problems" in link.group(1)


def test_it_titles_a_page_with_errors_error_first(client, no_centre):
    client.force_login(no_centre)

    page = client.post(reverse("request_access"), {"centre": "12"}).content.decode()
    calm = client.get(reverse("request_access")).content.decode()

    assert re.search(r"<title>Error: ", page)
    assert "<title>Error: " not in calm
    assert 'class="error-summary"' in page and "autofocus" in page


def test_it_links_a_radio_groups_error_to_the_group(client, no_centre):
    client.force_login(no_centre)

    page = client.post(reverse("request_access"), {"centre": "12345"}).content.decode()

    link = re.search(r'<a href="#(id_role)">Role wanted:', page)
    assert link
    assert re.search(r'<fieldset class="field field--error" id="id_role"', page)


def test_it_draws_readiness_without_relying_on_colour(client, viewer, centre):
    """Each flag its own fill pattern, every segment's count in words, however narrow."""
    snapshot_of(centre, [(1, 0)] * 40 + [(0, 0)])  # one learner eligible for PL: 1 in 41
    client.force_login(viewer)

    text = client.get("/").content.decode()

    patterns = dict(re.findall(r'<pattern id="fill-([a-z-]+)"(.*?)</pattern>', text))
    assert set(patterns) == set(codes.ENTRY_FLAGS)
    assert len(set(patterns.values())) == len(patterns)  # no two alike
    counts = re.findall(
        r'<a href="[^"]*flag=([\w-]+)" data-flag="[\w-]+">.*?</span> (\d+) ([a-z ]+)<', text
    )
    assert ("eligible", "1", "eligible") in counts  # the 1-in-41 sliver is labelled
    assert ("missing", "40", "missing") in counts
    assert "<text" not in text  # labels are page text, which grows with the reader's zoom
