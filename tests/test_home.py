import pytest
from django.db import DatabaseError

from .factories import UserFactory


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_it_shows_the_home_page_to_a_signed_in_user(client):
    client.force_login(UserFactory(username="pat"))
    response = client.get("/")
    assert response.status_code == 200
    assert b"Signed in as Alex Example" in response.content


@pytest.mark.django_db
def test_it_reports_health_without_sign_in(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"database": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_reports_an_unavailable_database(client, monkeypatch):
    from django.db.backends.utils import CursorWrapper

    def broken(self, sql, params=None):
        raise DatabaseError("down")

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json() == {"database": "unavailable"}


@pytest.mark.django_db
def test_it_shows_the_support_team_from_settings(client, settings):
    settings.SUPPORT_EMAIL = "help@example.org"
    settings.SUPPORT_HOURS = "Weekdays 8 to 6"

    response = client.get("/contact/")

    assert response.status_code == 200
    assert b"help@example.org" in response.content
    assert b"Weekdays 8 to 6" in response.content
