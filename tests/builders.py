"""Learners with data of every kind, for tests that need a realistic record."""

import datetime

from learners.models import DASStatus, MarkSubmission, MarkWindow, Result, VQStatus
from nonedexcel.models import NonEdexcelQualification

from .factories import (
    EntryFactory,
    LearnerFactory,
    QualificationFactory,
    SeriesFactory,
    UnitFactory,
)


def learner_with_everything(centre, entries=3):
    learner = LearnerFactory(centre=centre)
    series = SeriesFactory(code="2010-06")
    pl = QualificationFactory(code="DPL3ENG", component="PL")
    vq = QualificationFactory(code="BTEC3", component="ASL", kind="VQ", line=None)
    units = [
        UnitFactory(code=f"ENG3{n:02d}", qualification=pl, centre_marked=n % 2 == 0)
        for n in range(entries)
    ]
    EntryFactory(
        centre=centre,
        candidate_number="0001",
        kind="CASHIN",
        unit=None,
        code="DPL3ENG",
        qualification=pl,
        series=series,
        learner=learner,
        uln=learner.uln,
    )
    for unit in units:
        EntryFactory(
            centre=centre,
            candidate_number="0001",
            unit=unit,
            series=series,
            learner=learner,
            uln=learner.uln,
        )
        MarkWindow.objects.get_or_create(
            series=series,
            unit=unit,
            defaults={
                "opens_on": datetime.date(2010, 3, 1),
                "closes_on": datetime.date(2010, 5, 15),
            },
        )
        MarkSubmission.objects.create(
            uln=learner.uln, series=series, unit=unit, submitted_on=datetime.date(2010, 5, 1)
        )
        Result.objects.create(
            uln=learner.uln,
            series=series,
            code=unit.code,
            qualification=pl,
            unit=unit,
            grade="A",
            points=30,
            published_on=datetime.date(2010, 8, 19),
        )
    VQStatus.objects.create(
        uln=learner.uln, qualification=vq, verified=True, claimed_on=datetime.date(2010, 6, 1)
    )
    DASStatus.objects.create(
        uln=learner.uln, component="ASL", complete=False, asl_glh_completed=180
    )
    NonEdexcelQualification.objects.create(
        learner=learner, qan="500/1111/1", component="PROJECT", awarding_body="AQA"
    )
    return learner


def snapshot_of(centre, counts):
    """A succeeded snapshot with one learner per (problems, points) pair, each with a
    Detail line per problem (PL, with a deadline a week apart) and one ready line."""
    from django.utils import timezone

    from flags.models import DetailLine, OverviewRow, RebuildRun

    from .factories import uln_for

    now = timezone.now()
    run = RebuildRun.objects.create(
        started_at=now, finished_at=now, built_for=now.date(), outcome="succeeded"
    )
    ulns = []
    for n, (problems, points) in enumerate(counts):
        uln = uln_for(9000 + n)
        common = {
            "run": run,
            "uln": uln,
            "centre": centre,
            "surname": f"Snapshot{n:02d}",
            "forename": "Sam",
            "line": "ENG",
            "level": "A",
            "award_series": "2027-06",
            "points": points,
        }
        OverviewRow.objects.create(
            **common, problems=problems, pl_entry="missing" if problems else "eligible"
        )
        for p in range(problems):
            DetailLine.objects.create(
                **common,
                component="PL",
                component_order=0,
                component_line=p,
                element=f"Unit {p}",
                issue="No entry has been made.",
                action="Make the entry.",
                deadline=now.date() + datetime.timedelta(days=7 * p),
                severity="action",
                severity_rank=1,
                flag="missing",
            )
        DetailLine.objects.create(
            **common, component="PLTS", component_order=6, ready=True, flag="complete"
        )
        ulns.append(uln)
    return run, ulns
