"""Search keys lose hyphens and apostrophes, and keep one space between the parts of a name
(issue 19): 'Ó Súilleabháin' and 'Smith-Jones' are found by any part, however typed."""

import unicodedata

from django.db import migrations

# Frozen here as written in base.text: a migration must not change when live code does.
_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe"})


def _key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_LETTERS)
    return " ".join("".join(ch if ch.isalnum() else " " for ch in folded).split())


def rekey(apps, schema_editor):
    Learner = apps.get_model("learners", "Learner")
    changed = []
    for learner in Learner.objects.only(
        "pk", "forename", "surname", "forename_key", "surname_key"
    ).iterator():
        keys = (_key(learner.forename), _key(learner.surname))
        if keys != (learner.forename_key, learner.surname_key):
            learner.forename_key, learner.surname_key = keys
            changed.append(learner)
    Learner.objects.bulk_update(changed, ["forename_key", "surname_key"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [("learners", "0007_names_without_invisible_characters")]

    operations = [migrations.RunPython(rekey, migrations.RunPython.noop)]
