"""Checking a file by its distinct values rather than row by row.

A national entries file holds 1.4 M rows but only a few hundred centres, series and codes,
a few thousand names and dates, and one ULN per learner. So its rows go into a raw table as
text (on PostgreSQL by COPY, at the database's own speed); each column's distinct values are
read by that column's own parser, and each of the file's RowRules runs once per distinct
combination of the cells it reads. What comes back is small: the values that differ from the
cell as written (typed), and the problems. One INSERT ... SELECT then stages every good row,
and the bad rows' lines are found by joining their problems back, reported as
`file:line: column: reason` in the same words and order as row by row would give. The
parsers and the rules stay the one home of every check; SQL only does the plumbing.

PostgreSQL's COPY reads a CSV file a little differently from Python's csv module when it
holds quotes, stray carriage returns or blank lines: such a file, and any file COPY refuses,
is read by Python instead (`_read_rows`), line by line, into the same raw table.
"""

import csv
import datetime
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from base.delivery import DIGEST, FileSpec, RowError, RowRule
from learners.csvfiles import NotUTF8, utf8_lines

from . import bulk

# Problems of a file's shape (a line not UTF-8, the wrong number of fields) kept to report
# in line order with the others; beyond this they are counted.
SHAPE_PROBLEMS_KEPT = 100_000


