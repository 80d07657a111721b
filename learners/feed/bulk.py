"""Bulk writes for the import: a staging table per file, filled by COPY, merged by upsert.

PostgreSQL gets COPY (hundreds of thousands of rows a second); the embedded SQLite default
gets executemany. Both stream: rows flow from the parser to the database without a list.
"""

import contextlib
import datetime
from collections.abc import Iterable, Iterator, Sequence

from django.conf import settings
from django.db import connection

from base.delivery import FileSpec, Merge
from learners.changes import LEARNER_ONLY, note_every_entry, note_every_row_of
from learners.models import ChangedComponent, Qualification

# Staged column types: name -> (PostgreSQL type, SQLite type)
_TYPES = {
    "text": ("text", "TEXT"),
    "int": ("bigint", "INTEGER"),
    "date": ("date", "DATE"),
    "datetime": ("timestamptz", "DATETIME"),
    "bool": ("boolean", "BOOL"),
}


def column_type(kind: str) -> str:
    """The database's type for a staged column of this kind ("text", "int", "date", ...)."""
    return _TYPES[kind][0 if connection.vendor == "postgresql" else 1]


def stored_text(value) -> str:
    """A date, time or text as the database is given it in a query's text."""
    if connection.vendor == "postgresql":
        return value.isoformat() if isinstance(value, datetime.date) else str(value)
    return str(_sqlite_value(value))


def create_stage(cursor, name: str, columns: Sequence[tuple[str, str]]) -> None:
    q = connection.ops.quote_name
    cols = ", ".join(f"{q(c)} {column_type(t)}" for c, t in columns)
    cursor.execute(f"DROP TABLE IF EXISTS {q(name)}")
    cursor.execute(f"CREATE TEMPORARY TABLE {q(name)} (line integer NOT NULL, {cols})")


def drop_stage(cursor, name: str) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(name)}")


