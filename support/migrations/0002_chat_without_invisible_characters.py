"""Chat subjects and messages stored before input was cleaned (issue 17) lose their
bidirectional controls and invisible characters, as new ones do at the door."""

from django.db import migrations

# Frozen here as written in base.text.
INVISIBLE = (
    "\x00\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    "\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad"
)
_TABLE = dict.fromkeys(map(ord, INVISIBLE))
_PATTERN = "[" + INVISIBLE.replace("\x00", "") + "]"


def clean_chat(apps, schema_editor):
    for model, field in (("Conversation", "subject"), ("Message", "body")):
        rows = apps.get_model("support", model).objects.filter(**{f"{field}__regex": _PATTERN})
        for row in rows.only("pk", field).iterator():
            setattr(row, field, getattr(row, field).translate(_TABLE))
            row.save(update_fields=[field])


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial")]

    operations = [migrations.RunPython(clean_chat, migrations.RunPython.noop)]