class FileChecks:
    """Stages one file's good rows by value and finds its bad rows' problems: `load`, then
    `check`, then `report_problems` and `create_stage` (a view named `stage` with the
    columns of `spec.staged`), then `drop`. Every problem has a rank that orders a line's problems
    as row by row would (its shape, then its cells in column order, then its rules).

    On a second connection, `read_ahead` does the first steps before the import comes to the
    file (learners.feed.ahead), and `load` then takes what it did."""

    def __init__(
        self,
        cursor,
        spec: FileSpec,
        stage: str,
        known: Any,
        progress,
        parsed: dict | None = None,
        schema: str | None = None,
    ) -> None:
        self.cursor = cursor
        self.spec = spec
        self.stage = stage
        self.known = known
        self.progress = progress
        # Cells already parsed, by parser, shared by the files of a delivery: the same
        # 100,000 ULNs come in five of them.
        self.cache: dict = parsed if parsed is not None else {}
        self.postgresql = connection.vendor == "postgresql"
        # Its tables: temporary, or (read ahead on another connection, which the import's
        # must see) unlogged in a schema of the import's own (learners.feed.ahead).
        self.schema = schema
        stem = stage.removeprefix("feed_stage_")
        # The raw table, and the start of the names of the tables worked out from it.
        self.base = f"feed_raw_{stem}"
        self.raw = self._named(self.base)
        self.taken_ahead = False  # whether the raw table was read on another connection
        self.checked = False
        self.materialised: str | None = None  # the good rows' table, if written (create_stage)
        self.bad = self._named(f"feed_bad_{stem}")
        self.problems = self._named(f"feed_problems_{stem}")
        self.unchanged_lines = self._named(f"feed_unchanged_{stem}")
        self._tables: list[str] = []
        self._analysed: str | None = None  # the last table given statistics
        self._view = False
        self.rows = 0
        # Lines left out because they were delivered before as they are (`_skip_unchanged`).
        self.unchanged = 0
        # Whether the raw cells were escaped (read by Python: a cell may hold NUL, which a
        # database's text cannot).
        self.escaped = False

    # --- reading the file into the raw table ---------------------------------------------

    def load(
        self, path: Path, positions: dict[str, int], width: int, ahead: "ReadAhead | None" = None
    ) -> "FileChecks":
        """The file's rows, as text, into the raw table; problems of its shape (a line that is
        not UTF-8, the wrong number of fields, CSV that cannot be read) to the problems. A
        file read ahead, as it would be read now, is taken instead: its raw table, or the
        checks of it done already. Returns the checks to go on with.

        With each line goes its digest (`_salt`), worked out by this process while the
        database reads the lines: on the database's core it took longer than the COPY."""
        self.width = width
        self.positions = positions
        self.digests = self.spec.skips_unchanged_lines and self.postgresql
        if ahead is not None and ahead.fits(positions, width, self._salt_if_any()):
            self.progress.advance(ahead.rows)
            if ahead.checks is not None:
                done = ahead.checks
                done.cursor, done.progress = self.cursor, self.progress
                return done
            self.raw, self.rows = ahead.table, ahead.rows
            self.taken_ahead = True
            self._analysed = ahead.table  # there, by the connection that read it
        self._create(self.problems, "(line integer, rank integer, col text, reason text)")
        self._create(self.bad, "(line integer PRIMARY KEY)")
        self.unlisted = 0
        if self.taken_ahead:
            return self
        shape_problems: list[tuple[int, int, str, str]] = []

        def report(line: int, column: str, reason: str) -> None:
            if len(shape_problems) < SHAPE_PROBLEMS_KEPT:
                shape_problems.append((line, 0, column, reason))
            else:
                self.unlisted += 1

        self._create(self.raw, self._raw_columns())
        if not (self.postgresql and self._copy(path)):
            self.escaped = True
            bulk.copy_rows(
                self.cursor,
                self.raw,
                ["line", *(f"c{i}" for i in range(width)), *(["digest"] if self.digests else [])],
                self._read_rows(path, width, report),
            )
        if shape_problems:
            bulk.copy_rows(
                self.cursor, self.problems, ["line", "rank", "col", "reason"], shape_problems
            )
        return self

    def _raw_columns(self) -> str:
        cells = ", ".join(f"c{i} text" for i in range(self.width))
        if self.digests:
            cells += ", digest uuid NOT NULL"
        line = (
            "line integer GENERATED BY DEFAULT AS IDENTITY (START WITH 2)"
            if self.postgresql
            else "line integer"
        )
        return f"({line}, {cells})"

    def read_ahead(
        self, path: Path, positions: dict[str, int], width: int, check: bool
    ) -> "ReadAhead | None":
        """On another connection than the import's, with tables in a schema (PostgreSQL):
        COPY the file into the raw table and give it statistics, and if `check` (a file none
        of whose lines can be left out as unchanged) check it; None if COPY cannot read it
        as Python would (the import then reads it itself)."""
        self.width = width
        self.positions = positions
        self.digests = self.spec.skips_unchanged_lines
        self._create(self.raw, self._raw_columns())
        if not self._copy(path):
            return None
        self._analyze(self.raw)
        salt = self._salt_if_any()
        if not check:
            return ReadAhead(self.raw, self.rows, positions, width, salt)
        self._create(self.problems, "(line integer, rank integer, col text, reason text)")
        self._create(self.bad, "(line integer PRIMARY KEY)")
        self.unlisted = 0
        self.check(positions, skip_unchanged=False)
        self.cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {connection.ops.quote_name(self.bad)})")
        if not self.cursor.fetchone()[0] and not self.unlisted:
            # Good rows to write (a delivery with a bad one writes none): staged here too.
            self.create_stage(materialise=True)
        return ReadAhead(self.raw, self.rows, positions, width, salt, checks=self)

    def _salt_if_any(self) -> bytes | None:
        return self._salt(escaped=False) if self.digests else None

    def _copy(self, path: Path) -> bool:
        """COPY the file into the raw table, if COPY and Python's csv module read it alike;
        whether it did (if not, the raw table is left empty)."""
        shape = _Shape.of(path)
        if not shape.plain:
            return False
        q = connection.ops.quote_name
        cells = ", ".join(f"c{i}" for i in range(self.width))
        columns = f"{cells}, digest" if self.digests else cells
        sql = (
            f"COPY {q(self.raw)} ({columns}) FROM STDIN WITH (FORMAT csv, HEADER true, "
            f"FORCE_NOT_NULL ({cells}), ENCODING 'UTF8')"
        )
        salt = self._salt_if_any()
        try:
            with transaction.atomic(), path.open("rb") as handle:
                lines = _Counted(handle, self.progress, salt)
                self.cursor.cursor.copy_expert(sql, lines, size=1 << 20)
                copied = self.cursor.cursor.rowcount
                if copied != shape.records:
                    # A line COPY read differently (an end-of-data marker, say): Python reads it.
                    raise _NotAlike
        except (_NotAlike, connection.Database.Error):
            return False
        self.rows = copied
        return True

    def _read_rows(self, path: Path, width: int, report) -> Iterator[tuple]:
        salt = self._salt(escaped=True) if self.digests else None
        with path.open("rb") as handle:
            reader = csv.reader(utf8_lines(handle, lambda line, reason: report(line, "-", reason)))
            try:
                next(reader)  # the header, checked already
                for record in reader:
                    if not record:
                        continue
                    self.rows += 1
                    if not self.rows % 5000:
                        self.progress.advance(5000)
                    if len(record) != width:
                        found = len(record)
                        report(reader.line_num, "-", f"expected {width} fields, found {found}")
                        continue
                    cells = list(map(_escaped, record))
                    if salt is None:
                        yield (reader.line_num, *cells)
                    else:
                        yield (reader.line_num, *cells, _cells_digest(salt, cells))
            except NotUTF8:
                pass  # reported where it was found
            except csv.Error as exc:
                report(reader.line_num, "-", f"not readable as CSV: {exc}")
        self.progress.advance(self.rows % 5000)

    # --- checking by value ---------------------------------------------------------------

    def check(self, positions: dict[str, int], skip_unchanged: bool = True) -> None:
        """Every column's distinct values through its parser, every rule once per distinct
        combination; the problems into the problems table, ranked as row by row."""
        self.positions = positions
        if self.digests and skip_unchanged:
            self._skip_unchanged()
        # Statistics for the planner, of the lines left to check.
        if self.raw != self._analysed:
            self._analyze(self.raw)
        self.parsers = {column.name: column.parse for column in self.spec.columns}
        distinct = self._distinct(self.value_sets())
        self.value_maps: dict[str, str] = {}  # column name: its map table, if any
        # The parsed cells of the columns rules read, so no cell is parsed twice.
        read_by_rules = {c for rule in self.spec.rules for c in rule.reads}
        self.parsed: dict[str, dict[str, Any]] = {c: {} for c in read_by_rules}
        for rank, column in enumerate(self.spec.columns, start=1):
            self._map_column(rank, column, distinct[(column.name,)])
        # A row with a problem in a cell is not given to the rules (as row by row).
        self._mark_bad()
        self.rule_maps: list[tuple[RowRule, str | None, str]] = []
        first_rule_rank = len(self.spec.columns) + 1
        for index, rule in enumerate(self.spec.rules):
            self._map_rule(first_rule_rank + 100 * index, index, rule, distinct[rule.reads])
        self._mark_bad()
        self.checked = True

    def _named(self, table: str) -> str:
        """The table's name as SQL is given it: in the schema, if any, quoted."""
        if self.schema is None:
            return table
        q = connection.ops.quote_name
        return f"{q(self.schema)}.{q(table)}"

    def value_sets(self) -> list[tuple[str, ...]]:
        """The sets of columns whose distinct cells are checked: each column, and the cells
        each rule reads."""
        return [(column.name,) for column in self.spec.columns] + [
            rule.reads for rule in self.spec.rules
        ]

    def _skip_unchanged(self) -> None:
        """Leave out of the raw table each line that wrote a row as it is now, under the same
        checks (the digest includes what they knew and their code): checked and written
        again, it would change nothing. A line that comes twice in the file stays, so that
        the repetition is reported."""
        q = connection.ops.quote_name
        merge = self.spec.merges[0]
        target = q(merge.table)
        self.cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {target} WHERE {q(DIGEST)} IS NOT NULL)")
        if not self.cursor.fetchone()[0]:
            return  # a first delivery, or every row written before lines were remembered
        # The digests' statistics first: guessing a few hundred distinct lines, the planner
        # looked up each of 1.45 M in the stored rows by reading them all (minutes).
        if self.raw != self._analysed:
            self._analyze(self.raw)
        with bulk.by_hashing(self.cursor, self.rows):
            self._create(
                self.unchanged_lines,
                f"AS SELECT d.line, d.digest FROM (SELECT MIN(r.line) AS line, r.digest "
                f"FROM {q(self.raw)} r GROUP BY r.digest HAVING COUNT(*) = 1) d "
                f"WHERE EXISTS (SELECT 1 FROM {target} t WHERE t.{q(DIGEST)} = d.digest)",
            )
            self.unchanged = self.cursor.rowcount  # before the settings are put back
        if not self.unchanged:
            return
        changed = self._named(f"{self.base}_changed")
        # Every line unchanged (the same file again): nothing left, and nothing to look up.
        left = (
            "false"
            if self.unchanged == self.rows
            else f"NOT EXISTS (SELECT 1 FROM {q(self.unchanged_lines)} u WHERE u.line = r.line)"
        )
        self._create(changed, f"AS SELECT r.* FROM {q(self.raw)} r WHERE {left}")
        if not self.taken_ahead:  # (one read ahead goes with its schema: ahead.Reader.close)
            self.cursor.execute(f"DROP TABLE {q(self.raw)}")
        self.raw = changed

    def _salt(self, *, escaped: bool) -> bytes:
        r"""What a line's digest holds besides its cells: what the checks know and their code
        (the fingerprint), which column each cell is (the header), and whether the cells were
        read by Python and escaped or by COPY as written (a line read the other way is checked
        again, rather than `A\\B` read one way taken for `A\B` read the other)."""
        columns = ",".join(str(self.positions.get(c.name, "-")) for c in self.spec.columns)
        way = "e" if escaped else "c"
        return f"{self.known.fingerprint()} {way} {self.width} {columns}\n".encode()

    def lines_repeating_unchanged(self) -> list[tuple[int, int]]:
        """(line, first line) for each staged line whose key an unchanged line left out of the
        raw table holds too."""
        if not self.unchanged:
            return []
        q = connection.ops.quote_name
        merge = self.spec.merges[0]
        same_key = " AND ".join(f"t.{q(c)} = s.{q(c)}" for c in merge.conflict)
        self.cursor.execute(
            f"SELECT GREATEST(s.line, u.line), LEAST(s.line, u.line) FROM {q(self.stage)} s "
            f"JOIN {q(merge.table)} t ON {same_key} "
            f"JOIN {q(self.unchanged_lines)} u ON u.digest = t.{q(DIGEST)}"
        )
        return list(self.cursor.fetchall())

    def _cell(self, column: str, alias: str = "r") -> str:
        """The SQL for a column's cell as written, or '' for an optional column left out."""
        position = self.positions.get(column)
        return f"{alias}.c{position}" if position is not None else "''"

    def _distinct(self, sets: list[tuple[str, ...]]) -> dict[tuple[str, ...], list[tuple]]:
        """For each set of columns, the distinct combinations of their cells in the file
        (a column left out reads '' in every row). PostgreSQL finds them all in one pass."""
        q = connection.ops.quote_name
        wanted = list(dict.fromkeys(sets))
        # Each set's columns in file order: two rules reading the same cells in another order
        # share one set (and one GROUPING mask).
        present = {
            columns: tuple(
                sorted((c for c in columns if c in self.positions), key=self.positions.get)
            )
            for columns in wanted
        }
        grouped = sorted({present[columns] for columns in wanted if present[columns]})
        found: dict[tuple[str, ...], set[tuple]] = {p: set() for p in grouped}
        if grouped and self.postgresql:
            cells = sorted({c for p in grouped for c in p}, key=lambda c: self.positions[c])
            bit = {c: 1 << (len(cells) - 1 - i) for i, c in enumerate(cells)}
            every = (1 << len(cells)) - 1
            of_mask = {every - sum(bit[c] for c in p): p for p in grouped}
            sql_cells = ", ".join(self._cell(c) for c in cells)
            sets_sql = ", ".join("(" + ", ".join(self._cell(c) for c in p) + ")" for p in grouped)
            self.cursor.execute(
                f"SELECT GROUPING({sql_cells}), {sql_cells} FROM {q(self.raw)} r "
                f"GROUP BY GROUPING SETS ({sets_sql})"
            )
            index = {c: i for i, c in enumerate(cells)}
            for mask, *values in self.cursor.fetchall():
                p = of_mask[mask]
                found[p].add(tuple(values[index[c]] for c in p))
        else:
            for p in grouped:
                cells = ", ".join(self._cell(c) for c in p)
                self.cursor.execute(f"SELECT DISTINCT {cells} FROM {q(self.raw)} r")
                found[p] = set(self.cursor.fetchall())
        result = {}
        for columns in wanted:
            p = present[columns]
            combos = found[p] if p else {()}
            # Put the left-out columns' '' back where they belong.
            result[columns] = [
                tuple(combo[p.index(c)] if c in p else "" for c in columns) for combo in combos
            ]
        return result

    def _map_column(self, rank: int, column, values: list[tuple]) -> None:
        """The column's distinct cells that are bad, or whose value is not the cell as
        written, into a map table (raw, value, problem)."""
        if column.name not in self.positions:
            # Left out, which the header allowed: every row's cell reads ''.
            try:
                column.parse("")
            except ValueError as exc:
                self.cursor.execute(
                    f"INSERT INTO {connection.ops.quote_name(self.problems)} "
                    "(line, rank, col, reason) SELECT line, %s, %s, %s FROM "
                    f"{connection.ops.quote_name(self.raw)}",
                    [rank, column.name, str(exc)],
                )
            return
        staged_type = column.type
        rows = []
        parsed = self.parsed.get(column.name)
        cache = self.cache.setdefault(column.parse, {})
        for (raw,) in values:
            cell = self._unescaped(raw).strip()
            try:
                value = cache[cell]
            except KeyError:
                try:
                    value = cache[cell] = column.parse(cell)
                except ValueError as exc:
                    value = cache[cell] = exc
            if isinstance(value, ValueError):
                rows.append((raw, None, str(value)))
                continue
            if parsed is not None:
                parsed[raw] = value
            if not self._as_written(value, raw, staged_type):
                rows.append((raw, value, None))
        if not rows:
            return
        q = connection.ops.quote_name
        table = self._named(f"{self.base}_map{rank}")
        self._create(
            table,
            f"(raw text PRIMARY KEY, value {bulk.column_type(staged_type)}, problem text)",
        )
        bulk.copy_rows(self.cursor, table, ["raw", "value", "problem"], rows)
        self._analyze(table)
        self.value_maps[column.name] = table
        if any(problem is not None for _raw, _value, problem in rows):
            self.cursor.execute(
                f"INSERT INTO {q(self.problems)} (line, rank, col, reason) "
                f"SELECT r.line, %s, %s, m.problem FROM {q(self.raw)} r "
                f"JOIN {q(table)} m ON m.raw = {self._cell(column.name)} "
                "WHERE m.problem IS NOT NULL",
                [rank, column.name],
            )

    def _unescaped(self, raw: str) -> str:
        return _unescaped(raw) if self.escaped else raw

    def _parsed(self, column: str, cell: str) -> Any:
        """The cell's value, parsed once; raises ValueError for a bad cell."""
        if column not in self.positions:
            return self.parsers[column]("")  # left out: read as ''
        try:
            return self.parsed[column][cell]
        except KeyError:
            raise ValueError(column) from None  # bad: it has no parsed value

    def _as_written(self, value: Any, raw: str, staged_type: str) -> bool:
        """Whether the database, given the cell as written, stores `value` (so the cell needs
        no map: the staging insert casts it)."""
        if isinstance(value, str):
            return value == raw
        if isinstance(value, bool) or value is None:
            return False
        if isinstance(value, int) and staged_type == "int":
            return str(value) == raw
        if type(value) is datetime.date and staged_type == "date":
            return value.isoformat() == raw
        return False

    def _mark_bad(self) -> None:
        q = connection.ops.quote_name
        self.cursor.execute(
            f"INSERT INTO {q(self.bad)} (line) SELECT DISTINCT p.line FROM {q(self.problems)} p "
            f"WHERE NOT EXISTS (SELECT 1 FROM {q(self.bad)} b WHERE b.line = p.line)"
        )

    def _map_rule(self, rank: int, index: int, rule: RowRule, combinations: list[tuple]) -> None:
        """The rule's result for each distinct combination of its cells: the values it gives
        into a map table, its problems into the problems table."""
        q = connection.ops.quote_name
        types = dict(self.spec.staged)
        given_rows, problem_rows = [], []
        for cells in combinations:
            try:
                row = {
                    column: self._parsed(column, cell)
                    for column, cell in zip(rule.reads, cells, strict=True)
                }
            except ValueError:
                continue  # a bad cell: reported already, and the row is not given to rules
            try:
                given = rule.run(row, self.known)
            except RowError as exc:
                problem_rows.extend(
                    (*cells, rank + order, column, reason)
                    for order, (column, reason) in enumerate(exc.problems)
                )
                continue
            if rule.gives:
                given_rows.append((*cells, *(given[name] for name in rule.gives)))
        keys = [f"k{i}" for i in range(len(rule.reads))]
        on = " AND ".join(
            f"{{map}}.{k} = {self._cell(c)}" for k, c in zip(keys, rule.reads, strict=True)
        )
        if problem_rows:
            table = self._named(f"{self.base}_rule{index}_problems")
            key_columns = ", ".join(f"{k} text" for k in keys)
            self._create(table, f"({key_columns}, rank integer, col text, reason text)")
            bulk.copy_rows(self.cursor, table, [*keys, "rank", "col", "reason"], problem_rows)
            self.cursor.execute(
                f"INSERT INTO {q(self.problems)} (line, rank, col, reason) "
                f"SELECT r.line, m.rank, m.col, m.reason FROM {q(self.raw)} r "
                f"JOIN {q(table)} m ON {on.format(map='m')} "
                f"WHERE NOT EXISTS (SELECT 1 FROM {q(self.bad)} b WHERE b.line = r.line)"
            )
        table = None
        if rule.gives:
            table = self._named(f"{self.base}_rule{index}")
            columns = [f"{k} text" for k in keys] + [
                f"{q(name)} {bulk.column_type(types[name])}" for name in rule.gives
            ]
            self._create(table, f"({', '.join(columns)}, PRIMARY KEY ({', '.join(keys)}))")
            bulk.copy_rows(self.cursor, table, [*keys, *rule.gives], given_rows)
            self._analyze(table)
        self.rule_maps.append((rule, table, on))

    # --- what comes out ------------------------------------------------------------------

    def report_problems(self, report, limit: int) -> int:
        """Up to `limit` problems to `report`, in line order; how many there are in all."""
        q = connection.ops.quote_name
        self.cursor.execute(f"SELECT COUNT(*) FROM {q(self.problems)}")
        (count,) = self.cursor.fetchone()
        count += self.unlisted
        if count and limit > 0:
            self.cursor.execute(
                f"SELECT line, col, reason FROM {q(self.problems)} ORDER BY line, rank LIMIT %s",
                [limit],
            )
            for line, column, reason in self.cursor.fetchall():
                report(line, column, reason)
        return count

    def create_stage(self, materialise: bool = False) -> None:
        """The staging table's rows, as a view: every good row with its values as the
        parsers and rules gave them (from the maps, else the cell as written). Each map has
        one row per cell, so the view has one row per good line: none lost, none twice.

        To `materialise` is to write those rows into a table instead, read ahead (the
        import's connection then only reads them); the view is then of that table."""
        q = connection.ops.quote_name
        if self.materialised is not None:
            self._create_view(f"SELECT * FROM {q(self.materialised)}")
            return
        joins = []
        for name, table in self.value_maps.items():
            alias = self._alias(name)
            joins.append(f"LEFT JOIN {q(table)} {alias} ON {alias}.raw = {self._cell(name)}")
        given: dict[str, str] = {}
        for index, (rule, table, on) in enumerate(self.rule_maps):
            if table is None:
                continue
            alias = f"g{index}"
            joins.append(f"LEFT JOIN {q(table)} {alias} ON {on.format(map=alias)}")
            for name in rule.gives:
                given[name] = f"{alias}.{q(name)}"
        values = ["r.line AS line"]
        for column in self.spec.columns:
            name = column.staged_name
            values.append(f"{given.get(name) or self._value(column)} AS {q(name)}")
        for computed in self.spec.computed:
            values.append(f"{given[computed.name]} AS {q(computed.name)}")
        if self.spec.skips_unchanged_lines:
            # Remembered with the row it writes (SQLite, the embedded default, remembers none).
            digest = "r.digest" if self.digests else "NULL"
            values.append(f"{digest} AS {q(DIGEST)}")
        self.cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {q(self.bad)})")
        good = (
            f"WHERE NOT EXISTS (SELECT 1 FROM {q(self.bad)} b WHERE b.line = r.line)"
            if self.cursor.fetchone()[0]
            else ""  # every row: a national file is read once less
        )
        rows = f"SELECT {', '.join(values)} FROM {q(self.raw)} r {' '.join(joins)} {good}"
        if materialise:
            table = self._named(f"{self.base}_staged")
            self._create(table, f"AS {rows}")
            self._analyze(table)
            self.materialised = table
        else:
            self._create_view(rows)

    def _create_view(self, rows: str) -> None:
        q = connection.ops.quote_name
        self.cursor.execute(f"DROP VIEW IF EXISTS {q(self.stage)}")
        self.cursor.execute(f"CREATE TEMPORARY VIEW {q(self.stage)} AS {rows}")
        self._view = True

    def _alias(self, column: str) -> str:
        return f"m{[c.name for c in self.spec.columns].index(column)}"

    def _value(self, column) -> str:
        """The SQL for a column's staged value: from its map, else the cell cast."""
        cell = self._cell(column.name)
        if column.name not in self.positions:
            # An optional column left out: every row's cell is '', read once (if it cannot be
            # read, every row is bad and the view has none).
            try:
                return self._literal(column.parse(""), column.type)
            except ValueError:
                return "NULL"
        cast = self._cast(cell, column.type)
        if column.name not in self.value_maps:
            return cast
        alias = self._alias(column.name)
        return f"CASE WHEN {alias}.raw IS NULL THEN {cast} ELSE {alias}.value END"

    def _cast(self, sql: str, staged_type: str) -> str:
        """Text as the staged type. (SQLite stores the text as given, by the column's type
        affinity: its CAST to a date would keep the year only.)"""
        if staged_type == "text" or not self.postgresql:
            return sql
        return f"CAST({sql} AS {bulk.column_type(staged_type)})"

    def _literal(self, value: Any, staged_type: str) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return ("true" if value else "false") if self.postgresql else str(int(value))
        if isinstance(value, int):
            return str(value)
        text = bulk.stored_text(value)
        return self._cast("'" + text.replace("'", "''") + "'", staged_type)

    # --- housekeeping --------------------------------------------------------------------

    def _create(self, table: str, definition: str) -> None:
        q = connection.ops.quote_name
        kind = "TEMPORARY" if self.schema is None else "UNLOGGED"
        self.cursor.execute(f"DROP TABLE IF EXISTS {q(table)}")
        self.cursor.execute(f"CREATE {kind} TABLE {q(table)} {definition}")
        self._tables.append(table)

    def _analyze(self, table: str) -> None:
        # Statistics for the planner, which otherwise guesses a temporary table's size.
        if self.postgresql:
            self.cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
            self._analysed = table

    def drop(self) -> None:
        q = connection.ops.quote_name
        if self._view:
            self.cursor.execute(f"DROP VIEW IF EXISTS {q(self.stage)}")
        for table in reversed(self._tables):
            self.cursor.execute(f"DROP TABLE IF EXISTS {q(table)}")


