"""Recording and removing non-Edexcel qualifications, each with its audit event."""

import datetime
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from accounts import audit
from accounts.models import AuditEvent
from learners.changes import record_components, recorded_change
from learners.models import DataChange, Learner

from .models import NonEdexcelQualification, PendingUpload
from .upload import UploadCheck, UploadRow

# A pending upload waits this long for its confirmation, then is deleted.
PENDING_KEPT = datetime.timedelta(days=1)


def keep_pending_upload(user, filename: str, data: bytes) -> PendingUpload:
    """Keep the file until it is confirmed: one per person (a new upload replaces the one
    before), and none for longer than PENDING_KEPT."""
    with transaction.atomic():
        PendingUpload.objects.filter(user=user).delete()
        return PendingUpload.objects.create(user=user, filename=filename[:200], content=data)


def pending_upload(user, upload_id) -> PendingUpload | None:
    return PendingUpload.objects.filter(
        pk=upload_id, user=user, created_at__gte=timezone.now() - PENDING_KEPT
    ).first()


def delete_expired_uploads(now: datetime.datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - PENDING_KEPT
    deleted, _ = PendingUpload.objects.filter(created_at__lt=cutoff).delete()
    return deleted


class AlreadyConfirmed(Exception):
    pass


def _describe(item: NonEdexcelQualification | UploadRow) -> dict:
    return {
        "qan": item.qan,
        "component": item.component,
        "awarding_body": item.awarding_body,
        "title": item.title,
    }


def add(actor, learner: Learner, *, qan: str, component: str, awarding_body: str, title: str):
    with recorded_change(DataChange.Kind.NON_EDEXCEL) as change:
        item = NonEdexcelQualification.objects.create(
            learner=learner,
            qan=qan,
            component=component,
            awarding_body=awarding_body,
            title=title,
            added_by=actor,
        )
        record_components(change, [(learner.uln, component)])
        audit.record(
            actor,
            AuditEvent.Action.NON_EDEXCEL_ADDED,
            centre=learner.centre_id,
            learner_uln=learner.uln,
            subject=f"{learner.uln} {qan}",
            after=_describe(item),
        )
    return item


def remove(actor, item: NonEdexcelQualification) -> None:
    # The snapshot still shows the component as recorded elsewhere: the change marks it as
    # changed since, until the next rebuild.
    with recorded_change(DataChange.Kind.NON_EDEXCEL_REMOVED) as change:
        item = (
            NonEdexcelQualification.objects.select_for_update()
            .select_related("learner")
            .filter(pk=item.pk)
            .first()
        )
        if item is None:  # removed a moment ago: nothing more to record
            return
        audit.record(
            actor,
            AuditEvent.Action.NON_EDEXCEL_REMOVED,
            centre=item.learner.centre_id,
            learner_uln=item.learner_id,
            subject=f"{item.learner_id} {item.qan}",
            before=_describe(item),
        )
        item.delete()
        record_components(change, [(item.learner_id, item.component)])


@dataclass(frozen=True)
class Committed:
    added: int
    # Rows recorded for the learner meanwhile by someone else (on the ILR, say): not added
    # twice, and named so the administrator knows which.
    already_recorded: tuple[UploadRow, ...] = ()


_INSERT_BATCH = 500


def _insert_new(actor, rows: list[UploadRow], now) -> set[tuple[str, str]]:
    """Insert the rows, leaving out any recorded meanwhile (waiting for one being written
    elsewhere); the (ULN, QAN) of those this call inserted."""
    q = connection.ops.quote_name
    columns = (
        "learner_id",
        "qan",
        "component",
        "awarding_body",
        "title",
        "added_by_id",
        "added_at",
    )
    inserted: set[tuple[str, str]] = set()
    added_at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _INSERT_BATCH):
            batch = rows[start : start + _INSERT_BATCH]
            values = ", ".join([f"({', '.join(['%s'] * len(columns))})"] * len(batch))
            cursor.execute(
                f"INSERT INTO {q(NonEdexcelQualification._meta.db_table)} "
                f"({', '.join(q(c) for c in columns)}) VALUES {values} "
                "ON CONFLICT (learner_id, qan) DO NOTHING RETURNING learner_id, qan",
                [
                    value
                    for row in batch
                    for value in (
                        row.uln,
                        row.qan,
                        row.component,
                        row.awarding_body,
                        row.title,
                        actor.pk,
                        added_at,
                    )
                ],
            )
            inserted.update(cursor.fetchall())
    return inserted


def commit_upload(actor, pending: PendingUpload, check: UploadCheck) -> Committed:
    """Write every row of a checked upload; a second confirm writes nothing.

    A row someone else recorded for the learner since the preview is left out and named:
    that is not a previous confirm of this upload.
    """
    now = timezone.now()
    with recorded_change(DataChange.Kind.BULK_UPLOAD) as change:
        locked = PendingUpload.objects.select_for_update().get(pk=pending.pk)
        if locked.confirmed_at is not None:
            raise AlreadyConfirmed
        # In key order: two uploads with rows in common then wait for each other, never
        # deadlock.
        ours = _insert_new(actor, sorted(check.rows, key=lambda r: (r.uln, r.qan)), now)
        added = [row for row in check.rows if (row.uln, row.qan) in ours]
        record_components(change, [(row.uln, row.component) for row in added])
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    actor=actor,
                    actor_name=actor.get_username(),
                    action=AuditEvent.Action.NON_EDEXCEL_ADDED,
                    centre_id=row.centre,
                    learner_uln=row.uln,
                    subject=f"{row.uln} {row.qan} (bulk upload {pending.filename})"[:254],
                    after=_describe(row),
                )
                for row in added
            ],
            batch_size=1000,
        )
        locked.confirmed_at = now
        locked.rows_added = len(added)
        locked.save(update_fields=["confirmed_at", "rows_added"])
    return Committed(len(added), tuple(row for row in check.rows if (row.uln, row.qan) not in ours))
