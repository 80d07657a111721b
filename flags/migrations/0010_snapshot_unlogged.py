"""The snapshot's tables without write-ahead log (PostgreSQL's UNLOGGED).

Every row in them is worked out again from learner data by the nightly rebuild, which wrote a
million rows and four million index entries into the log each night (a third of its time
here). Should PostgreSQL crash, it empties them: flags.snapshot.current_run() then finds the
current snapshot's rows gone and treats it as never built, until the next rebuild.
"""

from django.db import migrations

TABLES = ("flags_overviewrow", "flags_detailline")


def persistence(kind: str):
    def alter(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} SET {kind}")

    return alter


class Migration(migrations.Migration):
    dependencies = [("flags", "0009_snapshot_run_without_constraint")]

    operations = [migrations.RunPython(persistence("UNLOGGED"), persistence("LOGGED"))]
