"""What the feed says about learners: registrations, entries, marks, results, VQ and DAS status.

Entries keep the ULN as the centre submitted it and link to a learner only when that ULN
is valid and known. Marks, results, VQ status and DAS status are held by ULN, so a learner
who arrives in a later delivery picks up what was already delivered for them.
"""

from django.db import models

from base.scoping import centre_scoped
from base.text import search_key
from learners import diploma

from .catalogue import LineOfLearning, Qualification, Series, Unit, a_series_code


def _entries_of(centres: list[str]) -> models.Q:
    """An entry is the entering centre's, and the learner's centre's once it is matched."""
    return models.Q(centre__in=centres) | models.Q(learner__centre__in=centres)


def _learners_of(centres: list[str]) -> models.Q:
    """Marks, results, VQ and DAS rows carry a ULN, not a centre: they are the learner's, at
    the learner's centre."""
    return models.Q(uln__in=Learner._base_manager.filter(centre__in=centres).values("uln"))


def _line_digest() -> models.UUIDField:
    """The digest of the delivered line that last wrote the row, with what the checks knew
    then (learners.feed.byvalue): the same line delivered again, to the same checks, would
    write what the row holds, so it is neither checked nor written again."""
    return models.UUIDField(null=True, editable=False)


class Learner(models.Model):
    """A learner registered with this awarding body as DAB, at their DAB centre."""

    uln = models.CharField("ULN", max_length=10, primary_key=True)
    forename = models.CharField(max_length=100)
    surname = models.CharField(max_length=100)
    # Names as search compares them (base.text.search_key).
    forename_key = models.CharField(max_length=100, editable=False, default="")
    surname_key = models.CharField(max_length=100, editable=False, default="")
    date_of_birth = models.DateField()
    centre = models.ForeignKey("accounts.Centre", on_delete=models.PROTECT, db_index=False)
    line = models.ForeignKey(LineOfLearning, on_delete=models.PROTECT, db_index=False)
    level = models.CharField(max_length=1, choices=diploma.LEVEL_CHOICES)
    registered_on = models.DateField()
    award_series = models.CharField(
        "anticipated award series",
        max_length=7,
        blank=True,
        help_text="YYYY-MM; empty means not set.",
        validators=[a_series_code],
    )
    award_series_edited = models.BooleanField(
        default=False,
        help_text="Set by a centre administrator, so the feed no longer overwrites it.",
    )
    line_digest = _line_digest()

    objects = centre_scoped("centre")

    class Meta:
        ordering = ["surname", "forename", "uln"]
        indexes = [
            models.Index(fields=["centre", "surname", "forename"], name="learner_centre_name"),
            models.Index(fields=["centre", "line", "level"], name="learner_centre_line_level"),
            models.Index(
                fields=["surname_key", "forename_key"],
                name="learner_name_search",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
            ),
            models.Index(
                fields=["forename_key"],
                name="learner_forename_search",
                opclasses=["varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.uln} {self.surname}, {self.forename}"

    def save(self, *args, **kwargs) -> None:
        self.forename_key = search_key(self.forename)
        self.surname_key = search_key(self.surname)
        super().save(*args, **kwargs)


class Entry(models.Model):
    """A unit entry or a cash-in entry, as the entering centre made it."""

    class Kind(models.TextChoices):
        UNIT = "UNIT", "Unit entry"
        CASHIN = "CASHIN", "Cash-in"

    centre = models.ForeignKey("accounts.Centre", on_delete=models.PROTECT, db_index=False)
    candidate_number = models.CharField(max_length=4)
    uln = models.CharField("ULN as submitted", max_length=32, blank=True)
    forename = models.CharField(max_length=100, blank=True)
    surname = models.CharField(max_length=100, blank=True)
    series = models.ForeignKey(Series, on_delete=models.PROTECT, db_index=False)
    kind = models.CharField(max_length=6, choices=Kind.choices)
    code = models.CharField(max_length=20, help_text="Unit code or qualification code.")
    qualification = models.ForeignKey(
        Qualification,
        on_delete=models.PROTECT,
        db_index=False,
        help_text="The qualification cashed in, or the one the unit belongs to.",
    )
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, db_index=False)
    learner = models.ForeignKey(
        Learner,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
        related_name="entries",
    )
    received_at = models.DateTimeField()
    line_digest = _line_digest()

    objects = centre_scoped(_entries_of)

    class Meta:
        verbose_name_plural = "entries"
        constraints = [
            models.UniqueConstraint(
                fields=["centre", "candidate_number", "series", "kind", "code"],
                name="entry_natural_key",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="UNIT", unit__isnull=False)
                    | models.Q(kind="CASHIN", unit__isnull=True)
                ),
                name="entry_unit_matches_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["uln"], name="entry_uln"),
            models.Index(fields=["learner"], name="entry_learner"),
            models.Index(
                fields=["centre", "received_at"],
                name="entry_unmatched_by_centre",
                condition=models.Q(learner__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.centre_id}/{self.candidate_number} {self.kind} {self.code} {self.series_id}"


class MarkSubmission(models.Model):
    """Centre marks submitted for a learner's unit in a series."""

    uln = models.CharField("ULN", max_length=10)
    series = models.ForeignKey(Series, on_delete=models.PROTECT, db_index=False)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, db_index=False)
    submitted_on = models.DateField()
    line_digest = _line_digest()

    objects = centre_scoped(_learners_of)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["uln", "series", "unit"], name="marks_natural_key")
        ]

    def __str__(self) -> str:
        return f"{self.uln} {self.unit_id} {self.series_id}"


