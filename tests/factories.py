"""factory-boy factories for the models. Valid ULNs come from uln_for(n)."""

import datetime

import factory
from django.utils import timezone

from accounts.models import Centre, Membership, User
from learners import models
from learners.identifiers import uln_check_digit


def uln_for(n: int) -> str:
    """The n-th valid ULN (n from 0), skipping nine-digit stems that have no check digit."""
    stem = 100000000 + n * 2
    while uln_check_digit(str(stem)) is None:
        stem += 1
    return f"{stem}{uln_check_digit(str(stem))}"


class CentreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Centre
        django_get_or_create = ("number",)

    number = factory.Sequence(lambda n: f"{10000 + n:05d}")
    name = factory.Sequence(lambda n: f"Test Centre {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    first_name = "Alex"
    last_name = "Example"
    password = factory.django.Password("correct horse battery")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    centre = factory.SubFactory(CentreFactory)
    role = Membership.Role.VIEWER


class SeriesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Series
        django_get_or_create = ("code",)

    code = "2010-06"
    name = factory.LazyAttribute(lambda s: f"Series {s.code}")
    results_published_on = datetime.date(2010, 8, 19)


class QualificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Qualification
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"Q{n:04d}")
    qan = factory.Sequence(lambda n: f"500/{n:04d}/1")
    title = factory.Sequence(lambda n: f"Qualification {n}")
    component = "PL"
    kind = "GQ"
    level = 3
    line_id = factory.LazyAttribute(lambda q: "ENG" if q.component == "PL" else None)
    glh = 540


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Unit
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"U{n:04d}")
    qualification = factory.SubFactory(QualificationFactory)
    title = factory.Sequence(lambda n: f"Unit {n}")
    glh = 60
    centre_marked = False
    mandatory = True


class LearnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Learner

    uln = factory.Sequence(uln_for)
    forename = "Sam"
    surname = factory.Sequence(lambda n: f"Learner{n}")
    date_of_birth = datetime.date(1993, 9, 1)
    centre = factory.SubFactory(CentreFactory)
    line_id = "ENG"
    level = "A"
    registered_on = datetime.date(2008, 9, 15)
    award_series = "2010-06"


class EntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Entry

    centre = factory.SubFactory(CentreFactory)
    candidate_number = factory.Sequence(lambda n: f"{n % 10000:04d}")
    uln = ""
    series = factory.SubFactory(SeriesFactory)
    kind = "UNIT"
    unit = factory.SubFactory(UnitFactory)
    code = factory.LazyAttribute(lambda e: e.unit.code if e.unit else e.qualification.code)
    qualification = factory.LazyAttribute(lambda e: e.unit.qualification)
    received_at = factory.LazyFunction(timezone.now)
