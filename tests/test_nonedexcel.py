import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import AuditEvent
from nonedexcel.models import NonEdexcelQualification, PendingUpload
from nonedexcel.upload import MAX_BYTES, check_upload

from .factories import LearnerFactory, QualificationFactory, uln_for

# The answer to "Are you sure?" (issue 19): removing takes it.
CONFIRMED = {"confirmed": "yes"}

pytestmark = pytest.mark.django_db
HEADER = "uln,qan,component,awarding_body,title\n"


@pytest.fixture
def learners(centre, other_centre):
    return {
        "mine": LearnerFactory(centre=centre, uln=uln_for(1000)),
        "also_mine": LearnerFactory(centre=centre, uln=uln_for(1001)),
        "theirs": LearnerFactory(centre=other_centre, uln=uln_for(1002)),
    }


def added(action=AuditEvent.Action.NON_EDEXCEL_ADDED):
    return AuditEvent.objects.filter(action=action)


# --- on the ILR ---------------------------------------------------------------------------


def test_an_administrator_records_one_and_the_flag_changes_at_once(client, administrator, learners):
    learner = learners["mine"]
    client.force_login(administrator)
    before = client.get(reverse("learner_record", args=[learner.uln])).context["flags"]
    assert before.component("PROJECT").entry == "missing"

    response = client.post(
        reverse("nonedexcel_add", args=[learner.uln]),
        {"qan": "500/1234/5", "component": "PROJECT", "awarding_body": "AQA", "title": ""},
        follow=True,
    )

    assert response.context["flags"].component("PROJECT").entry == "other-cab"
    item = NonEdexcelQualification.objects.get()
    assert (item.qan, item.component, item.added_by) == ("500/1234/5", "PROJECT", administrator)
    event = added().get()
    assert (event.learner_uln, event.after["qan"]) == (learner.uln, "500/1234/5")


@pytest.fixture
def ours(db):
    """One of our own qualifications, for Functional Skills English."""
    return QualificationFactory(
        code="FSE2", qan="600/0001/2", title="FS English", component="FS_ENGLISH", line=None
    )


@pytest.mark.parametrize(
    ("component", "reason"),
    [
        pytest.param(
            "FS_ENGLISH",
            "this is an Edexcel qualification: make the entry with Edexcel (it is FSE2)",
            id="our QAN for its own component",
        ),
        pytest.param(
            "ASL",
            "this QAN is FSE2, an Edexcel qualification for Functional Skills English, "
            "not for Additional and specialist learning: make the entry with Edexcel",
            id="our QAN for another component",
        ),
    ],
)
def test_our_own_qualification_is_refused_on_the_ilr(
    client, administrator, learners, ours, component, reason
):
    client.force_login(administrator)
    response = client.post(
        reverse("nonedexcel_add", args=[learners["mine"].uln]),
        {"qan": "600/0001/2", "component": component},
    )
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not NonEdexcelQualification.objects.exists()
    assert not added().exists()


def test_a_progression_learner_gets_no_asl_record_on_the_ilr(client, administrator, centre):
    learner = LearnerFactory(centre=centre, level="P")
    client.force_login(administrator)
    response = client.post(
        reverse("nonedexcel_add", args=[learner.uln]), {"qan": "500/1234/5", "component": "ASL"}
    )
    assert response.status_code == 400
    assert "a Progression Diploma has no additional and specialist learning" in (
        response.content.decode()
    )
    assert not NonEdexcelQualification.objects.exists()


def test_the_upload_preview_refuses_our_qualifications_and_progression_asl(
    administrator, learners, ours, centre
):
    progression = LearnerFactory(centre=centre, level="P", uln=uln_for(1003))
    mine = learners["mine"].uln
    data = (
        HEADER
        + f"{mine},600/0001/2,FS_ENGLISH,,\n"
        + f"{mine},600/0001/2,,,\n"
        + f"{progression.uln},500/1234/5,ASL,,\n"
        + f"{progression.uln},500/7777/5,PROJECT,AQA,\n"
    ).encode()
    check = check_upload(data, ["12345"])
    assert [(e.line, e.column) for e in check.errors] == [(2, "qan"), (3, "qan"), (4, "component")]
    assert "make the entry with Edexcel" in check.errors[0].reason
    assert "not for Additional and specialist learning" in check.errors[1].reason
    assert "Progression Diploma has no" in check.errors[2].reason
    assert [r.line for r in check.rows] == [5]


