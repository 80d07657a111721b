"""CSV exports of the Overview and Detail: streamed, and safe to open in a spreadsheet."""

import csv
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

from flags import codes
from flags.models import COMPONENT_FIELDS
from learners import diploma

from .cohort import LATE_ACTION, LATE_ISSUE, late_components, stale_problems

# Each export column once: its header (DOMAIN.md 8) and the snapshot field it reads.
_LEARNER = (
    ("uln", "uln"),
    ("surname", "surname"),
    ("forename", "forename"),
    ("centre", "centre_id"),
    ("line", "line"),
    ("level", "level"),
    ("award_series", "award_series"),
)
_GRADE = (("points", "points"), ("grade", "grade"), ("grade_is_estimate", "grade_is_estimate"))
_OVERVIEW = (
    *_LEARNER,
    *(
        (f"{code}_{kind}", f"{COMPONENT_FIELDS[code]}_{kind}")
        for code in diploma.COMPONENTS
        for kind in ("entry", "assessment")
    ),
    ("problems", "problems"),
    *_GRADE,
    # After the columns DOMAIN.md 8 names, so programs reading those by position still can.
    ("asl_percent", "asl_percent"),
)
_DETAIL = (
    *_LEARNER,
    ("component", "component"),
    ("element", "element"),
    ("problem", "issue"),
    ("action", "action"),
    ("deadline", "deadline"),
    ("severity", "severity"),
    ("flag", "flag"),
    *_GRADE,
)
OVERVIEW_HEADER = tuple(header for header, _ in _OVERVIEW)
DETAIL_HEADER = tuple(header for header, _ in _DETAIL)
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
    fields = [field for _, field in _OVERVIEW]
    chunk: list[tuple] = []
    for row in rows.values_list(*fields).iterator(chunk_size=CHUNK):
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield from _with_late(chunk, run, late)
            chunk = []
    yield from _with_late(chunk, run, late)


_PROBLEMS = OVERVIEW_HEADER.index("problems")
_GRADE_AT, _ESTIMATE = OVERVIEW_HEADER.index("grade"), OVERVIEW_HEADER.index("grade_is_estimate")
_FIRST_FLAG = len(_LEARNER)


def _with_late(chunk: list[tuple], run, late: tuple[int, ...]) -> Iterator[tuple]:
    components = late_components(late, (row[0] for row in chunk))
    stale = stale_problems(run, components, ((row[0], row[3], row[1]) for row in chunk))
    for row in chunk:
        row = list(row)
        row[_PROBLEMS] -= stale.get(row[0], 0)
        for component in components.get(row[0], ()):
            index = _FIRST_FLAG + 2 * diploma.COMPONENTS.index(component)
            if row[index]:  # a component of this Diploma
                row[index], row[index + 1] = codes.UNDETERMINED, ""
        row[_ESTIMATE] = row[_ESTIMATE] if row[_GRADE_AT] else ""
        yield row


_ELEMENT, _DEADLINE, _FLAG = (DETAIL_HEADER.index(h) for h in ("element", "deadline", "flag"))


def detail_csv_rows(lines) -> Iterator[tuple]:
    """The Detail's lines; a component whose data arrived since the snapshot (`late`) is
    written as one line saying so, as the page shows it."""
    fields = (*(field for _, field in _DETAIL), "late")
    for row in lines.values_list(*fields).iterator(chunk_size=CHUNK):
        *row, late = row
        if late:
            row[_ELEMENT : _FLAG + 1] = ["", LATE_ISSUE, LATE_ACTION, None, "", codes.UNDETERMINED]
        row[_DEADLINE] = row[_DEADLINE].isoformat() if row[_DEADLINE] else ""
        row[-1] = row[-1] if row[-2] else ""
        yield row


# Issue 20's changes export, each column once: header and field.
_CHANGES = (
    ("uln", "uln"),
    ("surname", "surname"),
    ("forename", "forename"),
    ("centre", "centre_id"),
    ("component", "component"),
    ("kind", "kind"),
    ("before", "before"),
    ("after", "after"),
    ("changed_on", "changed_on"),
)
CHANGES_HEADER = tuple(header for header, _ in _CHANGES)


def changes_csv_rows(changes) -> Iterator[tuple]:
    for row in changes.values_list(*(field for _, field in _CHANGES)).iterator(chunk_size=CHUNK):
        *row, changed_on = row
        yield (*row, changed_on.isoformat())
