#!/usr/bin/env python
"""Award dates in bulk (issue 20): one confirm setting the award date of 5,000 learners, on
PostgreSQL, through the page (the test client, as an administrator), next to a floor measured
in the same run: one plain UPDATE of the same rows. Builds its own database
(`learnertracking_bench_awards`). Usage: `.venv/bin/python bench/bench_bulk_award.py`.
"""

import os
import time

import demo_site

SERVER = os.environ.get("BENCH_SERVER_URL", "postgres://postgres@127.0.0.1:5432")
DATABASE = "learnertracking_bench_awards"
LEARNERS = 5000


def main() -> None:
    import psycopg2

    admin = psycopg2.connect(f"{SERVER}/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        cursor.execute(f"CREATE DATABASE {DATABASE}")
    admin.close()
    centre = demo_site.build(f"{SERVER}/{DATABASE}", learners=LEARNERS, seed=11)
    from django.db import connection
    from django.test import Client
    from django_scopes import scopes_disabled

    from learners.models import Learner

    user = demo_site.person(centre, "bench-admin@example.org", "administrator")
    series = "2027-06"

    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(
            "UPDATE learners_learner SET award_series = %s, award_series_edited = true",
            ["2028-06"],
        )
        floor = time.perf_counter() - started

    client = Client()
    client.force_login(user)
    url = "/overview/award-date/"
    started = time.perf_counter()
    asked = client.post(url, {"filters": "", "award_series": series})
    ask = time.perf_counter() - started
    started = time.perf_counter()
    answer = {"filters": "", "award_series": series, "confirmed": "yes", "count": str(LEARNERS)}
    done = client.post(url, answer)
    confirm = time.perf_counter() - started
    assert asked.status_code == 200 and done.status_code == 302, (asked, done)
    with scopes_disabled():
        changed = Learner.objects.filter(award_series=series).count()
    print(f"Award dates in bulk, {LEARNERS:,} learners at one centre, PostgreSQL")
    print(f"  floor, one plain UPDATE of every learner: {floor * 1000:8.0f} ms")
    print(f"  the question (counting them):             {ask * 1000:8.0f} ms")
    print(f"  the confirm (set, audit each):             {confirm * 1000:8.0f} ms")
    print(f"  learners set: {changed:,}")


if __name__ == "__main__":
    main()