class Result(models.Model):
    """A unit or cash-in result; visible only from published_on."""

    uln = models.CharField("ULN", max_length=10)
    series = models.ForeignKey(Series, on_delete=models.PROTECT, db_index=False)
    code = models.CharField(max_length=20, help_text="Unit code or qualification code.")
    qualification = models.ForeignKey(Qualification, on_delete=models.PROTECT, db_index=False)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, db_index=False)
    grade = models.CharField(max_length=11)
    points = models.PositiveIntegerField(null=True, blank=True)
    published_on = models.DateField()
    line_digest = _line_digest()

    objects = centre_scoped(_learners_of)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["uln", "series", "code"], name="result_natural_key")
        ]

    def __str__(self) -> str:
        return f"{self.uln} {self.code} {self.series_id}: {self.grade}"


class VQStatus(models.Model):
    """A centre's verification and certification claim for a learner's VQ."""

    uln = models.CharField("ULN", max_length=10)
    qualification = models.ForeignKey(Qualification, on_delete=models.PROTECT, db_index=False)
    verified = models.BooleanField()
    claimed_on = models.DateField(null=True, blank=True)
    result_issued_on = models.DateField(null=True, blank=True)
    line_digest = _line_digest()

    objects = centre_scoped(_learners_of)

    class Meta:
        verbose_name = "VQ status"
        verbose_name_plural = "VQ statuses"
        constraints = [
            models.UniqueConstraint(fields=["uln", "qualification"], name="vqstatus_natural_key")
        ]

    def __str__(self) -> str:
        return f"{self.uln} {self.qualification_id}"


class DASStatus(models.Model):
    """What the Diploma Aggregation Service shows for a learner's component."""

    uln = models.CharField("ULN", max_length=10)
    component = models.CharField(
        max_length=10, choices=[(c, diploma.COMPONENT_NAMES[c]) for c in diploma.COMPONENTS]
    )
    complete = models.BooleanField()
    asl_glh_completed = models.PositiveIntegerField("ASL GLH completed", null=True, blank=True)
    diploma_grade = models.CharField(max_length=2, blank=True)
    line_digest = _line_digest()

    objects = centre_scoped(_learners_of)

    class Meta:
        verbose_name = "DAS status"
        verbose_name_plural = "DAS statuses"
        constraints = [
            models.UniqueConstraint(fields=["uln", "component"], name="dasstatus_natural_key")
        ]

    def __str__(self) -> str:
        return f"{self.uln} {self.component}"
