#!/usr/bin/env python
"""Bulk upload of non-Edexcel qualifications: a 5,000-row file, previewed then committed.

Runs against the database bench_import.py filled (PostgreSQL), through the real views,
and removes what it recorded afterwards. Usage: `.venv/bin/python bench/bench_upload.py`.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("BENCH_SERVER_URL", "postgres://postgres@127.0.0.1:5432")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="learnertracking_bench")
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    os.environ.update(
        DATABASE_URL=f"{SERVER}/{args.database}",
        DJANGO_SETTINGS_MODULE="learnertracking.settings",
        DEBUG="1",
        ALLOWED_HOSTS="testserver",  # the test client's host
    )
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django_scopes import scopes_disabled

    # Every centre's learners, as the admin reads them (base.scoping).
    with scopes_disabled():
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.db.models import Count
        from django.test import Client

        from accounts.models import Membership, User
        from learners.models import Learner
        from nonedexcel.models import NonEdexcelQualification, PendingUpload

        centre = (
            Learner.objects.values("centre_id").annotate(n=Count("uln")).order_by("-n").first()
        )["centre_id"]
        ulns = list(
            Learner.objects.filter(centre_id=centre).order_by("uln").values_list("uln", flat=True)
        )[: args.rows]
        body = "uln,qan,component,awarding_body,title\r\n" + "".join(
            f"{uln},600/{n % 10000:04d}/{n % 10},ASL,Bench AB,Bench qualification {n}\r\n"
            for n, uln in enumerate(ulns)
        )
        user, _ = User.objects.get_or_create(
            username="bench-admin", defaults={"email": "b@example.org"}
        )
        Membership.objects.update_or_create(
            user=user, centre_id=centre, defaults={"role": Membership.Role.ADMINISTRATOR}
        )
        client = Client()
        client.force_login(user)

        started = time.perf_counter()
        response = client.post(
            "/nonedexcel/upload/", {"file": SimpleUploadedFile("bench.csv", body.encode())}
        )
        preview_url = response["Location"]
        response = client.get(preview_url)
        preview_s = time.perf_counter() - started
        assert response.status_code == 200, response.status_code  # 400 when any row is wrong

        started = time.perf_counter()
        response = client.post(preview_url + "confirm/")
        commit_s = time.perf_counter() - started
        assert response.status_code == 302
        recorded = NonEdexcelQualification.objects.filter(awarding_body="Bench AB").count()

        NonEdexcelQualification.objects.filter(awarding_body="Bench AB").delete()
        PendingUpload.objects.filter(user=user).delete()
        print(f"Bulk upload of {len(ulns):,} rows ({len(body) / 1024:.0f} KB), centre {centre}")
        print(f"upload + preview (every row checked): {preview_s:.2f} s")
        print(f"confirm (all rows and their audit events in one transaction): {commit_s:.2f} s")
        print(f"rows recorded: {recorded:,}")


if __name__ == "__main__":
    main()
