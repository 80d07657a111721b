#!/usr/bin/env python
"""Feed import benchmark on PostgreSQL.

Generates demo deliveries of 10,000 and 100,000 learners, imports each into a fresh
database and prints rows per second and the importer's peak memory, so that memory
staying flat as files grow shows side by side. Then imports the large delivery again
(an unchanged re-delivery). Next to each import, the floor: the time PostgreSQL itself
takes to COPY the same files into plain tables of text columns, with no checks and no keys.
Last, a delivery as the next night might bring it (1 line in 100 of learners.csv and
entries.csv changed; the other files as they were).
Usage: `.venv/bin/python bench/bench_import.py [--learners N] [--centres N] [--largest N]`.
"""

import argparse
import csv
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
CATALOGUE = ROOT / "learners" / "shipped_catalogue"
SERVER = os.environ.get("BENCH_SERVER_URL", "postgres://postgres@127.0.0.1:5432")


def manage(env: dict, *args: str) -> tuple[float, int]:
    """Run manage.py; (seconds, peak resident memory in MB) of that process alone."""
    started = time.perf_counter()
    proc = subprocess.Popen([PY, "manage.py", *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed")
    return elapsed, usage.ru_maxrss // 1024


def fresh_database(name: str) -> dict:
    for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
        subprocess.run(
            ["psql", f"{SERVER}/postgres", "-qc", sql], check=True, stderr=subprocess.DEVNULL
        )
    # DEBUG on: a development run (DEBUG unset is production, which needs a real key).
    env = {**os.environ, "DATABASE_URL": f"{SERVER}/{name}", "DEBUG": "1"}
    env.pop("REDIS_URL", None)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "import_feed", str(CATALOGUE))
    return env


def data_rows(folder: Path) -> dict[str, int]:
    counts = {}
    for path in sorted(folder.glob("*.csv")):
        with path.open("rb") as handle:
            counts[path.name] = sum(1 for _ in handle) - 1
    return counts


def copy_floor(folder: Path) -> float:
    """Seconds for PostgreSQL to COPY every file of the delivery into unlogged text tables."""
    import psycopg2

    name = "learnertracking_bench_floor"
    for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
        subprocess.run(
            ["psql", f"{SERVER}/postgres", "-qc", sql], check=True, stderr=subprocess.DEVNULL
        )
    connection = psycopg2.connect(f"{SERVER}/{name}")
    try:
        with connection.cursor() as cursor:
            files = sorted(folder.glob("*.csv"))
            for path in files:
                with path.open(newline="", encoding="utf-8") as handle:
                    header = next(csv.reader(handle))
                columns = ", ".join(f'"{column}" text' for column in header)
                cursor.execute(f'CREATE UNLOGGED TABLE "{path.stem}" ({columns})')
            connection.commit()
            started = time.perf_counter()
            for path in files:
                with path.open("rb") as handle:
                    cursor.copy_expert(
                        f'COPY "{path.stem}" FROM STDIN WITH (FORMAT csv, HEADER true)', handle
                    )
            connection.commit()
            return time.perf_counter() - started
    finally:
        connection.close()


def run(learners: int, centres: int, largest: int | None, out: Path) -> dict:
    delivery = out / f"delivery-{learners}"
    env = fresh_database("learnertracking_bench")
    sizing = ["--largest", str(largest)] if largest else []
    generated, _ = manage(
        env,
        "generate_demo_data",
        str(delivery),
        "--centres",
        str(centres),
        "--learners",
        str(learners),
        "--seed",
        "1",
        *sizing,
    )
    rows = data_rows(delivery)
    total = sum(rows.values())
    floor = copy_floor(delivery)
    first, first_mb = manage(env, "import_feed", str(delivery))
    again, again_mb = manage(env, "import_feed", str(delivery))
    changed_s, _ = manage(env, "import_feed", str(_changed(delivery, out)))
    return {
        "learners": learners,
        "rows": total,
        "entries": rows.get("entries.csv", 0),
        "generate_s": generated,
        "floor_s": floor,
        "import_s": first,
        "rows_per_s": total / first,
        "peak_mb": first_mb,
        "reimport_s": again,
        "reimport_peak_mb": again_mb,
        "changed_s": changed_s,
    }


# Files whose lines change in the next night's delivery, and the column that changes.
CHANGING = {"learners.csv": 1, "entries.csv": 3}


def _changed(delivery: Path, out: Path) -> Path:
    """The delivery as the next night might bring it: 1 line in 100 of the learners and of
    the entries with another forename; the other files as they were."""
    folder = out / f"{delivery.name}-next"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(delivery, folder)
    for name, column in CHANGING.items():
        with (delivery / name).open(newline="", encoding="utf-8") as source:
            rows = list(csv.reader(source))
        for row in rows[1::100]:
            row[column] += "e"
        with (folder / name).open("w", newline="", encoding="utf-8") as target:
            csv.writer(target, lineterminator="\n").writerows(rows)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--centres", type=int, default=200)
    parser.add_argument(
        "--largest",
        type=int,
        default=5000,
        help="learners at the largest centre of the full-size delivery (0: spread evenly)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sizes = sorted({max(args.learners // 10, 1), args.learners})
    # The smaller delivery keeps the same shape: its largest centre scaled down with it.
    results = [
        run(n, args.centres, args.largest * n // args.learners or None, args.out) for n in sizes
    ]
    print(f"Feed import on PostgreSQL ({os.cpu_count()} cores), {args.centres} centres")
    print(
        f"{'learners':>9} {'rows':>10} {'entries':>10} {'generate s':>10} {'COPY floor s':>12} "
        f"{'import s':>9} {'rows/s':>9} {'peak MB':>8} {'re-import s':>11} {'peak MB':>8} "
        f"{'1% changed s':>12}"
    )
    for r in results:
        print(
            f"{r['learners']:>9,} {r['rows']:>10,} {r['entries']:>10,} {r['generate_s']:>10.1f} "
            f"{r['floor_s']:>12.1f} {r['import_s']:>9.1f} {r['rows_per_s']:>9,.0f} "
            f"{r['peak_mb']:>8} {r['reimport_s']:>11.1f} {r['reimport_peak_mb']:>8} "
            f"{r['changed_s']:>12.1f}"
        )


if __name__ == "__main__":
    main()
