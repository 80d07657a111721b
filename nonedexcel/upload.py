"""Bulk upload of non-Edexcel qualifications: decode, check the header, check every row.

Nothing here writes: `check_upload` returns the rows that would be added and every error
(line, column, reason); the view writes them only when the user confirms a file with no
errors. A learner at a centre the user does not administer is reported exactly as one
that does not exist, so an upload never reveals another centre's learners.
"""

import csv
import io
from dataclasses import asdict, dataclass, field

from base.identifiers import is_valid_qan, is_valid_uln, uln_problem
from base.text import without_invisible
from learners import diploma
from learners.csvfiles import check_header, without_bom
from learners.models import Learner, Qualification

from .models import NonEdexcelQualification, PendingUpload
from .refusals import component_refusal, qan_refusal

HEADER = ("uln", "qan", "component", "awarding_body", "title")
REQUIRED = ("uln", "qan")
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 10_000
COMPONENTS = diploma.QUALIFICATION_COMPONENTS
TEMPLATE = "uln,qan,component,awarding_body,title\r\n"
EXAMPLE = (
    "uln,qan,component,awarding_body,title\r\n"
    "9276308686,500/1234/5,ASL,AQA,GCE AS Level in Psychology\r\n"
    "1000000043,100/5678/X,,OCR,\r\n"
)


@dataclass(frozen=True)
class UploadError:
    line: int | None
    column: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.column}: {self.reason}" if self.line else self.reason


@dataclass(frozen=True)
class UploadRow:
    line: int
    uln: str
    learner_name: str
    centre: str
    qan: str
    component: str
    awarding_body: str
    title: str


