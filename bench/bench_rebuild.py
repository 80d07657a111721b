#!/usr/bin/env python
"""The rebuild of every learner, after bench_import.py has loaded its delivery: in one
process (the rebuild_overview command), then sharded on Celery workers through Redis with 1
and with 2 worker processes, each next to floors measured in the same run:

- reading: PostgreSQL streaming every row the loaders read (COPY ... TO STDOUT of the same
  columns), with no Python;
- writing: PostgreSQL writing the snapshot's rows again under another run, with their
  indexes (INSERT ... SELECT of the current snapshot, rolled back), with no Python; and
  writing them into tables without indexes, then building those indexes, as a rebuild now
  does (its own tables, indexed at the switch).

For the sharded runs it splits the time into planning, building the shards and the switch
(changes, statistics, old snapshots away), and estimates what 8 machines would take. Then
the refresh of one learner and of 5,000 in the current snapshot, next to PostgreSQL's own
reading and writing of their rows.
Usage: `.venv/bin/python bench/bench_rebuild.py [--database NAME] [--workers 1,2]`.
"""

import argparse
import io
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("BENCH_SERVER_URL", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


class Sink(io.RawIOBase):
    """Where COPY ... TO STDOUT writes: counted, not kept."""

    def __init__(self) -> None:
        self.bytes = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.bytes += len(data)
        return len(data)


def read_floor(cursor) -> float:
    from flags import loaders

    started = time.perf_counter()
    for table, key, fields in (
        ("learners_learner", "uln", (*loaders.LEARNER_FIELDS, "centre_id", "surname")),
        ("learners_entry", "learner_id", loaders.ENTRY_FIELDS),
        ("learners_marksubmission", "uln", loaders.MARK_FIELDS),
        ("learners_result", "uln", loaders.RESULT_FIELDS),
        ("learners_vqstatus", "uln", loaders.VQ_FIELDS),
        ("learners_dasstatus", "uln", loaders.DAS_FIELDS),
        ("nonedexcel_nonedexcelqualification", "learner_id", loaders.NON_EDEXCEL_FIELDS),
    ):
        columns = ", ".join((key, *fields))
        cursor.copy_expert(f"COPY (SELECT {columns} FROM {table}) TO STDOUT", Sink())
    return time.perf_counter() - started


def _another_run(cursor) -> int:
    """A run of this transaction's own (rolled back) for rows written again."""
    cursor.execute(
        "INSERT INTO flags_rebuildrun (started_at, built_for, learners, outcome, error, "
        "changes_seen, not_checked, on_workers, switching, revision) "
        "VALUES (now(), current_date, 0, 'failed', '', 0, 0, false, false, 0) RETURNING id"
    )
    return cursor.fetchone()[0]


def write_floor(connection, run_id: int) -> tuple[float, int]:
    """Seconds to write the snapshot's rows again under another run; rows written."""
    from flags.snapshot import DETAIL_COLUMNS, OVERVIEW_COLUMNS

    rows = 0
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        other = _another_run(cursor)
        started = time.perf_counter()
        for table, columns in (
            ("flags_overviewrow", OVERVIEW_COLUMNS),
            ("flags_detailline", DETAIL_COLUMNS),
        ):
            rest = ", ".join(columns[1:])
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"SELECT %s, {rest} FROM {table} WHERE run_id = %s",
                [other, run_id],
            )
            rows += cursor.rowcount
        elapsed = time.perf_counter() - started
        cursor.execute("ROLLBACK")
    return elapsed, rows


