"""Writes of learner data, numbered in the order they commit (see `DataChange`).

The overnight rebuild notes the highest number committed before it starts reading; any
change numbered above it is "received since the last overnight update". Timestamps cannot
say this: a transaction's clock starts when it begins, not when it becomes visible.
"""

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Max

from .models import DataChange

# The advisory lock held from numbering a change to its commit: a few milliseconds.
_NUMBERING_LOCK = 0x4C54_4348  # "LTCH"


@dataclass
class Change:
    id: int
    # Whether rows now point at it. One that wrote none (an import of results only) leaves
    # nothing "received since", so it is dropped rather than numbered: pages then skip the
    # late checks entirely.
    stamped_rows: bool = True


@contextlib.contextmanager
def recorded_change(kind: str, *, learner_uln: str = "", component: str = "") -> Iterator[Change]:
    """A transaction that writes learner data; yields the change its rows record.

    `learner_uln` and `component` name what a change that leaves no row behind touched (a
    record removed). It is numbered only if the block finishes: a block that raises rolls
    back with its rows.
    """
    with transaction.atomic():
        row = DataChange.objects.create(kind=kind, learner_uln=learner_uln, component=component)
        change = Change(row.pk)
        yield change
        if change.stamped_rows or learner_uln:
            _number(change.id)
        else:
            row.delete()


def _number(change_id: int) -> None:
    """Take the next number, as the last statement before the commit.

    On PostgreSQL the lock makes "number, then commit" one writer at a time, so numbers
    become visible in order; SQLite allows one writer at a time anyway.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_NUMBERING_LOCK])
        table = connection.ops.quote_name(DataChange._meta.db_table)
        cursor.execute(
            f"UPDATE {table} SET committed = "
            f"(SELECT COALESCE(MAX(committed), 0) + 1 FROM {table}) WHERE id = %s",
            [change_id],
        )


def last_committed() -> int:
    """The highest change number committed now: what a rebuild starting now will see."""
    return DataChange.objects.aggregate(n=Max("committed"))["n"] or 0


def committed_after(number: int) -> tuple[int, ...]:
    """Ids of the changes committed after `number`: few, one per import or edit since."""
    return tuple(
        DataChange.objects.filter(committed__gt=number).order_by().values_list("pk", flat=True)
    )
