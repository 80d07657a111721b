"""The snapshot's tables partitioned by run (PostgreSQL only).

A rebuild writes its million rows into a table of its own, without indexes, and indexes it
once at the switch, then attaches it as its run's partition: one sorted index build instead of
four million single inserts into the indexes of a shared table (writing the snapshot took
32.9 s with its indexes, 18 s without them and indexed after). An old run's rows go with its
table (DROP TABLE) rather than a million-row DELETE and its vacuum.

The rows already here stay where they are: the tables as they were become the partition of
the runs they hold (`<table>_before`; their indexes become the partitioned indexes' parts, so
nothing is built again and the current snapshot stays current), dropped once those runs have
gone. Rows of a run with no partition of its own (a refresh's working rows) go to an empty
default partition (`<table>_other`). The tables keep their names, columns and index names;
the primary key becomes (id, run_id), since a partitioned table's unique keys hold the run;
the id's sequence stays.

Not reversible: going back would mean copying every row into one table again.
"""

from django.db import migrations

# Table: its unique constraints, which stay constraints (the rest are indexes).
TABLES = {
    "flags_overviewrow": ("overview_run_uln",),
    "flags_detailline": (),
}


def partition(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table, constraints in TABLES.items():
            before, other = f"{table}_before", f"{table}_other"
            cursor.execute(
                "SELECT i.relname, pg_get_indexdef(x.indexrelid), x.indisprimary "
                "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                "WHERE x.indrelid = %s::regclass ORDER BY i.relname",
                [table],
            )
            indexes = cursor.fetchall()
            cursor.execute(f"SELECT DISTINCT run_id FROM {table} ORDER BY run_id")
            runs = [run for (run,) in cursor.fetchall()]
            cursor.execute(f"ALTER TABLE {table} RENAME TO {before}")
            # The identity's sequence becomes a plain one (a partitioned table's identity is
            # not its partitions' in PostgreSQL 15), owned by the partitioned table.
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {before}")
            (start,) = cursor.fetchone()
            cursor.execute(f"ALTER TABLE {before} ALTER COLUMN id DROP IDENTITY")
            cursor.execute(f"CREATE SEQUENCE {table}_id_seq START WITH {int(start)}")
            for name, _definition, primary in indexes:
                if primary:
                    cursor.execute(f"ALTER TABLE {before} DROP CONSTRAINT {name}")
                elif name in constraints:
                    cursor.execute(
                        f"ALTER TABLE {before} RENAME CONSTRAINT {name} TO {name}_before"
                    )
                else:
                    cursor.execute(f"ALTER INDEX {name} RENAME TO {name}_before")
            # Its checks too (PositiveIntegerField's): a partition must have its table's.
            cursor.execute(
                f"CREATE TABLE {table} (LIKE {before} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
                "PARTITION BY LIST (run_id)"
            )
            cursor.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
            for name in (table, before):
                cursor.execute(
                    f"ALTER TABLE {name} ALTER COLUMN id SET DEFAULT nextval('{table}_id_seq')"
                )
            cursor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id, run_id)"
            )
            for name, definition, primary in indexes:
                if primary:
                    continue
                if name in constraints:
                    columns = definition[definition.index("(") :]
                    cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE {columns}")
                else:
                    # Read before the rename: it names the partitioned table.
                    cursor.execute(definition)
            cursor.execute(f"CREATE UNLOGGED TABLE {other} PARTITION OF {table} DEFAULT")
            if runs:
                cursor.execute(f"ALTER TABLE {before} ADD PRIMARY KEY (id, run_id)")
                values = ", ".join(str(int(run)) for run in runs)
                cursor.execute(
                    f"ALTER TABLE {table} ATTACH PARTITION {before} FOR VALUES IN ({values})"
                )
            else:
                cursor.execute(f"DROP TABLE {before}")


class Migration(migrations.Migration):
    dependencies = [("flags", "0011_shard_attempts")]

    operations = [migrations.RunPython(partition)]