def bare_write_floor(connection, run_id: int) -> tuple[float, float]:
    """Seconds to write the snapshot's rows again into tables without indexes, and then to
    build the snapshot tables' indexes on them, on one connection (rolled back): what a
    rebuild that writes a table of its own and indexes it at the switch asks of PostgreSQL."""
    from flags.snapshot import DETAIL_COLUMNS, OVERVIEW_COLUMNS

    writing = indexing = 0.0
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for table, columns in (
            ("flags_overviewrow", OVERVIEW_COLUMNS),
            ("flags_detailline", DETAIL_COLUMNS),
        ):
            cursor.execute(f"CREATE UNLOGGED TABLE bench_{table} (LIKE {table} INCLUDING DEFAULTS)")
            rest = ", ".join(columns[1:])
            started = time.perf_counter()
            cursor.execute(
                f"INSERT INTO bench_{table} ({', '.join(columns)}) "
                f"SELECT %s, {rest} FROM {table} WHERE run_id = %s",
                [run_id, run_id],
            )
            writing += time.perf_counter() - started
            cursor.execute(
                "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass",
                [table],
            )
            definitions = [d for (d,) in cursor.fetchall()]
            started = time.perf_counter()
            for definition in definitions:
                body = definition[definition.index(" USING ") + 1 :]
                unique = "UNIQUE " if definition.startswith("CREATE UNIQUE") else ""
                cursor.execute(f"CREATE {unique}INDEX ON bench_{table} {body}")
            indexing += time.perf_counter() - started
        cursor.execute("ROLLBACK")
    return writing, indexing


def refresh_floor(connection, run_id: int, ulns: list[str]) -> float:
    """PostgreSQL alone doing a refresh's reading and writing for these learners: their rows
    read, their snapshot rows written again (rolled back)."""
    from flags import loaders
    from flags.snapshot import DETAIL_COLUMNS, OVERVIEW_COLUMNS

    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("CREATE TEMPORARY TABLE bench_ulns (uln text PRIMARY KEY)")
        cursor.execute("INSERT INTO bench_ulns SELECT unnest(%s::text[])", [ulns])
        cursor.execute("ANALYZE bench_ulns")  # else the planner takes it for empty
        other = _another_run(cursor)
        started = time.perf_counter()
        for table, key, fields in (
            ("learners_learner", "uln", loaders.LEARNER_FIELDS),
            ("learners_entry", "learner_id", loaders.ENTRY_FIELDS),
            ("learners_result", "uln", loaders.RESULT_FIELDS),
            ("learners_marksubmission", "uln", loaders.MARK_FIELDS),
            ("learners_vqstatus", "uln", loaders.VQ_FIELDS),
            ("learners_dasstatus", "uln", loaders.DAS_FIELDS),
        ):
            cursor.execute(
                f"SELECT {key}, {', '.join(fields)} FROM {table} "
                f"WHERE {key} IN (SELECT uln FROM bench_ulns)"
            )
            cursor.fetchall()
        for table, columns in (
            ("flags_overviewrow", OVERVIEW_COLUMNS),
            ("flags_detailline", DETAIL_COLUMNS),
        ):
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT %s, {', '.join(columns[1:])} "
                f"FROM {table} WHERE run_id = %s AND uln IN (SELECT uln FROM bench_ulns)",
                [other, run_id],
            )
        elapsed = time.perf_counter() - started
        cursor.execute("ROLLBACK")
    return elapsed


def time_refreshes(connection) -> list[tuple[int, float, float]]:
    """(learners, refresh s, floor s) for one learner and for 5,000."""
    from django_scopes import scopes_disabled

    from flags.refresh import refresh
    from flags.snapshot import current_run
    from learners.models import Learner

    with scopes_disabled():  # every centre's learners, as the refresh task reads them
        ulns = list(Learner.objects.order_by("?").values_list("uln", flat=True)[:5000])
    timings = []
    for size in (1, 5000):
        chosen = ulns[:size]
        started = time.perf_counter()
        refresh(chosen)
        took = time.perf_counter() - started
        timings.append((size, took, refresh_floor(connection, current_run().pk, chosen)))
    return timings


def in_one_process(env: dict) -> tuple[float, int]:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "rebuild_overview"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("rebuild_overview failed")
    return time.perf_counter() - started, usage.ru_maxrss // 1024


