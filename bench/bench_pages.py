#!/usr/bin/env python
"""Rebuild, loader and page benchmarks on PostgreSQL, after bench_import.py has loaded data.

Times the overnight rebuild of every learner (a separate process, with its peak memory),
the chunked loader alone, and the server time of the Overview, Detail and ILR for the
largest centre (median and p95 of repeated requests, with query counts), each next to a
floor: one hand-written SQL query returning the same page rows.
Usage: `.venv/bin/python bench/bench_pages.py [--database NAME] [--repeat N]`.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("BENCH_SERVER_URL", "postgres://postgres@127.0.0.1:5432")


def timed_process(env: dict, *args: str) -> tuple[float, int]:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed")
    return time.perf_counter() - started, usage.ru_maxrss // 1024


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="learnertracking_bench")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--skip-rebuild", action="store_true")
    args = parser.parse_args()
    env = {**os.environ, "DATABASE_URL": f"{SERVER}/{args.database}", "DEBUG": "1"}
    env.pop("REDIS_URL", None)

    rebuild_s, rebuild_mb = (
        (0.0, 0) if args.skip_rebuild else timed_process(env, "rebuild_overview")
    )

    # The test client's host; no test instrumentation, so templates render as in production.
    os.environ.update(
        DATABASE_URL=env["DATABASE_URL"],
        DJANGO_SETTINGS_MODULE="learnertracking.settings",
        ALLOWED_HOSTS="testserver",
    )
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django_scopes import scopes_disabled

    # Every centre's learners, as the admin reads them (base.scoping).
    with scopes_disabled():
        from django.db import connection
        from django.test import Client

        from accounts.models import Membership, User
        from flags.loaders import iter_learners
        from flags.models import OverviewRow
        from flags.snapshot import current_run
        from learners.models import Entry, Learner

        started = time.perf_counter()
        learners = sum(1 for _ in iter_learners())
        loader_s = time.perf_counter() - started

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT centre_id, count(*) FROM learners_learner "
                "GROUP BY centre_id ORDER BY 2 DESC LIMIT 1"
            )
            centre, centre_size = cursor.fetchone()
            cursor.execute(
                "SELECT learner_id FROM learners_entry WHERE learner_id IS NOT NULL "
                "GROUP BY learner_id ORDER BY count(*) DESC LIMIT 1"
            )
            (busiest,) = cursor.fetchone()
        entries_of_busiest = Entry.objects.filter(learner_id=busiest).count()
        busiest_centre = Learner.objects.get(uln=busiest).centre_id
        user, _ = User.objects.get_or_create(
            username="bench-viewer", defaults={"email": "bench@example.org"}
        )
        for number in {centre, busiest_centre}:
            Membership.objects.get_or_create(
                user=user, centre_id=number, defaults={"role": Membership.Role.VIEWER}
            )
        client = Client()
        client.force_login(user)
        run = current_run()

        overview_filter = {"centre": centre, "level": "A", "sort": "-problems"}
        matching = OverviewRow.objects.filter(run=run, centre_id=centre, level="A").count()
        count = max(1, -(-matching // 50))
        pages = {
            "Overview (filtered, sorted, last page)": (
                "/overview/",
                {**overview_filter, "page": count},
            ),
            "Overview (first page)": ("/overview/", {"centre": centre}),
            "Detail (sorted by deadline)": ("/detail/", {"centre": centre, "sort": "deadline"}),
            f"ILR ({entries_of_busiest} entries)": (f"/learners/{busiest}/", {}),
        }
        floors = {
            "Overview (filtered, sorted, last page)": (
                "SELECT * FROM flags_overviewrow "
                "WHERE run_id = %s AND centre_id = %s AND level = 'A' "
                "ORDER BY problems DESC, surname, uln LIMIT 50 OFFSET %s",
                [run.pk, centre, (count - 1) * 50],
            ),
            "Overview (first page)": (
                "SELECT * FROM flags_overviewrow WHERE run_id = %s AND centre_id = %s "
                "ORDER BY surname, forename, uln LIMIT 50",
                [run.pk, centre],
            ),
            "Detail (sorted by deadline)": (
                "SELECT * FROM flags_detailline WHERE run_id = %s AND centre_id = %s AND NOT ready "
                "ORDER BY deadline NULLS LAST, severity_rank, surname, uln LIMIT 50",
                [run.pk, centre],
            ),
            f"ILR ({entries_of_busiest} entries)": (
                "SELECT * FROM learners_entry WHERE learner_id = %s",
                [busiest],
            ),
        }
        results = []
        for name, (url, params) in pages.items():
            client.get(url, params)  # warm
            samples, floor_samples = [], []
            queries: list[str] = []

            def record_query(execute, sql, params, many, context, queries=queries):
                queries.append(sql)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(record_query):
                client.get(url, params)
            for _ in range(args.repeat):
                started = time.perf_counter()
                response = client.get(url, params)
                samples.append(time.perf_counter() - started)
                assert response.status_code == 200, (url, response.status_code)
                sql, sql_params = floors[name]
                started = time.perf_counter()
                with connection.cursor() as cursor:
                    cursor.execute(sql, sql_params)
                    cursor.fetchall()
                floor_samples.append(time.perf_counter() - started)
            results.append((name, *percentiles(samples), len(queries), *percentiles(floor_samples)))

        print(
            f"PostgreSQL, {os.cpu_count()} cores; {learners:,} learners; largest centre {centre} has {centre_size:,}"  # noqa: E501
        )
        if rebuild_s:
            print(
                f"Rebuild (rebuild_overview, separate process): {rebuild_s:.1f} s, "
                f"peak {rebuild_mb} MB, {learners / rebuild_s:,.0f} learners/s"
            )
        print(f"Chunked loader alone: {loader_s:.1f} s, {learners / loader_s:,.0f} learners/s")
        print(
            f"{'page':<40} {'median ms':>9} {'p95 ms':>7} {'queries':>7} {'floor median ms':>15} {'floor p95':>9}"  # noqa: E501
        )
        for name, median, p95, queries, floor_median, floor_p95 in results:
            print(
                f"{name:<40} {median:>9.1f} {p95:>7.1f} {queries:>7} {floor_median:>15.2f} {floor_p95:>9.2f}"  # noqa: E501
            )


if __name__ == "__main__":
    main()
