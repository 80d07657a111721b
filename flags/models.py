"""The overnight snapshot the Overview and Detail read, and the record of each rebuild.

A rebuild writes its rows under its own run; readers use the latest run that succeeded,
so they see the old snapshot until the new one is complete, then the new one at once.
Overview sort keys live here with (run, centre, key, learner) indexes.
"""

from django.db import models
from django.utils import timezone

from base.scoping import centre_scoped
from learners import diploma

from . import codes

COMPONENT_FIELDS = {c: c.lower() for c in diploma.COMPONENTS}


class RebuildRun(models.Model):
    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (another rebuild was running)"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    built_for = models.DateField(help_text="The date the flags were computed for.")
    learners = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    error = models.TextField(blank=True)
    changes_seen = models.BigIntegerField(
        default=0,
        help_text="The last change to learner data committed before the rebuild began "
        "reading: anything numbered after it arrived too late for this snapshot.",
    )
    not_checked = models.PositiveIntegerField(
        default=0, help_text="Learners the rules could not read: shown as not checked."
    )
    # Built by Celery workers (the nightly run), each claiming shards as it goes, rather than
    # in one process (the command, the embedded default).
    on_workers = models.BooleanField(default=False)
    # When a worker last claimed a shard (or the run was started): a run on workers whose
    # tasks are still queued is alive though nobody holds its shards yet.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Set by the one worker that makes the finished run current.
    switching = models.BooleanField(default=False)
    # Moves and refreshes made to the snapshot since it was built: part of the keys of what
    # is cached from it, so every process sees them at once.
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["outcome", "-started_at"], name="rebuildrun_outcome")]

    def __str__(self) -> str:
        return f"Rebuild {self.started_at:%Y-%m-%d %H:%M} ({self.outcome})"

    @property
    def duration(self):
        return self.finished_at - self.started_at if self.finished_at else None


class RebuildShard(models.Model):
    """A range of learners, by ULN, of one rebuild. Whichever worker claims it holds its row
    locked while it builds, and commits its snapshot rows with `done`: a worker killed
    half-way leaves it pending, for another worker to take at once."""

    run = models.ForeignKey(RebuildRun, on_delete=models.CASCADE, related_name="shards")
    number = models.PositiveIntegerField()
    after_uln = models.CharField(max_length=10, blank=True, help_text="Learners after this ULN…")
    upto_uln = models.CharField(
        max_length=10, blank=True, help_text="…up to this one (empty: to the last)."
    )
    done = models.BooleanField(default=False)
    learners = models.PositiveIntegerField(default=0)
    not_checked = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Failed attempts: a shard that raised is tried again, by any worker, before the run fails.
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="one_shard_number_a_run")
        ]

    def __str__(self) -> str:
        return f"Shard {self.number} of run {self.run_id}"


def _flag_fields() -> dict[str, models.Field]:
    fields = {}
    for name in COMPONENT_FIELDS.values():
        fields[f"{name}_entry"] = models.CharField(max_length=12, blank=True)
        fields[f"{name}_assessment"] = models.CharField(max_length=12, blank=True)
        # Worst first: entry rank × 10 + assessment rank, so one key sorts by status.
        fields[f"{name}_rank"] = models.PositiveSmallIntegerField(default=0)
    return fields


class WhoItIsAbout(models.Model):
    """The learner a snapshot row is about, as the build found them: the pages sort and filter
    on these without reading the learners."""

    uln = models.CharField("ULN", max_length=10)
    centre = models.ForeignKey(
        "accounts.Centre", on_delete=models.DO_NOTHING, db_index=False, db_constraint=False
    )
    surname = models.CharField(max_length=100)
    forename = models.CharField(max_length=100)
    line = models.CharField(max_length=3)
    level = models.CharField(max_length=1)
    award_series = models.CharField(max_length=7, blank=True)

    objects = centre_scoped("centre")

    class Meta:
        abstract = True


# The snapshot's rows name their run without a database constraint: a build writes a million
# rows, and PostgreSQL checked each one against its run as every shard committed (a deferred
# trigger a row, a second a shard). Rows are only ever written under a run just created, and
# go with their run (_discard_old_snapshots; the ORM's cascade for any other delete).
SNAPSHOT_RUN = {"on_delete": models.CASCADE, "db_index": False, "db_constraint": False}


