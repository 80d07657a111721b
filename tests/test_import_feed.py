import datetime
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import AuditEvent, Membership, User
from learners.feed import importer
from learners.feed.importer import import_delivery
from learners.models import Entry, ImportRun, Learner, Qualification, Result, Series

from .factories import uln_for

VALID = Path(__file__).parent / "data" / "valid_delivery"


@pytest.fixture
def delivery(tmp_path):
    folder = tmp_path / "delivery"
    shutil.copytree(VALID, folder)
    return folder


def rewrite(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8-sig")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def nothing_written() -> bool:
    return not (Series.objects.exists() or Learner.objects.exists() or Entry.objects.exists())


@pytest.mark.django_db
def test_it_imports_a_valid_delivery(delivery):
    outcome = import_delivery(delivery)

    assert outcome.imported, outcome.errors
    assert Learner.objects.count() == 2
    assert Entry.objects.count() == 7
    assert outcome.counts["entries.csv"] == {"rows": 7, "written": 7}
    amelie = Learner.objects.get(uln="9276308686")
    assert (amelie.forename, amelie.surname) == ("Amélie", "Ørsted")  # BOM and UTF-8
    assert amelie.award_series == "2010-06"  # default: June two years after registration
    assert Learner.objects.get(uln="1000000043").award_series == "2011-06"
    assert amelie.entries.count() == 3
    run = ImportRun.objects.get()
    assert run.outcome == ImportRun.Outcome.IMPORTED
    assert "learners.csv" in run.files
    assert run.finished_at is not None


@pytest.mark.django_db
def test_a_column_from_a_newer_feed_is_ignored_with_a_warning(delivery, capsys):
    rewrite(delivery, "learners.csv", "registered_on", "registered_on,school_house")
    rewrite(delivery, "learners.csv", "A,2008-09-15,", "A,2008-09-15,Blue,")
    rewrite(delivery, "learners.csv", "A,2008-09-15,2011", "A,2008-09-15,Green,2011")

    call_command("import_feed", str(delivery))

    run = ImportRun.objects.get()
    assert run.outcome == ImportRun.Outcome.IMPORTED
    assert run.warnings == ["learners.csv:1: school_house: unknown column, ignored"]
    assert "Warning: learners.csv:1: school_house: unknown column, ignored" in (
        capsys.readouterr().out
    )
    assert Learner.objects.count() == 2


@pytest.mark.django_db
def test_it_takes_the_claim_deadline_from_series_csv_when_given(delivery, tmp_path):
    assert import_delivery(delivery).imported
    assert Series.objects.get(code="2010-06").claims_due_on is None
    later = tmp_path / "later"
    later.mkdir()
    (later / "series.csv").write_text(
        "code,name,results_published_on,claims_due_on\n2010-06,June 2010,2010-08-19,2010-06-28\n"
    )
    assert import_delivery(later).imported
    assert str(Series.objects.get(code="2010-06").claims_due_on) == "2010-06-28"
    # A delivery without the optional column keeps the deadline already given.
    assert import_delivery(delivery).imported
    assert str(Series.objects.get(code="2010-06").claims_due_on) == "2010-06-28"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("registered_on", "award"),
    [
        pytest.param("2008-10-01", "2010-06", id="October 2008: academic year 2008/09"),
        pytest.param("2026-01-15", "2027-06", id="January 2026: academic year 2025/26"),
        pytest.param("2025-08-31", "2026-06", id="31 August: still the year before"),
        pytest.param("2025-09-01", "2027-06", id="1 September: a new academic year"),
    ],
)
def test_it_defaults_the_award_date_from_the_academic_year_of_registration(
    delivery, registered_on, award
):
    rewrite(delivery, "learners.csv", "2008-09-15", registered_on)
    assert import_delivery(delivery).imported
    assert Learner.objects.get(uln="9276308686").award_series == award


@pytest.mark.django_db
def test_it_keeps_entries_it_cannot_match_against_their_centre(delivery):
    import_delivery(delivery)

    unmatched = Entry.objects.filter(learner=None).order_by("candidate_number")
    assert [(e.candidate_number, e.uln) for e in unmatched] == [
        ("0002", ""),  # blank
        ("0003", "1000000063"),  # fails the check digit
        ("0004", "9999999999"),  # placeholder
        ("0005", "1000000035"),  # valid but not a learner of ours
    ]


@pytest.mark.django_db
def test_it_normalises_candidate_numbers_and_reads_times_in_the_feed_zone(delivery):
    import_delivery(delivery)

    entry = Entry.objects.get(code="ENG302")
    assert entry.candidate_number == "0001"
    assert entry.received_at.isoformat() == "2010-02-20T10:00:00+00:00"  # GMT in February


