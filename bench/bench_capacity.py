#!/usr/bin/env python
"""Capacity per core (issue 21): each page saturated with wrk next to /health/, in one run.

Builds a 2,500-learner demo database on PostgreSQL (`generate_demo_data`, then the import),
signs in one viewer of its largest centre, starts gunicorn as docker-compose.yml does
(3 gthread workers of 8 threads, production settings, Redis) and saturates it with wrk, 16
connections for 15 s, on one kind of page at a time: /health/ (the floor: the app with no
work), then the Overview, the Detail and a learner's record (ILR), each followed by /health/ again,
in three rounds. Prints each page's requests/s, mean latency and its rate as a fraction of
the mean of the /health/ runs just before and after it (the target: at least 1/3), each
round's and their median; /health/'s line gives the mean of its runs' rates and the errors
of them all.
Usage: `.venv/bin/python bench/bench_capacity.py [--seconds 15] [--rounds 3] [--reuse]`.
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from serving import production_env, wait_until_up  # noqa: E402

PY = sys.executable
SERVER = os.environ.get("BENCH_SERVER_URL", "postgres://postgres@127.0.0.1:5432")
DATABASE = "learnertracking_capacity"
PORT = 8124

LUA = """
local paths = %(paths)s
request = function()
  return wrk.format("GET", paths[math.random(#paths)], {["Cookie"] = "sessionid=%(session)s",
                                                        ["X-Forwarded-Proto"] = "https"})
end
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout + summary.errors.status
  io.write(string.format("RESULT %%d %%f %%f %%d\\n", summary.requests,
    summary.duration / 1e6, latency.mean / 1000, errors))
end
"""


def build_demo(env: dict, learners: int) -> None:
    for sql in (f"DROP DATABASE IF EXISTS {DATABASE}", f"CREATE DATABASE {DATABASE}"):
        subprocess.run(
            ["psql", f"{SERVER}/postgres", "-qc", sql], check=True, stderr=subprocess.DEVNULL
        )
    folder = Path(tempfile.mkdtemp(prefix="lt-capacity-"))
    # A development run for the set-up: the centre users' invitations go to the console.
    env = {**env, "DEBUG": "1", "EMAIL_URL": "consolemail://"}
    quiet = {"cwd": ROOT, "env": env, "check": True, "stdout": subprocess.DEVNULL}
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], **quiet)
    subprocess.run(
        [PY, "manage.py", "import_feed", str(ROOT / "learners" / "shipped_catalogue")], **quiet
    )
    subprocess.run(
        [
            PY,
            "manage.py",
            "generate_demo_data",
            str(folder),
            "--learners",
            str(learners),
            "--centres",
            "5",
            "--seed",
            "1",
        ],
        **quiet,
    )
    subprocess.run([PY, "manage.py", "import_feed", str(folder)], **quiet)
    subprocess.run([PY, "manage.py", "rebuild_overview"], **quiet)
    shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--learners", type=int, default=2500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="keep the database of a last run")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("The capacity benchmark needs wrk on the PATH (apt install wrk).")
    static = Path(tempfile.mkdtemp(prefix="lt-static-"))
    env = production_env(f"{SERVER}/{DATABASE}", static, redis_db=13)
    if not args.reuse:
        build_demo(env, args.learners)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db.models import Count
    from django_scopes import scopes_disabled

    from accounts.models import Membership, User
    from learners.models import Learner

    subprocess.run(
        [PY, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    with scopes_disabled():
        centre = Learner.objects.values("centre_id").annotate(n=Count("uln")).order_by("-n")[0]
        user, _ = User.objects.get_or_create(
            username="capacity", defaults={"email": "capacity@example.org"}
        )
        Membership.objects.get_or_create(
            user=user, centre_id=centre["centre_id"], defaults={"role": Membership.Role.VIEWER}
        )
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "accounts.backends.UsernameOrAddressBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        ulns = list(
            Learner.objects.filter(centre_id=centre["centre_id"]).values_list("uln", flat=True)
        )
    rng = random.Random(1)
    number = centre["centre_id"]
    pages = {
        "/health/": ["/health/"],
        "Overview": [f"/overview/?centre={number}&page={rng.randint(1, 10)}" for _ in range(50)],
        "Detail": [f"/detail/?centre={number}&page={rng.randint(1, 10)}" for _ in range(50)],
        "ILR": [f"/learners/{rng.choice(ulns)}/" for _ in range(200)],
    }
    gunicorn = subprocess.Popen(
        [
            PY,
            "-m",
            "gunicorn",
            "learnertracking.wsgi:application",
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            "3",
            "--worker-class",
            "gthread",
            "--threads",
            "8",
            "--keep-alive",
            "10",
            "--worker-tmp-dir",
            "/dev/shm",  # noqa: S108 (as docker-compose.yml: gunicorn's heartbeat files)
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    # This machine's speed drifts within minutes: each round measures /health/ before and
    # after each page (health, Overview, health, Detail, health, ILR, health), and a page's
    # ratio is taken against the mean of the two /health/ runs either side of it, so that a
    # drift during the round weighs on the floor as on the page; the median of the rounds
    # is reported.
    rounds: list[dict[str, dict]] = []
    timing = (args.connections, args.seconds)
    try:
        wait_until_up(PORT)
        scripts = {}
        for name, paths in pages.items():
            script = static / f"page{len(scripts)}.lua"
            script.write_text(
                LUA
                % {
                    "paths": "{" + ", ".join(json.dumps(p) for p in paths) + "}",
                    "session": store.session_key,
                }
            )
            scripts[name] = script
            _wrk(script, args.connections, 3)  # warm up
        for _ in range(args.rounds):
            measured: dict[str, dict] = {"/health/": _wrk(scripts["/health/"], *timing)}
            floors = [measured["/health/"]["requests/s"]]
            for name, script in scripts.items():
                if name == "/health/":
                    continue
                measured[name] = _wrk(script, *timing)
                floor = _wrk(scripts["/health/"], *timing)
                floors.append(floor["requests/s"])
                measured["/health/"]["errors"] += floor["errors"]
                measured[name]["floor"] = (floors[-2] + floors[-1]) / 2
            measured["/health/"]["requests/s"] = statistics.mean(floors)
            measured["/health/"]["floor"] = measured["/health/"]["requests/s"]
            rounds.append(measured)
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
        shutil.rmtree(static, ignore_errors=True)
    print(
        f"Capacity on {os.cpu_count()} cores, {args.learners:,} learners, "
        f"{args.connections} connections, {args.seconds} s each, {args.rounds} rounds"
    )
    print(
        f"{'page':<10} {'requests/s (median)':>20} {'mean ms (median)':>17} {'errors':>7} "
        f"{'of /health/, each round':>30} {'median':>7}"
    )
    for name in pages:
        ratios = [r[name]["requests/s"] / r[name]["floor"] for r in rounds]
        print(
            f"{name:<10} {statistics.median(r[name]['requests/s'] for r in rounds):>20.1f} "
            f"{statistics.median(r[name]['mean ms'] for r in rounds):>17.1f} "
            f"{sum(r[name]['errors'] for r in rounds):>7} "
            f"{' '.join(f'{x:.2f}' for x in ratios):>30} {statistics.median(ratios):>7.2f}"
        )


def _wrk(script: Path, connections: int, seconds: int) -> dict:
    run = subprocess.run(
        [
            shutil.which("wrk"),
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
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
    line = next(r for r in run.stdout.splitlines() if r.startswith("RESULT"))
    requests, elapsed, mean_ms, errors = line.split()[1:]
    return {
        "requests/s": int(requests) / float(elapsed),
        "mean ms": float(mean_ms),
        "errors": int(errors),
    }


if __name__ == "__main__":
    main()