class OverviewRowBase(WhoItIsAbout):
    run = models.ForeignKey(RebuildRun, **SNAPSHOT_RUN)
    problems = models.PositiveIntegerField(default=0)
    points = models.PositiveIntegerField(default=0)
    grade = models.CharField(max_length=2, blank=True)
    grade_is_estimate = models.BooleanField(default=False)
    asl_percent = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        abstract = True


OverviewRow = type(
    "OverviewRow",
    (OverviewRowBase,),
    {
        "__module__": __name__,
        "__doc__": "One learner in the overnight snapshot: a flag pair per component.",
        **_flag_fields(),
        "Meta": type(
            "Meta",
            (),
            {
                "constraints": [
                    models.UniqueConstraint(fields=["run", "uln"], name="overview_run_uln")
                ],
                "indexes": [
                    models.Index(fields=["run", "centre", key, "uln"], name=f"overview_{key}")
                    for key in (
                        "surname",
                        "problems",
                        "points",
                        "award_series",
                        *(f"{name}_rank" for name in COMPONENT_FIELDS.values()),
                    )
                ],
            },
        ),
    },
)


class DetailLine(WhoItIsAbout):
    """One line of the shopping list: a problem, or a component ready for aggregation."""

    run = models.ForeignKey(RebuildRun, **SNAPSHOT_RUN)
    component = models.CharField(max_length=10)
    component_order = models.PositiveSmallIntegerField()
    # 0 for the first line of the learner's component: a component whose data arrived since
    # the snapshot is shown as one line, not as each of its stale problems.
    component_line = models.PositiveSmallIntegerField(default=0)
    ready = models.BooleanField(
        default=False,
        help_text="Nothing to do: complete (ready for aggregation), eligible or elsewhere.",
    )
    element = models.CharField(max_length=200, blank=True)
    issue = models.TextField(blank=True)
    action = models.TextField(blank=True)
    deadline = models.DateField(null=True, blank=True)
    severity = models.CharField(max_length=10, blank=True)
    severity_rank = models.PositiveSmallIntegerField(default=codes.READY_RANK)
    flag = models.CharField(max_length=12, blank=True)
    points = models.PositiveIntegerField(default=0)
    grade = models.CharField(max_length=2, blank=True)
    grade_is_estimate = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["run", "centre", "surname", "uln"], name="detail_learner"),
            # A learner's lines, whatever their centre: a refresh replaces them.
            models.Index(fields=["run", "uln"], name="detail_run_uln"),
            # The Detail's default: a centre's problems (not ready) by deadline. With `ready`
            # in the index, the page count reads the index alone.
            models.Index(
                fields=["run", "centre", "ready", "deadline", "severity_rank", "surname", "uln"],
                name="detail_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.uln} {self.component}: {self.element or 'ready'}"


class SnapshotChange(WhoItIsAbout):
    """What one build changed against the build before, per learner and component: a problem
    that appeared or was resolved, or a flag that changed. Written with the build, in the
    transaction that makes it current, so a failed or skipped build changes nothing."""

    class Kind(models.TextChoices):
        NEW_PROBLEM = "new problem", "New problem"
        RESOLVED = "resolved", "Problem resolved"
        ENTRY_FLAG = "entry flag", "Entry flag changed"
        ASSESSMENT_FLAG = "assessment flag", "Assessment flag changed"

    run = models.ForeignKey(RebuildRun, on_delete=models.CASCADE, db_index=False)
    changed_on = models.DateField(help_text="The date the build was for.")
    # When it was found: by a build as it switched, or by a refresh during the day.
    recorded_at = models.DateTimeField(default=timezone.now)
    component = models.CharField(max_length=10)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    before = models.TextField(blank=True)
    after = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["centre", "-changed_on", "surname", "uln"], name="change_centre"),
            models.Index(fields=["run", "centre", "kind"], name="change_run"),
            # The daily delete of what is older than 14 days.
            models.Index(fields=["changed_on"], name="change_changed_on"),
        ]

    def __str__(self) -> str:
        return f"{self.changed_on} {self.uln} {self.component}: {self.kind}"
