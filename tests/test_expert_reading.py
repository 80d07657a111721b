"""The flags as a Diploma exams officer reads them, end to end (DOMAIN.md 4.2–4.7).

Each case is one Higher Engineering learner with the data an exams officer would see on
results day, checked twice: on the live Individual Learner Record, and on the overnight
snapshot (the Overview and Detail exports, after a rebuild). The rules' decision tables
are in tests/flags/test_rules.py; these cases show the pages say the same.
"""

import csv
import datetime
import io
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import time_machine
from django.urls import reverse

from flags import codes
from flags.models import OverviewRow
from flags.snapshot import rebuild
from learners.models import DASStatus, MarkWindow, Qualification, Result, Series, Unit, VQStatus

from .factories import (
    EntryFactory,
    LearnerFactory,
    LineOfLearningFactory,
    QualificationFactory,
    SeriesFactory,
    UnitFactory,
)

pytestmark = pytest.mark.django_db

JUNE_2026, JANUARY_2027, JUNE_2027 = "2026-06", "2027-01", "2027-06"
RESULTS_DAYS = {
    JUNE_2026: datetime.date(2026, 8, 20),
    JANUARY_2027: datetime.date(2027, 3, 11),
    JUNE_2027: datetime.date(2027, 8, 19),
}
SPRING = datetime.date(2027, 4, 1)


@pytest.fixture
def catalogue(db):
    series = {
        code: SeriesFactory(code=code, name=f"Series {code}", results_published_on=day)
        for code, day in RESULTS_DAYS.items()
    }
    pl = QualificationFactory(code="DPL2ENG", component="PL", level=2, glh=420)
    UnitFactory(code="ENG201", qualification=pl, glh=210)
    UnitFactory(code="ENG202", qualification=pl, glh=210, centre_marked=True, mandatory=False)
    QualificationFactory(
        code="DPL2CAM", component="PL", level=2, line=LineOfLearningFactory(code="CAM"), glh=420
    )
    project = QualificationFactory(code="PRJ2", component="PROJECT", level=2, line=None, glh=60)
    UnitFactory(code="PRJ201", qualification=project, glh=60, centre_marked=True)
    for code, level in (("FSE1", 1), ("FSE2", 2)):
        fs = QualificationFactory(code=code, component="FS_ENGLISH", level=level, line=None)
        UnitFactory(code=f"{code}01", qualification=fs, glh=45)
    for code, kind, level in (
        ("BTEC1CON", "VQ", 1),
        ("BTEC2SPT", "VQ", 2),
        ("GCSESTA", "GQ", 2),
    ):
        QualificationFactory(code=code, component="ASL", kind=kind, level=level, line=None)
    return series


@pytest.fixture
def learner(catalogue, centre):
    return LearnerFactory(
        centre=centre,
        level="H",
        registered_on=datetime.date(2025, 9, 15),
        award_series=JUNE_2027,
    )


# --- building a learner's data ---------------------------------------------------------------


def cash_in(learner, code: str, series: str) -> None:
    EntryFactory(
        centre=learner.centre,
        learner=learner,
        uln=learner.uln,
        kind="CASHIN",
        unit=None,
        code=code,
        qualification=Qualification.objects.get(pk=code),
        series=Series.objects.get(pk=series),
    )


def unit_entry(learner, code: str, series: str) -> None:
    unit = Unit.objects.get(pk=code)
    EntryFactory(
        centre=learner.centre,
        learner=learner,
        uln=learner.uln,
        unit=unit,
        series=Series.objects.get(pk=series),
    )


def result(learner, code: str, grade: str, series: str, points: int | None = None) -> None:
    unit = Unit.objects.filter(pk=code).first()
    Result.objects.create(
        uln=learner.uln,
        series_id=series,
        code=code,
        qualification_id=unit.qualification_id if unit else code,
        unit=unit,
        grade=grade,
        points=points,
        published_on=RESULTS_DAYS[series],
    )


def vq_status(learner, code: str, claimed: bool = False) -> None:
    VQStatus.objects.create(
        uln=learner.uln,
        qualification_id=code,
        verified=True,
        claimed_on=datetime.date(2027, 5, 1) if claimed else None,
    )