@dataclass(frozen=True)
class ReadAhead:
    """A file's raw table as another connection read it (`FileChecks.read_ahead`)."""

    table: str  # quoted, with its schema
    rows: int
    positions: dict[str, int]
    width: int
    salt: bytes | None  # in each line's digest
    checks: "FileChecks | None" = None  # the file checked already, if it was

    def fits(self, positions: dict[str, int], width: int, salt: bytes | None) -> bool:
        """Whether it holds the file as the import would read it now: the same columns, and
        each line's digest made with the same checks."""
        return (positions, width, salt) == (self.positions, self.width, self.salt)


class _NotAlike(Exception):
    pass


_ESCAPES = re.compile(r"\\(.)")


def _escaped(cell: str) -> str:
    if "\\" in cell or "\x00" in cell:
        return cell.replace("\\", "\\\\").replace("\x00", "\\0")
    return cell


def _unescaped(raw: str) -> str:
    if "\\" in raw:
        return _ESCAPES.sub(lambda m: "\x00" if m.group(1) == "0" else m.group(1), raw)
    return raw


@dataclass(frozen=True)
class _Shape:
    """What a byte scan of the file tells: whether COPY reads it as Python's csv module
    does, and how many records it then holds."""

    plain: bool
    records: int

    @classmethod
    def of(cls, path: Path) -> "_Shape":
        newlines = quotes = returns = return_newlines = 0
        # Python's csv module refuses a field longer than this; COPY would read it.
        longest, carried = csv.field_size_limit(), 0
        last = b""
        blank_line = too_long = False
        previous = b"\n"
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                newlines += block.count(b"\n")
                quotes += block.count(b'"')
                returns += block.count(b"\r")
                return_newlines += block.count(b"\r\n")
                # A blank line (Python skips it; COPY does not) shows as two newlines.
                blank_line = blank_line or b"\n\n" in block or b"\n\r\n" in block
                blank_line = blank_line or (previous.endswith(b"\n") and block[:1] == b"\n")
                # "\r" and "\n" split across two blocks.
                if previous.endswith(b"\r") and block[:1] == b"\n":
                    return_newlines += 1
                previous = block[-2:]
                lines = block.split(b"\n")
                lines[0] = carried + len(lines[0])
                carried = len(lines[-1]) if len(lines) > 1 else lines[0]
                inner = max(map(len, lines[1:-1]), default=0)
                too_long = too_long or max(lines[0], inner, carried) > longest
                last = block[-1:]
        lines = newlines + (1 if last and last != b"\n" else 0)
        plain = not quotes and returns == return_newlines and not blank_line and not too_long
        return cls(plain=plain, records=max(lines - 1, 0))


