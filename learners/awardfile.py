"""The award-date file (issue 20): `uln,award_series`, one learner a row, checked whole
before anything is written. A learner must be at a centre the person administers; a series
must be a known one, no earlier than the learner's registration; empty clears it."""

import csv
import io
from dataclasses import dataclass, field

from base.identifiers import is_valid_series_code, uln_problem

from .csvfiles import check_header, without_bom
from .models import Learner, Series

HEADER = ("uln", "award_series")
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 20_000
NOT_YOURS = "no learner with this ULN at a centre you administer"
NOT_A_SERIES = "not a series: write it as YYYY-MM, e.g. 2027-06"


@dataclass
class AwardFileCheck:
    choices: dict[str, str] = field(default_factory=dict)  # ULN -> series ("" clears)
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # line, column, reason

    @property
    def ok(self) -> bool:
        return bool(self.choices) and not self.errors


def read_award_file(data: bytes) -> tuple[list[tuple[int, str, str]], list[tuple[int, str, str]]]:
    """(line, ULN, series) rows as written, and the errors that stop reading."""
    if len(data) > MAX_BYTES:
        return [], [(0, "-", f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")]
    try:
        text = without_bom(data).decode("utf-8")
    except UnicodeDecodeError:
        return [], [(0, "-", "not a UTF-8 CSV file: save it from Excel as CSV UTF-8")]
    reader = csv.reader(io.StringIO(text))
    header = [cell.strip() for cell in next(reader, [])]
    positions, problems = check_header(header, HEADER, HEADER)
    if positions is None:
        return [], [(1, p.column, p.reason) for p in problems]
    rows = []
    for line, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(rows) == MAX_ROWS:
            return [], [(line, "-", f"more than {MAX_ROWS:,} rows: split the file")]
        cells = [cell.strip() for cell in record] + [""] * len(HEADER)
        rows.append((line, cells[positions["uln"]], cells[positions["award_series"]]))
    return rows, []


def check_award_rows(rows: list[tuple[int, str, str]], administered: set[str]) -> AwardFileCheck:
    check = AwardFileCheck()
    ulns = {uln for _, uln, _ in rows if not uln_problem(uln)}
    learners = {
        uln: (centre, registered_on)
        for uln, centre, registered_on in Learner.objects.filter(
            uln__in=ulns, centre_id__in=administered
        ).values_list("uln", "centre_id", "registered_on")
    }
    known = set(Series.objects.values_list("code", flat=True))
    seen: dict[str, int] = {}
    for line, uln, series in rows:
        problem = uln_problem(uln)
        if problem:
            check.errors.append((line, "uln", f"the ULN {problem}"))
            continue
        if uln not in learners:
            # The same words for another centre's learner and for no one, so that the file
            # cannot be used to find out which ULNs exist elsewhere.
            check.errors.append(
                (line, "uln", "no learner with this ULN at a centre you administer")
            )
            continue
        if uln in seen:
            check.errors.append((line, "uln", f"this learner is on line {seen[uln]} too"))
            continue
        seen[uln] = line
        if series and not is_valid_series_code(series):
            check.errors.append(
                (line, "award_series", "not a series: write it as YYYY-MM, e.g. 2027-06")
            )
            continue
        if series and series not in known:
            check.errors.append((line, "award_series", "no such series"))
            continue
        registered_on = learners[uln][1]
        if series and f"{registered_on:%Y-%m}" > series:
            check.errors.append(
                (line, "award_series", "before the learner was registered: no award can come first")
            )
            continue
        check.choices[uln] = series
    return check