def on_workers(env: dict, workers: int) -> dict:
    """A rebuild sent through Redis to `workers` worker processes; its phases."""
    from celery import Celery

    from flags.models import RebuildRun

    queue = f"bench-rebuild-{os.getpid()}-{workers}"
    args = ["-A", "learnertracking", "worker", "--pool=solo", "--without-heartbeat"]
    args += ["--without-mingle", "--without-gossip", "-l", "warning", "-Q", queue]
    procs = [
        subprocess.Popen([sys.executable, "-m", "celery", *args], cwd=ROOT, env=env)
        for _ in range(workers)
    ]
    time.sleep(5)  # the workers connect; the run's own clock starts when a worker takes it
    before = RebuildRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    sender = Celery("bench", broker=env["REDIS_URL"])
    try:
        sender.send_task("flags.rebuild_overview", queue=queue)
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            run = RebuildRun.objects.filter(pk__gt=before).exclude(outcome="skipped").first()
            if run is not None and run.outcome != RebuildRun.Outcome.RUNNING:
                break
            time.sleep(0.5)
        else:
            raise SystemExit("the sharded rebuild did not finish in 30 minutes")
    finally:
        sender.close()
        peaks = []
        for proc in procs:
            proc.terminate()
            _, _, usage = os.wait4(proc.pid, 0)
            peaks.append(usage.ru_maxrss // 1024)
    if run.outcome != RebuildRun.Outcome.SUCCEEDED:
        raise SystemExit(f"the sharded rebuild {run.outcome}: {run.error}")
    shards = list(run.shards.order_by("finished_at").values_list("finished_at", "learners"))
    last_shard = shards[-1][0]
    return {
        "seconds": (run.finished_at - run.started_at).total_seconds(),
        "building": (last_shard - run.started_at).total_seconds(),
        "switch": (run.finished_at - last_shard).total_seconds(),
        "shards": len(shards),
        "learners": run.learners,
        "peak_mb": max(peaks),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="learnertracking_bench")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--skip-one-process", action="store_true")
    args = parser.parse_args()
    database_url = f"{SERVER}/{args.database}"
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "1"}
    env.pop("REDIS_URL", None)
    one_s = one_mb = None
    if not args.skip_one_process:
        one_s, one_mb = in_one_process(env)

    os.environ.update(
        DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="learnertracking.settings", DEBUG="1"
    )
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    from flags.snapshot import current_run

    with connection.cursor() as cursor:
        reading = read_floor(cursor)
    writing, rows = write_floor(connection, current_run().pk)
    bare, indexing = bare_write_floor(connection, current_run().pk)
    connection.close()

    worker_env = {**env, "REDIS_URL": REDIS}
    runs = {int(n): on_workers(worker_env, int(n)) for n in args.workers.split(",")}
    learners = next(iter(runs.values()))["learners"]
    refreshes = time_refreshes(connection)

    print(f"PostgreSQL, {os.cpu_count()} cores; {learners:,} learners; snapshot {rows:,} rows")
    print(f"Floor, reading every row the loaders read (COPY TO STDOUT): {reading:.1f} s")
    print(f"Floor, writing the snapshot's rows with their indexes: {writing:.1f} s")
    print(
        f"Floor, writing them without indexes: {bare:.1f} s, then indexing them on one "
        f"connection: {indexing:.1f} s (a rebuild writes its own table and indexes it at "
        "the switch)"
    )
    if one_s is not None:
        print(f"In one process (rebuild_overview): {one_s:.1f} s, peak {one_mb} MB")
    print(
        f"{'workers':>7} {'total s':>8} {'building s':>10} {'switch s':>8} "
        f"{'shards':>6} {'learners/s':>10} {'peak MB':>7}"
    )
    for workers, r in runs.items():
        print(
            f"{workers:>7} {r['seconds']:>8.1f} {r['building']:>10.1f} {r['switch']:>8.1f} "
            f"{r['shards']:>6} {learners / r['seconds']:>10,.0f} {r['peak_mb']:>7}"
        )
    for size, took, floor in refreshes:
        print(
            f"Refresh of {size:,} learner{'s' if size > 1 else ''} (in place, with its changes): "
            f"{took * 1000:,.0f} ms; floor (reading and writing their rows) {floor * 1000:,.0f} ms"
        )
    one = runs.get(1)
    if one:
        # The shards divide over machines; the switch (which indexes the run's tables) does
        # not, and no number of machines reads or writes faster than PostgreSQL itself.
        eight = max(one["building"] / 8, reading + bare) + one["switch"]
        print(
            f"8 machines (estimate): max(building {one['building']:.1f} s / 8, "
            f"read + bare write floors {reading + bare:.1f} s) + switch {one['switch']:.1f} s "
            f"= {eight:.1f} s"
        )


if __name__ == "__main__":
    main()
