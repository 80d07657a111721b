from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models

from base.scoping import centre_scoped

from .identity import canonical_email_or_none

centre_number_validator = RegexValidator(r"^[0-9]{5}\Z", "A centre number is five digits.")


class User(AbstractUser):
    """A person who signs in: a centre user, a non-centre user or awarding-body staff."""

    organisation = models.CharField(max_length=200, blank=True)
    invited_at = models.DateTimeField(
        null=True, blank=True, help_text="When the set-your-password email was sent."
    )
    # The address in canonical form (accounts.identity): one account per mailbox, compared
    # exactly. NULL, not "", for an account without a usable address: the unique constraint
    # allows any number of those.
    email_key = models.CharField(  # noqa: DJ001
        max_length=254, unique=True, null=True, editable=False
    )
    # Set while a self-registration waits for its address to be confirmed; cleared once it is.
    # A deactivated account has none, so an old confirmation link cannot reactivate it.
    confirmation_sent_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the latest confirm-your-address email went to this registration.",
    )

    # The weekly digest: None takes the default, which is to send it to a centre's
    # administrators only; a person's own choice on the Notifications page overrides it.
    weekly_digest = models.BooleanField(
        null=True,
        blank=True,
        help_text="Weekly digest by email: unset sends it to centre administrators only.",
    )

    @property
    def awaiting_confirmation(self) -> bool:
        return self.confirmation_sent_at is not None and not self.is_active

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        user._email_as_loaded = user.__dict__.get("email")
        return user

    def save(self, *args, **kwargs) -> None:
        # Keyed again only when the address changes: two accounts that shared an address
        # before keys existed keep none, and saving either (a new password) must not fail.
        if self._state.adding or self.__dict__.get("email") != getattr(
            self, "_email_as_loaded", None
        ):
            self.email_key = canonical_email_or_none(self.email) if self.email else None
            if kwargs.get("update_fields") is not None:
                fields = set(kwargs["update_fields"])
                if "email" in fields:
                    kwargs["update_fields"] = fields | {"email_key"}
        super().save(*args, **kwargs)
        self._email_as_loaded = self.__dict__.get("email")


class Centre(models.Model):
    """A school or college, known by its five-digit centre number."""

    number = models.CharField(max_length=5, primary_key=True, validators=[centre_number_validator])
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["number"]
        # Held by the awarding body's support staff: being staff (the admin site) is not
        # enough to read learners.
        permissions = [("read_every_centre", "Can read every centre's learners (support)")]

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


class AccessRequest(models.Model):
    """A registered user asks a centre for a role; the centre's administrators decide."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_requests"
    )
    # Without a database constraint: a request to a number no centre has is kept like any
    # other, so that asking tells no one which centre numbers exist. It waits unanswered.
    centre = models.ForeignKey(
        Centre, on_delete=models.CASCADE, related_name="access_requests", db_constraint=False
    )
    role = models.CharField(max_length=20, choices=Membership.Role.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "centre"],
                condition=models.Q(status="pending"),
                name="one_pending_request_per_centre",
            )
        ]
        indexes = [models.Index(fields=["centre", "status"], name="accessrequest_centre_status")]

    def __str__(self) -> str:
        return f"{self.user} asks {self.centre_id} for {self.role} ({self.status})"


class AuditEvent(models.Model):
    """Who changed what, when, before and after. Written once, never changed."""

    class Action(models.TextChoices):
        SIGN_IN = "sign-in", "Signed in"
        SIGN_IN_FAILED = "sign-in-failed", "Sign-in failed"
        ROLE_GRANTED = "role-granted", "Role granted"
        ROLE_CHANGED = "role-changed", "Role changed"
        ROLE_REVOKED = "role-revoked", "Role revoked"
        ACCESS_REQUESTED = "access-requested", "Access requested"
        ACCESS_APPROVED = "access-approved", "Access request approved"
        ACCESS_DECLINED = "access-declined", "Access request declined"
        AWARD_DATE_CHANGED = "award-date-changed", "Anticipated award date changed"
        NON_EDEXCEL_ADDED = "non-edexcel-added", "Non-Edexcel qualification added"
        NON_EDEXCEL_REMOVED = "non-edexcel-removed", "Non-Edexcel qualification removed"
        EXPORTED = "exported", "Data exported"
        ACCOUNT_ADDED = "account-added", "Account added by staff"
        ACCOUNT_CHANGED = "account-changed", "Account changed by staff"
        ACCOUNT_DELETED = "account-deleted", "Account deleted by staff"
        PASSWORD_SET_BY_STAFF = "password-set-by-staff", "Password set by staff"
        LEARNER_READ_BY_STAFF = "learner-read-by-staff", "Learner record read by support staff"
        GROUP_CHANGED = "group-changed", "Staff group changed by a superuser"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text too, so the record outlives the account.
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=30, choices=Action.choices)
    # The centre number as written, without a database constraint: deleting a centre must
    # not blank its history.
    centre = models.ForeignKey(
        Centre,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    learner_uln = models.CharField("learner ULN", max_length=10, blank=True)
    subject = models.CharField(
        max_length=254, blank=True, help_text="Whom or what the change was about."
    )
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    # Events about no centre (sign-ins, accounts) are read in the admin only, unscoped.
    objects = centre_scoped("centre")

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["centre", "-at"], name="audit_centre_at"),
            models.Index(fields=["learner_uln", "-at"], name="audit_learner_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or '-'} {self.get_action_display()}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Audit events are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are never deleted.")


def accounts_for_address(address: str, active_only: bool = True) -> list[User]:
    """The accounts whose address is this one, compared canonically and exactly.

    At most one has it as its key; accounts that shared an address before keys existed have
    none, and are found here too, so that a grant to such an address is refused rather than
    given to either.
    """
    key = canonical_email_or_none(address)
    if key is None:
        return []
    users = User.objects.filter(email_key=key)
    unresolved = User.objects.filter(email_key=None).exclude(email="")
    if active_only:
        users, unresolved = users.filter(is_active=True), unresolved.filter(is_active=True)
    found = list(users)
    found += [u for u in unresolved if canonical_email_or_none(u.email) == key]
    return found


class CalendarLink(models.Model):
    """A person's secret calendar address (issue 20): their centres' deadlines, read by a
    calendar program that cannot sign in. Only the token's hash is kept; making a new link
    or stopping it ends the old one at once."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_link"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_read_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar link of {self.user}"


class WeeklyDigest(models.Model):
    """A person's digest of one week, written in the transaction that sends it: a second
    run of that week (beat fired twice, a retry after a dead worker) finds it and sends
    nothing, and a run that died before its commit left nothing, so the next one sends."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="weekly_digests")
    week = models.DateField(help_text="The Monday of the week it was for.")
    sent_at = models.DateTimeField()
    # A person whose centres had nothing to say that week was sent nothing: the row still
    # says the week is done, so a later run that week does not send them a late one.
    emailed = models.BooleanField(default=True)
    refused = models.CharField(
        max_length=500, blank=True, help_text="What the mail server said, if it refused for good."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "week"], name="one_digest_a_person_a_week")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.week}"
