#!/usr/bin/env python
"""The weight of the cohort pages: bytes of HTML for a page of 50 learners (issue 19).

Builds its own small site in a throwaway SQLite file (the weight does not depend on the
database): the shipped catalogue, a generated delivery and a rebuild, then fetches the
Overview (first page, sorted by problems, and filtered) and the Detail as a viewer, and
reports each page's size next to the size of the same rows as CSV, the floor of what the
page must say. Usage: `.venv/bin/python bench/bench_page_weight.py [--learners N]`.
"""

import argparse
import tempfile
from pathlib import Path

import demo_site

TARGET_KB = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=300)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="lt-weight-"))
    centre = demo_site.build(
        f"sqlite:///{folder / 'weight.sqlite3'}", learners=args.learners, seed=7
    )
    from django.test import Client

    viewer = demo_site.person(centre, "weight@example.org", "viewer")

    client = Client()
    client.force_login(viewer)
    pages = {
        "Overview, first page": ("/overview/", "/overview/export.csv"),
        "Overview, most problems first": (
            "/overview/?sort=-problems",
            "/overview/export.csv?sort=-problems",
        ),
        "Detail, first page": ("/detail/", "/detail/export.csv"),
    }
    print(f"Page weight, {args.learners} learners at one centre, 50 rows a page")
    print(f"{'page':34} {'HTML KB':>8} {'CSV of its rows KB':>19}")
    for name, (url, export) in pages.items():
        html = client.get(url).content
        lines = b"".join(client.get(export).streaming_content).splitlines()
        rows = b"\n".join(lines[:51])  # the header and the page's 50 rows
        print(f"{name:34} {len(html) / 1024:8.1f} {len(rows) / 1024:19.1f}")
    overview = len(client.get("/overview/").content) / 1024
    verdict = "within" if overview <= TARGET_KB else "OVER"
    print(f"Overview: {overview:.1f} KB, {verdict} the {TARGET_KB} KB target")


if __name__ == "__main__":
    main()
