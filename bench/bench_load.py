#!/usr/bin/env python
"""Load on loopback: 100 signed-in users browsing through gunicorn, PostgreSQL and Redis.

Uses the database bench_import.py filled. Signs in 100 viewers of the largest centre
(sessions made directly in the session store), starts gunicorn with production settings
(DEBUG=0, manifest static files, Redis as broker), and drives it with wrk: 100 connections,
each request a random page of the Overview (filtered, sorted, paged), the Detail, an ILR or
a search, with one of the 100 sessions, and a pause of 1.5 s to 4.5 s between a user's pages
(--think-ms 0 for none: the saturation throughput). Prints requests/s, p50/p95/p99 and errors.
Bounded: loopback only, a fixed duration, then everything it started is stopped.
Usage: `.venv/bin/python bench/bench_load.py [--seconds 60]`.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from serving import production_env, wait_until_up  # noqa: E402

SERVER = os.environ.get("BENCH_SERVER_URL", "postgres://postgres@127.0.0.1:5432")
PORT = 8123

LUA = """
local sessions = %(sessions)s
local paths = %(paths)s
local counter = 0
local think_ms = %(think_ms)s
-- A person reads a page before the next: 1 to 2 x the mean think time, or none.
delay = function()
  if think_ms == 0 then return 0 end
  return math.random(math.floor(think_ms / 2), math.floor(think_ms * 3 / 2))
end
request = function()
  counter = counter + 1
  local path = paths[math.random(#paths)]
  local session = sessions[math.random(#sessions)]
  return wrk.format("GET", path, {["Cookie"] = "sessionid=" .. session,
                                  ["X-Forwarded-Proto"] = "https"})
end
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout + summary.errors.status
  io.write(string.format("RESULT %%d %%f %%f %%f %%f %%d %%d\\n", summary.requests,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, errors, summary.errors.status))
end
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="learnertracking_bench")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    # Longer than a user's pause, as in the compose stack: else every page costs a reconnect.
    parser.add_argument("--keep-alive", type=int, default=10, help="gunicorn's, in seconds")
    parser.add_argument(
        "--think-ms", type=int, default=3000, help="mean pause between a user's requests; 0: none"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("The load scenario needs wrk on the PATH (apt install wrk).")
    static = Path(tempfile.mkdtemp(prefix="lt-static-"))
    env = production_env(f"{SERVER}/{args.database}", static, redis_db=14)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django_scopes import scopes_disabled

    # Every centre's learners, as the admin reads them (base.scoping).
    with scopes_disabled():
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore
        from django.db.models import Count

        from accounts.models import Membership, User
        from learners.models import Learner

        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        centre = (
            Learner.objects.values("centre_id")
            .annotate(n=Count("uln"))
            .order_by("-n")[0]["centre_id"]
        )
        sessions = []
        for n in range(args.users):
            user, _ = User.objects.get_or_create(
                username=f"load-{n:03d}", defaults={"email": f"load{n}@example.org"}
            )
            Membership.objects.get_or_create(
                user=user, centre_id=centre, defaults={"role": Membership.Role.VIEWER}
            )
            store = SessionStore()
            store[SESSION_KEY] = str(user.pk)
            store[BACKEND_SESSION_KEY] = "accounts.backends.UsernameOrAddressBackend"
            store[HASH_SESSION_KEY] = user.get_session_auth_hash()
            store.create()
            sessions.append(store.session_key)
        rng = random.Random(1)
        ulns = list(Learner.objects.filter(centre_id=centre).values_list("uln", flat=True)[:2000])
        surnames = list(
            Learner.objects.filter(centre_id=centre)
            .values_list("surname", flat=True)
            .distinct()[:50]
        )
        paths = []
        for _ in range(200):
            level = rng.choice("FHAP")
            sort = rng.choice(["name", "-problems", "pl", "-asl", "award_series", "-points"])
            paths += [
                f"/overview/?centre={centre}&level={level}&sort={sort}&page={rng.randint(1, 20)}",
                f"/overview/?centre={centre}&flag={rng.choice(['missing', 'overdue', 'due'])}",
                f"/detail/?centre={centre}&sort=deadline&page={rng.randint(1, 30)}",
                f"/learners/{rng.choice(ulns)}/",
                f"/learners/{rng.choice(ulns)}/",
                f"/search/?q={rng.choice(surnames)}",
            ]
        script = Path(tempfile.mkdtemp(prefix="lt-load-")) / "load.lua"
        script.write_text(
            LUA % {"sessions": _lua(sessions), "paths": _lua(paths), "think_ms": args.think_ms}
        )

        gunicorn = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "learnertracking.wsgi:application",
                "--bind",
                f"127.0.0.1:{PORT}",
                "--workers",
                str(args.workers),
                # Threads, not sync workers: a sync worker that accepts a kept-alive connection
                # waits on it while its user reads the page, and the queue grows behind it.
                "--worker-class",
                "gthread",
                "--threads",
                str(args.threads),
                "--keep-alive",
                str(args.keep_alive),
                "--log-level",
                "warning",
                *os.environ.get("BENCH_GUNICORN_ARGS", "").split(),
            ],
            cwd=ROOT,
            env=env,
        )
        try:
            wait_until_up(PORT)
            warm = subprocess.run(
                [
                    shutil.which("wrk"),
                    "-t2",
                    "-c20",
                    "-d5s",
                    "-s",
                    str(script),
                    f"http://127.0.0.1:{PORT}",
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            del warm
            run = subprocess.run(
                [
                    shutil.which("wrk"),
                    "-t2",
                    f"-c{args.users}",
                    f"-d{args.seconds}s",
                    "--timeout",
                    "10s",
                    "-s",
                    str(script),
                    f"http://127.0.0.1:{PORT}",
                ],
                capture_output=True,
                text=True,
                check=True,
            )
        finally:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
            shutil.rmtree(static, ignore_errors=True)
        lines = [row for row in run.stdout.splitlines() if row.startswith("RESULT")]
        if not lines:
            raise SystemExit(f"wrk printed no result:\n{run.stdout}\n{run.stderr}")
        line = lines[0]
        requests, seconds, p50, p95, p99, errors, status_errors = line.split()[1:]
        result = {
            "users": args.users,
            "gunicorn workers": args.workers,
            "threads each": args.threads,
            "keep-alive s": args.keep_alive,
            "mean think time ms": args.think_ms,
            "seconds": round(float(seconds), 1),
            "requests": int(requests),
            "requests/s": round(int(requests) / float(seconds), 1),
            "p50 ms": round(float(p50), 1),
            "p95 ms": round(float(p95), 1),
            "p99 ms": round(float(p99), 1),
            "errors": int(errors),
            "non-2xx/3xx": int(status_errors),
        }
        print(json.dumps(result, indent=1))


def _lua(values: list[str]) -> str:
    return "{" + ", ".join(json.dumps(v) for v in values) + "}"


if __name__ == "__main__":
    main()
