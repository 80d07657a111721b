"""The admin site: staff reach every model; feed-delivered records are view-only."""

from collections.abc import Callable

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from accounts.models import (
    AccessRequest,
    AuditEvent,
    CalendarLink,
    Centre,
    Membership,
    User,
    WeeklyDigest,
)
from flags.models import DetailLine, OverviewRow, RebuildRun, RebuildShard, SnapshotChange
from flags.snapshot import rebuild
from learners import models as learner_models
from nonedexcel.models import NonEdexcelQualification, PendingUpload
from support.models import Conversation, Message

from . import factories

# The answer to "Are you sure?" (issue 19): removing takes it.
CONFIRMED = {"confirmed": "yes"}

MAKERS: dict[type[Model], Callable[[], Model]] = {
    User: lambda: factories.UserFactory(username="someone", organisation="Northshire LA"),
    Centre: factories.CentreFactory,
    CalendarLink: lambda: CalendarLink.objects.create(
        user=factories.UserFactory(), token_hash="0" * 64
    ),
    WeeklyDigest: lambda: WeeklyDigest.objects.create(
        user=factories.UserFactory(), week="2026-12-07", sent_at="2026-12-07T07:00:00Z"
    ),
    Membership: factories.MembershipFactory,
    AccessRequest: lambda: AccessRequest.objects.create(
        user=factories.UserFactory(), centre=factories.CentreFactory(), role="viewer"
    ),
    AuditEvent: lambda: AuditEvent.objects.create(
        action=AuditEvent.Action.EXPORTED, actor_name="someone", subject="overview"
    ),
    learner_models.LineOfLearning: lambda: learner_models.LineOfLearning.objects.get(pk="ENG"),
    learner_models.Series: factories.SeriesFactory,
    learner_models.Qualification: factories.QualificationFactory,
    learner_models.Unit: factories.UnitFactory,
    learner_models.MarkWindow: factories.MarkWindowFactory,
    learner_models.GradeThreshold: factories.GradeThresholdFactory,
    learner_models.Learner: factories.LearnerFactory,
    learner_models.Entry: factories.EntryFactory,
    learner_models.MarkSubmission: factories.MarkSubmissionFactory,
    learner_models.Result: factories.ResultFactory,
    learner_models.VQStatus: factories.VQStatusFactory,
    learner_models.DASStatus: factories.DASStatusFactory,
    learner_models.ImportRun: factories.ImportRunFactory,
    learner_models.DataChange: lambda: learner_models.DataChange.objects.create(
        kind="import", committed=1
    ),
    learner_models.DeliveredFile: lambda: learner_models.DeliveredFile.objects.create(
        name="entries.csv", sha256="0" * 64, checks="1" * 32, rows=1, table_rows=1
    ),
    learner_models.ChangedComponent: lambda: learner_models.ChangedComponent.objects.create(
        change=learner_models.DataChange.objects.create(kind="import", committed=2),
        uln=factories.uln_for(0),
        component="PL",
    ),
    RebuildRun: lambda: _built(RebuildRun),
    RebuildShard: lambda: _built(RebuildShard),
    OverviewRow: lambda: _built(OverviewRow),
    DetailLine: lambda: _built(DetailLine),
    SnapshotChange: lambda: SnapshotChange.objects.create(
        run=_built(RebuildRun),
        changed_on="2026-12-01",
        uln=factories.uln_for(0),
        centre=factories.CentreFactory(),
        surname="Jones",
        forename="Ben",
        line="ENG",
        level="A",
        component="PL",
        kind=SnapshotChange.Kind.ENTRY_FLAG,
        before="missing",
        after="eligible",
    ),
    NonEdexcelQualification: lambda: NonEdexcelQualification.objects.create(
        learner=factories.LearnerFactory(), qan="500/1234/5", component="ASL"
    ),
    PendingUpload: lambda: PendingUpload.objects.create(
        user=factories.UserFactory(), filename="quals.csv", content=b"uln,qan\n"
    ),
    Conversation: lambda: Conversation.objects.create(user=factories.UserFactory(), subject="Help"),
    Message: lambda: Message.objects.create(
        conversation=Conversation.objects.create(user=factories.UserFactory(), subject="Hi"),
        body="Hello",
    ),
}


def _built(model: type[Model]) -> Model:
    """A snapshot with one learner in it, and its first row of `model`."""
    factories.LearnerFactory()
    rebuild()
    return model.objects.first()