def test_a_malformed_qan_is_refused_next_to_the_field(client, administrator, learners):
    client.force_login(administrator)
    response = client.post(
        reverse("nonedexcel_add", args=[learners["mine"].uln]),
        {"qan": "5001234", "component": "ASL"},
    )
    assert response.status_code == 400
    assert "Enter a QAN like 500/1234/5" in response.content.decode()
    assert not NonEdexcelQualification.objects.exists()


def test_a_viewer_can_neither_add_nor_remove(client, viewer, learners, administrator):
    learner = learners["mine"]
    item = NonEdexcelQualification.objects.create(learner=learner, qan="500/1234/5")
    client.force_login(viewer)

    add = client.post(
        reverse("nonedexcel_add", args=[learner.uln]), {"qan": "500/9999/1", "component": "ASL"}
    )
    remove = client.post(reverse("nonedexcel_remove", args=[learner.uln, item.pk]), CONFIRMED)

    assert (add.status_code, remove.status_code) == (403, 403)
    assert NonEdexcelQualification.objects.count() == 1
    assert (
        "Record qualification"
        not in client.get(reverse("learner_record", args=[learner.uln])).content.decode()
    )


def test_an_administrator_removes_one_with_an_audit_event(client, administrator, learners):
    learner = learners["mine"]
    item = NonEdexcelQualification.objects.create(learner=learner, qan="500/1234/5", component="PL")
    client.force_login(administrator)

    client.post(reverse("nonedexcel_remove", args=[learner.uln, item.pk]), CONFIRMED)

    assert not NonEdexcelQualification.objects.exists()
    assert added(AuditEvent.Action.NON_EDEXCEL_REMOVED).get().before["component"] == "PL"


# --- the bulk upload --------------------------------------------------------------------------


def upload(client, content: bytes, name="quals.csv"):
    return client.post(
        reverse("nonedexcel_upload"), {"file": SimpleUploadedFile(name, content)}, follow=True
    )


def test_it_previews_then_records_every_row_on_confirmation(client, administrator, learners):
    client.force_login(administrator)
    body = (
        HEADER
        + f"{learners['mine'].uln},500/1234/5,ASL,AQA,AS Psychology\n"
        + f"{learners['also_mine'].uln},100/5678/x,,OCR,\n"
    )

    preview = upload(client, body.encode())

    check = preview.context["check"]
    assert check.ok and [r.line for r in check.rows] == [2, 3]
    assert check.rows[1].component == "ASL" and check.rows[1].qan == "100/5678/X"
    assert not NonEdexcelQualification.objects.exists()  # nothing until confirmed

    pending = PendingUpload.objects.get()
    confirm_url = reverse("nonedexcel_confirm", args=[pending.pk])
    client.post(confirm_url)
    again = client.post(confirm_url, follow=True)  # a double click

    assert NonEdexcelQualification.objects.count() == 2
    assert added().count() == 2
    assert "already recorded" in again.content.decode()


def test_it_reads_utf8_with_a_bom_and_excels_windows_1252(client, administrator, learners):
    client.force_login(administrator)
    row = f"{learners['mine'].uln},500/1234/5,ASL,Académie,Café studies\n"

    with_bom = upload(client, b"\xef\xbb\xbf" + (HEADER + row).encode("utf-8")).context["check"]
    windows = upload(client, (HEADER + row).encode("cp1252")).context["check"]

    assert with_bom.rows[0].title == windows.rows[0].title == "Café studies"
    assert windows.rows[0].awarding_body == "Académie"


def test_it_refuses_what_is_not_text(client, administrator, learners):
    client.force_login(administrator)
    check = upload(client, b"uln,qan\n\x81\x8d\x8f\x90\x9d\xff\n").context["check"]
    assert not check.rows
    assert "Save it from Excel as 'CSV UTF-8'" in str(check.errors[0])


def test_it_refuses_an_oversized_file(client, administrator, learners):
    client.force_login(administrator)
    response = upload(client, HEADER.encode() + b"x" * MAX_BYTES)
    assert response.status_code == 400
    assert "larger than" in response.content.decode()
    assert not PendingUpload.objects.exists()


