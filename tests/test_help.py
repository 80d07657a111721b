"""The Help page: every question of the original FAQ answered, and a flag legend that is
built from the catalogue, so it can never say something the pages do not."""

import dataclasses
import datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, resolve, reverse
from django.utils.html import escape

from flags import codes
from learners import diploma
from screens.cohort import LATE_ISSUE
from screens.views.help import SECTIONS

# The source of truth: every question of seed/learner-tracking-faq.txt, as the seed words
# it, with the anchor of our answer. Sections of the seed that have no question (the flag
# tables, the contact details) are listed under their headings.
SEED_QUESTIONS = {
    "I am a centre user. How do I create an account?": "create-account-centre",
    "I am a non centre user. How do I create an account?": "create-account-non-centre",
    "I am a centre user. How do I allocate permissions to non centre users?": (
        "allocate-permissions"
    ),
    "How do I view learner data?": "view-learner-data",
    "What is Diploma Learner Overview?": "what-is-overview",
    "What is Diploma Learner Detail?": "what-is-detail",
    "What is the Individual Learner Record?": "what-is-ilr",
    "Understanding the status flags": "flags",
    "Entry status flags": "entry-flags",
    "Assessment status flags": "assessment-flags",
    "How do I amend the anticipated award date?": "award-date",
    "How do I filter my cohort?": "filter-cohort",
    "How do I add non-Edexcel qualifications to Learner Tracking?": "non-edexcel",
    "How often is Learner Tracking data updated?": "data-updated",
    "How can I view learner results?": "view-results",
    "What is the estimated Diploma grade?": "estimated-grade",
    "Can I amend a learner's details?": "amend-details",
    "How do I submit centre marks?": "submit-marks",
    "Why can't Learner Tracking validate a given ASL?": "validate-asl",
    "What does ASL % complete mean?": "asl-percent",
    "Why does Learner Tracking show my ASL as 50% complete but doesn't show any entries?": (
        "asl-50-percent"
    ),
    "I cannot see any learner data (centre user)": "no-learner-data",
    "I cannot see any learner data (non centre user)": "no-learner-data",
    "I can't see any data for my non-Edexcel CAB components": "non-edexcel-cab-data",
    "A result is not showing on a component": "result-not-showing",
    "Some learner details are incorrect": "details-incorrect",
    "I don't understand the status flags for ASL": "asl-flags",
    "Contact us": "contact-us",
}


