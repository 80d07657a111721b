"""Names stored before input was cleaned (issue 17) lose their bidirectional controls and
invisible characters, as new ones do at the door: a right-to-left override in a name made a
ULN beside it read backwards. The search keys, folded from the names, lose them too."""

from django.db import migrations
from django.db.models import Q

# Frozen here as written in base.text: a migration must not change when live code
# does.
INVISIBLE = (
    "\x00\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    "\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad"
)
_TABLE = dict.fromkeys(map(ord, INVISIBLE))
_PATTERN = "[" + INVISIBLE.replace("\x00", "") + "]"


def _clean(model, fields):
    touched = Q()
    for field in fields:
        touched |= Q(**{f"{field}__regex": _PATTERN})
    for row in model.objects.filter(touched).only("pk", *fields).iterator():
        for field in fields:
            setattr(row, field, getattr(row, field).translate(_TABLE))
        row.save(update_fields=fields)


def clean_names(apps, schema_editor):
    _clean(
        apps.get_model("learners", "Learner"),
        ["forename", "surname", "forename_key", "surname_key"],
    )
    _clean(apps.get_model("accounts", "User"), ["first_name", "last_name", "organisation"])


class Migration(migrations.Migration):
    dependencies = [
        ("learners", "0006_codes_checked_as_in_the_feed"),
        ("accounts", "0008_group_changed_audit"),
    ]

    operations = [migrations.RunPython(clean_names, migrations.RunPython.noop)]