# Delivered by the MIS or the DAS, or the record of a delivery: never edited by hand.
READ_ONLY = [
    learner_models.Learner,
    learner_models.Entry,
    learner_models.MarkSubmission,
    learner_models.Result,
    learner_models.VQStatus,
    learner_models.DASStatus,
    learner_models.ImportRun,
    learner_models.DataChange,
    learner_models.DeliveredFile,
    learner_models.ChangedComponent,
    AccessRequest,
    AuditEvent,
    CalendarLink,
    WeeklyDigest,
    RebuildRun,
    RebuildShard,
    OverviewRow,
    DetailLine,
    SnapshotChange,
    NonEdexcelQualification,
    PendingUpload,
    Conversation,
    Message,
]
EDITABLE = [model for model in MAKERS if model not in READ_ONLY]


def _label(model: type[Model]) -> str:
    return model._meta.label


def admin_url(model: type[Model], view: str, obj: Model | None = None) -> str:
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}"
    return reverse(name, args=[quote(obj.pk)] if obj is not None else [])


@pytest.fixture
def staff_client(client: Client, staff: User) -> Client:
    client.force_login(staff)
    return client


OUR_APPS = ("accounts", "learners", "flags", "nonedexcel", "support")


def test_it_has_an_admin_and_a_test_for_every_model():
    ours = [model for app in OUR_APPS for model in apps.get_app_config(app).get_models()]
    assert [m for m in ours if not admin.site.is_registered(m)] == []
    assert sorted(map(_label, ours)) == sorted(map(_label, MAKERS))


@pytest.mark.django_db
@pytest.mark.parametrize("model", MAKERS, ids=_label)
def test_it_opens_the_changelist_for_staff(staff_client: Client, model: type[Model]):
    MAKERS[model]()
    response = staff_client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@pytest.mark.django_db
@pytest.mark.parametrize("model", MAKERS, ids=_label)
def test_it_opens_the_change_page_for_staff(staff_client: Client, model: type[Model]):
    obj = MAKERS[model]()
    response = staff_client.get(admin_url(model, "change", obj))
    assert response.status_code == 200
    assert response.context["original"] == obj


@pytest.mark.django_db
@pytest.mark.parametrize("model", READ_ONLY, ids=_label)
def test_it_refuses_to_add_change_or_delete_read_only_records(
    staff_client: Client, model: type[Model]
):
    obj = MAKERS[model]()
    assert staff_client.get(admin_url(model, "add")).status_code == 403
    assert staff_client.post(admin_url(model, "change", obj), {}).status_code == 403
    assert staff_client.get(admin_url(model, "delete", obj)).status_code == 403
    page = staff_client.get(admin_url(model, "change", obj))
    assert b'name="_save"' not in page.content
    changelist = staff_client.get(admin_url(model, "changelist"))
    assert changelist.context["cl"].model_admin.get_actions(changelist.wsgi_request) == {}


@pytest.mark.django_db
@pytest.mark.parametrize("model", EDITABLE, ids=_label)
def test_it_lets_staff_edit_the_catalogue_and_the_centres(staff_client: Client, model: type[Model]):
    obj = MAKERS[model]()
    assert staff_client.get(admin_url(model, "add")).status_code == 200
    assert b'name="_save"' in staff_client.get(admin_url(model, "change", obj)).content


@pytest.mark.django_db
def test_it_adds_a_series_from_the_admin(staff_client: Client):
    response = staff_client.post(
        admin_url(learner_models.Series, "add"),
        {"code": "2011-01", "name": "January 2011", "results_published_on": "2011-03-10"},
    )
    assert response.status_code == 302
    assert learner_models.Series.objects.get(pk="2011-01").name == "January 2011"


@pytest.mark.django_db
def test_it_finds_a_learner_by_uln(staff_client: Client):
    wanted, other = factories.LearnerFactory(), factories.LearnerFactory()
    for term in (wanted.uln, f" {wanted.uln} ", wanted.uln[:9]):
        response = staff_client.get(admin_url(learner_models.Learner, "changelist"), {"q": term})
        assert list(response.context["cl"].result_list) == [wanted]
    assert other.uln[:9] != wanted.uln[:9]


@pytest.mark.django_db
def test_it_finds_learners_by_surname_and_by_centre(staff_client: Client, centre, other_centre):
    ours = factories.LearnerFactory(surname="Okafor", centre=centre)
    theirs = factories.LearnerFactory(surname="Smith", centre=other_centre)
    url = admin_url(learner_models.Learner, "changelist")
    by_name = staff_client.get(url, {"q": "oka"}).context["cl"].result_list
    assert list(by_name) == [ours]
    by_centre = staff_client.get(url, {"q": other_centre.number}).context["cl"].result_list
    assert list(by_centre) == [theirs]
    filtered = staff_client.get(url, {"centre": centre.number})
    assert list(filtered.context["cl"].result_list) == [ours]
    assert b"Northgate College" in filtered.content


