#!/usr/bin/env python
"""Registration timing: does the time the page takes tell whether an address is known?

Registers N new addresses and N already-registered ones, interleaved, through the real view
with the production password hasher (Argon2), against a throw-away SQLite database, and
prints the median and spread of each. Throttles are off for the measurement. Usage:
`.venv/bin/python bench/bench_registration.py [--rounds 20]`.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="lt-bench-registration-")
    os.environ.update(
        DATABASE_URL=f"sqlite:///{folder}/db.sqlite3",
        DJANGO_SETTINGS_MODULE="learnertracking.settings",
        DEBUG="1",
        ALLOWED_HOSTS="testserver",
        EMAIL_URL="dummymail://",
        SECRET_KEY_FILE=f"{folder}/secret_key",
    )
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    settings.RATELIMIT_ENABLE = False
    call_command("migrate", verbosity=0)
    client = Client()

    def register(address: str) -> float:
        started = time.perf_counter()
        response = client.post(
            "/accounts/register/",
            {
                "first_name": "Robin",
                "last_name": "Bench",
                "email": address,
                "organisation": "Bench LA",
                "password1": "a perfectly long passphrase",
                "password2": "a perfectly long passphrase",
            },
        )
        assert response.status_code == 302, response.status_code
        return time.perf_counter() - started

    register("warm-up@example.org")
    for n in range(args.rounds):
        register(f"known{n}@example.org")
    new, known = [], []
    for n in range(args.rounds):
        new.append(register(f"new{n}@example.org"))
        known.append(register(f"known{n}@example.org"))

    def describe(times: list[float]) -> str:
        return (
            f"median {statistics.median(times) * 1000:.0f} ms, "
            f"min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}"
        )

    print(f"Registration, {args.rounds} of each, Argon2, interleaved")
    print(f"new address:   {describe(new)}")
    print(f"known address: {describe(known)}")
    print(
        f"ratio of medians (known / new): {statistics.median(known) / statistics.median(new):.2f}"
    )


if __name__ == "__main__":
    main()
