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
