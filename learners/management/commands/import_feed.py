from django.core.management.base import BaseCommand, CommandError, CommandParser

from learners.feed.importer import import_delivery


class Command(BaseCommand):
    help = "Import a delivery folder of feed CSV files, all or nothing (DOMAIN.md section 5)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", help="the delivery folder")

    def handle(self, *args, directory: str, **options) -> None:
        outcome = import_delivery(directory)
        for name, counts in outcome.counts.items():
            unchanged = counts.get("unchanged")
            if counts.get("same_file"):
                self.stdout.write(
                    f"{name}: {counts['rows']} rows, the file as delivered before: not read again"
                )
                continue
            same = f" ({unchanged} as delivered before, not checked again)" if unchanged else ""
            self.stdout.write(
                f"{name}: {counts['rows']} rows read{same}, {counts['written']} written"
            )
        for warning in outcome.warnings:
            self.stdout.write(self.style.WARNING(f"Warning: {warning}"))
        if outcome.imported:
            self.stdout.write(self.style.SUCCESS(f"Imported {directory} (run {outcome.run.pk})."))
            return
        for error in outcome.errors:
            self.stderr.write(str(error))
        more = outcome.error_count - len(outcome.errors)
        if more > 0:
            self.stderr.write(f"... and {more} more errors")
        raise CommandError(
            f"Rejected {directory}: {outcome.error_count} errors; nothing was written "
            f"(run {outcome.run.pk})."
        )
