"""The cohort screens at work (issue 19): tables that tell the truth about their order."""

import datetime
import re
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import Membership
from flags import codes
from flags.models import DetailLine, OverviewRow
from flags.stylesheet import flag_css
from learners import diploma
from nonedexcel.models import NonEdexcelQualification

from .builders import snapshot_of
from .factories import LearnerFactory

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
    assert re.search(r'<div class="error-summary"[^>]* autofocus>', page)


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


def test_it_asks_before_removing_a_non_edexcel_record_and_names_it(client, administrator, centre):
    learner = LearnerFactory(centre=centre, forename="Priya", surname="Patel")
    item = NonEdexcelQualification.objects.create(
        learner=learner, qan="500/1234/5", title="GCE Physics", awarding_body="AQA"
    )
    client.force_login(administrator)
    url = reverse("nonedexcel_remove", args=[learner.uln, item.pk])

    asked = client.get(url).content.decode()
    also_asked = client.post(url).content.decode()  # a form that did not ask first

    assert "Remove 500/1234/5 GCE Physics from Priya Patel&#x27;s record?" in asked
    assert 'name="confirmed" value="yes"' in asked and "No, go back" in asked
    assert "Remove 500/1234/5" in also_asked
    assert NonEdexcelQualification.objects.filter(pk=item.pk).exists()

    done = client.post(url, {"confirmed": "yes"}, follow=True).content.decode()

    assert not NonEdexcelQualification.objects.filter(pk=item.pk).exists()
    assert "500/1234/5 GCE Physics was removed from Priya Patel&#x27;s record." in done


def test_it_asks_before_removing_a_role_and_names_the_person(client, administrator, viewer):
    membership = Membership.objects.get(user=viewer)
    viewer.first_name, viewer.last_name = "Vic", "Viewer"
    viewer.save()
    client.force_login(administrator)
    url = reverse("revoke_role", args=["12345", membership.pk])

    asked = client.get(url).content.decode()

    assert "Remove Vic Viewer&#x27;s role at 12345 Northgate College?" in asked
    assert Membership.objects.filter(pk=membership.pk).exists()

    done = client.post(url, {"confirmed": "yes"}, follow=True).content.decode()

    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert "Vic Viewer no longer has a role at 12345 Northgate College." in done


