"""Logs carry no learner's personal data: the scrubbing filter, the JSON lines, the wiring."""

import copy
import http.client
import json
import logging
import os
import runpy
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from learnertracking.logs import JsonFormatter, ScrubPersonalData, scrub, scrub_query

ROOT = Path(__file__).resolve().parent.parent
ULN = "1234567890"


def record(msg, *args, name="learners", level=logging.WARNING, exc_info=None, **extra):
    made = logging.LogRecord(name, level, __file__, 1, msg, args or None, exc_info)
    made.__dict__.update(extra)
    return made


def scrubbed(made: logging.LogRecord) -> logging.LogRecord:
    assert ScrubPersonalData().filter(made) is True
    return made


def configured_handler() -> logging.Handler:
    """The handler settings.LOGGING put on the root logger."""
    (handler,) = [h for h in logging.getLogger().handlers if h.name == "console"]
    return handler


class Capture(logging.Handler):
    """Keeps copies of records as they were emitted, before any other handler changed them."""

    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(copy.copy(record))


@pytest.fixture
def django_request_records():
    capture = Capture()
    logger = logging.getLogger("django.request")
    logger.addHandler(capture)
    yield capture.records
    logger.removeHandler(capture)


def test_it_scrubs_ulns_emails_and_query_values_from_the_message():
    made = scrubbed(
        record(f"Not Found: /learners/{ULN}/?q=Smith&page=2 for jo.smith+x@school.example.org")
    )

    assert made.getMessage() == ("Not Found: /learners/[uln]/?q=[redacted]&page=2 for [email]")


def test_it_keeps_parameter_names_and_page_numbers_but_never_a_value():
    assert scrub_query("q=Smith&page=2&sort=surname&centre=12345&after=7") == (
        "q=[redacted]&page=2&sort=[redacted]&centre=[redacted]&after=7"
    )
    # A page that is not a number, a name that is not a parameter, an encoded email.
    assert scrub_query("page=Smith&Smith=1&email=a%40b.org&q=") == (
        "page=[redacted]&[param]=[redacted]&email=[redacted]&q="
    )
    assert scrub("/search/?q=Smith+Jones next") == "/search/?q=[redacted] next"
    assert "a%40b.org" not in scrub("/x/a%40b.org/")


def test_it_scrubs_sign_in_links_and_the_values_postgresql_quotes():
    assert scrub("GET /accounts/reset/MTI/c9x1-0123abcd/ 200") == (
        "GET /accounts/reset/[uid]/[token]/ 200"
    )
    assert scrub("/accounts/confirm/Mw/abc-def/") == "/accounts/confirm/[uid]/[token]/"
    error = (
        'null value in column "level" violates not-null constraint\n'
        "DETAIL:  Failing row contains (1234567891, Jo, Smith, 2000-01-01, null).\n"
        "Key (surname, forename)=(Smith, Jo) already exists.\n"
        'Key (uln)=(x) is not present in "t"'
    )
    assert scrub(error) == (
        'null value in column "level" violates not-null constraint\n'
        "DETAIL:  Failing row contains ([redacted])\n"
        "Key (surname, forename)=([redacted]) already exists.\n"
        'Key (uln)=([redacted]) is not present in "t"'
    )


def test_it_scrubs_the_value_a_copy_error_quotes():
    error = (
        'invalid input\nCONTEXT:  COPY flags_overviewrow, line 3, column surname: "Ørsted-Smith"'
    )

    assert scrub(error) == (
        "invalid input\nCONTEXT:  COPY flags_overviewrow, line 3, column surname: [redacted]"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/learners/9276 308 686/",
        "/learners/9276%20308%20686/award-date/",
        "/learners/Smith%20Jones/",
        "/learners/Smith Jones",
    ],
)
def test_it_scrubs_whatever_was_typed_as_the_learner_in_a_path(path):
    line = scrub(f'127.0.0.1 "GET {path} HTTP/1.1" 404')

    assert "/learners/[uln]" in line
    assert not any(word in line for word in ("9276", "308", "686", "Smith", "Jones"))
    assert line.endswith(' HTTP/1.1" 404')


