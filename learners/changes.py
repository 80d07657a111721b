"""Writes of learner data, numbered in the order they commit (see `DataChange`).

The overnight rebuild notes the highest number committed before it starts reading; any
change numbered above it is "received since the last overnight update" for the components
it lists. Timestamps cannot say this: a transaction's clock starts when it begins, not
when it becomes visible.

A change lists what it touched as notes (`ChangedComponent`), except a first load in bulk,
which says it wrote every row of a table instead (`note_every_entry`, `note_every_row_of`):
half a million notes were a seventh of a national first import. Readers take the two forms
alike (`touched_learners`, `every_entry_component`, `every_row_learners`).
"""

import contextlib
from collections.abc import Iterable, Iterator

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet

from .models import ChangedComponent, DataChange, Entry, Qualification
from .signals import learner_data_committed

# The "component" of a learner whose data a change wrote without any component arriving late
# (a result, a mark, their registration): their snapshot rows are worked out again, and no
# page shows anything as received since.
LEARNER_ONLY = ""

# The advisory lock held from numbering a change to its commit: a few milliseconds.
_NUMBERING_LOCK = 0x4C54_4348  # "LTCH"


@contextlib.contextmanager
def recorded_change(kind: str) -> Iterator[int]:
    """A transaction that writes learner data; yields the id of its change.

    The block records what it touched (`record_components`, or the feed's bulk writes). A
    change that touched nothing (an import of results only) is dropped rather than numbered,
    so the pages have nothing to look up; one whose block raises rolls back with its rows.
    """
    with transaction.atomic():
        change = DataChange.objects.create(kind=kind).pk
        yield change
        if ChangedComponent.objects.filter(change_id=change).exists() or (
            DataChange.objects.filter(pk=change)
            .filter(Q(wrote_every_entry=True) | ~Q(wrote_every_row_of=[]))
            .exists()
        ):
            _number(change)
            transaction.on_commit(
                lambda: learner_data_committed.send(sender=DataChange, change=change)
            )
        else:
            DataChange.objects.filter(pk=change).delete()


def record_components(change: int, touched: Iterable[tuple[str, str]]) -> None:
    """Note (ULN, component) pairs the change wrote data for (learners alone, LEARNER_ONLY,
    only while the snapshot is refreshed: nothing else asks for them)."""
    if not settings.REFRESH_SNAPSHOT:
        touched = [(uln, c) for uln, c in touched if c != LEARNER_ONLY]
    ChangedComponent.objects.bulk_create(
        [ChangedComponent(change_id=change, uln=uln, component=c) for uln, c in set(touched)],
        ignore_conflicts=True,
    )


def note_every_entry(change: int) -> None:
    """Note that the change wrote every entry there is (a first load of the entries in bulk):
    its learners' components are then those of the entries, not listed one by one."""
    DataChange.objects.filter(pk=change).update(wrote_every_entry=True)


def note_every_row_of(change: int, table: str) -> None:
    """Note that the change wrote every row of a learner file's table (a first load in bulk):
    its learners include every ULN there, not noted one by one. Kept as the model's label,
    which outlives a table renamed, and is looked up, never written into SQL as stored."""
    [model] = [m for m in apps.get_app_config("learners").get_models() if m._meta.db_table == table]
    model._meta.get_field("uln")  # a learner file's table: its rows name their learner
    with transaction.atomic():
        row = DataChange.objects.select_for_update().get(pk=change)
        row.wrote_every_row_of = sorted({*row.wrote_every_row_of, model._meta.label})
        row.save(update_fields=["wrote_every_row_of"])


def every_row_learners(changes: Iterable[int]) -> list[str]:
    """SQL selecting the ULNs of the tables whose every row one of the changes wrote (none:
    an empty list)."""
    labels = set()
    for written in DataChange.objects.filter(pk__in=list(changes)).values_list(
        "wrote_every_row_of", flat=True
    ):
        labels.update(written)
    q = connection.ops.quote_name
    return [
        f"SELECT uln FROM {q(_learner_model(label)._meta.db_table)}" for label in sorted(labels)
    ]


def _learner_model(label: str):
    model = apps.get_model(label)  # a label no model has raises: nothing is guessed
    model._meta.get_field("uln")
    return model


def wrote_every_entry(changes: Iterable[int]) -> bool:
    """Whether any of the changes wrote every entry there is (`note_every_entry`)."""
    changes = list(changes)
    return bool(changes) and (
        DataChange.objects.filter(pk__in=changes, wrote_every_entry=True).exists()
    )


def every_entry_component() -> QuerySet:
    """(ULN, component) of every entry linked to a learner: what a change that wrote every
    entry touched. Every centre's, as a change's notes are: the pages match them against
    rows of their own scope, and a learner's entry may be at another centre."""
    return (
        Entry._base_manager.filter(learner__isnull=False)
        .order_by()
        .values_list("learner_id", "qualification__component")
        .distinct()
    )


def list_every_entry(change: int) -> bool:
    """Write, as the change's notes, the components of a change that wrote every entry, so
    that a refresh can let them go learner by learner; whether it had to. (The entries written
    since are listed too: their own changes came after, so they are late whenever this is.)"""
    with transaction.atomic():
        if not DataChange.objects.filter(pk=change, wrote_every_entry=True).update(
            wrote_every_entry=False
        ):
            return False  # listed already, or never so
        q = connection.ops.quote_name
        notes = q(ChangedComponent._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {notes} (change_id, uln, component) "
                f"SELECT DISTINCT %s, e.learner_id, q.component FROM {q(Entry._meta.db_table)} e "
                f"JOIN {q(Qualification._meta.db_table)} q ON q.code = e.qualification_id "
                "WHERE e.learner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                f"{notes} c WHERE c.change_id = %s AND c.uln = e.learner_id "
                # In the unique key's order: it grows at its end (as `bulk.write_entries`).
                "AND c.component = q.component) ORDER BY 3, 2",
                [change, change],
            )
    return True


def touched_learners(change: int) -> list[str]:
    """The learners a change wrote data for: those noted, and those of what it wrote whole."""
    learners = set(
        ChangedComponent.objects.filter(change_id=change)
        .order_by()
        .values_list("uln", flat=True)
        .distinct()
    )
    if wrote_every_entry([change]):
        learners.update(
            Entry._base_manager.filter(learner__isnull=False)
            .order_by()
            .values_list("learner_id", flat=True)
            .distinct()
        )
    with connection.cursor() as cursor:
        for sql in every_row_learners([change]):
            cursor.execute(f"SELECT DISTINCT uln FROM ({sql}) t")
            learners.update(uln for (uln,) in cursor.fetchall())
    return sorted(learners)


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
    """Ids of the changes committed after `number` that brought some component late: few,
    one per import of entries or non-Edexcel edit since (award dates and results bring none,
    so the pages need not look them up)."""
    late = ChangedComponent.objects.filter(change=OuterRef("pk")).exclude(component=LEARNER_ONLY)
    return tuple(
        DataChange.objects.filter(Q(Exists(late)) | Q(wrote_every_entry=True), committed__gt=number)
        .order_by()
        .values_list("pk", flat=True)
    )


def forget_before(number: int) -> None:
    """Drop the changes every kept snapshot has seen: nothing will ask about them again.

    The change numbered `number` itself stays, so the numbering (highest + 1) carries on.
    """
    DataChange.objects.filter(committed__lt=number).delete()