@pytest.mark.django_db
def test_it_filters_entries_not_matched_to_a_learner(staff_client: Client):
    learner = factories.LearnerFactory()
    matched = factories.EntryFactory(uln=learner.uln, learner=learner)
    unmatched = factories.EntryFactory(uln="1234")
    url = admin_url(learner_models.Entry, "changelist")
    assert list(staff_client.get(url, {"matched": "no"}).context["cl"].result_list) == [unmatched]
    assert list(staff_client.get(url, {"matched": "yes"}).context["cl"].result_list) == [matched]


@pytest.mark.django_db
def test_it_finds_an_entry_by_centre_and_candidate(staff_client: Client, centre):
    wanted = factories.EntryFactory(centre=centre, candidate_number="0042")
    factories.EntryFactory(centre=centre, candidate_number="0043")
    url = admin_url(learner_models.Entry, "changelist")
    for term in ("12345/42", "12345/0042"):
        found = staff_client.get(url, {"q": term}).context["cl"].result_list
        assert list(found) == [wanted]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/admin/", "/admin/learners/learner/"])
def test_it_sends_a_non_staff_user_to_the_admin_sign_in(client: Client, viewer: User, url: str):
    client.force_login(viewer)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_it_audits_a_role_changed_in_the_admin(staff_client: Client, viewer: User, centre):
    membership = Membership.objects.get(user=viewer, centre=centre)
    response = staff_client.post(
        admin_url(Membership, "change", membership), {"role": "administrator"}
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == "administrator"
    event = AuditEvent.objects.get(action=AuditEvent.Action.ROLE_CHANGED)
    assert (event.actor_name, event.centre_id) == ("staff", centre.number)
    assert (event.before, event.after) == ({"role": "viewer"}, {"role": "administrator"})


@pytest.mark.django_db
def test_it_keeps_the_last_centre_user_administrator(staff_client: Client, centre_user: User):
    membership = centre_user.memberships.get()
    response = staff_client.post(
        admin_url(Membership, "change", membership), {"role": "viewer", "is_centre_user": "on"}
    )
    assert response.status_code == 200
    assert b"without a centre-user administrator" in response.content
    assert staff_client.get(admin_url(Membership, "delete", membership)).status_code == 403
    membership.refresh_from_db()
    assert membership.role == "administrator"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.ROLE_CHANGED).exists()


BIG = [
    learner_models.Learner,
    learner_models.Entry,
    learner_models.MarkSubmission,
    learner_models.Result,
    learner_models.VQStatus,
    learner_models.DASStatus,
]


@pytest.mark.django_db
@pytest.mark.parametrize("model", BIG, ids=_label)
def test_it_lists_records_in_queries_that_do_not_grow_with_the_page(
    staff_client: Client, model: type[Model]
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = admin_url(model, "changelist")
    MAKERS[model]()
    with CaptureQueriesContext(connection) as one:
        staff_client.get(url)
    for _ in range(4):
        MAKERS[model]()
    with CaptureQueriesContext(connection) as five:
        assert staff_client.get(url).context["cl"].result_count == 5
    assert len(five) == len(one)


@pytest.mark.django_db
def test_it_estimates_the_size_of_an_unfiltered_table_on_postgresql(
    staff_client: Client, monkeypatch: pytest.MonkeyPatch
):
    from django.db import connection

    from learners.admin import EstimatedCountPaginator

    if connection.vendor != "postgresql":
        pytest.skip("the estimate comes from PostgreSQL's statistics")
    for _ in range(3):
        factories.LearnerFactory()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE learners_learner")
    learner = factories.LearnerFactory()  # after ANALYZE: counted exactly, not estimated
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 1)
    url = admin_url(learner_models.Learner, "changelist")
    assert staff_client.get(url).context["cl"].result_count == 3
    assert staff_client.get(url, {"level": "A"}).context["cl"].result_count == 4
    assert staff_client.get(url, {"q": learner.uln}).context["cl"].result_count == 1


