"""Recording and removing non-Edexcel qualifications, each with its audit event."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import audit
from accounts.models import AuditEvent
from learners.changes import record_components, recorded_change
from learners.models import DataChange, Learner

from .models import NonEdexcelQualification, PendingUpload
from .upload import UploadCheck


class AlreadyConfirmed(Exception):
    pass


def _describe(item: NonEdexcelQualification) -> dict:
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


def commit_upload(actor, pending: PendingUpload, check: UploadCheck) -> int:
    """Write every row of a checked upload, or none; a second confirm writes nothing."""
    now = timezone.now()
    with recorded_change(DataChange.Kind.BULK_UPLOAD) as change:
        locked = PendingUpload.objects.select_for_update().get(pk=pending.pk)
        if locked.confirmed_at is not None:
            raise AlreadyConfirmed
        items = [
            NonEdexcelQualification(
                learner_id=row.uln,
                qan=row.qan,
                component=row.component,
                awarding_body=row.awarding_body,
                title=row.title,
                added_by=actor,
                added_at=now,
            )
            for row in check.rows
        ]
        try:
            with transaction.atomic():
                NonEdexcelQualification.objects.bulk_create(items, batch_size=1000)
        except IntegrityError:
            raise AlreadyConfirmed from None  # recorded meanwhile by someone else
        record_components(change, [(row.uln, row.component) for row in check.rows])
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    actor=actor,
                    actor_name=actor.get_username(),
                    action=AuditEvent.Action.NON_EDEXCEL_ADDED,
                    centre_id=row.centre,
                    learner_uln=row.uln,
                    subject=f"{row.uln} {row.qan} (bulk upload {pending.filename})"[:254],
                    after={
                        "qan": row.qan,
                        "component": row.component,
                        "awarding_body": row.awarding_body,
                        "title": row.title,
                    },
                )
                for row in check.rows
            ],
            batch_size=1000,
        )
        locked.confirmed_at = now
        locked.rows_added = len(items)
        locked.save(update_fields=["confirmed_at", "rows_added"])
    return len(items)