def bad(uln_mine, uln_theirs):
    return [
        (f"{uln_mine[:-1]}0,500/1234/5,ASL,,", "uln", "not a valid ULN"),
        (
            f"{uln_for(5000)},500/1234/5,ASL,,",
            "uln",
            "no learner with this ULN at a centre you administer",
        ),
        (
            f"{uln_theirs},500/1234/5,ASL,,",
            "uln",
            "no learner with this ULN at a centre you administer",
        ),
        (f"{uln_mine},5001234/5,ASL,,", "qan", "not a QAN"),
        (f"{uln_mine},500/1234/5,WEX,,", "component", "not a component"),
        (f"{uln_mine},500/1234/5,ASL,,{'x' * 201}", "title", "too long"),
        (f"{uln_mine},500/1234/5,ASL,,,extra", "-", "more values than the header"),
        (",500/1234/5,ASL,,", "uln", "required"),
    ]


@pytest.mark.parametrize("case", range(8))
def test_it_reports_every_kind_of_bad_row_with_line_and_column(
    client, administrator, learners, case
):
    row, column, reason = bad(learners["mine"].uln, learners["theirs"].uln)[case]
    client.force_login(administrator)

    response = upload(client, (HEADER + row + "\n").encode())

    check = response.context["check"]
    assert response.status_code == 400
    assert [(e.line, e.column) for e in check.errors] == [(2, column)]
    assert reason in check.errors[0].reason
    assert "Confirm and record" not in response.content.decode()


def test_it_reports_duplicates_in_the_file_and_against_what_is_recorded(
    client, administrator, learners
):
    mine = learners["mine"]
    NonEdexcelQualification.objects.create(learner=mine, qan="500/0000/1")
    client.force_login(administrator)
    body = (
        HEADER + f"{mine.uln},500/1234/5,,,\n{mine.uln},500/1234/5,,,\n{mine.uln},500/0000/1,,,\n"
    )

    check = upload(client, body.encode()).context["check"]

    assert [(e.line, e.reason) for e in check.errors] == [
        (3, "the same ULN and QAN are on line 2"),
        (4, "already recorded for this learner"),
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("uln,qan,colour\n", [(1, "colour", "unknown column")]),
        ("uln,component\n", [(1, "qan", "missing required column")]),
        ("", [(1, "-", "The file is empty: the first line must be the header.")]),
    ],
)
def test_it_checks_the_header_before_any_row(header, expected, learners):
    check = check_upload((header + "whatever,else\n" if header else "").encode(), ["12345"])
    assert [(e.line, e.column, e.reason) for e in check.errors] == expected


def test_a_viewer_cannot_upload(client, viewer, learners):
    client.force_login(viewer)
    response = client.post(
        reverse("nonedexcel_upload"), {"file": SimpleUploadedFile("x.csv", HEADER.encode())}
    )
    assert response.status_code == 403
    assert not PendingUpload.objects.exists()


def test_someone_elses_upload_is_not_found(client, administrator, centre_user, learners):
    client.force_login(centre_user)
    upload(client, (HEADER + f"{learners['mine'].uln},500/1234/5,,,\n").encode())
    pending = PendingUpload.objects.get()
    client.force_login(administrator)
    assert client.get(reverse("nonedexcel_preview", args=[pending.pk])).status_code == 404
    assert client.post(reverse("nonedexcel_confirm", args=[pending.pk])).status_code == 404
    assert not NonEdexcelQualification.objects.exists()


def test_the_list_shows_only_the_users_centres_and_filters(client, viewer, learners):
    NonEdexcelQualification.objects.create(
        learner=learners["mine"], qan="500/1234/5", component="ASL"
    )
    NonEdexcelQualification.objects.create(
        learner=learners["also_mine"], qan="500/1234/6", component="PL"
    )
    NonEdexcelQualification.objects.create(learner=learners["theirs"], qan="500/1234/7")
    client.force_login(viewer)

    everything = client.get(reverse("nonedexcel_list")).context["page"]
    only_pl = client.get(reverse("nonedexcel_list"), {"component": "PL"}).context["page"]

    assert {q.qan for q in everything} == {"500/1234/5", "500/1234/6"}
    assert [q.qan for q in only_pl] == ["500/1234/6"]