def test_it_scrubs_args_positional_and_named():
    positional = scrubbed(record("Learner %s moved to %s", ULN, "x@y.org"))
    named = scrubbed(
        record("%(surname)s %(uln)s on page %(page)d", {"surname": "Smith", "uln": "1", "page": 3})
    )

    assert positional.getMessage() == "Learner [uln] moved to [email]"
    assert named.getMessage() == "[redacted] [redacted] on page 3"
    # Twice through (two handlers) changes nothing more.
    assert scrubbed(named).getMessage() == "[redacted] [redacted] on page 3"


def test_it_scrubs_extras_by_pattern_and_personal_fields_by_name():
    made = scrubbed(
        record(
            "import",
            detail=f"learner {ULN}",
            surname="Smith",
            data={"email": "x@y.org", "args": [f"/learners/{ULN}/?q=Jones"], "rows": 3},
        )
    )

    assert made.detail == "learner [uln]"
    assert made.surname == "[redacted]"
    assert made.data == {
        "email": "[redacted]",
        "args": ["/learners/[uln]/?q=[redacted]"],
        "rows": 3,
    }


def test_it_never_raises_on_a_message_that_does_not_render():
    made = scrubbed(record("%d learners in %s", ULN, "Smith"))

    assert ULN not in made.getMessage() and "Smith" not in made.getMessage()


def test_it_formats_one_json_object_a_line_with_the_fields():
    made = scrubbed(
        record(
            f"two\nlines about {ULN}",
            method="GET",
            path=f"/learners/{ULN}/",
            status_code=404,
            duration_ms=12,
            user_id=7,
            surname="Smith",
        )
    )
    made.created = 1_700_000_000.5

    line = JsonFormatter().format(made)

    assert "\n" not in line
    assert json.loads(line) == {
        "time": "2023-11-14T22:13:20.500Z",
        "level": "WARNING",
        "logger": "learners",
        "message": "two\nlines about [uln]",
        "method": "GET",
        "path": "/learners/[uln]/",
        "status": 404,
        "duration_ms": 12,
        "user_id": 7,
    }


def test_it_configures_every_logger_to_write_through_the_scrubbing_handler():
    handler = configured_handler()

    assert any(isinstance(f, ScrubPersonalData) for f in handler.filters)
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["scrub"]
    # Django's own console, mail_admins and runserver handlers are gone.
    for name in ("django", "django.request", "django.server", "gunicorn.access", "axes"):
        assert logging.getLogger(name).handlers == []
    assert logging.getLogger("django.server").propagate
    assert handler in logging.getLogger("celery.task").handlers
    assert logging.getLogger("django.db.backends").getEffectiveLevel() >= logging.INFO


@pytest.mark.django_db
def test_it_logs_a_learner_page_that_is_not_found_without_the_uln(
    client, staff, django_request_records
):
    client.force_login(staff)

    response = client.get(f"/learners/{ULN}/", {"q": "Smith", "page": 2})

    assert response.status_code == 404
    (made,) = django_request_records
    assert ULN in made.getMessage()  # as Django wrote it
    handler = configured_handler()
    assert handler.filter(made)
    entry = json.loads(JsonFormatter().format(made))
    assert entry["logger"] == "django.request"
    assert entry["message"] == "Not Found: /learners/[uln]/"
    assert entry["path"] == "/learners/[uln]/?q=[redacted]&page=2"
    assert (entry["method"], entry["status"], entry["user_id"]) == ("GET", 404, staff.pk)
    for line in (handler.format(made), json.dumps(entry)):
        assert ULN not in line and "Smith" not in line


