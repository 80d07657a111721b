"""What the feed and the bulk upload share about a CSV file: the byte-order mark Excel
writes, and the header's checks. Pure functions: each caller reports problems its own way
(`file:line: column: reason` for the feed, line and column on the upload's preview)."""

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass

BOM = b"\xef\xbb\xbf"


def without_bom(data: bytes) -> bytes:
    return data[len(BOM) :] if data.startswith(BOM) else data


class NotUTF8(Exception):
    """Raised by `utf8_lines` after it reported the line: nothing after it can be read."""


def utf8_lines(handle: Iterable[bytes], report: Callable[[int, str], None]) -> Iterator[str]:
    """A binary file's lines decoded one by one, so that a byte that is not UTF-8 is
    reported (`report(line, reason)`) on its own line, then NotUTF8 raised."""
    for number, raw in enumerate(handle, start=1):
        if number == 1:
            raw = without_bom(raw)
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            report(number, "not UTF-8 text; save the file as CSV UTF-8")
            raise NotUTF8 from None


@dataclass(frozen=True)
class HeaderProblem:
    column: str
    reason: str
    # A problem that stops the file; the others are warnings.
    fatal: bool = True


def check_header(
    header: Sequence[str],
    known: Collection[str],
    required: Collection[str],
    *,
    unknown_ignored: bool = False,
) -> tuple[dict[str, int] | None, list[HeaderProblem]]:
    """Each known column's position, or None when the header stops the file; and every
    problem in it. An unknown column stops the file unless `unknown_ignored` (the feed's
    columns from a newer version: DOMAIN.md 5)."""
    positions: dict[str, int] = {}
    problems: list[HeaderProblem] = []
    for index, column in enumerate(header):
        if column not in known:
            if unknown_ignored:
                problems.append(HeaderProblem(column or "-", "unknown column, ignored", False))
            else:
                problems.append(HeaderProblem(column or "-", "unknown column"))
        elif column in positions:
            problems.append(HeaderProblem(column, "column appears twice"))
        else:
            positions[column] = index
    for column in required:
        if column not in positions:
            problems.append(HeaderProblem(column, "missing required column"))
    return (None if any(p.fatal for p in problems) else positions), problems