def fill_stage(cursor, name: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """Stream (line, *values) tuples into the staging table."""
    copy_rows(cursor, name, ["line", *columns], rows)


def copy_rows(cursor, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """Stream tuples into a table: COPY on PostgreSQL, executemany elsewhere."""
    q = connection.ops.quote_name
    names = ", ".join(q(c) for c in columns)
    if connection.vendor == "postgresql":
        cursor.cursor.copy_expert(
            f"COPY {q(table)} ({names}) FROM STDIN", _CopyStream(rows), size=1 << 16
        )
    else:
        placeholders = ", ".join("?" for _ in columns)
        cursor.cursor.executemany(
            f"INSERT INTO {q(table)} ({names}) VALUES ({placeholders})",
            (tuple(map(_sqlite_value, row)) for row in rows),
        )


def duplicate_lines(cursor, stage: str, key: Sequence[str]) -> list[tuple[int, int]]:
    """(line, first line) for each staged row whose natural key an earlier row already used."""
    q = connection.ops.quote_name
    keys = ", ".join(q(k) for k in key)
    on = " AND ".join(f"s.{q(k)} = d.{q(k)}" for k in key)
    cursor.execute(
        f"SELECT s.line, d.first FROM {q(stage)} s JOIN ("
        f"SELECT {keys}, MIN(line) AS first FROM {q(stage)} GROUP BY {keys} HAVING COUNT(*) > 1"
        f") d ON {on} WHERE s.line <> d.first ORDER BY s.line"
    )
    return list(cursor.fetchall())


def merge(cursor, merge: Merge, stage: str, change: int, rows: int = 0) -> int:
    """Upsert the staged rows (`rows` of them, or about); the number inserted or changed."""
    with _in_bulk(cursor, merge.table, rows) as empty, by_hashing(cursor, rows):
        sql = merge.sql(stage, into_empty=empty)
        if merge.records_components and empty:
            # Every entry there is comes with this change: it says so, rather than noting
            # each learner's components (458,000 notes, 3.5-4.5 s of a national first load).
            cursor.execute(sql)
            written = max(cursor.rowcount, 0)
            note_every_entry(change)
        elif merge.records_components:
            written = write_entries(cursor, sql, change)
        elif merge.records_learners and settings.REFRESH_SNAPSHOT and empty:
            # Every row of the table comes with this change: it says so, rather than noting
            # each learner (100,000 notes a file, about a second of a national first load).
            cursor.execute(sql)
            written = max(cursor.rowcount, 0)
            note_every_row_of(change, merge.table)
        elif merge.records_learners and settings.REFRESH_SNAPSHOT:
            written = _write_noting_learners(cursor, sql, change)
        else:
            cursor.execute(sql)
            written = max(cursor.rowcount, 0)
        if merge.remembers_lines and not empty and connection.vendor == "postgresql":
            cursor.execute(merge.digests_sql(stage))
        return written


@contextlib.contextmanager
def by_hashing(cursor, rows: int) -> Iterator[None]:
    """A national file's rows compared with the stored ones by hash joins. PostgreSQL's
    planner otherwise looks up each of 1.45 M delivered entries in the stored ones' unique
    index (8-9 s), or sorts both sides on disk (9 s), where one hash join takes 3.9-4.9 s. A
    small delivery keeps the planner's choice: a few lookups beat reading the table."""
    if connection.vendor != "postgresql" or rows < BULK_ROWS:
        yield
        return
    cursor.execute(
        "SELECT current_setting('enable_nestloop'), current_setting('enable_mergejoin'), "
        "set_config('enable_nestloop', 'off', true), set_config('enable_mergejoin', 'off', true)"
    )
    nestloop, mergejoin, _, _ = cursor.fetchone()
    yield
    # As they were, whatever the database or the role had made them.
    cursor.execute(
        "SELECT set_config('enable_nestloop', %s, true), set_config('enable_mergejoin', %s, true)",
        [nestloop, mergejoin],
    )


# Below this many rows a delivery's writes keep the table's indexes and checks up to date.
BULK_ROWS = 100_000


def loads_in_bulk(cursor, spec: FileSpec, rows: int) -> bool:
    """Whether the file's one merge is a first load in bulk (`_in_bulk`). Its rows then meet
    the table's unique key on the file's key (ON CONFLICT needs one): inserted under the
    primary key, or when the unique key set aside is built again. Either fails at once on
    two rows that share a key."""
    if connection.vendor != "postgresql" or rows < BULK_ROWS or len(spec.merges) != 1:
        return False
    [merge] = spec.merges
    return set(merge.conflict) == set(spec.key) and _empty(cursor, merge.table)


def _empty(cursor, table: str) -> bool:
    cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {connection.ops.quote_name(table)})")
    return cursor.fetchone()[0]


@contextlib.contextmanager
def _in_bulk(cursor, table: str, rows: int) -> Iterator[bool]:
    """A first national load into an empty table: write it without the table's indexes,
    unique keys, foreign keys and (if no other table refers to it) primary key, then build
    those again, several times faster. PostgreSQL
    sorts each index once instead of inserting 1.4 M keys one by one, and checks each key
    with one join instead of one query a row at the commit. The same names and definitions
    come back in this transaction, and building a unique key checks the rows are unique.
    Until it ends, the table and the tables its foreign keys refer to are locked, which only
    a first load can afford: a table that holds rows is written as it is. Yields whether the
    keys were set aside (the merge then inserts, with nothing to conflict with)."""
    if connection.vendor != "postgresql" or rows < BULK_ROWS:
        yield False
        return
    q = connection.ops.quote_name
    if not _empty(cursor, table):
        yield False
        return
    # Foreign and unique keys, and the primary key unless another table refers to it (the
    # learners'): kept up to date row by row, the entries' took 0.8-3 s of their INSERT.
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND (contype IN ('f', 'u') OR contype = 'p' AND "
        "NOT EXISTS (SELECT 1 FROM pg_constraint r WHERE r.confrelid = %s::regclass)) "
        "ORDER BY contype, conname",
        [table, table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) "
        "ORDER BY i.relname",
        [table],
    )
    indexes = cursor.fetchall()
    # Checks still waiting for the commit (rows an earlier file wrote) stop any ALTER TABLE
    # of their tables: run them now. They are deferred again below.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for name, _definition in constraints:
        cursor.execute(f"ALTER TABLE {q(table)} DROP CONSTRAINT {q(name)}")
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {q(name)}")
    yield True
    for _name, definition in indexes:
        cursor.execute(definition)
    # Statistics of the rows just loaded, for the planner: the next file's merge joins with
    # them, and the next night's re-delivery compares with them (before autovacuum's turn it
    # took the table for empty: 1.45 M index probes instead of one hash join). A rejected
    # load leaves its row estimate behind (PostgreSQL keeps it), until autovacuum's turn.
    cursor.execute(f"ANALYZE {q(table)}")
    # The primary key, then unique keys, before foreign keys, which may refer to them.
    for name, definition in sorted(constraints, key=_built_before_others):
        cursor.execute(f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(name)} {definition}")
    # As Django declares them: checked at the commit. (Every deferrable constraint of this
    # project is initially deferred.)
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _built_before_others(constraint: tuple[str, str]) -> int:
    _name, definition = constraint
    for order, kind in enumerate(("PRIMARY KEY", "UNIQUE")):
        if definition.startswith(kind):
            return order
    return 2


# Rows a change has noted already are left out with a join rather than ON CONFLICT, whose
# speculative insertion doubles the cost of writing a national delivery's 500,000 notes. Only
# the import holding the import lock writes its change's notes, so none can arrive between.
_NOT_NOTED = (
    f"NOT EXISTS (SELECT 1 FROM {ChangedComponent._meta.db_table} c "
    "WHERE c.change_id = %s AND c.uln = w.uln AND c.component = %s)"
)


# Notes written in the order of the unique key (change, component, uln): it grows at its
# end instead of at random places, and the (uln, change) index in one pass a component
# (458,686 notes: 2.8 s instead of 4.6-5.0 s).
_IN_KEY_ORDER = "ORDER BY 3, 2"


def _write_noting_learners(cursor, sql: str, change: int) -> int:
    """Run an upsert of rows keyed by `uln` and note, for the change, each learner it wrote
    (with no component: their data changed, nothing arrived late); the rows written."""
    touched = connection.ops.quote_name(ChangedComponent._meta.db_table)
    written = f"{sql} RETURNING uln"
    if connection.vendor == "postgresql":
        cursor.execute(
            f"WITH written AS ({written}), noted AS ("
            f"INSERT INTO {touched} (change_id, uln, component) "
            f"SELECT DISTINCT %s, uln, %s FROM written w WHERE {_NOT_NOTED} {_IN_KEY_ORDER}) "
            "SELECT COUNT(*) FROM written",
            [change, LEARNER_ONLY, change, LEARNER_ONLY],
        )
        return cursor.fetchone()[0]
    cursor.execute(written)
    ulns = [uln for (uln,) in cursor.fetchall()]
    cursor.executemany(
        f"INSERT OR IGNORE INTO {touched} (change_id, uln, component) VALUES (%s, %s, %s)",
        [(change, uln, LEARNER_ONLY) for uln in set(ulns)],
    )
    return len(ulns)


def write_entries(cursor, sql: str, change: int) -> int:
    """Run an INSERT or UPDATE of entries and note, for the change, the (learner, component)
    of every row it wrote; the number of rows written."""
    q = connection.ops.quote_name
    entries = f"{sql} RETURNING learner_id, qualification_id"
    qualification = q(Qualification._meta.db_table)
    touched = q(ChangedComponent._meta.db_table)
    if connection.vendor == "postgresql":
        # In the database: a national delivery writes millions of entries.
        cursor.execute(
            f"WITH written AS ({entries}), noted AS ("
            f"INSERT INTO {touched} (change_id, uln, component) "
            f"SELECT DISTINCT %s, w.learner_id, q.component FROM written w "
            f"JOIN {qualification} q ON q.code = w.qualification_id "
            f"WHERE w.learner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {touched} c "
            "WHERE c.change_id = %s AND c.uln = w.learner_id AND c.component = q.component) "
            f"{_IN_KEY_ORDER}) "
            "SELECT COUNT(*) FROM written",
            [change, change],
        )
        return cursor.fetchone()[0]
    cursor.execute(entries)
    rows = cursor.fetchall()
    cursor.execute(f"SELECT code, component FROM {qualification}")
    component_of = dict(cursor.fetchall())
    pairs = {(learner, component_of[qual]) for learner, qual in rows if learner}
    cursor.executemany(
        f"INSERT OR IGNORE INTO {touched} (change_id, uln, component) VALUES (%s, %s, %s)",
        [(change, learner, component) for learner, component in pairs],
    )
    return len(rows)


def _text_value(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return (
                value.replace("\\", "\\\\")
                .replace("\t", "\\t")
                .replace("\n", "\\n")
                .replace("\r", "\\r")
            )
        return value
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _copy_line(row: tuple) -> str:
    """A row as a line of COPY's text format.

    Most values are text with nothing to escape: they are joined as they are, and the line
    checked once (as many tabs as separators, a backslash for each NULL's \\N and no
    other, no line break); a line that fails is escaped value by value. (A call a value was
    a third of the rebuild's Python time.)"""
    line = "\t".join([v if v.__class__ is str else _text_value(v) for v in row])
    if (
        line.count("\t") != len(row) - 1
        or line.count("\\") != row.count(None)
        or "\n" in line
        or "\r" in line
    ):
        line = "\t".join(map(_text_value, row))
    return line + "\n"


def _sqlite_value(value):
    if isinstance(value, datetime.datetime):
        # Django keeps aware datetimes in SQLite as naive UTC text.
        return str(value.astimezone(datetime.UTC).replace(tzinfo=None))
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


class _CopyStream:
    """A read()-able file over rows, encoding them to COPY's text format as COPY asks."""

    def __init__(self, rows: Iterable[tuple]) -> None:
        self._lines: Iterator[str] = map(_copy_line, rows)
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        chunks = [self._buffer]
        have = len(self._buffer)
        for line in self._lines:
            data = line.encode()
            chunks.append(data)
            have += len(data)
            if 0 <= size <= have:
                break
        data = b"".join(chunks)
        if size < 0:
            self._buffer = b""
            return data
        self._buffer = data[size:]
        return data[:size]

    readline = read
