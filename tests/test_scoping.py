"""Learner data fails closed (issue 18): outside a scope a query raises; inside one it returns
the rows of the scope's centres only, whatever filter the caller forgot."""

import datetime

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import models
from django.http import StreamingHttpResponse
from django.urls import reverse
from django_scopes import ScopeError, get_scope, scope, scopes_disabled

from accounts import audit
from accounts.models import AuditEvent, Centre, Membership
from accounts.scoping import CentreScope
from base.scoping import CENTRE, outside_any_scope
from demo.deliveries import generate
from flags.models import DetailLine, OverviewRow
from flags.snapshot import rebuild
from learners.feed.importer import import_delivery
from learners.models import (
    DASStatus,
    Entry,
    Learner,
    MarkSubmission,
    Result,
    VQStatus,
)
from learners.signals import learners_delivered
from learnertracking.celery import app
from nonedexcel.models import NonEdexcelQualification
from screens.management.commands.setup_demo import SHIPPED_CATALOGUE

from .builders import learner_with_everything
from .factories import (
    EntryFactory,
    LearnerFactory,
    MembershipFactory,
    UserFactory,
)

LEARNER_DATA = (
    Learner,
    Entry,
    MarkSubmission,
    Result,
    VQStatus,
    DASStatus,
    OverviewRow,
    DetailLine,
    NonEdexcelQualification,
    AuditEvent,
)
# Models that name learners but need no scope of their own, and why.
NOT_SCOPED = {
    # ULNs and component names only, read by ULNs taken from scoped rows.
    "learners.ChangedComponent",
    # A person's own conversations (support.chat.conversation_for), ULN as they typed it.
    "support.Conversation",
}


@pytest.fixture
def two_centres(centre, other_centre):
    ours = learner_with_everything(centre)
    theirs = learner_with_everything(other_centre)
    for learner in (ours, theirs):
        audit.record(
            None,
            AuditEvent.Action.AWARD_DATE_CHANGED,
            centre=learner.centre_id,
            learner_uln=learner.uln,
        )
    rebuild()
    return ours, theirs


@pytest.mark.django_db
@pytest.mark.parametrize("model", LEARNER_DATA, ids=lambda m: m.__name__)
def test_it_raises_for_a_learner_query_outside_any_scope(two_centres, model):
    with outside_any_scope():
        with pytest.raises(ScopeError):
            list(model.objects.all())
        with pytest.raises(ScopeError):
            model.objects.filter(pk=1).first()
        with pytest.raises(ScopeError):
            model.objects.count()
        # Those django-scopes lets through on its own.
        with pytest.raises(ScopeError):
            model.objects.exists()
        with pytest.raises(ScopeError):
            model.objects.exclude(pk=1).exists()
        with pytest.raises(ScopeError):
            model.objects.select_related().first()


@pytest.mark.django_db
@pytest.mark.parametrize("model", LEARNER_DATA, ids=lambda m: m.__name__)
def test_it_returns_only_the_scopes_centres_rows_without_a_filter(two_centres, model):
    ours, theirs = two_centres
    with scopes_disabled():
        every = model.objects.count()
    assert every >= 2

    with scope(**{CENTRE: ["12345"]}):
        rows = list(model.objects.all())
    with scope(**{CENTRE: []}):
        assert model.objects.count() == 0
    with scope(**{CENTRE: None}):  # staff who read every centre
        assert model.objects.count() == every

    assert rows
    assert 0 < len(rows) < every
    for row in rows:
        assert _centre_of(row) == "12345", row


@pytest.mark.django_db
def test_it_shows_an_entry_to_the_centre_that_made_it_and_to_the_learners_centre(
    centre, other_centre
):
    learner = LearnerFactory(centre=centre)
    made_elsewhere = EntryFactory(centre=other_centre, learner=learner, uln=learner.uln)
    unmatched_here = EntryFactory(centre=centre, learner=None, uln="9999999999")

    with scope(**{CENTRE: ["12345"]}):
        here = set(Entry.objects.values_list("pk", flat=True))
    with scope(**{CENTRE: ["54321"]}):
        there = set(Entry.objects.values_list("pk", flat=True))

    assert here == {made_elsewhere.pk, unmatched_here.pk}
    assert there == {made_elsewhere.pk}


