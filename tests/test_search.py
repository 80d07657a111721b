import pytest
from django.urls import reverse

from base.text import fold

from .factories import EntryFactory, LearnerFactory, uln_for

HIDDEN = uln_for(9000)

pytestmark = pytest.mark.django_db


@pytest.fixture
def learners(centre, other_centre):
    return {
        "amelie": LearnerFactory(
            uln="9276308686", forename="Amélie", surname="Ørsted", centre=centre
        ),
        "ben": LearnerFactory(forename="Ben", surname="Jones", centre=centre),
        "jo": LearnerFactory(forename="Jo", surname="Benson", centre=centre),
        "hidden": LearnerFactory(uln=HIDDEN, forename="Ben", surname="Jonas", centre=other_centre),
    }


def found(client, q):
    response = client.get(reverse("search"), {"q": q})
    assert response.status_code == 200
    page = response.context["page"]
    return [] if page is None else [learner.uln for learner in page]


def test_it_folds_case_and_accents():
    assert fold("Ørsted") == "orsted"
    assert fold("AMÉLIE") == "amelie"
    assert fold("Łukasz Strauß") == "lukasz strauss"


def test_it_finds_by_uln_exactly(client, viewer, learners):
    client.force_login(viewer)
    assert client.get(reverse("search"), {"q": "9276308686"}).status_code == 302  # the ILR
    assert found(client, "927630868") == []


def test_it_finds_by_name_in_either_order_without_case_or_accents(client, viewer, learners):
    client.force_login(viewer)
    amelie = learners["amelie"].uln
    assert found(client, "orsted amelie") == [amelie]
    assert found(client, "AMELIE ØRSTED") == [amelie]
    assert found(client, "Ørs") == [amelie]
    assert found(client, "amel ors") == [amelie]


def test_a_single_word_matches_forename_or_surname(client, viewer, learners):
    client.force_login(viewer)
    assert set(found(client, "ben")) == {learners["ben"].uln, learners["jo"].uln}


def test_it_finds_by_candidate_number(client, viewer, learners, centre):
    EntryFactory(
        centre=centre, candidate_number="0042", learner=learners["ben"], uln=learners["ben"].uln
    )
    client.force_login(viewer)
    assert found(client, "42") == [learners["ben"].uln]
    assert found(client, "0042") == [learners["ben"].uln]


def test_it_never_reveals_a_learner_of_another_centre(client, viewer, learners):
    client.force_login(viewer)
    assert found(client, HIDDEN) == []
    assert learners["hidden"].uln not in found(client, "ben")
    response = client.get(reverse("search"), {"q": HIDDEN})
    assert b"No learner at your centres" in response.content


def test_staff_search_every_centre(client, staff, learners):
    client.force_login(staff)
    response = client.get(reverse("search"), {"q": HIDDEN})
    assert response["Location"] == reverse("learner_record", args=[HIDDEN])


def test_an_empty_query_shows_only_the_form(client, viewer, learners):
    client.force_login(viewer)
    assert found(client, "   ") == []


def test_it_answers_in_a_constant_number_of_queries(
    client, viewer, centre, django_assert_max_num_queries
):
    for n in range(60):
        LearnerFactory(centre=centre, forename="Sam", surname=f"Smith{n}")
    client.force_login(viewer)
    with django_assert_max_num_queries(8):
        assert len(found(client, "smith")) == 50


@pytest.fixture
def hard_names(centre):
    return {
        "aoife": LearnerFactory(forename="Aoife", surname="Ó Súilleabháin", centre=centre),
        "sam": LearnerFactory(forename="Sam", surname="Smith-Jones", centre=centre),
        "liam": LearnerFactory(forename="Liam", surname="O’Sullivan", centre=centre),
        "maria": LearnerFactory(forename="Maria José", surname="de la Cruz", centre=centre),
        "mary": LearnerFactory(forename="Mary", surname="Evans-Jones", centre=centre),
        "ann": LearnerFactory(forename="Ann", surname="O'Sullivan", centre=centre),
    }


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("Ó Súilleabháin", "aoife"),
        ("o suilleabhain", "aoife"),
        ("Suilleabhain", "aoife"),
        ("Smith-Jones", "sam"),
        ("smith jones", "sam"),
        ("Sam Jones", "sam"),
        ("Mary Jones", "mary"),
        ("Jones Mary", "mary"),
        ("Maria Cruz", "maria"),
        ("Ann OSullivan", "ann"),
        ("Liam O'Sullivan", "liam"),
        ("Liam OSullivan", "liam"),
        ("liam o sullivan", "liam"),
        ("de la Cruz", "maria"),
        ("Maria José de la Cruz", "maria"),
        ("de la cruz maria", "maria"),
        ("Aoife Ó Súilleabháin", "aoife"),
    ],
)
def test_it_finds_surnames_with_accents_hyphens_apostrophes_and_spaces(
    client, viewer, hard_names, query, who
):
    client.force_login(viewer)
    assert found(client, query) == [hard_names[who].uln]


def test_it_opens_the_record_of_the_one_learner_with_that_uln(client, viewer, learners):
    client.force_login(viewer)

    response = client.get(reverse("search"), {"q": "9276308686"})

    assert response.status_code == 302
    assert response["Location"] == reverse("learner_record", args=["9276308686"])


def test_it_offers_the_unmatched_entries_when_nothing_matches(client, viewer, learners):
    client.force_login(viewer)

    text = client.get(reverse("search"), {"q": "Nobody"}).content.decode()

    assert "No learner at your centres matches" in text
    assert reverse("unmatched_entries", args=["12345"]) in text
