"""Learner data fails closed (issue 18): outside a scope a query raises; inside one it returns
the rows of the scope's centres only, whatever filter the caller forgot."""

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models
from django.http import StreamingHttpResponse
from django.urls import reverse
from django_scopes import ScopeError, scope, scopes_disabled

from accounts import audit
from accounts.models import AuditEvent, Centre, Membership
from accounts.scoping import CentreScope
from base.scoping import CENTRE, outside_any_scope
from flags.models import DetailLine, OverviewRow
from flags.snapshot import rebuild
from learners.models import (
    DASStatus,
    Entry,
    Learner,
    MarkSubmission,
    Result,
    VQStatus,
)
from learnertracking.celery import app
from nonedexcel.models import NonEdexcelQualification

from .builders import learner_with_everything
from .factories import EntryFactory, LearnerFactory, MembershipFactory, UserFactory

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
        assert _ulns_of(row) <= {ours.uln}, row


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
def test_it_runs_the_feed_the_rebuild_and_the_demo_commands_unscoped(tmp_path, settings):
    settings.DEBUG = True
    with outside_any_scope():
        call_command("setup_demo", delivery=str(tmp_path), centres=2, learners=20, seed=3)
        call_command("import_feed", str(tmp_path))
        call_command("rebuild_overview")
    with scopes_disabled():
        assert Learner.objects.count() == 20
        assert OverviewRow.objects.filter(run__outcome="succeeded").count() >= 20


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
def test_it_enters_the_scope_once_per_request_from_the_users_centres(two_centres, client):
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
def test_it_leaves_the_admin_unscoped_behind_its_own_permission(two_centres, client, staff):
    ours, theirs = two_centres
    client.force_login(staff)

    body = client.get(reverse("admin:learners_learner_changelist")).content.decode()

    assert ours.uln in body
    assert theirs.uln in body


def _ulns_of(row: models.Model) -> set[str]:
    for name in ("uln", "learner_uln", "learner_id"):
        value = getattr(row, name, None)
        if value:
            return {value}
    return set()