@pytest.mark.django_db
def test_it_estimates_a_snapshot_table_from_its_partitions_on_postgresql(
    staff_client: Client, monkeypatch: pytest.MonkeyPatch
):
    from django.db import connection

    from flags.models import OverviewRow
    from flags.snapshot import rebuild
    from learners.admin import EstimatedCountPaginator

    if connection.vendor != "postgresql":
        pytest.skip("the estimate comes from PostgreSQL's statistics")
    for _ in range(3):
        factories.LearnerFactory()
    run = rebuild()  # its tables analysed as it switches
    OverviewRow.objects.create(  # after: counted exactly, not estimated
        run=run,
        uln="9999999999",
        centre_id=OverviewRow._base_manager.filter(run=run).first().centre_id,
        surname="",
        forename="",
        line="ENG",
        level="A",
    )
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 1)
    url = admin_url(OverviewRow, "changelist")
    assert staff_client.get(url).context["cl"].result_count == 3


def _posted_back(response) -> dict[str, object]:
    """The data a browser would post back from an admin change page, unchanged."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data: dict[str, object] = {}
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is True:
                data[form.add_prefix(name)] = "on"
            elif value is not None and value is not False:
                data[form.add_prefix(name)] = value
    return data


@pytest.mark.django_db
def test_it_audits_a_role_granted_in_the_centre_inline(staff_client: Client, centre, no_centre):
    url = admin_url(Centre, "change", centre)
    data = _posted_back(staff_client.get(url))
    data.update(
        {
            "memberships-TOTAL_FORMS": "1",
            "memberships-0-centre": centre.number,
            "memberships-0-user": str(no_centre.pk),
            "memberships-0-role": "viewer",
        }
    )
    assert staff_client.post(url, data).status_code == 302
    assert Membership.objects.get(user=no_centre).role == "viewer"
    event = AuditEvent.objects.get(action=AuditEvent.Action.ROLE_GRANTED)
    assert (event.subject, event.after) == ("nobody@example.org", {"role": "viewer"})


@pytest.mark.django_db
def test_it_keeps_the_last_centre_user_administrator_in_the_inlines(
    staff_client: Client, centre_user: User, administrator: User
):
    for url in (
        admin_url(User, "change", centre_user),
        admin_url(Centre, "change", Centre.objects.get(pk="12345")),
    ):
        data = _posted_back(staff_client.get(url))
        row = next(
            key.removesuffix("-id")
            for key, value in data.items()
            if key.endswith("-id") and value == centre_user.memberships.get().pk
        )
        data[f"{row}-DELETE"] = "on"
        response = staff_client.post(url, data)
        assert response.status_code == 200
        assert b"without a centre-user administrator" in response.content
    assert centre_user.memberships.get().role == "administrator"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.ROLE_REVOKED).exists()


@pytest.mark.django_db
def test_it_lets_staff_remove_a_centre_user_administrator_who_is_not_the_last(
    staff_client: Client, centre_user: User, centre
):
    second = factories.MembershipFactory(centre=centre, role="administrator", is_centre_user=True)
    first = centre_user.memberships.get()
    response = staff_client.post(admin_url(Membership, "delete", first), {"post": "yes"})
    assert response.status_code == 302
    assert list(centre.memberships.all()) == [second]
    event = AuditEvent.objects.get(action=AuditEvent.Action.ROLE_REVOKED)
    assert (event.subject, event.before) == (
        "exams@northgate.example.org",
        {"role": "administrator"},
    )


@pytest.mark.django_db
def test_the_admin_refuses_what_manage_users_refuses(
    staff_client: Client, centre_user: User, centre
):
    """Issue 18: the admin counted a switched-off account as the other administrator."""
    gone = factories.UserFactory(username="gone", is_active=False)
    factories.MembershipFactory(user=gone, centre=centre, role="administrator", is_centre_user=True)
    membership = centre_user.memberships.get()

    # Manage Users refuses it...
    second = factories.UserFactory(username="second@example.org")
    factories.MembershipFactory(user=second, centre=centre, role="administrator")
    client = Client()
    client.force_login(second)
    page = client.post(
        reverse("revoke_role", args=[centre.number, membership.pk]), CONFIRMED, follow=True
    ).content.decode()
    assert "last centre-user administrator" in page
    # ...and so does the admin, in each of its ways.
    assert staff_client.get(admin_url(Membership, "delete", membership)).status_code == 403
    demoted = staff_client.post(
        admin_url(Membership, "change", membership), {"role": "viewer", "is_centre_user": "on"}
    )
    assert b"without a centre-user administrator" in demoted.content
    url = admin_url(Centre, "change", centre)
    data = _posted_back(staff_client.get(url))
    row = next(
        key.removesuffix("-id")
        for key, value in data.items()
        if key.endswith("-id") and value == membership.pk
    )
    data[f"{row}-DELETE"] = "on"
    assert b"without a centre-user administrator" in staff_client.post(url, data).content
    assert Membership.objects.filter(pk=membership.pk, role="administrator").exists()
