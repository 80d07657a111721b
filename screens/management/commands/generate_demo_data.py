import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from demo.deliveries import generate


class Command(BaseCommand):
    help = (
        "Write a demo delivery folder (centres, users, learners, entries, marks, results, VQ "
        "and DAS status, mark windows) that uses the shipped catalogue, dated around today."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", help="the folder to write the delivery to")
        parser.add_argument("--centres", type=int, default=5)
        parser.add_argument("--learners", type=int, default=500)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--largest",
            type=int,
            default=None,
            help="learners at the first centre; the rest are spread over the others",
        )

    def handle(
        self,
        *args,
        out: str,
        centres: int,
        learners: int,
        seed: int,
        largest: int | None,
        **options,
    ) -> None:
        started = time.perf_counter()
        try:
            # Today in the service's time zone, as the flag rules read it.
            counts = generate(out, centres, learners, seed, timezone.localdate(), largest=largest)
        except ValueError as error:
            raise CommandError(str(error)) from None
        for name, rows in counts.items():
            self.stdout.write(f"{out}/{name}: {rows:,} rows")
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"Wrote {out} in {elapsed:.1f}s."))
