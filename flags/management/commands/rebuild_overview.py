import sys

from django.core.management.base import BaseCommand, CommandError

from flags.models import RebuildRun
from flags.snapshot import rebuild


class Command(BaseCommand):
    help = (
        "Build the Overview snapshot now, in this process (the code the nightly Celery task "
        "runs on its workers); its progress shard by shard on standard error."
    )

    def handle(self, *args, **options) -> None:
        run = rebuild(stream=sys.stderr)
        if run.outcome == RebuildRun.Outcome.SKIPPED:
            raise CommandError("Another rebuild is running; this one was skipped.")
        self.stdout.write(
            self.style.SUCCESS(f"Rebuilt the overview: {run.learners} learners in {run.duration}.")
        )
