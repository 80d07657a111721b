"""A file of a delivery, declared once: its columns, how each cell is read, the staging
table it fills and how staged rows become rows of the real tables.

The vocabulary of the feed, below every app: `accounts` declares the centres and their users,
`learners` the catalogue and the learners (`learners.feed.spec` puts them in order).
"""

import operator
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import connection

from .cells import Parser


class RowError(Exception):
    """A row that cannot be imported: [(column, reason), ...]."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(problems)
        self.problems = problems


def require(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise RowError(problems)


def table(model) -> str:
    return model._meta.db_table


# The column of a table whose merge remembers lines (Merge.remembers_lines).
DIGEST = "line_digest"


@dataclass(frozen=True)
class Merge:
    """How staged rows become rows of a real table: INSERT ... ON CONFLICT (key) DO UPDATE.

    `select` gives, for each target column, an SQL expression over the staging alias `s`
    (default `s.<column>`); `update` overrides what a changed row is set to, an expression
    over the stored row `{old}` and the delivered one `{new}`; columns in `insert_only` are
    written when the row is new and never changed afterwards.
    """

    table: str
    # None: the staged columns but those left out, then the other columns `select` gives
    # (FileSpec fills it in).
    columns: tuple[str, ...] | None = None
    # None: the file's key.
    conflict: tuple[str, ...] = ()
    leave_out: tuple[str, ...] = ()
    select: dict[str, str] = field(default_factory=dict)
    joins: str = ""
    # Staged rows to leave out before the upsert: a row that would change nothing is then
    # not even locked (an upsert locks every row it conflicts with, changed or not).
    where: str = "true"
    update: dict[str, str] = field(default_factory=dict)
    insert_only: frozenset[str] = frozenset()
    # Entries: the learners' components of the rows written are noted for the change
    # (learners.changes), so the pages know what the snapshot has not seen.
    records_components: bool = False
    # Rows keyed by a learner's `uln`: the learners of the rows written are noted for the
    # change too (nothing late on the pages; their snapshot rows are worked out again).
    records_learners: bool = False
    # The table keeps the digest of the line that wrote each row (`line_digest`), so that a
    # line delivered again unchanged is skipped before any check (learners.feed.byvalue).
    remembers_lines: bool = False

    def sql(self, stage: str, into_empty: bool = False) -> str:
        """The upsert; a plain INSERT when the table is known to be empty (its unique keys
        may then be set aside while it is filled: learners.feed.bulk)."""
        q = connection.ops.quote_name
        target = q(self.table)
        written = (*self.columns, DIGEST) if self.remembers_lines else self.columns
        columns = ", ".join(q(c) for c in written)
        select = ", ".join(f"{self.select.get(c, f's.{q(c)}')} AS {q(c)}" for c in written)
        changing = [c for c in self.columns if c not in self.conflict and c not in self.insert_only]
        same_key = " AND ".join(f"t.{q(c)} = n.{q(c)}" for c in self.conflict)
        # A row the delivery holds as it is stored is left out before the upsert, which would
        # lock it (and so every row of a re-delivery) even to change nothing.
        unchanged = " AND ".join(
            [same_key]
            + [f"t.{q(c)} IS NOT DISTINCT FROM {self._new_value(c, 't', 'n')}" for c in changing]
        )
        rows = f"SELECT {select} FROM {q(stage)} s {self.joins} WHERE {self.where}"
        if into_empty:
            return f"INSERT INTO {target} ({columns}) {rows}"
        sql = (
            f"INSERT INTO {target} ({columns}) "
            f"SELECT * FROM ({rows}) n "
            f"WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE {unchanged}) "
            f"ON CONFLICT ({', '.join(q(c) for c in self.conflict)}) "
        )
        if not changing:
            return sql + "DO NOTHING"
        new_value = {c: self._new_value(c, target, "excluded") for c in changing}
        # The digest goes along with a row that changes; one that changes only the digest
        # (the same values, written differently) is not a change: `digests_sql` sets it.
        digest = [f"{q(DIGEST)} = excluded.{q(DIGEST)}"] if self.remembers_lines else []
        # Only rows that really change are rewritten: a re-delivery writes nothing.
        return (
            sql
            + "DO UPDATE SET "
            + ", ".join([*(f"{q(c)} = {v}" for c, v in new_value.items()), *digest])
            + " WHERE "
            + " OR ".join(f"{target}.{q(c)} IS DISTINCT FROM {v}" for c, v in new_value.items())
        )

    def digests_sql(self, stage: str) -> str:
        """Records the digest of each staged line on its row where the upsert left it out (the
        row held those values already), so that the line is skipped when it comes again."""
        q = connection.ops.quote_name
        same_key = " AND ".join(f"t.{q(c)} = s.{q(c)}" for c in self.conflict)
        return (
            f"UPDATE {q(self.table)} t SET {q(DIGEST)} = s.{q(DIGEST)} FROM {q(stage)} s "
            f"WHERE {same_key} AND t.{q(DIGEST)} IS DISTINCT FROM s.{q(DIGEST)}"
        )

    def _new_value(self, column: str, old: str, new: str) -> str:
        """What a stored row's column becomes: `update`'s expression over the stored row
        (`{old}`) and the delivered one (`{new}`), or the delivered value."""
        q = connection.ops.quote_name
        if column in self.update:
            return self.update[column].format(old=old, new=new)
        return f"{new}.{q(column)}"


@dataclass(frozen=True)
class Column:
    """A column of a delivery's file, declared once: its name in the file, how a cell is read,
    and the staging column it fills (its type, and its name when that differs)."""

    name: str
    parse: Parser
    type: str = "text"
    stage_as: str = ""
    # A column a delivery may leave out (DOMAIN.md 5): its cells read as empty.
    optional: bool = False
    # Part of the row's key: two rows of a file with the same key are one row twice.
    key: bool = False

    @property
    def staged_name(self) -> str:
        return self.stage_as or self.name


@dataclass(frozen=True)
class Computed:
    """A staging column the file does not hold, worked out by the spec's `stage`."""

    name: str
    type: str = "text"