def fs_english(learner, code: str, series: str) -> None:
    cash_in(learner, code, series)
    unit_entry(learner, f"{code}01", series)


def mark_window(series: str, opens_on: str, closes_on: str) -> None:
    """The window for centre marks of ENG202, the centre-marked PL unit."""
    MarkWindow.objects.create(
        series_id=series,
        unit_id="ENG202",
        opens_on=datetime.date.fromisoformat(opens_on),
        closes_on=datetime.date.fromisoformat(closes_on),
    )


def full_pl(learner) -> None:
    cash_in(learner, "DPL2ENG", JUNE_2027)
    unit_entry(learner, "ENG201", JUNE_2027)


@dataclass
class Case:
    id: str
    setup: Callable
    component: str
    entry: str
    assessment: str  # "" for none
    today: datetime.date = SPRING
    record_says: tuple[str, ...] = ()  # on the ILR
    record_never_says: tuple[str, ...] = ()
    detail_says: tuple[str, ...] = ()  # in the Detail export's lines of the component
    detail_never_says: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)


CASES = [
    Case(
        "FS pass banked, a later fail does not undo it",
        lambda lr: (
            fs_english(lr, "FSE2", JUNE_2026),
            result(lr, "FSE2", "PASS", JUNE_2026),
            fs_english(lr, "FSE2", JANUARY_2027),
            result(lr, "FSE2", "FAIL", JANUARY_2027),
        ),
        "FS_ENGLISH",
        codes.ELIGIBLE,
        codes.PASSED,
        detail_never_says=("Functional Skills result",),
    ),
    Case(
        "FS fail with the re-sit already entered",
        lambda lr: (
            fs_english(lr, "FSE2", JANUARY_2027),
            result(lr, "FSE2", "FAIL", JANUARY_2027),
            fs_english(lr, "FSE2", JUNE_2027),
        ),
        "FS_ENGLISH",
        codes.ELIGIBLE,
        codes.FAILED,
        record_says=("A re-sit is entered for June 2027", codes.ACTION_FS_RESIT_ENTERED),
        detail_says=("A re-sit is entered for June 2027", codes.ACTION_FS_RESIT_ENTERED),
        detail_never_says=("Make new cash-in",),
    ),
    Case(
        "ASL entry below the Diploma's level",
        lambda lr: cash_in(lr, "BTEC1CON", JUNE_2027),
        "ASL",
        codes.MISSING,
        "",
        record_says=("Below the level this Diploma needs",),
        detail_says=("ASL validity", "below the level this Diploma needs"),
    ),
    Case(
        "ASL below the level known only from its VQ status row",
        lambda lr: vq_status(lr, "BTEC1CON"),
        "ASL",
        codes.MISSING,
        "",
        record_says=("Below the level this Diploma needs",),
        detail_says=("ASL validity",),
    ),
    Case(
        "an Edexcel VQ at the right level is eligible",
        lambda lr: (cash_in(lr, "BTEC2SPT", JUNE_2027), vq_status(lr, "BTEC2SPT", claimed=True)),
        "ASL",
        codes.ELIGIBLE,
        codes.SUBMITTED,
    ),
    Case(
        "a VQ claim on the claim deadline is overdue",
        lambda lr: (cash_in(lr, "BTEC2SPT", JUNE_2027), vq_status(lr, "BTEC2SPT")),
        "ASL",
        codes.ELIGIBLE,
        codes.OVERDUE,
        today=datetime.date(2027, 7, 5),
        record_says=("the claim deadline (5 July 2027) has passed", codes.ACTION_CLAIM_OVERDUE),
        detail_says=("the claim deadline (5 July 2027) has passed",),
    ),
    Case(
        "a VQ claim the day before the deadline is due, before 5 July",
        lambda lr: (cash_in(lr, "BTEC2SPT", JUNE_2027), vq_status(lr, "BTEC2SPT")),
        "ASL",
        codes.ELIGIBLE,
        codes.DUE,
        today=datetime.date(2027, 7, 4),
        record_says=("claim before 5 July 2027",),
        detail_says=("claim before 5 July 2027",),
    ),
    Case(
        "the feed's claim deadline",
        lambda lr: (
            cash_in(lr, "BTEC2SPT", JUNE_2027),
            vq_status(lr, "BTEC2SPT"),
            Series.objects.filter(code=JUNE_2027).update(claims_due_on=datetime.date(2027, 6, 20)),
        ),
        "ASL",
        codes.ELIGIBLE,
        codes.OVERDUE,
        today=datetime.date(2027, 6, 25),
        detail_says=("the claim deadline (20 June 2027) has passed",),
    ),
    Case(
        "an unmarked entry in a past series without a window is overdue",
        lambda lr: (full_pl(lr), unit_entry(lr, "ENG202", JUNE_2026)),
        "PL",
        codes.ELIGIBLE,
        codes.OVERDUE,
        record_says=("Overdue: June 2026 is over",),
        detail_says=("Centre marks for unit ENG202 in June 2026", "June 2026 is over"),
        detail_never_says=("2026-06",),
    ),
    Case(
        "an old unmarked entry resulted in a later series is not chased",
        lambda lr: (
            full_pl(lr),
            unit_entry(lr, "ENG202", JUNE_2026),
            unit_entry(lr, "ENG202", JANUARY_2027),
            mark_window(JANUARY_2027, "2026-11-01", "2026-12-15"),
            result(lr, "ENG202", "C", JANUARY_2027),
        ),
        "PL",
        codes.ELIGIBLE,
        "",
        record_says=("Resulted",),
        detail_never_says=("Centre marks",),
    ),
    Case(
        "a window not yet open is for information, not a problem",
        lambda lr: (
            full_pl(lr),
            unit_entry(lr, "ENG202", JUNE_2027),
            mark_window(JUNE_2027, "2027-05-01", "2027-05-15"),
        ),
        "PL",
        codes.ELIGIBLE,
        codes.NOT_OPEN,
        record_says=("for information only",),
        detail_says=("Centre marks for unit ENG202 in June 2027",),
        extra={"problems_without_it": True},
    ),
    Case(
        "an entry for another line's PL asks for a correction",
        lambda lr: cash_in(lr, "DPL2CAM", JUNE_2027),
        "PL",
        codes.MISSING,
        "",
        record_says=("Correct the entries to DPL2ENG",),
        detail_says=("Correct the entries to DPL2ENG", "cannot use"),
        detail_never_says=("Make the cash-in",),
    ),
]


