"""Named users for every role, after healthchecks' owner/member/outsider pattern.

`centre` (12345) is the centre under test; `other_centre` (54321) belongs to someone else.
"""

import pytest
from django.core.cache import cache
from django.db.models.signals import post_migrate
from django_scopes import scopes_disabled

from accounts.models import Membership

from . import factories


def _lines_of_learning_again(sender, using, **kwargs) -> None:
    """A transactional test ends by flushing the database, and the flush takes the lines of
    learning the migration wrote; it then sends post_migrate, as migrate does, so they are
    written again here and every test starts with them, whichever tests ran before it."""
    if sender.label == "learners":
        with scopes_disabled():
            factories.ensure_lines_of_learning()


post_migrate.connect(_lines_of_learning_again, dispatch_uid="tests-lines-of-learning")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture(autouse=True)
def _unscoped_fixtures():
    """A test's own set-up and checks read every centre, as fixtures must. What it asks of
    the product is scoped there: each request by the middleware, each Celery task from
    nothing (test_scoping shows an unscoped query raising)."""
    with scopes_disabled():
        yield


@pytest.fixture
def centre(db):
    return factories.CentreFactory(number="12345", name="Northgate College")


@pytest.fixture
def other_centre(db):
    return factories.CentreFactory(number="54321", name="Southfield School")


@pytest.fixture
def staff(db):
    return factories.UserFactory(
        username="staff", first_name="Sam", last_name="Support", is_staff=True, is_superuser=True
    )


@pytest.fixture
def no_centre(db):
    """Registered, with no role anywhere."""
    return factories.UserFactory(username="nobody@example.org", email="nobody@example.org")


@pytest.fixture
def centre_user(centre):
    """The centre's own centre user: an administrator provisioned from the feed."""
    user = factories.UserFactory(username="northgate", email="exams@northgate.example.org")
    factories.MembershipFactory(
        user=user, centre=centre, role=Membership.Role.ADMINISTRATOR, is_centre_user=True
    )
    return user


@pytest.fixture
def administrator(centre):
    """A non-centre user granted administrator on the centre."""
    user = factories.UserFactory(username="admin@la.example.org", email="admin@la.example.org")
    factories.MembershipFactory(user=user, centre=centre, role=Membership.Role.ADMINISTRATOR)
    return user


@pytest.fixture
def viewer(centre):
    user = factories.UserFactory(
        username="viewer@consortium.example.org", email="viewer@consortium.example.org"
    )
    factories.MembershipFactory(user=user, centre=centre, role=Membership.Role.VIEWER)
    return user


@pytest.fixture
def other_viewer(other_centre):
    """Viewer of another centre: an outsider to `centre`."""
    user = factories.UserFactory(username="outsider@example.org", email="outsider@example.org")
    factories.MembershipFactory(user=user, centre=other_centre, role=Membership.Role.VIEWER)
    return user


ROLES = ("anonymous", "no_centre", "other_viewer", "viewer", "administrator", "staff")


@pytest.fixture
def as_role(request, client):
    """A client signed in as the named role fixture ('anonymous' stays signed out)."""

    def sign_in(role: str):
        if role != "anonymous":
            client.force_login(request.getfixturevalue(role))
        return client

    return sign_in
