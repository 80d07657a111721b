"""From the database to the plain input of the rules.

`load_learner` reads one learner for the live ILR in a constant number of queries,
whatever their data size; `iter_learners` streams every learner for the overnight
rebuild in chunks, with a constant number of queries per chunk. Both build the input
with the same row-to-input functions, so the same learner gives the same input.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.core.cache import cache
from django.db import transaction

from learners.models import (
    DASStatus,
    Entry,
    GradeThreshold,
    Learner,
    MarkSubmission,
    MarkWindow,
    Qualification,
    Result,
    Series,
    Unit,
    VQStatus,
)
from nonedexcel.models import NonEdexcelQualification

from .inputs import (
    Catalogue,
    DASInput,
    EntryInput,
    GradeThresholdInfo,
    LearnerData,
    LearnerInput,
    MarkInput,
    MarkWindowInfo,
    NonEdexcelInput,
    QualificationInfo,
    ResultInput,
    UnitInfo,
    VQStatusInput,
)

LEARNER_FIELDS = ("uln", "level", "line_id", "registered_on", "award_series")
ENTRY_FIELDS = (
    "series_id",
    "kind",
    "code",
    "qualification_id",
    "unit_id",
    "centre_id",
    "received_at",
)
MARK_FIELDS = ("series_id", "unit_id", "submitted_on")
RESULT_FIELDS = (
    "series_id",
    "code",
    "qualification_id",
    "unit_id",
    "grade",
    "points",
    "published_on",
)
VQ_FIELDS = ("qualification_id", "verified", "claimed_on", "result_issued_on")
DAS_FIELDS = ("component", "complete", "asl_glh_completed", "diploma_grade")
NON_EDEXCEL_FIELDS = ("component", "qan", "awarding_body", "title")


# The version of the catalogue every process shares (the default cache): a new one each time
# a transaction that changed the catalogue commits. Each process keeps the catalogue it read
# last, with the version it read first: a change that commits between the two makes the
# copy look older than it is, never newer, so it is read again.
_VERSION_KEY = "catalogue-version"
_kept: tuple[str, Catalogue] | None = None


def current_catalogue() -> Catalogue:
    """The catalogue, read from the database only when it has changed since this process
    last read it (a page would otherwise read it on every request)."""
    global _kept
    version = cache.get(_VERSION_KEY)
    if version is None:
        cache.add(_VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(_VERSION_KEY)
    kept = _kept
    if kept is not None and version is not None and kept[0] == version:
        return kept[1]
    catalogue = load_catalogue()
    if version is not None:
        _kept = (version, catalogue)
    return catalogue


def catalogue_changed(**kwargs) -> None:
    """Every process reads the catalogue again once this transaction commits."""
    transaction.on_commit(lambda: cache.set(_VERSION_KEY, uuid.uuid4().hex, None))


def load_catalogue() -> Catalogue:
    """The whole catalogue, in five queries."""
    return Catalogue(
        qualifications=[
            QualificationInfo(*row)
            for row in Qualification.objects.values_list(
                "code", "component", "kind", "level", "line_id", "glh", "title"
            )
        ],
        units=[
            UnitInfo(*row)
            for row in Unit.objects.values_list(
                "code", "qualification_id", "glh", "centre_marked", "mandatory", "title"
            )
        ],
        mark_windows=[
            MarkWindowInfo(*row)
            for row in MarkWindow.objects.values_list(
                "series_id", "unit_id", "opens_on", "closes_on"
            )
        ],
        thresholds=[
            GradeThresholdInfo(*row)
            for row in GradeThreshold.objects.values_list("level", "grade", "min_points")
        ],
        **_series_dates(),
    )


def _series_dates() -> dict[str, dict]:
    """The claim deadlines and results days the feed gave (the catalogue assumes the rest)."""
    claim_deadlines, results_days = {}, {}
    for code, results_on, claims_due_on in Series.objects.values_list(
        "code", "results_published_on", "claims_due_on"
    ):
        if claims_due_on is not None:
            claim_deadlines[code] = claims_due_on
        if results_on is not None:
            results_days[code] = results_on
    return {"claim_deadlines": claim_deadlines, "results_days": results_days}


def _learner(row) -> LearnerInput:
    return LearnerInput(*row)


def _bundle(learner: LearnerInput, rows: dict[str, list]) -> LearnerData:
    return LearnerData(
        learner=learner,
        entries=tuple(EntryInput(*r) for r in rows["entries"]),
        marks=tuple(MarkInput(*r) for r in rows["marks"]),
        results=tuple(ResultInput(*r) for r in rows["results"]),
        vq_statuses=tuple(VQStatusInput(*r) for r in rows["vq"]),
        das=tuple(DASInput(*r) for r in rows["das"]),
        non_edexcel=tuple(NonEdexcelInput(*r) for r in rows["non_edexcel"]),
    )


def load_learner(
    uln: str,
    *,
    learner: Learner | None = None,
    non_edexcel: Iterable[NonEdexcelQualification] | None = None,
) -> LearnerData:
    """One learner's input, in seven queries (five when both are given). Raises
    Learner.DoesNotExist.

    The ILR has read the learner and their non-Edexcel qualifications to show them: given
    here (the learner of this `uln`, their qualifications), they are not read again.
    """
    registration = (
        Learner.objects.values_list(*LEARNER_FIELDS).get(uln=uln)
        if learner is None
        else tuple(getattr(learner, field) for field in LEARNER_FIELDS)
    )
    rows = {
        "entries": Entry.objects.filter(learner_id=uln).values_list(*ENTRY_FIELDS),
        "marks": MarkSubmission.objects.filter(uln=uln).values_list(*MARK_FIELDS),
        "results": Result.objects.filter(uln=uln).values_list(*RESULT_FIELDS),
        "vq": VQStatus.objects.filter(uln=uln).values_list(*VQ_FIELDS),
        "das": DASStatus.objects.filter(uln=uln).values_list(*DAS_FIELDS),
        "non_edexcel": NonEdexcelQualification.objects.filter(learner_id=uln).values_list(
            *NON_EDEXCEL_FIELDS
        )
        if non_edexcel is None
        else [tuple(getattr(q, field) for field in NON_EDEXCEL_FIELDS) for q in non_edexcel],
    }
    return _bundle(_learner(registration), {name: list(qs) for name, qs in rows.items()})


def iter_learners(
    chunk_size: int = 5000, after: str = "", upto: str = ""
) -> Iterator[tuple[dict, LearnerData]]:
    """Every learner, by ULN, as (registration, input): seven queries per chunk. With `after`
    and `upto`, those whose ULN is after the one and up to the other (a rebuild's shard).

    Each chunk is a ULN range, so its rows come from index range scans rather than long
    IN lists; rows held by ULN for people who are not learners fall outside every chunk.
    """
    last = after
    learners = Learner.objects.filter(uln__lte=upto) if upto else Learner.objects.all()
    while True:
        registrations = list(
            learners.filter(uln__gt=last)
            .order_by("uln")
            .values_list(*LEARNER_FIELDS, "centre_id", "surname", "forename")[:chunk_size]
        )
        if not registrations:
            return
        first, last = registrations[0][0], registrations[-1][0]
        yield from _bundles(registrations, {"gte": first, "lte": last})


def learners_by_uln(ulns: list[str], chunk_size: int = 1000) -> Iterator[tuple[dict, LearnerData]]:
    """The learners of those ULNs (those registered), as iter_learners gives them: seven
    queries per chunk of ULNs."""
    for start in range(0, len(ulns), chunk_size):
        chunk = ulns[start : start + chunk_size]
        registrations = list(
            Learner.objects.filter(uln__in=chunk)
            .order_by("uln")
            .values_list(*LEARNER_FIELDS, "centre_id", "surname", "forename")
        )
        if registrations:
            yield from _bundles(registrations, {"in": [row[0] for row in registrations]})


def _bundles(registrations: list[tuple], ulns: dict) -> Iterator[tuple[dict, LearnerData]]:
    """Each registration's input; `ulns` says which rows to read, as a lookup on the ULN
    ({"gte": first, "lte": last}, or {"in": [...]})."""
    grouped: dict[str, dict[str, list]] = {row[0]: defaultdict(list) for row in registrations}
    for name, model, key in (
        ("entries", Entry, "learner_id"),
        ("marks", MarkSubmission, "uln"),
        ("results", Result, "uln"),
        ("vq", VQStatus, "uln"),
        ("das", DASStatus, "uln"),
        ("non_edexcel", NonEdexcelQualification, "learner_id"),
    ):
        queryset = model.objects.filter(**{f"{key}__{how}": v for how, v in ulns.items()})
        for row in queryset.values_list(key, *_FIELDS[name]).iterator(chunk_size=10_000):
            bucket = grouped.get(row[0])
            if bucket is not None:
                bucket[name].append(row[1:])
    for row in registrations:
        yield (
            {"uln": row[0], "centre": row[5], "surname": row[6], "forename": row[7]},
            _bundle(_learner(row[:5]), grouped[row[0]]),
        )


_FIELDS = {
    "entries": ENTRY_FIELDS,
    "marks": MARK_FIELDS,
    "results": RESULT_FIELDS,
    "vq": VQ_FIELDS,
    "das": DAS_FIELDS,
    "non_edexcel": NON_EDEXCEL_FIELDS,
}
