"""Progress you can see (issue 21, point 5): the import file by file and the rebuild shard by
shard, as a bar on a terminal, as log lines elsewhere, and on the admin pages meanwhile."""

import io
import logging
from pathlib import Path

import pytest
from django.core.cache import caches
from django.urls import reverse

from base import progress
from flags.models import RebuildRun
from flags.snapshot import rebuild
from learners.feed.importer import import_delivery
from learners.models import ImportRun

from .factories import LearnerFactory

pytestmark = pytest.mark.django_db

VALID = Path(__file__).parent / "data" / "valid_delivery"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_an_import_on_a_terminal_shows_each_file_with_its_rows():
    screen = Terminal()

    outcome = import_delivery(VALID, stream=screen)

    assert outcome.imported
    shown = screen.getvalue()
    learners = sum(1 for _ in (VALID / "learners.csv").open()) - 1
    assert "learners.csv" in shown and "entries.csv" in shown
    assert f"{learners}/{learners}" in shown  # every row of learners.csv, counted
    assert "rows" in shown


def test_an_import_elsewhere_logs_its_progress_and_leaves_it_for_the_admin(caplog, monkeypatch):
    monkeypatch.setattr(progress, "LOG_EVERY", 0)  # a line at each step of a small import
    with caplog.at_level(logging.INFO, logger="base.progress"):
        outcome = import_delivery(VALID, stream=io.StringIO())

    said = [r.getMessage() for r in caplog.records if r.name == "base.progress"]
    entries = sum(1 for _ in (VALID / "entries.csv").open()) - 1
    assert (
        f"Import {outcome.run.pk}: entries.csv: {entries:,} of {entries:,} rows (100%)"
        in "\n".join(said)
    )
    assert progress.said("import", outcome.run.pk)  # the last word, for the admin


def test_the_admin_shows_a_running_imports_progress(client, staff):
    running = ImportRun.objects.create(directory="/deliveries/tonight", files=["entries.csv"])
    finished = ImportRun.objects.create(
        directory="/deliveries/last-night", outcome=ImportRun.Outcome.IMPORTED
    )
    line = "entries.csv: 600,000 of 1,452,961 rows (41%), 24,000 rows/s, 35 s left"
    caches["progress"].set(progress.cache_key("import", running.pk), line)
    client.force_login(staff)

    page = client.get(reverse("admin:learners_importrun_changelist")).content.decode()
    one = client.get(reverse("admin:learners_importrun_change", args=[running.pk]))

    assert line in page and line in one.content.decode()
    other = client.get(reverse("admin:learners_importrun_change", args=[finished.pk]))
    assert "rows/s" not in other.content.decode()


def test_a_rebuild_on_a_terminal_shows_each_shard(centre):
    for n in range(5):
        LearnerFactory(centre=centre, surname=f"Progress{n}")
    screen = Terminal()

    run = rebuild(shard_size=2, stream=screen)

    assert run.outcome == RebuildRun.Outcome.SUCCEEDED
    shown = screen.getvalue()
    assert "Shard 1 of 3" in shown and "Shard 3 of 3" in shown
    assert "2/2" in shown and "1/1" in shown  # learners of each shard, counted


def test_the_admin_shows_a_rebuilds_shards(client, staff, centre):
    for n in range(5):
        LearnerFactory(centre=centre, surname=f"Progress{n}")
    run = rebuild(shard_size=2)
    client.force_login(staff)

    page = client.get(reverse("admin:flags_rebuildrun_changelist")).content.decode()

    assert "3 of 3 shards, 5 learners" in page
    assert run.shards.filter(done=True).count() == 3