@pytest.mark.django_db
def test_it_changes_nothing_when_the_same_delivery_comes_again(delivery):
    import_delivery(delivery)
    before = list(Entry.objects.order_by("pk").values())

    outcome = import_delivery(delivery)

    assert outcome.imported
    assert all(c["written"] == 0 for c in outcome.counts.values()), outcome.counts
    assert list(Entry.objects.order_by("pk").values()) == before
    assert ImportRun.objects.count() == 2


@pytest.mark.django_db
def test_it_updates_rows_by_natural_key(delivery, tmp_path):
    import_delivery(delivery)
    second = tmp_path / "second"
    second.mkdir()
    (second / "results.csv").write_text(
        "uln,series,code,grade,points,published_on\n9276308686,2010-06,ENG301,B,24,2010-08-19\n"
    )

    outcome = import_delivery(second)

    assert outcome.counts["results.csv"] == {"rows": 1, "written": 1}
    result = Result.objects.get(uln="9276308686", code="ENG301")
    assert (result.grade, result.points) == ("B", 24)
    assert Result.objects.count() == 2


@pytest.mark.django_db
def test_it_links_entries_that_arrived_before_their_learner(delivery, tmp_path):
    import_delivery(delivery)
    later = tmp_path / "later"
    later.mkdir()
    (later / "learners.csv").write_text(
        "uln,forename,surname,date_of_birth,centre,line,level,registered_on\n"
        "1000000035,Fay,Unknown,1993-03-03,54321,ENG,A,2009-09-14\n"
    )

    assert import_delivery(later).imported
    entry = Entry.objects.get(candidate_number="0005")
    assert entry.learner_id == "1000000035"
    assert Learner.objects.get(uln="1000000035").award_series == "2011-06"


@pytest.mark.django_db
def test_it_relinks_an_entry_whose_uln_was_corrected(delivery, tmp_path):
    import_delivery(delivery)
    fix = tmp_path / "fix"
    fix.mkdir()
    (fix / "entries.csv").write_text(
        "centre,candidate_number,uln,forename,surname,series,code,type,received_at\n"
        "12345,0003,1000000043,Dee,Typo,2010-06,ENG301,UNIT,2010-03-01T09:00:00+00:00\n"
    )

    assert import_delivery(fix).imported
    assert Entry.objects.get(candidate_number="0003").learner_id == "1000000043"


@pytest.mark.django_db
def test_it_keeps_an_award_date_a_centre_administrator_chose(delivery):
    import_delivery(delivery)
    Learner.objects.filter(uln="9276308686").update(
        award_series="2011-01", award_series_edited=True
    )

    import_delivery(delivery)

    assert Learner.objects.get(uln="9276308686").award_series == "2011-01"


@pytest.mark.django_db
def test_an_award_date_saved_as_the_feed_gave_it_is_the_administrators_choice(
    client, administrator, delivery
):
    import_delivery(delivery)
    learner = Learner.objects.get(uln="9276308686")
    assert (learner.award_series, learner.award_series_edited) == ("2010-06", False)
    client.force_login(administrator)

    saved = client.post(
        reverse("edit_award_date", args=[learner.uln]), {"award_series": "2010-06"}, follow=True
    )
    rewrite(delivery, "learners.csv", "2008-09-15,", "2008-09-15,2011-06")
    import_delivery(delivery)

    learner.refresh_from_db()
    assert (learner.award_series, learner.award_series_edited) == ("2010-06", True)
    assert "later deliveries will not change it" in saved.content.decode()
    event = AuditEvent.objects.get(action=AuditEvent.Action.AWARD_DATE_CHANGED)
    assert event.before == {"award_series": "2010-06", "chosen by": "the feed"}
    assert event.after == {"award_series": "2010-06", "chosen by": "an administrator"}


@pytest.mark.django_db
def test_it_makes_centre_users_administrators_of_their_centre(delivery):
    import_delivery(delivery)

    user = User.objects.get(username="northgate")
    assert user.email == "exams@northgate.example.org"
    assert not user.has_usable_password()
    membership = Membership.objects.get(user=user)
    assert (membership.centre_id, membership.role, membership.is_centre_user) == (
        "12345",
        "administrator",
        True,
    )


@pytest.mark.django_db
def test_it_does_not_demote_a_centre_user_on_re_import(delivery):
    import_delivery(delivery)
    user = User.objects.get(username="northgate")
    user.set_password("a long enough password")
    user.save()

    import_delivery(delivery)

    user.refresh_from_db()
    assert user.check_password("a long enough password")


