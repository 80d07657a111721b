import datetime

import pytest
import time_machine

from flags.clock import today
from flags.inputs import LearnerData
from flags.loaders import iter_learners, load_catalogue, load_learner
from learners.models import Result, Series
from nonedexcel.models import NonEdexcelQualification

from ..builders import learner_with_everything
from ..factories import (
    LearnerFactory,
)

pytestmark = pytest.mark.django_db


def normalised(data: LearnerData) -> tuple:
    """The input with its tuples sorted: the rules do not depend on their order."""
    return (
        data.learner,
        *(
            tuple(sorted(getattr(data, name), key=repr))
            for name in ("entries", "marks", "results", "vq_statuses", "das", "non_edexcel")
        ),
    )


def test_it_loads_everything_about_one_learner(centre):
    learner = learner_with_everything(centre)

    data = load_learner(learner.uln)

    assert data.learner.uln == learner.uln
    assert (data.learner.level, data.learner.line) == ("A", "ENG")
    assert len(data.entries) == 4
    assert {e.kind for e in data.entries} == {"UNIT", "CASHIN"}
    assert len(data.marks) == len(data.results) == 3
    assert data.vq_statuses[0].verified and data.vq_statuses[0].qualification == "BTEC3"
    assert data.das[0].asl_glh_completed == 180
    assert data.non_edexcel[0].component == "PROJECT"


def test_both_loaders_give_the_same_input_for_the_same_learner(centre, other_centre):
    learners = [learner_with_everything(centre), LearnerFactory(centre=other_centre)]
    # Data held by ULN for someone who is not a learner stays out of every chunk.
    Result.objects.create(
        uln="1000000035",
        series=Series.objects.get(),
        code="DPL3ENG",
        qualification_id="DPL3ENG",
        grade="A",
        points=1,
        published_on=datetime.date(2010, 8, 19),
    )

    streamed = {reg["uln"]: (reg, data) for reg, data in iter_learners(chunk_size=1)}

    assert set(streamed) == {learner.uln for learner in learners}
    for learner in learners:
        registration, data = streamed[learner.uln]
        assert registration["centre"] == learner.centre_id
        assert normalised(data) == normalised(load_learner(learner.uln))


def test_it_reads_again_neither_the_learner_nor_their_non_edexcel_records_when_given(
    centre, django_assert_num_queries
):
    """The ILR has both in hand: given, they make the same input in five queries."""
    learner = learner_with_everything(centre)
    records = list(NonEdexcelQualification.objects.filter(learner=learner))
    assert records  # the builder gives the learner one

    with django_assert_num_queries(5):
        given = load_learner(learner.uln, learner=learner, non_edexcel=records)

    assert normalised(given) == normalised(load_learner(learner.uln))


@pytest.mark.parametrize("entries", [1, 40])
def test_loading_one_learner_takes_the_same_queries_whatever_their_size(
    centre, entries, django_assert_num_queries
):
    learner = learner_with_everything(centre, entries=entries)
    with django_assert_num_queries(7):
        load_learner(learner.uln)


@pytest.mark.parametrize("entries", [1, 20])
def test_streaming_takes_seven_queries_a_chunk_whatever_the_data(
    centre, entries, django_assert_num_queries
):
    learner_with_everything(centre, entries=entries)
    for _ in range(3):
        LearnerFactory(centre=centre)
    # 4 learners in chunks of 2: two full chunks, then the query that finds no more.
    with django_assert_num_queries(2 * 7 + 1):
        assert len(list(iter_learners(chunk_size=2))) == 4


def test_it_loads_the_catalogue_in_five_queries(centre, django_assert_num_queries):
    learner_with_everything(centre)
    with django_assert_num_queries(5):
        catalogue = load_catalogue()
    assert catalogue.claim_deadline("2010-06") == datetime.date(2010, 7, 5)  # the default
    assert catalogue.results_day("2010-06") == datetime.date(2010, 8, 19)  # the feed's
    assert catalogue.mandatory_units["DPL3ENG"] == ("ENG300", "ENG301", "ENG302")
    assert ("2010-06", "ENG300") in catalogue.mark_windows


@pytest.mark.parametrize(
    ("utc", "london"),
    [
        ("2026-06-30T23:30:00+00:00", datetime.date(2026, 7, 1)),  # BST: already tomorrow
        ("2026-12-31T23:30:00+00:00", datetime.date(2026, 12, 31)),  # GMT
    ],
)
def test_today_is_the_date_in_london(utc, london):
    with time_machine.travel(datetime.datetime.fromisoformat(utc), tick=False):
        assert today() == london