def _export(client, name: str, **params: str) -> list[dict[str, str]]:
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_the_record_and_the_overnight_export_read_it_as_an_exams_officer_would(
    client, viewer, learner, case
):
    case.setup(learner)
    moment = datetime.datetime.combine(case.today, datetime.time(12), tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=False):
        client.force_login(viewer)
        record = client.get(reverse("learner_record", args=[learner.uln]))
        rebuild()
        [row] = [r for r in _export(client, "overview_export") if r["uln"] == learner.uln]
        lines = [
            r
            # Lines for information are hidden unless asked for (issue 19).
            for r in _export(client, "detail_export", show_info="on")
            if r["uln"] == learner.uln and r["component"] == case.component
        ]

    text = record.content.decode()
    live = record.context["flags"].component(case.component)
    assert (live.entry, live.assessment or "") == (case.entry, case.assessment)
    assert f'data-component="{case.component}" data-kind="entry" data-flag="{case.entry}"' in text
    assert (
        f'data-component="{case.component}" data-kind="assessment" '
        f'data-flag="{case.assessment}"' in text
    )
    for words in case.record_says:
        assert words in text, words
    for words in case.record_never_says:
        assert words not in text, words

    assert (row[f"{case.component}_entry"], row[f"{case.component}_assessment"]) == (
        case.entry,
        case.assessment,
    )
    assert int(row["problems"]) == record.context["flags"].problem_count
    detail = " ".join(" ".join(line.values()) for line in lines)
    for words in case.detail_says:
        assert words in detail, words
    for words in case.detail_never_says:
        assert words not in detail, words
    if case.extra.get("problems_without_it"):
        info = [line for line in lines if line["severity"] == codes.INFO]
        assert info, "the window not open is listed, for information"
        every = record.context["flags"].problems
        counted = [p for p in every if p.severity != codes.INFO]
        assert OverviewRow.objects.get(uln=learner.uln).problems == len(counted) < len(every)


