"""CSV exports of the Overview and Detail: streamed, and safe to open in a spreadsheet."""

import csv
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

from flags import codes
from flags.models import COMPONENT_FIELDS
from learners import diploma

from .cohort import LATE_ACTION, LATE_ISSUE, late_components, stale_problems

OVERVIEW_HEADER = (
    "uln",
    "surname",
    "forename",
    "centre",
    "line",
    "level",
    "award_series",
    *(f"{code}_{kind}" for code in diploma.COMPONENTS for kind in ("entry", "assessment")),
    "problems",
    "points",
    "grade",
    "grade_is_estimate",
)
DETAIL_HEADER = (
    "uln",
    "surname",
    "forename",
    "centre",
    "line",
    "level",
    "award_series",
    "component",
    "element",
    "problem",
    "action",
    "deadline",
    "severity",
    "flag",
    "points",
    "grade",
    "grade_is_estimate",
)
_FORMULA_STARTS = ("=", "+", "-", "@")
CHUNK = 2000


def safe(value) -> str:
    """A cell a spreadsheet will not run: formulas and control characters are defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text and (text.startswith(_FORMULA_STARTS) or ord(text[0]) < 32):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def stream_csv(
    filename: str, header: Iterable[str], rows: Iterable[Iterable]
) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(header)  # the BOM makes Excel read UTF-8
        for row in rows:
            yield writer.writerow([safe(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def overview_csv_rows(rows, run, late: tuple[int, ...]) -> Iterator[tuple]:
    fields = [
        "uln",
        "surname",
        "forename",
        "centre_id",
        "line",
        "level",
        "award_series",
        *(
            f"{COMPONENT_FIELDS[c]}_{k}"
            for c in diploma.COMPONENTS
            for k in ("entry", "assessment")
        ),
        "problems",
        "points",
        "grade",
        "grade_is_estimate",
    ]
    chunk: list[tuple] = []
    for row in rows.values_list(*fields).iterator(chunk_size=CHUNK):
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield from _with_late(chunk, run, late)
            chunk = []
    yield from _with_late(chunk, run, late)


_PROBLEMS = OVERVIEW_HEADER.index("problems")


def _with_late(chunk: list[tuple], run, late: tuple[int, ...]) -> Iterator[tuple]:
    components = late_components(late, (row[0] for row in chunk))
    stale = stale_problems(run, components, ((row[0], row[3], row[1]) for row in chunk))
    for row in chunk:
        row = list(row)
        row[_PROBLEMS] -= stale.get(row[0], 0)
        for component in components.get(row[0], ()):
            index = 7 + 2 * diploma.COMPONENTS.index(component)
            if row[index]:  # a component of this Diploma
                row[index], row[index + 1] = codes.UNDETERMINED, ""
        grade = row[-2]
        row[-1] = row[-1] if grade else ""
        yield row


def detail_csv_rows(lines) -> Iterator[tuple]:
    """The Detail's lines; a component whose data arrived since the snapshot (`late`) is
    written as one line saying so, as the page shows it."""
    fields = (
        "uln",
        "surname",
        "forename",
        "centre_id",
        "line",
        "level",
        "award_series",
        "component",
        "element",
        "issue",
        "action",
        "deadline",
        "severity",
        "flag",
        "points",
        "grade",
        "grade_is_estimate",
        "late",
    )
    for row in lines.values_list(*fields).iterator(chunk_size=CHUNK):
        *row, late = row
        if late:
            row[8:14] = ["", LATE_ISSUE, LATE_ACTION, None, "", codes.UNDETERMINED]
        row[11] = row[11].isoformat() if row[11] else ""
        row[-1] = row[-1] if row[-2] else ""
        yield row