@dataclass
class UploadCheck:
    rows: list[UploadRow] = field(default_factory=list)
    errors: list[UploadError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


def decode(data: bytes) -> str:
    """UTF-8 with or without BOM, else Windows-1252 (what Excel saves); else ValueError."""
    data = without_bom(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise ValueError(
            "The file is not text we can read. "
            "Save it from Excel as 'CSV UTF-8' and upload it again."
        ) from None
    return text


def check_upload(data: bytes, administered_centres: list[str]) -> UploadCheck:
    check = UploadCheck()
    if len(data) > MAX_BYTES:
        check.errors.append(
            UploadError(None, "-", f"The file is larger than {MAX_BYTES // 1024 // 1024} MB.")
        )
        return check
    if b"\x00" in data:
        check.errors.append(UploadError(None, "-", "The file is not a CSV file."))
        return check
    try:
        text = without_invisible(decode(data))
    except ValueError as exc:
        check.errors.append(UploadError(None, "-", str(exc)))
        return check
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        check.errors.append(UploadError(None, "-", f"The file is not readable as CSV: {exc}"))
        return check
    if not records or not any(cell.strip() for cell in records[0]):
        check.errors.append(
            UploadError(1, "-", "The file is empty: the first line must be the header.")
        )
        return check
    header = [cell.strip().lower() for cell in records[0]]
    positions = _check_header(header, check)
    if positions is None:
        return check
    body = [(n, r) for n, r in enumerate(records[1:], start=2) if any(c.strip() for c in r)]
    if len(body) > MAX_ROWS:
        check.errors.append(
            UploadError(None, "-", f"The file has more than {MAX_ROWS:,} rows; split it.")
        )
        return check
    if not body:
        check.errors.append(UploadError(None, "-", "The file has a header but no rows."))
        return check
    _check_rows(body, positions, administered_centres, check)
    return check


def _check_header(header: list[str], check: UploadCheck) -> dict[str, int] | None:
    positions, problems = check_header(header, HEADER, REQUIRED)
    check.errors += [UploadError(1, p.column, p.reason) for p in problems]
    return positions


def _cell(record: list[str], positions: dict[str, int], name: str) -> str:
    index = positions.get(name)
    return record[index].strip() if index is not None and index < len(record) else ""


def _check_rows(body, positions, administered_centres, check: UploadCheck) -> None:
    ulns = {_cell(r, positions, "uln") for _, r in body}
    learners = {
        uln: (f"{surname}, {forename}", centre, level)
        for uln, surname, forename, centre, level in Learner.objects.filter(
            uln__in=[u for u in ulns if is_valid_uln(u)], centre_id__in=administered_centres
        ).values_list("uln", "surname", "forename", "centre_id", "level")
    }
    recorded = set(
        NonEdexcelQualification.objects.filter(learner_id__in=learners).values_list(
            "learner_id", "qan"
        )
    )
    # Our own qualifications: their QANs are refused (an entry must be made with us).
    ours = {
        qan: (code, component)
        for qan, code, component in Qualification.objects.exclude(qan=None).values_list(
            "qan", "code", "component"
        )
    }
    seen: dict[tuple[str, str], int] = {}
    for line, record in body:
        problems = []
        if len(record) > len(positions) and any(c.strip() for c in record[len(positions) :]):
            problems.append(("-", f"more values than the header has columns ({len(record)})"))
        uln, qan = _cell(record, positions, "uln"), _cell(record, positions, "qan").upper()
        component = _cell(record, positions, "component").upper() or diploma.ASL
        awarding_body = _cell(record, positions, "awarding_body")
        title = _cell(record, positions, "title")
        if not uln:
            problems.append(("uln", "required"))
        elif problem := uln_problem(uln):
            problems.append(("uln", f"not a valid ULN: it {problem}"))
        elif uln not in learners:
            problems.append(("uln", "no learner with this ULN at a centre you administer"))
        if not qan:
            problems.append(("qan", "required"))
        elif not is_valid_qan(qan):
            problems.append(("qan", "not a QAN: it should look like 500/1234/5"))
        if component not in COMPONENTS:
            problems.append(("component", f"not a component (one of {', '.join(COMPONENTS)})"))
        if len(awarding_body) > 100:
            problems.append(("awarding_body", "too long (at most 100 characters)"))
        if len(title) > 200:
            problems.append(("title", "too long (at most 200 characters)"))
        if not problems:
            refusal = component_refusal(learners[uln][2], component)
            if refusal:
                problems.append(("component", refusal))
            elif refusal := qan_refusal(ours.get(qan), component):
                problems.append(("qan", refusal))
        key = (uln, qan)
        if not problems:
            if key in seen:
                problems.append(("qan", f"the same ULN and QAN are on line {seen[key]}"))
            elif key in recorded:
                problems.append(("qan", "already recorded for this learner"))
        seen.setdefault(key, line)
        if problems:
            check.errors.extend(UploadError(line, column, reason) for column, reason in problems)
            continue
        name, centre, _level = learners[uln]
        check.rows.append(
            UploadRow(
                line=line,
                uln=uln,
                learner_name=name,
                centre=centre,
                qan=qan,
                component=component,
                awarding_body=awarding_body,
                title=title,
            )
        )


def checked_upload(pending: PendingUpload, administered_centres: list[str]) -> UploadCheck:
    """The upload's check, worked out once and kept with it; again only when the centres
    the user administers have changed since (the rows a user may add depend on them)."""
    stored = pending.checked
    if stored is not None and sorted(stored["centres"]) == sorted(administered_centres):
        kept = UploadCheck(
            rows=[UploadRow(**row) for row in stored["rows"]],
            errors=[UploadError(**error) for error in stored["errors"]],
        )
        # Still where they were: a learner who moved to another centre since must not be
        # written (or audited) against the old one.
        now_at = dict(
            Learner.objects.filter(uln__in=[row.uln for row in kept.rows]).values_list(
                "uln", "centre_id"
            )
        )
        if all(now_at.get(row.uln) == row.centre for row in kept.rows):
            return kept
    check = check_upload(bytes(pending.content), administered_centres)
    pending.checked = {
        "centres": sorted(administered_centres),
        "rows": [asdict(row) for row in check.rows],
        "errors": [asdict(error) for error in check.errors],
    }
    PendingUpload.objects.filter(pk=pending.pk).update(checked=pending.checked)
    return check
