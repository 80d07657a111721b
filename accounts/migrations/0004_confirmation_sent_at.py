from django.db import migrations, models


def mark_unconfirmed_registrations(apps, schema_editor):
    """Registrations still waiting for their address: inactive, never signed in, with a
    password of their own (the feed's accounts have none). They now expire like new ones."""
    User = apps.get_model("accounts", "User")
    for user in User.objects.filter(is_active=False, last_login=None).exclude(
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