class _Page(HTMLParser):
    """Every id, every link, the links of the page's own content (not the site's header
    and footer) and the links inside the table of contents."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.main_hrefs: list[str] = []
        self.toc_hrefs: list[str] = []
        self.headings: list[str] = []
        self._in_toc = False
        self._in_main = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.headings.append(tag)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "main":
            self._in_main = True
        if tag == "nav" and "help-contents" in (attrs.get("class") or ""):
            self._in_toc = True
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
            if self._in_main:
                self.main_hrefs.append(attrs["href"])
            if self._in_toc:
                self.toc_hrefs.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "nav":
            self._in_toc = False
        if tag == "main":
            self._in_main = False


def _parse(response) -> _Page:
    page = _Page()
    page.feed(response.content.decode())
    return page


@pytest.fixture
def help_page(client, db):
    response = client.get(reverse("help"))
    assert response.status_code == 200
    return response


def _anchors() -> list[str]:
    return [item.anchor for s in SECTIONS for item in (s, *s.questions)]


def test_it_answers_without_signing_in(client, db):
    response = client.get("/help/")

    assert response.status_code == 200
    assert b"<h1>Help</h1>" in response.content


def test_it_covers_every_question_of_the_seed_faq(help_page):
    page = _parse(help_page)
    contents = {href.removeprefix("#") for href in page.toc_hrefs}

    for question, anchor in SEED_QUESTIONS.items():
        assert anchor in _anchors(), f"{question!r}: {anchor} is not in the view's sections"
        assert anchor in page.ids, f"{question!r}: no element with id {anchor}"
        assert anchor in contents, f"{question!r}: {anchor} is not in the table of contents"


def test_it_gives_every_question_a_heading_and_the_contents_an_entry(help_page):
    html = help_page.content.decode()
    page = _parse(help_page)

    for section in SECTIONS:
        assert f'<h2 id="{section.anchor}">{escape(section.title)}</h2>' in html
        for question in section.questions:
            assert f'<h3 id="{question.anchor}">{escape(question.question)}</h3>' in html
    # Every anchor of the page is in the contents, and every entry of the contents lands.
    own_ids = set(page.ids) - {"main"}  # the skip link's target, from base.html
    assert {href.removeprefix("#") for href in page.toc_hrefs} == own_ids
    for href in page.hrefs:
        if href.startswith("#"):
            assert href[1:] in page.ids, href


def test_it_has_unique_anchors(help_page):
    ids = _parse(help_page).ids

    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert len(_anchors()) == len(set(_anchors()))


def test_it_keeps_the_headings_in_order(help_page):
    levels = [int(tag[1]) for tag in _parse(help_page).headings]

    assert levels[0] == 1
    for before, after in zip(levels, levels[1:], strict=False):
        assert after <= before + 1, levels


@pytest.mark.parametrize("code", codes.ENTRY_FLAGS)
def test_it_explains_every_entry_flag(help_page, code):
    html = help_page.content.decode()
    flag = codes.ENTRY_FLAG_INFO[code]

    assert f'data-kind="entry" data-flag="{code}"' in html
    assert escape(flag.label) in html
    assert escape(flag.description) in html
    assert escape(flag.action) in html


@pytest.mark.parametrize("code", codes.ASSESSMENT_FLAGS)
def test_it_explains_every_assessment_flag(help_page, code):
    html = help_page.content.decode()
    flag = codes.ASSESSMENT_FLAG_INFO[code]

    assert f'data-kind="assessment" data-flag="{code}"' in html
    assert escape(flag.label) in html
    # Flags with a GQ and a VQ meaning show each on its own; the others their one meaning.
    if flag.gq_description or flag.vq_description:
        texts = [flag.gq_description, flag.gq_action, flag.vq_description, flag.vq_action]
    else:
        texts = [flag.description, flag.action]
    for text in filter(None, texts):
        assert escape(text) in html, text


def test_it_shows_the_texts_that_are_not_a_flags_own(help_page):
    html = help_page.content.decode()

    for text in (
        codes.ACTION_ASL_MISSING,
        codes.ACTION_ASL_VALIDITY,
        codes.ACTION_CONFIRM_ON_DAS,
        codes.ACTION_FS_RESIT_ENTERED,
        codes.ACTION_CLAIM_OVERDUE,
        LATE_ISSUE,
    ):
        assert escape(text) in html


def test_it_states_the_assumptions_the_rules_make(help_page):
    html = help_page.content.decode()
    text = " ".join(html.split())

    june, january = (diploma.default_claim_deadline(f"2027-{m}") for m in ("06", "01"))
    assert (june, january) == (datetime.date(2027, 7, 5), datetime.date(2027, 2, 5))
    assert (
        "we assume <strong>5 July</strong> for a June series and <strong>5 February</strong>"
        in (text)
    )
    assert "Foundation level 1 or 2; Higher level 2 or 3; Advanced level 3 or 4" in text
    assert "registered in January 2026 (academic year 2025/26) to June 2027" in text
    for words in (
        "a fail in a later series, or on the same day, does not undo it",
        "Once a series' results day has passed",
        "earns the project's points when no unit result does",
        "Only “Complete” is ready for aggregation",
        "shown for information and not counted",
    ):
        assert words in text, words


def test_it_follows_the_catalogue_when_it_changes(client, db, monkeypatch):
    reworded = dataclasses.replace(
        codes.ENTRY_FLAG_INFO[codes.MISSING],
        label="Nothing entered yet",
        description="We found no entries at all for this component.",
        action="Enter the learner for it & attach a valid ULN.",
    )
    monkeypatch.setitem(codes.ENTRY_FLAG_INFO, codes.MISSING, reworded)

    html = client.get(reverse("help")).content.decode()

    assert "Nothing entered yet" in html
    assert escape(reworded.description) in html
    assert escape(reworded.action) in html  # the & escaped as Django renders it


def test_it_never_shows_a_flag_by_colour_alone(help_page):
    html = help_page.content.decode()

    for code in (*codes.ENTRY_FLAGS, *codes.ASSESSMENT_FLAGS):
        flag = codes.FLAGS[code]
        assert escape(flag.symbol) in html
    assert '<th scope="col">What it means</th>' in html
    assert '<th scope="row">' in html


def test_it_points_to_the_live_chat_and_contact(help_page):
    html = help_page.content.decode()

    assert reverse("support_start") in html
    assert reverse("contact") in html


def test_it_links_only_to_pages_that_exist(client, viewer):
    client.force_login(viewer)
    page = _parse(client.get(reverse("help")))

    # The page's own links: the header and footer are every page's, and tested with them.
    internal = {urlsplit(href).path for href in page.main_hrefs if href.startswith("/")}
    assert {reverse("overview"), reverse("search"), reverse("request_access")} <= internal
    for path in sorted(internal):
        try:
            match = resolve(path)
        except Resolver404:
            pytest.fail(f"{path} does not resolve")
        if match.kwargs:
            continue  # needs a centre or a learner
        assert client.get(path).status_code != 404, path


def test_it_is_linked_from_every_page(client, viewer, db):
    anonymous = client.get(reverse("contact")).content.decode()
    client.force_login(viewer)
    signed_in = client.get(reverse("home")).content.decode()

    assert f'href="{reverse("help")}"' in anonymous  # the footer
    assert signed_in.count(f'href="{reverse("help")}"') == 2  # the header and the footer