def _cells_digest(salt: bytes, cells: list[str]) -> str:
    """A line read by Python: its cells, each after its length, so none runs into the next."""
    digest = hashlib.md5(salt, usedforsecurity=False)
    for cell in cells:
        data = cell.encode()
        digest.update(b"%d:" % len(data))
        digest.update(data)
    return digest.hexdigest()


class _Counted:
    """A file for COPY that tells the progress how many lines have gone by; given a salt,
    each line goes with its digest as one more field (a plain file's lines hold no quotes,
    so the line as written is its cells, and a comma starts the next)."""

    def __init__(self, handle, progress, salt: bytes | None = None) -> None:
        self.handle = handle
        self.progress = progress
        self.header = True
        self.digest = None if salt is None else hashlib.md5(salt, usedforsecurity=False)
        self.unread_header = True
        self.carried = b""
        self.ending = b"\n"  # the header's line break, for a last line with none

    def read(self, size: int = -1) -> bytes:
        while True:
            data = self._read(size)
            if self.digest is None:
                return data
            if not data:  # the end: a last line with no line break after it
                last, self.carried = self.carried, b""
                return self._digested([last], last=True) if last else b""
            lines = (self.carried + data).split(b"\n")
            self.carried = lines.pop()
            if lines:  # else a line longer than the block: read on (b"" would end the COPY)
                return self._digested(lines)

    def _read(self, size: int) -> bytes:
        data = self.handle.read(size)
        lines = data.count(b"\n")
        if self.header and lines:
            lines -= 1
            self.header = False
        if lines:
            self.progress.advance(lines)
        return data

    def _digested(self, lines: list[bytes], last: bool = False) -> bytes:
        out = []
        if self.unread_header:
            self.unread_header = False
            header = lines.pop(0)
            if header.endswith(b"\r"):
                header, self.ending = header[:-1], b"\r\n"
            out.append(header + b",digest" + self.ending)
        copy = self.digest.copy
        if self.ending == b"\n" and not last:
            # The usual lines, in a loop of as little as it can be (a national file's 1.45 M).
            for line in lines:
                of_line = copy()
                of_line.update(line)
                out.append(line + b"," + of_line.hexdigest().encode() + b"\n")
            return b"".join(out)
        for line in lines:
            if line.endswith(b"\r"):
                line, ending = line[:-1], b"\r\n"
            else:
                ending = self.ending if last else b"\n"
            of_line = copy()
            of_line.update(line)
            out.append(line + b"," + of_line.hexdigest().encode() + ending)
        return b"".join(out)

    readline = read
