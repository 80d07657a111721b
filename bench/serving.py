"""What the load benchmarks share: the app served as in production, on loopback."""

import os
import time
import urllib.request
from pathlib import Path


def production_env(database_url: str, static: Path, redis_db: int) -> dict[str, str]:
    """The environment of a production server (DEBUG off, Redis, manifest static files),
    on loopback, with a throwaway key."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", f"redis://127.0.0.1:6379/{redis_db}"),
        "DEBUG": "0",
        "EMAIL_URL": "smtp://127.0.0.1:25",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "USE_X_FORWARDED_PROTO": "1",
        "STATIC_ROOT": str(static),
        "DJANGO_SETTINGS_MODULE": "learnertracking.settings",
        "LOG_LEVEL": "WARNING",
    }


def wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/health/", headers={"X-Forwarded-Proto": "https"}
            )
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not come up")
