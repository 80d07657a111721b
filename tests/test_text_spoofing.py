"""Issue 17, point 9: text that cannot spoof."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from base import cells as values
from base.identifiers import is_valid_centre_number, uln_problem
from base.text import INVISIBLE
from support.models import Conversation

from .factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

RLO = "\u202e"
ZWSP = "\u200b"


def test_it_takes_bidi_controls_and_invisible_characters_out_of_every_form(client, viewer):
    client.force_login(viewer)

    client.post(
        reverse("support_start"),
        {"subject": f"Help {RLO}7000000006", "body": f"About{ZWSP} 7000000006{RLO}"},
    )

    conversation = Conversation.objects.get()
    assert conversation.subject == "Help 7000000006"
    assert conversation.messages.get().body == "About 7000000006"


def test_registration_names_lose_them_too():
    Client().post(
        reverse("register"),
        {
            "first_name": f"Ro{ZWSP}bin",
            "last_name": f"{RLO}Consort",
            "email": "robin@example.org",
            "organisation": "LA",
            "password1": "a perfectly long passphrase",
            "password2": "a perfectly long passphrase",
        },
    )
    user = User.objects.get(email="robin@example.org")
    assert (user.first_name, user.last_name) == ("Robin", "Consort")


def test_the_feed_takes_them_out_of_text_and_normalises_usernames_and_addresses():
    assert values.text(50)(f"Smith{RLO}") == "Smith"
    assert not any(ch in INVISIBLE for ch in values.text(50)("".join(INVISIBLE) + "x"))
    assert values.username("ｎｏｒｔｈｇａｔｅ") == "northgate"  # full-width letters, NFKC
    assert values.email(f"exams{ZWSP}@northgate.example.org") == "exams@northgate.example.org"


@pytest.mark.parametrize("digits", ["١٢٣٤٥", "１２３４５", "12٣45"])
def test_numbers_take_ascii_digits_only(digits):
    assert not is_valid_centre_number(digits)
    with pytest.raises(ValueError):
        values.centre_number(digits)
    with pytest.raises(ValueError):
        values.candidate_number(digits[:4])
    assert uln_problem("٧" * 10) == "contains something other than digits"


def test_a_self_registered_name_cannot_pass_for_a_centre_user(client, administrator, centre):
    poser = UserFactory(
        username="poser@example.org",
        first_name="Northgate",
        last_name="Exams (centre user)",
        organisation="Nowhere LA",
    )
    MembershipFactory(user=poser, centre=centre)
    client.force_login(administrator)

    page = client.get(reverse("manage_users", args=[centre.number])).content.decode()

    assert "(registered themselves, <bdi>Nowhere LA</bdi>)" in page


def test_names_are_isolated_from_the_numbers_beside_them(client, viewer, centre):
    from .factories import LearnerFactory, uln_for

    LearnerFactory(centre=centre, uln=uln_for(1), surname="Smith", forename="Ann")
    client.force_login(viewer)

    page = client.get(reverse("search"), {"q": "Smith"}).content.decode()

    assert "<bdi>Smith</bdi>, <bdi>Ann</bdi>" in page