def _nothing_more(row: dict[str, Any], known: Any) -> dict[str, Any]:
    return {}


def _learns_nothing(row: dict[str, Any], known: Any) -> None:
    return None


@dataclass(frozen=True)
class RowRule:
    """A check of a row that reads only a few of its cells, and the staging values it works
    out from them. A national file holds few distinct combinations of those cells (a few
    hundred centres or codes, one ULN per learner), so the import runs each rule once per
    combination rather than once per row (learners.feed.byvalue)."""

    # The columns it reads, by their names in the file: it is given their parsed values.
    reads: tuple[str, ...]
    # (cells by column name, what is known) -> staging values by name; raises RowError.
    run: Callable[[dict[str, Any], Any], dict[str, Any]]
    # The staging names of the values it gives.
    gives: tuple[str, ...] = ()


def _by_rules(rules: tuple[RowRule, ...]) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The rules as one row check: every rule's problems, in order, or every value given."""

    def stage(row: dict[str, Any], known: Any) -> dict[str, Any]:
        given: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        for rule in rules:
            try:
                given.update(rule.run(row, known))
            except RowError as exc:
                problems.extend(exc.problems)
        require(problems)
        return given

    return stage


@dataclass(frozen=True)
class FileSpec:
    """One file of a delivery. Its staging columns are its own columns (as read, unless
    `stage` gives another value by staging name) and then the computed ones, which `stage`
    must give, by name: nothing lines up by position."""

    name: str
    columns: tuple[Column, ...]
    key_words: str
    merges: tuple[Merge, ...]
    # Checks the row (raising RowError) and gives computed and changed values by staging name.
    # A file whose checks each read a few cells declares them as `rules` instead, and its
    # rows are checked by value (learners.feed.byvalue); `stage` is then the rules in order.
    stage: Callable[[dict[str, Any], Any], dict[str, Any]] = _nothing_more
    rules: tuple[RowRule, ...] = ()
    computed: tuple[Computed, ...] = ()
    # Updates of entries run after the merges, with the staging table's name (links); the
    # entries they write count as the change's, as the merged ones do.
    after: tuple[str, ...] = ()
    # Run with the staging table's name once every row has passed, before the merges.
    before: tuple[Callable[[str], None], ...] = ()
    # Records the key of a row, valid or not, for the rows of later files that refer to it.
    learn: Callable[[dict[str, Any], Any], None] = _learns_nothing

    def __post_init__(self) -> None:
        if self.rules and self.stage is not _nothing_more:
            raise ValueError(f"{self.name}: give rules or a stage, not both")
        object.__setattr__(self, "_check", _by_rules(self.rules) if self.rules else self.stage)
        staged = tuple(name for name, _ in self.staged)
        merges = tuple(
            replace(
                m,
                columns=m.columns
                or (
                    *(c for c in staged if c not in m.leave_out),
                    *(c for c in m.select if c not in staged),
                ),
                conflict=m.conflict or self.key,
            )
            for m in self.merges
        )
        object.__setattr__(self, "merges", merges)
        if any(m.remembers_lines for m in merges) and not self.skips_unchanged_lines:
            raise ValueError(f"{self.name}: only a file checked by value, in one merge, can skip")
        # Read once per row of the file, so worked out once: the cells in column order.
        names = self.column_names
        read = operator.itemgetter(*names)
        object.__setattr__(self, "_read", read if len(names) > 1 else (lambda row: (read(row),)))

    @property
    def by_value(self) -> bool:
        """Whether its rows can be checked by distinct values: each check reads a few cells
        (rules) and no row teaches anything to the rows after it (learn)."""
        return self.learn is _learns_nothing and (bool(self.rules) or self.stage is _nothing_more)

    @property
    def skips_unchanged_lines(self) -> bool:
        """Whether a line delivered again as it was is skipped before any check: its one
        table remembers the lines that wrote its rows (Merge.remembers_lines)."""
        return self.by_value and len(self.merges) == 1 and self.merges[0].remembers_lines

    @property
    def key(self) -> tuple[str, ...]:
        """The staging columns of the key, which the table's unique key matches."""
        return tuple(c.staged_name for c in self.columns if c.key)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def optional_columns(self) -> frozenset[str]:
        return frozenset(column.name for column in self.columns if column.optional)

    @property
    def staged(self) -> tuple[tuple[str, str], ...]:
        """(staging column, type), in the order staged_values gives them."""
        return tuple((c.staged_name, c.type) for c in self.columns) + tuple(
            (c.name, c.type) for c in self.computed
        )

    def staged_values(self, row: dict[str, Any], known: Any) -> tuple:
        given = self._check(row, known)
        values = self._read(row)
        if not given and not self.computed:
            return values
        values = tuple(
            given.get(c.staged_name, value) for c, value in zip(self.columns, values, strict=True)
        )
        return values + tuple(given[c.name] for c in self.computed)