BAD_ROWS = [
    pytest.param(
        "learners.csv",
        "uln,forename",
        "uln,nickname",
        ["learners.csv:1: forename: missing required column"],
        id="missing-column-renamed",
    ),
    pytest.param(
        "learners.csv",
        "1992-10-01",
        "1992-13-01",
        ["learners.csv:2: date_of_birth: not a real date"],
        id="impossible-date",
    ),
    pytest.param(
        "learners.csv",
        "1992-10-01",
        "01/10/1992",
        ["learners.csv:2: date_of_birth: not a date in the form YYYY-MM-DD"],
        id="bad-date-format",
    ),
    pytest.param(
        "learners.csv",
        "9276308686",
        "9276308687",
        ["learners.csv:2: uln: not a valid ULN: it has a wrong check digit"],
        id="bad-uln-in-learners",
    ),
    pytest.param(
        "learners.csv",
        "9276308686",
        "9276308",
        ["learners.csv:2: uln: not a valid ULN: it is not 10 digits (it has 7)"],
        id="seven-digit-uln",
    ),
    pytest.param(
        "learners.csv",
        "9276308686,Amélie,Ørsted,1992-10-01,12345",
        "9276308686,Amélie,Ørsted,1992-10-01,99999",
        ["learners.csv:2: centre: unknown centre"],
        id="unknown-centre",
    ),
    pytest.param(
        "learners.csv",
        "12345,ENG,A",
        "12345,XYZ,A",
        [
            "learners.csv:2: line: not a line of learning (one of BAF, CBE, CAM, ENG, ELS, HAB, "
            "HOS, IT, MPD, PUB, RET, SHD, SAL, TAT)"
        ],
        id="unknown-line",
    ),
    pytest.param(
        "entries.csv",
        "2010-06,DPL3ENG,CASHIN",
        "2011-06,DPL3ENG,CASHIN",
        ["entries.csv:2: series: unknown series"],
        id="unknown-series",
    ),
    pytest.param(
        "entries.csv",
        "DPL3ENG,CASHIN",
        "NOSUCH,CASHIN",
        ["entries.csv:2: code: unknown qualification"],
        id="unknown-qualification",
    ),
    pytest.param(
        "marks.csv",
        "ENG302",
        "ENG399",
        ["marks.csv:2: unit: unknown unit"],
        id="unknown-unit",
    ),
    pytest.param(
        "units.csv",
        "180,N,Y",
        "180,No,Y",
        ["units.csv:2: centre_marked: must be Y or N"],
        id="bad-yes-no",
    ),
    pytest.param(
        "units.csv",
        "The engineered world,180",
        "The engineered world,18O",
        ["units.csv:2: glh: not a whole number"],
        id="bad-number",
    ),
    pytest.param(
        "results.csv",
        "ENG301,A,30",
        "ENG301,A,-3",
        ["results.csv:2: points: not a whole number"],
        id="negative-number",
    ),
    pytest.param(
        "entries.csv",
        "UNIT,2010-02-20T10:00:00\n",
        "UNIT,yesterday\n",
        ["entries.csv:4: received_at: not a date and time in ISO 8601 form"],
        id="bad-time",
    ),
    pytest.param(
        "entries.csv",
        "12345,0002,,Carl",
        "12345,0002,Carl",
        ["entries.csv:5: -: expected 9 fields, found 8"],
        id="wrong-field-count",
    ),
    pytest.param(
        "series.csv",
        "2010-01,January 2010",
        "2010-06,January 2010",
        ["series.csv:3: code: same code as line 2"],
        id="duplicate-natural-key",
    ),
    pytest.param(
        "vq_status.csv",
        "BTECS3",
        "DPL3ENG",
        ["vq_status.csv:2: qualification: not a vocational qualification"],
        id="vq-status-for-a-gq",
    ),
    pytest.param(
        "qualifications.csv",
        "PL,GQ,3,ENG",
        "PL,GQ,3,",
        ["qualifications.csv:2: line: required for principal learning"],
        id="pl-without-line",
    ),
    pytest.param(
        "mark_windows.csv",
        "2010-03-01,2010-05-15",
        "2010-05-16,2010-05-15",
        ["mark_windows.csv:2: closes_on: before opens_on"],
        id="window-closes-before-opening",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "old", "new", "expected"), BAD_ROWS)
def test_it_rejects_a_delivery_with_a_bad_row_and_writes_nothing(
    delivery, name, old, new, expected
):
    rewrite(delivery, name, old, new)

    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_feed", str(delivery))

    assert nothing_written()
    run = ImportRun.objects.get()
    assert run.outcome == ImportRun.Outcome.REJECTED
    assert run.errors == expected
    assert run.error_count == len(expected)