@pytest.mark.django_db
def test_it_gives_every_model_that_names_a_learner_a_scoped_default_manager():
    unscoped = []
    for model in apps.get_models():
        label = model._meta.label
        names_a_learner = any(
            field.name in {"uln", "learner_uln", "learner"}
            or (field.is_relation and field.related_model is Learner)
            for field in model._meta.get_fields()
            if not field.auto_created
        )
        if not names_a_learner or label in NOT_SCOPED:
            continue
        with outside_any_scope():
            try:
                model._default_manager.count()
            except ScopeError:
                continue
        unscoped.append(label)
    assert unscoped == []


@app.task(name="tests.scope_seen_by_a_task")
def scope_seen_by_a_task() -> int:
    return Learner.objects.count()


@pytest.mark.django_db
def test_it_starts_a_celery_task_outside_the_scope_of_whoever_queued_it(two_centres):
    with scope(**{CENTRE: ["12345"]}):
        assert Learner.objects.count() == 1
        with pytest.raises(ScopeError):
            scope_seen_by_a_task.apply().get()


@pytest.mark.django_db
def test_it_runs_the_rebuild_command_unscoped(two_centres):
    with outside_any_scope():
        call_command("rebuild_overview")
    with scopes_disabled():
        assert OverviewRow.objects.filter(run__outcome="succeeded").count() >= 4


@pytest.mark.django_db
def test_it_imports_the_feed_unscoped(tmp_path):
    """What the feed tells the rest (learners_delivered) runs without a scope, too."""
    seen = []

    def note_scope(**kwargs):
        seen.append(get_scope().get("_enabled", True))

    generate(tmp_path, centres=1, learners=5, seed=1, today=datetime.date(2026, 12, 1))
    learners_delivered.connect(note_scope)
    try:
        with outside_any_scope():
            assert import_delivery(SHIPPED_CATALOGUE).imported
            assert import_delivery(tmp_path).imported
    finally:
        learners_delivered.disconnect(note_scope)
    assert seen == [False]


@pytest.mark.django_db
def test_it_reads_a_streamed_body_in_the_requests_scope(two_centres, rf, viewer):
    """The server reads a streamed body (the exports) after the middleware has returned."""
    ours, theirs = two_centres

    def rows():
        # Asked for only when the server reads the body.
        for uln in Learner.objects.values_list("uln", flat=True):
            yield uln.encode()

    def view(request):
        return StreamingHttpResponse(rows())

    request = rf.get("/exports/")
    request.user = viewer
    response = CentreScope(view)(request)
    with outside_any_scope():
        body = b"".join(response.streaming_content).decode()

    assert body == ours.uln


@pytest.mark.django_db
def test_it_scopes_each_request_to_the_users_centres_as_they_are_then(two_centres, client):
    """The scope is the user's roles as they are now: a role granted between two requests
    shows that centre's learners on the next."""
    ours, theirs = two_centres
    user = UserFactory(username="newcomer@example.org", email="newcomer@example.org")
    MembershipFactory(user=user, centre=Centre.objects.get(pk="12345"))
    client.force_login(user)
    url = reverse("learner_record", args=[theirs.uln])

    assert client.get(url).status_code == 404
    Membership.objects.create(user=user, centre_id="54321", role=Membership.Role.VIEWER)
    assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_it_shows_staff_who_read_every_centre_every_centre_in_the_admin(two_centres, client, staff):
    ours, theirs = two_centres
    client.force_login(staff)

    body = client.get(reverse("admin:learners_learner_changelist")).content.decode()

    assert ours.uln in body
    assert theirs.uln in body


@pytest.mark.django_db
def test_it_keeps_audit_events_from_staff_who_do_not_read_every_centre(two_centres, client):
    """Audit events name learners: the admin asks for reading every centre, as for learners."""
    clerk = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    MembershipFactory(user=clerk, centre=Centre.objects.get(pk="12345"))
    client.force_login(clerk)

    assert client.get(reverse("admin:accounts_auditevent_changelist")).status_code == 403


def _centre_of(row: models.Model) -> str:
    """The centre a row belongs to, read without the scope's help."""
    if hasattr(row, "centre_id"):
        return row.centre_id
    if hasattr(row, "learner_id"):
        return Learner._base_manager.get(pk=row.learner_id).centre_id
    return Learner._base_manager.get(pk=row.uln).centre_id
