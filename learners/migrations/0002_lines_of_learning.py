"""The 14 lines of learning ship with the app (DOMAIN.md section 6); the feed refers to them."""

from django.db import migrations


def add_lines(apps, schema_editor):
    from learners.diploma import LINES_OF_LEARNING

    LineOfLearning = apps.get_model("learners", "LineOfLearning")
    for line in LINES_OF_LEARNING.values():
        LineOfLearning.objects.update_or_create(
            code=line.code, defaults={"name": line.name, "first_teaching": line.first_teaching}
        )


class Migration(migrations.Migration):
    dependencies = [("learners", "0001_initial")]

    operations = [migrations.RunPython(add_lines, migrations.RunPython.noop)]
