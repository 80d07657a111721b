from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models

centre_number_validator = RegexValidator(r"^\d{5}$", "A centre number is five digits.")


class User(AbstractUser):
    """A person who signs in: a centre user, a non-centre user or awarding-body staff."""

    organisation = models.CharField(max_length=200, blank=True)


class Centre(models.Model):
    """A school or college, known by its five-digit centre number."""

    number = models.CharField(max_length=5, primary_key=True, validators=[centre_number_validator])
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class Membership(models.Model):
    """A user's role on one centre. Centre users are administrators of their own centre."""

    class Role(models.TextChoices):
        VIEWER = "viewer", "Viewer"
        ADMINISTRATOR = "administrator", "Administrator"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    centre = models.ForeignKey(Centre, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    is_centre_user = models.BooleanField(
        default=False, help_text="Provisioned from the awarding body's centre-user list."
    )
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "centre"], name="membership_user_centre"),
            models.CheckConstraint(
                condition=models.Q(role__in=["viewer", "administrator"]),
                name="membership_role_valid",
            ),
        ]
        indexes = [models.Index(fields=["centre", "role"], name="membership_centre_role")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.centre_id}"
