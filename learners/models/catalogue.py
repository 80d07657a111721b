"""The catalogue: lines of learning, series, qualifications, units, mark windows, thresholds.

Natural keys are the primary keys (codes as the feed writes them), so the bulk import
writes feed values straight into foreign-key columns without looking up ids.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from base.identifiers import is_valid_catalogue_code, is_valid_series_code
from learners import diploma


def a_series_code(value: str) -> None:
    """The feed's check, in the admin: one bad code would stop every ILR and the rebuild."""
    if not is_valid_series_code(value):
        raise ValidationError("Enter a series code as YYYY-MM, for example 2026-06.")


def a_catalogue_code(value: str) -> None:
    if not is_valid_catalogue_code(value):
        raise ValidationError("Enter a code of letters, digits, - or _ (at most 20).")


class LineOfLearning(models.Model):
    code = models.CharField(max_length=3, primary_key=True)
    name = models.CharField(max_length=100)
    first_teaching = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "lines of learning"

    def __str__(self) -> str:
        return self.name


class Series(models.Model):
    """An exam series, e.g. 2010-06 (June 2010)."""

    code = models.CharField(
        max_length=7, primary_key=True, help_text="YYYY-MM", validators=[a_series_code]
    )
    name = models.CharField(max_length=50)
    results_published_on = models.DateField(null=True, blank=True)
    claims_due_on = models.DateField(
        "VQ claims due before",
        null=True,
        blank=True,
        help_text="The first day a VQ claim for a Diploma awarded in this series is late. "
        "Empty: 5 July for a June series, 5 February for a January series.",
    )

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "series"

    def __str__(self) -> str:
        return self.name


class Qualification(models.Model):
    class Kind(models.TextChoices):
        GQ = "GQ", "General qualification"
        VQ = "VQ", "Vocational qualification"

    code = models.CharField(max_length=20, primary_key=True, validators=[a_catalogue_code])
    qan = models.CharField("QAN", max_length=10, unique=True, null=True, blank=True)
    title = models.CharField(max_length=200)
    component = models.CharField(
        max_length=10,
        choices=[(c, diploma.COMPONENT_NAMES[c]) for c in diploma.QUALIFICATION_COMPONENTS],
    )
    kind = models.CharField(max_length=2, choices=Kind.choices)
    level = models.PositiveSmallIntegerField(choices=[(n, f"Level {n}") for n in (1, 2, 3)])
    line = models.ForeignKey(
        LineOfLearning, null=True, blank=True, on_delete=models.PROTECT, db_index=False
    )
    glh = models.PositiveIntegerField("GLH")

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["component", "level", "line"], name="qualification_lookup")]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Unit(models.Model):
    code = models.CharField(max_length=20, primary_key=True, validators=[a_catalogue_code])
    qualification = models.ForeignKey(Qualification, on_delete=models.PROTECT, related_name="units")
    title = models.CharField(max_length=200)
    glh = models.PositiveIntegerField("GLH")
    centre_marked = models.BooleanField(default=False)
    mandatory = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class MarkWindow(models.Model):
    """When centre marks for a unit may be submitted in a series."""

    series = models.ForeignKey(Series, on_delete=models.PROTECT, db_index=False)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT)
    opens_on = models.DateField()
    closes_on = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "unit"], name="markwindow_series_unit"),
            models.CheckConstraint(
                condition=models.Q(closes_on__gte=models.F("opens_on")),
                name="markwindow_closes_after_opening",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} in {self.series_id}: {self.opens_on} to {self.closes_on}"


class GradeThreshold(models.Model):
    """Minimum PL + project points for a Diploma grade at a level."""

    level = models.CharField(max_length=1, choices=diploma.LEVEL_CHOICES)
    grade = models.CharField(max_length=2)
    min_points = models.PositiveIntegerField(validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["level", "-min_points"]
        constraints = [
            models.UniqueConstraint(fields=["level", "grade"], name="gradethreshold_level_grade")
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.grade} ≥ {self.min_points}"