@pytest.mark.django_db
def test_it_logs_an_exception_with_its_traceback_scrubbed(
    staff, django_request_records, monkeypatch
):
    def broken(user, uln):
        raise ValueError(f"no learner {uln}, ask pupil@example.org")

    monkeypatch.setattr("screens.views.record.learner_for", broken)
    client = Client(raise_request_exception=False)
    client.force_login(staff)

    assert client.get(f"/learners/{ULN}/").status_code == 500

    (made,) = django_request_records
    assert made.exc_info
    handler = configured_handler()
    assert handler.filter(made)
    entry = json.loads(JsonFormatter().format(made))
    assert entry["level"] == "ERROR"
    assert entry["exception"].startswith("Traceback (most recent call last):")
    assert "ValueError: no learner [uln], ask [email]" in entry["exception"]
    for line in (handler.format(made), json.dumps(entry)):
        assert "Traceback" in line
        assert ULN not in line and "pupil@" not in line


def test_it_loads_the_gunicorn_config_with_the_settings_logging():
    from gunicorn.config import Config

    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    gunicorn = Config()
    gunicorn.set("logconfig_dict", config["logconfig_dict"])
    gunicorn.set("access_log_format", config["access_log_format"])

    assert gunicorn.logconfig_dict is settings.LOGGING
    loggers = gunicorn.logconfig_dict["loggers"]
    assert loggers["gunicorn.access"]["propagate"] and loggers["gunicorn.error"]["propagate"]
    # gunicorn writes the access line as access_log_format % atoms; the filter rewrites it.
    atoms = {
        "h": "10.0.0.1",
        "r": f"GET /learners/{ULN}/?q=Smith HTTP/1.1",
        "s": "404",
        "b": "120",
        "M": 5,
        "f": "https://lt.example.org/search/?q=Smith",
        "a": "curl",
        "m": "GET",
        "U": f"/learners/{ULN}/",
        "q": "q=Smith",
    }
    access = record(gunicorn.access_log_format, atoms, name="gunicorn.access", level=logging.INFO)
    entry = json.loads(JsonFormatter().format(scrubbed(access)))

    assert entry["message"] == (
        '10.0.0.1 "GET /learners/[uln]/?q=[redacted] HTTP/1.1" 404 120 5ms '
        '"https://lt.example.org/search/?q=[redacted]" "curl"'
    )
    assert (entry["path"], entry["status"], entry["duration_ms"]) == (
        "/learners/[uln]/?q=[redacted]",
        404,
        5,
    )


def spare_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_it_scrubs_a_real_gunicorn_access_line():
    port = spare_port()
    env = {**os.environ, "DEBUG": "1", "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "learnertracking.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", f"/learners/{ULN}/?q=Smith&page=2")
                status = connection.getresponse().status
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not come up"
                time.sleep(0.2)
        assert status == 302  # to sign in: no database needed
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)

    lines = [json.loads(line) for line in (out + err).splitlines() if line.startswith("{")]
    (access,) = [line for line in lines if line["logger"] == "gunicorn.access"]
    assert access["path"] == "/learners/[uln]/?q=[redacted]&page=2"
    assert access["status"] == 302
    assert ULN not in out + err and "Smith" not in out + err


@pytest.mark.parametrize(
    ("env", "expected"),
    [({"DEBUG": "1"}, "plain"), ({"DEBUG": "0"}, "json"), ({"LOG_FORMAT": "xml"}, "json or plain")],
)
def test_it_chooses_the_log_format_from_the_environment(env, expected):
    environment = {
        **os.environ,
        "SECRET_KEY": "test-" + "x" * 50,
        "EMAIL_URL": "smtp://127.0.0.1:25",
    }
    environment.pop("LOG_FORMAT", None)
    run = subprocess.run(
        [sys.executable, "-c", "from learnertracking import settings; print(settings.LOG_FORMAT)"],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
    )

    assert expected in run.stdout + run.stderr