@pytest.mark.django_db
def test_it_reports_every_bad_row_of_every_file(delivery):
    rewrite(delivery, "units.csv", "180,N,Y", "180,X,Y")
    rewrite(delivery, "das.csv", "ASL,N", "ASL,maybe")

    outcome = import_delivery(delivery)

    assert [str(e) for e in outcome.errors] == [
        "units.csv:2: centre_marked: must be Y or N",
        "das.csv:2: complete: must be Y or N",
    ]
    assert nothing_written()


@pytest.mark.django_db
def test_it_prints_the_errors_and_exits_non_zero(delivery, capsys):
    rewrite(delivery, "units.csv", "180,N,Y", "180,X,Y")

    with pytest.raises(CommandError):
        call_command("import_feed", str(delivery))

    assert "units.csv:2: centre_marked: must be Y or N" in capsys.readouterr().err


@pytest.mark.django_db
def test_it_rejects_a_file_that_is_not_utf8(delivery):
    (delivery / "centres.csv").write_bytes(b"number,name\n12345,Caf\xe9 College\n")

    outcome = import_delivery(delivery)

    assert not outcome.imported
    assert "centres.csv:2: -: not UTF-8 text; save the file as CSV UTF-8" in map(
        str, outcome.errors
    )
    assert nothing_written()


@pytest.mark.django_db
def test_it_rejects_an_unknown_file_and_an_empty_file(delivery):
    (delivery / "learner.csv").write_text("uln\n")
    (delivery / "marks.csv").write_text("")

    outcome = import_delivery(delivery)

    assert [str(e) for e in outcome.errors] == [
        "learner.csv: -: not a file of the feed; nothing was imported"
    ]
    (delivery / "learner.csv").unlink()
    outcome = import_delivery(delivery)
    assert [str(e) for e in outcome.errors] == ["marks.csv:1: -: empty file: no header row"]
    assert nothing_written()


@pytest.mark.django_db
def test_it_rejects_a_missing_folder(tmp_path):
    with pytest.raises(CommandError):
        call_command("import_feed", str(tmp_path / "nowhere"))
    assert ImportRun.objects.get().outcome == ImportRun.Outcome.REJECTED


@pytest.mark.django_db
def test_it_accepts_any_subset_of_files(tmp_path):
    (tmp_path / "series.csv").write_text("code,name,results_published_on\n2027-06,June 2027,\n")

    assert import_delivery(tmp_path).imported
    assert Series.objects.get().results_published_on is None


@pytest.mark.django_db
def test_it_keeps_values_with_tabs_quotes_and_backslashes_intact(tmp_path):
    title = 'Design "A\\B"\tand more'
    (tmp_path / "qualifications.csv").write_text(
        "code,qan,title,component,kind,level,line,glh\n"
        f'Q1,,"{title.replace(chr(34), chr(34) * 2)}",ASL,GQ,3,,60\n'
    )

    outcome = import_delivery(tmp_path)

    assert not outcome.imported  # a tab is a control character
    assert [str(e) for e in outcome.errors] == [
        "qualifications.csv:2: title: contains a control character"
    ]
    (tmp_path / "qualifications.csv").write_text(
        'code,qan,title,component,kind,level,line,glh\nQ1,,"Design ""A\\B"" \\N",ASL,GQ,3,,60\n'
    )
    assert import_delivery(tmp_path).imported
    assert Qualification.objects.get().title == 'Design "A\\B" \\N'


@pytest.mark.django_db
def test_it_imports_many_rows_in_one_pass(tmp_path):
    shutil.copy(VALID / "series.csv", tmp_path)
    shutil.copy(VALID / "centres.csv", tmp_path)
    rows = [
        f"{uln_for(n)},Learner,Number {n},1993-01-01,12345,IT,H,2009-09-14," for n in range(3000)
    ]
    (tmp_path / "learners.csv").write_text(
        "uln,forename,surname,date_of_birth,centre,line,level,registered_on,award_series\n"
        + "\n".join(rows)
        + "\n"
    )

    outcome = import_delivery(tmp_path)

    assert outcome.imported
    assert Learner.objects.count() == 3000
    assert set(Learner.objects.values_list("award_series", flat=True)) == {"2011-06"}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["staff", "registered"])
