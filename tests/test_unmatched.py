import pytest
from django.urls import reverse

from .factories import EntryFactory, LearnerFactory

pytestmark = pytest.mark.django_db


def test_it_lists_the_centres_unmatched_entries_with_the_reason(
    client, viewer, centre, other_centre
):
    learner = LearnerFactory(centre=centre)
    EntryFactory(centre=centre, candidate_number="0001", uln=learner.uln, learner=learner)
    EntryFactory(centre=centre, candidate_number="0002", uln="")
    EntryFactory(centre=centre, candidate_number="0003", uln="1000000063")
    EntryFactory(centre=centre, candidate_number="0004", uln="9999999999")
    EntryFactory(centre=centre, candidate_number="0005", uln="1000000035")
    EntryFactory(centre=centre, candidate_number="0007", uln="1234567")
    EntryFactory(centre=other_centre, candidate_number="0006", uln="")
    client.force_login(viewer)

    response = client.get(reverse("unmatched_entries", args=["12345"]))

    rows = {row["candidate_number"]: row["reason"] for row in response.context["rows"]}
    assert rows == {
        "0002": "No ULN was given",
        "0003": "The ULN is not valid: it has a wrong check digit",
        "0004": "A placeholder ULN (9999999999) was given",
        "0005": "No learner with this ULN is registered with us as DAB",
        "0007": "The ULN is not valid: it is not 10 digits (it has 7)",
    }
    series = {row["series"] for row in response.context["rows"]}
    assert series == {"June 2010"}  # a series is named, not coded, where a person reads it
    assert b"ensuring that a valid ULN is attached" in response.content


def test_it_answers_404_for_a_centre_the_user_has_no_role_on(client, other_viewer, centre):
    client.force_login(other_viewer)
    assert client.get(reverse("unmatched_entries", args=["12345"])).status_code == 404
