import datetime

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def mark_unconfirmed_registrations(apps, schema_editor):
    """Registrations still waiting for their address: inactive, never signed in, with a
    password of their own (the feed's accounts have none), and made within a link's lifetime.
    Older inactive accounts are left alone: staff may have switched them off, and marking
    them would let a password reset turn them on again (or the hourly task delete them)."""
    User = apps.get_model("accounts", "User")
    recent = timezone.now() - datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    for user in User.objects.filter(
        is_active=False, last_login=None, date_joined__gte=recent
    ).exclude(
        password__startswith="!"  # noqa: S106 - unusable-password marker
    ):
        User.objects.filter(pk=user.pk).update(confirmation_sent_at=user.date_joined)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_email_key")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="confirmation_sent_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="When the latest confirm-your-address email went to this registration.",
                null=True,
            ),
        ),
        migrations.RunPython(mark_unconfirmed_registrations, migrations.RunPython.noop),
    ]
