from django.db import models


class ImportRun(models.Model):
    """One delivery of the feed: recorded whether it was imported or rejected."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        IMPORTED = "imported", "Imported"
        REJECTED = "rejected", "Rejected (bad rows; nothing written)"
        FAILED = "failed", "Failed (nothing written)"

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    directory = models.CharField(max_length=500)
    files = models.JSONField(default=list, help_text="The files of the delivery.")
    row_counts = models.JSONField(
        default=dict, help_text="Per file: rows read and rows written (inserted or changed)."
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(
        default=list, help_text="The first errors, as file:line: column: reason."
    )
    warnings = models.JSONField(
        default=list,
        help_text="What was ignored without stopping the import (columns the app does not "
        "know, from a newer feed), as file:line: column: reason.",
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.directory} at {self.started_at:%Y-%m-%d %H:%M} ({self.outcome})"


class DeliveredFile(models.Model):
    """The version of a learner file (learners, entries, results...) the last committed
    delivery brought, written in the same transaction as its rows. Only the feed writes
    those rows in a way a delivery would undo, so a file delivered again byte for byte, to
    the same checks, would change nothing: it is not read again."""

    name = models.CharField(max_length=50, primary_key=True)
    sha256 = models.CharField(max_length=64)
    # What the file's checks knew and their code (learners.feed.spec.Known.fingerprint).
    checks = models.CharField(max_length=64)
    rows = models.PositiveIntegerField()
    # Rows of its table after it: nothing else adds rows there, so fewer means some were
    # deleted behind the feed's back, and the file is read again to put them back.
    table_rows = models.PositiveIntegerField()
    run = models.ForeignKey(ImportRun, null=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"{self.name} {self.sha256[:12]}"


class DataChange(models.Model):
    """One transaction that wrote entries or non-Edexcel records, numbered in commit order.

    It lists the learners' components it touched (`ChangedComponent`). `committed` is taken
    as the last thing before the commit, one writer at a time (learners.changes), so every
    change numbered at or below the highest number a rebuild saw when it began reading had
    committed by then. A change numbered above it arrived too late for that snapshot
    ("received since the last overnight update"), whatever the clocks say (DOMAIN.md 4.4).
    """

    class Kind(models.TextChoices):
        IMPORT = "import", "Feed import"
        NON_EDEXCEL = "non-edexcel", "Non-Edexcel qualification recorded"
        NON_EDEXCEL_REMOVED = "non-edexcel-removed", "Non-Edexcel qualification removed"
        BULK_UPLOAD = "bulk-upload", "Non-Edexcel bulk upload"
        AWARD_DATE = "award-date", "Anticipated award date changed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    started_at = models.DateTimeField(auto_now_add=True)
    committed = models.BigIntegerField(null=True, blank=True, unique=True)
    # A first load of the entries in bulk: every entry there is came with this change, and
    # its learners' components are those of the entries, not listed one by one (a national
    # delivery's 458,000 notes took a seventh of its import). learners.changes reads it.
    wrote_every_entry = models.BooleanField(
        default=False,
        help_text="A first load of the entries: the components it brought are those of every "
        "entry, listed as notes only once a snapshot's pages or a refresh need them.",
    )
    # First loads of learner files in bulk (learners, marks, results, ...): every row of
    # these models' tables came with this change, so its learners include every ULN in them
    # (their snapshot rows are worked out again; nothing is late on the pages).
    wrote_every_row_of = models.JSONField(
        default=list,
        blank=True,
        help_text="The learner files' models (app.Model) whose every row this change wrote "
        "(a first load): their learners are this change's, not listed one by one.",
    )

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} (committed {self.committed})"


class ChangedComponent(models.Model):
    """A learner's component that a change wrote entries or a non-Edexcel record for.

    Kept apart from the entries, so the pages ask one small table which of a snapshot's
    components are out of date (a hashed lookup per row), and the import adds no column or
    index to the entries it writes.
    """

    # No foreign key in the database: a note is written in its change's own transaction
    # (learners.changes), and a national import writes half a million of them, each of
    # which PostgreSQL would check again at the commit (2 s). Deleting a change still
    # deletes its notes (Django's CASCADE).
    change = models.ForeignKey(
        DataChange,
        on_delete=models.CASCADE,
        db_index=False,
        db_constraint=False,
        related_name="components",
    )
    uln = models.CharField("ULN", max_length=10)
    component = models.CharField(max_length=10)

    class Meta:
        constraints = [
            # Also the pages' index: the learners of one component in some changes.
            models.UniqueConstraint(
                fields=["change", "component", "uln"], name="changedcomponent_key"
            )
        ]
        indexes = [models.Index(fields=["uln", "change"], name="changedcomponent_uln")]

    def __str__(self) -> str:
        return f"{self.uln} {self.component} (change {self.change_id})"
