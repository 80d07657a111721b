"""factory-boy factories for the models. Valid ULNs come from uln_for(n)."""

import datetime

import factory
from django.utils import timezone

from accounts.models import Centre, Membership, User
from base.identifiers import uln_check_digit
from learners import models
from learners.diploma import LINES_OF_LEARNING


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


class LineOfLearningFactory(factory.django.DjangoModelFactory):
    """The shipped lines come from a migration; transactional tests flush them, so recreate."""

    class Meta:
        model = models.LineOfLearning
        django_get_or_create = ("code",)

    code = "ENG"
    name = factory.LazyAttribute(lambda line: LINES_OF_LEARNING[line.code].name)
    first_teaching = factory.LazyAttribute(lambda line: LINES_OF_LEARNING[line.code].first_teaching)


def _line(code: str | None):
    return LineOfLearningFactory(code=code) if code else None


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
    line = factory.LazyAttribute(lambda q: _line("ENG" if q.component == "PL" else None))
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
    line = factory.LazyFunction(lambda: _line("ENG"))
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


class MarkWindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.MarkWindow

    series = factory.SubFactory(SeriesFactory)
    unit = factory.SubFactory(UnitFactory, centre_marked=True)
    opens_on = datetime.date(2010, 3, 1)
    closes_on = datetime.date(2010, 5, 15)


class GradeThresholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.GradeThreshold
        django_get_or_create = ("level", "grade")

    level = "A"
    grade = "A*"
    min_points = 300


class MarkSubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.MarkSubmission

    uln = factory.Sequence(uln_for)
    series = factory.SubFactory(SeriesFactory)
    unit = factory.SubFactory(UnitFactory, centre_marked=True)
    submitted_on = datetime.date(2010, 5, 1)


class ResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Result

    uln = factory.Sequence(uln_for)
    series = factory.SubFactory(SeriesFactory)
    unit = factory.SubFactory(UnitFactory)
    code = factory.LazyAttribute(lambda r: r.unit.code if r.unit else r.qualification.code)
    qualification = factory.LazyAttribute(lambda r: r.unit.qualification)
    grade = "A"
    points = 40
    published_on = datetime.date(2010, 8, 19)


class VQStatusFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.VQStatus

    uln = factory.Sequence(uln_for)
    qualification = factory.SubFactory(QualificationFactory, component="ASL", kind="VQ")
    verified = True
    claimed_on = datetime.date(2010, 6, 1)
    result_issued_on = None


class DASStatusFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.DASStatus

    uln = factory.Sequence(uln_for)
    component = "PL"
    complete = True
    asl_glh_completed = None
    diploma_grade = ""


class ImportRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ImportRun

    directory = "/srv/feed/2010-08-19"
    files = factory.LazyFunction(lambda: ["learners.csv", "entries.csv"])
    row_counts = factory.LazyFunction(
        lambda: {
            "learners.csv": {"read": 1, "written": 1},
            "entries.csv": {"read": 2, "written": 2},
        }
    )
    outcome = models.ImportRun.Outcome.REJECTED
    error_count = 1
    errors = factory.LazyFunction(lambda: ["entries.csv:3: uln: not a valid ULN"])
    finished_at = factory.LazyFunction(timezone.now)


def ensure_lines_of_learning() -> None:
    """The migration's lines of learning, after a transactional test has flushed them (the
    post_migrate receiver in conftest.py, which the flush sends)."""
    for code in LINES_OF_LEARNING:
        LineOfLearningFactory(code=code)