def test_it_lands_a_self_demoted_administrator_on_their_home_page(
    client, administrator, centre_user
):
    membership = Membership.objects.get(user=administrator)
    client.force_login(administrator)

    response = client.post(
        reverse("change_role", args=["12345", membership.pk]), {"role": "viewer"}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("home")
    assert response.status_code == 200
    text = response.content.decode()
    assert "You are now a viewer of 12345 Northgate College" in text
    assert "You cannot do this" not in text


@pytest.mark.parametrize("url", ["overview", "detail"])
def test_it_tells_someone_with_no_role_how_to_get_one(client, no_centre, centre, url):
    snapshot_of(centre, [(1, 0)])
    client.force_login(no_centre)

    text = client.get(reverse(url)).content.decode()

    assert "You have no role at a centre yet" in text
    assert f'href="{reverse("request_access")}"' in text
    assert "No learners match these filters" not in text


def test_it_tells_someone_with_a_role_when_filters_match_nobody(client, viewer, centre):
    snapshot_of(centre, [(1, 0)])
    client.force_login(viewer)

    text = client.get(reverse("overview"), {"level": "F"}).content.decode()

    assert "No learners match these filters" in text
    assert "You have no role" not in text


@pytest.mark.parametrize("template", ["500.html", "503.html"])
def test_the_error_pages_link_help_and_contact(template):
    text = render_to_string(template)

    assert 'href="/help/"' in text and 'href="/contact/"' in text


def test_every_registration_field_says_what_it_autocompletes(client):
    text = client.get(reverse("register")).content.decode()

    fields = re.findall(r"<input (?![^>]*type=\"hidden\")[^>]*>", text)
    assert fields
    assert all("autocomplete=" in field for field in fields), fields


def test_the_flag_stylesheet_is_the_one_the_flag_catalogue_writes():
    written = (Path(settings.BASE_DIR) / "static" / "css" / "flags.css").read_text()

    assert written == flag_css(), "run: python -m flags.stylesheet > static/css/flags.css"
    for code in (*codes.ENTRY_FLAGS, *codes.ASSESSMENT_FLAGS):
        assert f'[data-flag="{code}"]::before' in written


def test_it_counts_the_learners_that_match_and_heads_each_row_with_the_learner(
    client, viewer, centre
):
    snapshot_of(centre, [(1, 0), (2, 0), (0, 0)])
    client.force_login(viewer)

    text = client.get(reverse("overview")).content.decode()
    one = client.get(reverse("overview"), {"sort": "-problems", "flag": "eligible"})

    assert "3 learners match." in text
    assert len(re.findall(r'<th scope="row"[^>]*>Snapshot\d\d, Sam</th>', text)) == 3
    assert 'data-component="PL" data-kind="entry" data-flag="missing">Missing<' in text
    assert "1 learner matches" in one.content.decode()


def test_it_shows_asl_percent_on_the_overview_and_after_the_contract_in_the_export(
    client, viewer, centre
):
    run, (uln,) = snapshot_of(centre, [(1, 0)])
    OverviewRow.objects.filter(uln=uln).update(asl_percent=40)
    client.force_login(viewer)

    text = client.get(reverse("overview")).content.decode()
    export = b"".join(client.get(reverse("overview_export")).streaming_content).decode()
    header, row = (line.split(",") for line in export.lstrip("\ufeff").splitlines()[:2])

    assert ">ASL %" in text and ">40%<" in text
    assert header[-1] == "asl_percent" and row[-1] == "40"


def test_the_readme_stands_alone_in_a_clone():
    root = Path(settings.BASE_DIR)
    readme = (root / "README.md").read_text()

    assert "../shared" not in readme
    for linked in re.findall(r"\]\((docs/[^)]+)\)", readme):
        assert (root / linked).is_file(), linked
    assert "`SITE_URL`" in readme


@pytest.mark.parametrize(
    ("copy", "original"),
    [("DOMAIN.md", "DOMAIN.md"), ("learner-tracking-faq.txt", "seed/learner-tracking-faq.txt")],
)
def test_the_domain_copies_match_the_shared_originals(copy, original):
    shared = Path(settings.BASE_DIR).parent / "shared" / original
    if not shared.exists():
        pytest.skip("no shared originals beside this checkout (a fresh clone)")
    assert (Path(settings.BASE_DIR) / "docs" / copy).read_text() == shared.read_text()


def test_it_moves_between_learners_of_the_list_a_record_was_opened_from(client, viewer, centre):
    run, ulns = snapshot_of(centre, [(3, 0), (0, 0), (7, 0), (1, 0)])
    for uln, n in zip(ulns, range(4), strict=True):
        LearnerFactory(uln=uln, centre=centre, surname=f"Snapshot{n:02d}", forename="Sam")
    client.force_login(viewer)
    listed = "/overview/?sort=-problems&level=A"
    overview = client.get(listed).content.decode()
    # Most problems first: 7, 3, 1, 0 (ulns[2], ulns[0], ulns[3], ulns[1]).
    link = re.search(rf'href="(/learners/{ulns[0]}/\?list=[^"]+)"', overview).group(1)

    record = client.get(link.replace("&amp;", "&")).content.decode()

    assert f'href="{listed.replace("&", "&amp;")}">Back to the list' in record
    assert "Learner 2 of 4" in record
    assert re.search(rf'href="/learners/{ulns[2]}/\?list=[^"]+" rel="prev"', record)
    assert re.search(rf'href="/learners/{ulns[3]}/\?list=[^"]+" rel="next"', record)


def test_it_never_leads_back_off_the_site(client, viewer, centre):
    run, (uln,) = snapshot_of(centre, [(1, 0)])
    LearnerFactory(uln=uln, centre=centre)
    client.force_login(viewer)

    for elsewhere in ("https://evil.example/overview/", "//evil.example/overview/", "/admin/"):
        record = client.get(reverse("learner_record", args=[uln]), {"list": elsewhere})
        assert "Back to the list" not in record.content.decode()


@pytest.fixture
def shopping_list(centre):
    """Two learners' lines on 1 March 2027: overdue, due soon, later, for information."""
    with time_machine.travel(datetime.datetime(2027, 3, 1, 12, tzinfo=datetime.UTC), tick=False):
        run, (first, second) = snapshot_of(centre, [(0, 0), (0, 0)])
    day = datetime.date(2027, 3, 1)
    lines = [
        (first, "PL", -3, codes.ACTION, codes.MISSING, "Overdue unit"),
        (first, "FS_MATHS", 10, codes.URGENT, codes.DUE, "Due soon unit"),
        (second, "PROJECT", 90, codes.ACTION, codes.MISSING, "Later unit"),
        (second, "PL", 20, codes.INFO, codes.NOT_OPEN, "Window not open unit"),
        # The window closed, but the claim deadline is ahead: overdue, not due soon.
        (second, "FS_ICT", 5, codes.URGENT, codes.OVERDUE, "Overdue claim unit"),
        (second, "WEX", None, codes.ACTION, codes.MISSING, "No deadline unit"),
    ]
    for uln, component, days, severity, flag, element in lines:
        DetailLine.objects.create(
            run=run,
            uln=uln,
            centre=centre,
            surname="Snapshot00" if uln == first else "Snapshot01",
            forename="Sam",
            line="ENG",
            level="A",
            component=component,
            component_order=diploma.COMPONENTS.index(component),
            element=element,
            issue="Something to do.",
            action="Do it.",
            deadline=None if days is None else day + datetime.timedelta(days=days),
            severity=severity,
            severity_rank=codes.SEVERITY_RANK[severity],
            flag=flag,
        )
    return first, second


def _detail(client, user, **params) -> str:
    """The Detail on 1 March 2027, signed in then (a session from today would have expired)."""
    with time_machine.travel(datetime.datetime(2027, 3, 1, 12, tzinfo=datetime.UTC), tick=False):
        client.force_login(user)
        response = client.get(reverse("detail"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_it_lists_the_detail_by_urgency_and_hides_information_at_first(
    client, viewer, shopping_list
):
    client.force_login(viewer)

    shown = _detail(client, viewer)
    overdue = _detail(client, viewer, urgency="overdue")
    soon = _detail(client, viewer, urgency="due-soon")
    action = _detail(client, viewer, urgency="action")
    info = _detail(client, viewer, urgency="info")
    everything = _detail(client, viewer, show_info="on")

    assert 'data-urgency="overdue"' in shown and "Overdue unit" in shown
    assert "Window not open unit" not in shown  # for information: hidden at first
    assert "Window not open unit" in everything and 'data-urgency="info"' in everything
    assert ("Overdue unit" in overdue, "Due soon unit" in overdue) == (True, False)
    assert "Overdue claim unit" in overdue and "Overdue claim unit" not in soon
    assert ("Due soon unit" in soon, "Later unit" in soon) == (True, False)
    assert ("Later unit" in action, "Overdue unit" in action) == (True, False)
    assert "No deadline unit" in action
    assert "Window not open unit" in info and "Later unit" not in info


def test_it_filters_the_detail_by_component_and_by_the_next_30_days(client, viewer, shopping_list):
    client.force_login(viewer)

    maths = _detail(client, viewer, component="FS_MATHS")
    month = _detail(client, viewer, due_soon="on")

    assert "Due soon unit" in maths and "Overdue unit" not in maths
    assert "Due soon unit" in month
    assert "Overdue unit" not in month and "Later unit" not in month
    assert "Overdue claim unit" not in month  # shown as overdue, not as due soon


def test_it_groups_the_detail_by_learner_when_listed_by_learner(client, viewer, shopping_list):
    first, second = shopping_list
    client.force_login(viewer)

    by_learner = _detail(client, viewer, show_info="on")
    by_deadline = _detail(client, viewer, show_info="on", sort="deadline")

    headings = re.findall(
        r'<tr class="learner-group"><th colspan="\d+" scope="colgroup">', by_learner
    )
    assert len(headings) == 2
    assert by_learner.index(f"ULN {first}") < by_learner.index("Overdue unit")
    assert by_learner.index(f"ULN {second}") < by_learner.index("Later unit")
    assert 'class="learner-group"' not in by_deadline


@pytest.mark.parametrize(
    ("url", "title"),
    [("overview", "Diploma Learner Overview"), ("detail", "Diploma Learner Detail")],
)
def test_the_cohort_pages_have_plain_titles(client, viewer, centre, url, title):
    snapshot_of(centre, [(1, 0)])
    client.force_login(viewer)

    text = client.get(reverse(url)).content.decode()

    assert f"<title>{title} — Learner Tracking</title>" in text


def test_it_shows_bad_filters_in_an_error_summary_and_says_the_good_ones(client, viewer, centre):
    snapshot_of(centre, [(1, 0)])
    client.force_login(viewer)

    response = client.get(reverse("detail"), {"level": "A", "urgency": "bogus"})
    text = response.content.decode()

    assert text.count('class="error-summary"') == 1
    assert "<title>Error: Diploma Learner Detail" in text
    assert "Filters: Level: Advanced." in text  # the printout says what still filters


def test_equal_numbers_keep_the_learners_in_name_order_either_way(client, viewer, centre):
    snapshot_of(centre, [(2, 10), (2, 10), (5, 0), (2, 10)])
    client.force_login(viewer)

    down = client.get(reverse("overview"), {"sort": "-problems"})
    names = [row.record.surname for row in down.context["table"].page.object_list]

    assert names == ["Snapshot02", "Snapshot00", "Snapshot01", "Snapshot03"]