def test_it_never_takes_over_an_account_the_feed_did_not_create(delivery, kind):
    from .factories import UserFactory

    UserFactory(
        username="northgate",
        email="someone@example.org",
        is_staff=kind == "staff",
    )

    outcome = import_delivery(delivery)

    assert [str(e) for e in outcome.errors] == [
        "centre_users.csv:2: username: belongs to an account the feed did not create"
    ]
    assert User.objects.get(username="northgate").email == "someone@example.org"


@pytest.mark.django_db
def test_it_leaves_a_role_changed_on_manage_users(delivery):
    import_delivery(delivery)
    Membership.objects.filter(user__username="northgate").update(role="viewer")

    import_delivery(delivery)

    assert Membership.objects.get(user__username="northgate").role == "viewer"


@pytest.mark.django_db
def test_a_learner_who_moves_centre_leaves_the_old_centres_overview_at_once(
    delivery, client, viewer, other_viewer, django_capture_on_commit_callbacks
):
    from accounts.models import Centre
    from flags.models import DetailLine, OverviewRow
    from flags.snapshot import current_run, rebuild
    from screens.readiness import readiness

    def learners_counted() -> dict[str, int]:
        centres = Centre.objects.filter(number__in=["12345", "54321"])
        return {r.number: r.learners for r in readiness(centres, run=current_run())}

    import_delivery(delivery)
    rebuild()
    client.force_login(viewer)  # of 12345, where Amélie Ørsted is registered
    assert "9276308686" in client.get("/overview/").content.decode()
    before = learners_counted()
    rewrite(delivery, "learners.csv", "1992-10-01,12345", "1992-10-01,54321")

    with django_capture_on_commit_callbacks(execute=True):
        import_delivery(delivery)

    # The readiness picture, worked out once per snapshot, counts them at their new centre.
    assert learners_counted() == {"12345": before["12345"] - 1, "54321": before["54321"] + 1}

    assert "9276308686" not in client.get("/overview/").content.decode()
    assert "9276308686" not in client.get("/detail/").content.decode()
    assert set(
        OverviewRow.objects.filter(uln="9276308686").values_list("centre_id", flat=True)
    ) == {"54321"}
    assert set(DetailLine.objects.filter(uln="9276308686").values_list("centre_id", flat=True)) == {
        "54321"
    }
    client.force_login(other_viewer)
    assert "9276308686" in client.get("/overview/").content.decode()


def test_each_feed_column_is_declared_once_and_staged_by_name():
    """Issue 18: columns stated three or four times in positional tuples could be swapped
    (forenames into the surname column) without an error."""
    from dataclasses import replace

    from learners.feed.spec import Known, build_specs

    for spec in build_specs():
        names = [name for name, _type in spec.staged]
        assert len(names) == len(set(names)), spec.name
        for merge in spec.merges:
            missing = set(merge.columns) - set(names) - set(merge.select)
            assert not missing, (spec.name, missing)

    learners = next(s for s in build_specs() if s.name == "learners.csv")
    row = {
        "uln": uln_for(1),
        "forename": "Ann",
        "surname": "Smith",
        "date_of_birth": None,
        "centre": "12345",
        "line": "ENG",
        "level": "A",
        "registered_on": datetime.date(2025, 9, 1),
        "award_series": "",
    }
    known = Known(centres={"12345"})

    def staged(spec):
        names = [name for name, _type in spec.staged]
        return dict(zip(names, spec.staged_values(row, known), strict=True))

    as_declared = staged(learners)
    swapped = staged(replace(learners, columns=tuple(reversed(learners.columns))))

    assert as_declared == swapped
    assert (as_declared["forename"], as_declared["surname"]) == ("Ann", "Smith")
    assert as_declared["award_series"] == "2027-06"


def test_it_lists_the_first_errors_in_the_feeds_order_whatever_order_it_checked_in(
    monkeypatch,
):
    """The learner files are checked smallest first (importer._in_writing_order); the errors
    listed, up to the limit, are still the first in the feed's order of files."""
    monkeypatch.setattr(importer, "MAX_ERRORS_LISTED", 3)
    errors = importer._Errors(order={"learners.csv": 0, "entries.csv": 1, "marks.csv": 2})
    for line in (2, 3):
        errors.add("marks.csv", line, "uln", "bad")
    for line in (2, 3, 4):
        errors.add("entries.csv", line, "code", "bad")
    errors.add("learners.csv", 2, "uln", "bad")
    errors.add("the folder", None, "-", "the database refused the delivery")

    assert [(e.file, e.line) for e in errors.listed] == [
        ("learners.csv", 2),
        ("entries.csv", 2),
        ("entries.csv", 3),
    ]
    assert errors.count == 7
    assert errors.room("marks.csv") == 3  # none of its listed any more
