"""Issue 16, point 5: settings that fail closed, and a cap on what a request may send."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
STRONG = "k3y-" + "abcdefghij" * 6

SHOW = (
    "import django; from django.conf import settings; django.setup(); "
    "print(settings.DEBUG, settings.SECRET_KEY)"
)


def _settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_URL")
    }
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "learnertracking.settings",
            "EMAIL_URL": "smtp://127.0.0.1:25",
            "SECRET_KEY_FILE": str(tmp_path / "var" / "secret_key"),
            "STATIC_ROOT": str(tmp_path / "static"),
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "-c", SHOW], cwd=ROOT, env=environment, capture_output=True, text=True
    )


def test_it_has_debug_off_when_debug_is_not_set(tmp_path):
    shown = _settings(tmp_path, SECRET_KEY=STRONG)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split()[0] == "False"


def test_it_generates_its_own_key_into_var_on_the_embedded_default(tmp_path):
    first = _settings(tmp_path, DEBUG="1")
    second = _settings(tmp_path)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    key = (tmp_path / "var" / "secret_key").read_text().strip()
    assert first.stdout.split()[1] == key == second.stdout.split()[1]
    assert len(key) >= 50 and len(set(key)) >= 5
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o077 == 0
    # Not a key anyone else has: nothing in the repository holds it.
    assert key not in (ROOT / "learnertracking" / "settings.py").read_text()


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("short-but-random-Zq8", "shorter than 50"),
        ("ab" * 40, "fewer than 5 different"),
        ("django-insecure-" + "abcdefghij" * 5, "placeholder"),
    ],
)
def test_it_refuses_to_start_with_a_weak_key_when_debug_is_off(tmp_path, key, reason):
    shown = _settings(tmp_path, SECRET_KEY=key, DATABASE_URL="postgres://u@127.0.0.1/x")
    assert shown.returncode != 0
    assert reason in shown.stderr


def test_it_refuses_to_start_in_production_without_a_key(tmp_path):
    shown = _settings(tmp_path, DATABASE_URL="postgres://u@127.0.0.1/x")
    assert shown.returncode != 0
    assert "Set SECRET_KEY" in shown.stderr
    assert not (tmp_path / "var" / "secret_key").exists()


@pytest.mark.parametrize("mail", ["", "consolemail://", "dummymail://"])
def test_it_refuses_to_start_without_a_real_mail_server_when_debug_is_off(tmp_path, mail):
    """Issue 17: the console would write live reset links into the log stream."""
    production = "postgres://u@127.0.0.1/x"
    shown = _settings(tmp_path, SECRET_KEY=STRONG, EMAIL_URL=mail, DATABASE_URL=production)
    assert shown.returncode != 0
    assert "Set EMAIL_URL to an SMTP server" in shown.stderr
    assert _settings(tmp_path, SECRET_KEY=STRONG, EMAIL_URL=mail, DEBUG="1").returncode == 0


def test_a_fresh_checkout_runs_manage_py_with_mail_kept_out_of_the_logs(tmp_path):
    """The embedded default, DEBUG unset and no EMAIL_URL: mail goes to files, not the
    console, and a plain `manage.py` still starts."""
    script = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.EMAIL_BACKEND)"
    )
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_URL")
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="learnertracking.settings",
        SECRET_KEY_FILE=str(tmp_path / "secret_key"),
        STATIC_ROOT=str(tmp_path / "static"),
    )
    shown = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "django.core.mail.backends.filebased.EmailBackend"


def test_it_refuses_a_body_larger_than_the_bulk_upload_needs_before_reading_it(client, db):
    class Unreadable:
        def read(self, *args):
            raise AssertionError("the body was read")

        readline = read

    response = client.generic(
        "POST",
        reverse("login"),
        b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(60 * 1024 * 1024),
        **{"wsgi.input": Unreadable()},
    )
    assert response.status_code == 413
    assert b"at most 3 MB" in response.content


def test_it_still_accepts_a_body_the_size_of_the_largest_upload(client, db):
    response = client.post(reverse("login"), {"username": "x" * 10, "password": "y" * (2 << 20)})
    assert response.status_code == 200