@pytest.mark.parametrize(
    ("results", "points", "grade_words"),
    [
        pytest.param(
            (("PRJ2", "A", None),), 10, "Estimated grade", id="project cash-in grade earns points"
        ),
        pytest.param(
            (("DPL2ENG", "A", None),), 0, "No points yet", id="PL cash-in grade earns none"
        ),
    ],
)
def test_the_project_grade_earns_points_on_the_record_and_the_export(
    client, viewer, learner, results, points, grade_words
):
    for code, grade, given in results:
        result(learner, code, grade, JUNE_2026, given)
    with time_machine.travel(datetime.datetime(2027, 4, 1, 12, tzinfo=datetime.UTC), tick=False):
        client.force_login(viewer)
        record = client.get(reverse("learner_record", args=[learner.uln]))
        rebuild()
        [row] = [r for r in _export(client, "overview_export") if r["uln"] == learner.uln]

    text = record.content.decode()
    assert record.context["flags"].points == points == int(row["points"])
    assert grade_words in text
    assert "No principal learning or project results have been published yet" not in text


def test_asl_is_100_percent_when_the_das_marks_it_complete(client, viewer, learner):
    DASStatus.objects.create(uln=learner.uln, component="ASL", complete=True, asl_glh_completed=90)
    client.force_login(viewer)

    record = client.get(reverse("learner_record", args=[learner.uln]))
    rebuild()

    assert record.context["flags"].asl_percent_complete == 100
    assert "100% (90 of 180 guided learning hours" in record.content.decode()
    assert OverviewRow.objects.get(uln=learner.uln).asl_percent == 100
    [row] = [r for r in _export(client, "overview_export") if r["uln"] == learner.uln]
    assert row["ASL_entry"] == codes.COMPLETE


def test_the_award_date_form_offers_no_series_before_registration(client, administrator, centre):
    for code in ("2025-06", "2026-01", "2026-06", "2027-06"):
        SeriesFactory(code=code, name=code)
    learner = LearnerFactory(centre=centre, registered_on=datetime.date(2026, 3, 10))
    client.force_login(administrator)

    form = client.get(reverse("learner_record", args=[learner.uln])).context["award_form"]

    offered = [code for code, _ in form.fields["award_series"].choices]
    assert offered == ["", "2026-06", "2027-06"]  # January 2026 was before registration
    refused = client.post(
        reverse("edit_award_date", args=[learner.uln]), {"award_series": "2026-01"}
    )
    assert refused.status_code == 400


def test_the_detail_says_ready_for_aggregation_only_for_complete(client, viewer, learner):
    full_pl(learner)
    DASStatus.objects.create(uln=learner.uln, component="PLTS", complete=True)
    rebuild()
    client.force_login(viewer)

    response = client.get(reverse("detail"), {"show_ready": "on"})

    lines = {line.component: line for line in response.context["table"].data.data if line.ready}
    assert (lines["PL"].flag, lines["PLTS"].flag) == (codes.ELIGIBLE, codes.COMPLETE)
    text = response.content.decode()
    assert text.count("Ready for aggregation") == 1
    assert "Nothing to do for now" in text


def test_the_detail_labels_a_window_not_yet_open_for_information(client, viewer, learner):
    full_pl(learner)
    unit_entry(learner, "ENG202", JUNE_2027)
    mark_window(JUNE_2027, "2027-05-01", "2027-05-15")
    with time_machine.travel(datetime.datetime(2027, 4, 1, 12, tzinfo=datetime.UTC), tick=False):
        rebuild()
        client.force_login(viewer)
        hidden = client.get(reverse("detail")).content.decode()
        text = client.get(reverse("detail"), {"show_info": "on"}).content.decode()

    assert "the window opens on 1 May 2027" not in hidden  # for information: hidden at first
    assert (
        "For information:</strong> Centre marks not submitted; the window opens on 1 May 2027"
        in text
    )


def test_the_history_names_award_series_where_a_person_reads_them(client, administrator, learner):
    client.force_login(administrator)

    client.post(reverse("edit_award_date", args=[learner.uln]), {"award_series": JANUARY_2027})
    text = client.get(reverse("learner_record", args=[learner.uln])).content.decode()

    history = text[text.index('id="history"') :]
    assert "award series: June 2027" in history
    assert "award series: January 2027" in history
    assert "2027-01" not in history