def test_the_template_has_the_contract_header(client, viewer):
    client.force_login(viewer)
    response = client.get(reverse("nonedexcel_template"))
    assert response.content.decode().splitlines()[0] == "uln,qan,component,awarding_body,title"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=600))
def test_random_bytes_never_raise(data, learners):
    check = check_upload(data, ["12345"])
    # Random bytes hold no learner of ours: every row is an error, none is accepted.
    assert not check.ok
    assert not check.rows


csv_cell = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.lists(csv_cell, min_size=0, max_size=7), max_size=6))
def test_random_csvs_never_raise_and_never_write_a_partial_upload(
    rows, client, administrator, learners
):
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["uln", "qan", "component", "awarding_body", "title"])
    writer.writerows(rows)
    client.force_login(administrator)
    before = NonEdexcelQualification.objects.count()

    response = upload(client, buffer.getvalue().encode())
    assert response.status_code in (200, 400)
    pending = PendingUpload.objects.order_by("-created_at").first()
    if pending:
        confirm = client.post(reverse("nonedexcel_confirm", args=[pending.pk]))
        assert confirm.status_code == 302
    check = response.context["check"] if response.context and "check" in response.context else None
    written = NonEdexcelQualification.objects.count() - before
    assert written == 0 or (check is not None and check.ok and written == len(check.rows))


def test_removing_twice_records_one_removal(administrator, learners):
    from nonedexcel import records

    item = NonEdexcelQualification.objects.create(learner=learners["mine"], qan="500/1234/5")
    stale = NonEdexcelQualification.objects.get(pk=item.pk)

    records.remove(administrator, item)
    records.remove(administrator, stale)  # a second click, or a second administrator

    assert added(AuditEvent.Action.NON_EDEXCEL_REMOVED).count() == 1


# --- issue 17, point 6: pending uploads are bounded ---------------------------------------------


def test_a_new_upload_replaces_the_persons_pending_one(client, administrator, learners):
    client.force_login(administrator)
    row = f"{learners['mine'].uln},500/1234/5,ASL,AQA,AS Psychology\n"
    upload(client, (HEADER + row).encode(), name="first.csv")
    first = PendingUpload.objects.get()

    upload(client, (HEADER + row).encode(), name="second.csv")

    assert list(PendingUpload.objects.values_list("filename", flat=True)) == ["second.csv"]
    assert client.get(reverse("nonedexcel_preview", args=[first.pk])).status_code == 404


def test_a_pending_upload_expires_after_a_day(client, administrator, learners):
    import datetime

    import time_machine
    from django.utils import timezone

    from nonedexcel.tasks import delete_expired_pending_uploads

    client.force_login(administrator)
    upload(client, (HEADER + f"{learners['mine'].uln},500/1234/5,ASL,AQA,x\n").encode())
    pending = PendingUpload.objects.get()

    with time_machine.travel(timezone.now() + datetime.timedelta(days=1, minutes=1)):
        client.force_login(administrator)  # the session itself ended long before
        assert client.get(reverse("nonedexcel_preview", args=[pending.pk])).status_code == 404
        assert client.post(reverse("nonedexcel_confirm", args=[pending.pk])).status_code == 404
        assert delete_expired_pending_uploads() == 1

    assert not NonEdexcelQualification.objects.exists()


def test_the_file_is_parsed_once_however_often_the_preview_is_reloaded(
    client, administrator, learners, monkeypatch
):
    from nonedexcel import upload as upload_module

    calls = []
    real = upload_module.check_upload
    monkeypatch.setattr(upload_module, "check_upload", lambda *args: calls.append(1) or real(*args))
    client.force_login(administrator)
    upload(client, (HEADER + f"{learners['mine'].uln},500/1234/5,ASL,AQA,x\n").encode())
    pending = PendingUpload.objects.get()
    for _ in range(3):
        client.get(reverse("nonedexcel_preview", args=[pending.pk]))
    client.post(reverse("nonedexcel_confirm", args=[pending.pk]))

    assert len(calls) == 1
    assert NonEdexcelQualification.objects.count() == 1
