import pytest

from . import factories


@pytest.fixture
def centre(db):
    return factories.CentreFactory(number="12345", name="Northgate College")


@pytest.fixture
def other_centre(db):
    return factories.CentreFactory(number="54321", name="Southfield School")


@pytest.fixture
def staff(db):
    return factories.UserFactory(username="staff", is_staff=True, is_superuser=True)
