import pytest
from django.db import DatabaseError, InterfaceError, OperationalError

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
    report = response.json()
    assert (report["database"], report["status"]) == ("ok", "ok")
    assert report["snapshot"] == {"state": "never built"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_reports_an_unavailable_database(client, monkeypatch):
    from django.db.backends.utils import CursorWrapper

    def broken(self, sql, params=None):
        raise DatabaseError("down")

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
    assert response.json()["status"] == "unavailable"


@pytest.mark.django_db
def test_it_shows_the_support_team_from_settings(client, settings):
    settings.SUPPORT_EMAIL = "help@example.org"
    settings.SUPPORT_HOURS = "Weekdays 8 to 6"

    response = client.get("/contact/")

    assert response.status_code == 200
    assert b"help@example.org" in response.content
    assert b"Weekdays 8 to 6" in response.content


@pytest.mark.django_db
def test_it_reports_an_unreachable_broker(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["broker"] == "unavailable"


@pytest.mark.django_db
def test_it_reports_the_snapshot_age(client, centre):
    import datetime

    import time_machine
    from django.utils import timezone

    from flags.snapshot import rebuild

    rebuild()
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=30)):
        report = client.get("/health/").json()
    assert report["status"] == "ok"
    assert report["snapshot"]["state"] == "stale"
    assert report["snapshot"]["age_hours"] >= 30


@pytest.mark.django_db
def test_the_home_page_draws_the_readiness_of_each_centre(client, viewer, centre):
    from flags.snapshot import rebuild

    from .factories import LearnerFactory

    for n in range(3):
        LearnerFactory(centre=centre, surname=f"L{n}")
    rebuild()
    client.force_login(viewer)

    response = client.get("/")

    text = response.content.decode()
    assert "<svg" in text
    assert "/overview/?centre=12345&amp;component=PL&amp;flag=missing" in text
    [picture] = response.context["readiness"]
    pl = next(bar for bar in picture.bars if bar.component == "PL")
    assert [(s.flag, s.count) for s in pl.segments] == [("missing", 3)]


@pytest.mark.django_db
def test_pages_for_signed_in_users_are_never_cached_and_carry_a_csp(client, viewer):
    client.force_login(viewer)
    response = client.get("/")
    assert response["Cache-Control"] == "no-store, private"
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("error", "still_answers", "status", "heading"),
    [
        # A fault of ours: the plain page.
        (DatabaseError("the database has gone away"), True, 500, "Sorry, something went wrong"),
        # A query the database refuses (a missing table) while it answers others: ours too.
        (OperationalError("no such table: x"), True, 500, "Sorry, something went wrong"),
        # The database not answering: an outage, so try again shortly.
        (
            OperationalError("connection to server at 127.0.0.1 refused"),
            False,
            503,
            "Learner Tracking is unavailable for a moment",
        ),
        # The connection closed under a request in flight: the check itself raises
        # InterfaceError, which is not a DatabaseError.
        (
            InterfaceError("connection already closed"),
            False,
            503,
            "Learner Tracking is unavailable for a moment",
        ),
    ],
    ids=["failure", "refused-query", "outage", "closed-connection"],
)
def test_a_failure_shows_a_plain_page_without_its_details(
    client, viewer, monkeypatch, error, still_answers, status, heading
):
    from django.db.backends.utils import CursorWrapper

    client.force_login(viewer)
    client.raise_request_exception = False
    execute = CursorWrapper.execute

    def broken(self, sql, params=None):
        if still_answers and sql == "SELECT 1":
            return execute(self, sql, params)
        raise error

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    response = client.get("/overview/")

    assert response.status_code == status
    assert response.get("Retry-After") == ("60" if status == 503 else None)
    text = response.content.decode()
    assert heading in text
    assert str(error) not in text


@pytest.mark.django_db
def test_a_missing_page_says_why_in_plain_words(client, viewer):
    client.force_login(viewer)
    response = client.get("/learners/0000000000/")
    assert response.status_code == 404
    assert "belongs to a centre you do not have a role on" in response.content.decode()


@pytest.mark.django_db
def test_the_readiness_counts_are_worked_out_once_a_snapshot(client, viewer, centre):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from flags.snapshot import rebuild

    from .factories import LearnerFactory

    LearnerFactory(centre=centre)
    rebuild()
    client.force_login(viewer)
    with CaptureQueriesContext(connection) as first:
        client.get("/")
    with CaptureQueriesContext(connection) as second:
        client.get("/")
    # The readiness picture's (the changes since the last build are counted once a build too).
    counting = [q for q in first if "GROUP BY" in q["sql"] and "overviewrow" in q["sql"]]
    assert len(counting) == 8  # one a component
    assert not [q for q in second if "GROUP BY" in q["sql"]]

    rebuild()  # a new snapshot: counted afresh
    with CaptureQueriesContext(connection) as third:
        client.get("/")
    assert len([q for q in third if "GROUP BY" in q["sql"] and "overviewrow" in q["sql"]]) == 8
