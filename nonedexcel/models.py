import uuid

from django.conf import settings
from django.db import models

from base.scoping import centre_scoped
from learners import diploma


class NonEdexcelQualification(models.Model):
    """A qualification a learner takes with another awarding body, recorded by the centre.

    It turns a component's `missing` into `other-cab`: the centre has told us where it is.
    """

    learner = models.ForeignKey(
        "learners.Learner", on_delete=models.CASCADE, related_name="non_edexcel_qualifications"
    )
    qan = models.CharField("QAN", max_length=10)
    component = models.CharField(
        max_length=10,
        choices=[(c, diploma.COMPONENT_NAMES[c]) for c in diploma.QUALIFICATION_COMPONENTS],
        default=diploma.ASL,
    )
    awarding_body = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=200, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    objects = centre_scoped("learner__centre")

    class Meta:
        verbose_name = "non-Edexcel qualification"
        ordering = ["learner", "component", "qan"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "qan"], name="nonedexcel_learner_qan")
        ]

    def __str__(self) -> str:
        return f"{self.learner_id} {self.component} {self.qan}"


class PendingUpload(models.Model):
    """A bulk upload between its preview and the user's confirmation (or abandonment)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=200)
    content = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    rows_added = models.PositiveIntegerField(default=0)
    # The file checked once (rows, errors, and the centres it was checked for): reloading
    # the preview or confirming does not parse it again.
    checked = models.JSONField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return f"{self.filename} by {self.user_id} at {self.created_at:%Y-%m-%d %H:%M}"
