"""Parsers for the cells of a delivery. Each returns the value or raises ValueError(reason)."""

import datetime
import re
import unicodedata
from collections.abc import Callable, Collection
from typing import Any
from zoneinfo import ZoneInfo

from base.identifiers import (
    is_valid_catalogue_code,
    is_valid_centre_number,
    is_valid_series_code,
    uln_problem,
)
from base.text import without_invisible

Parser = Callable[[str], Any]

# ASCII digits only: "\d" would take Arabic-Indic and other digits too.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")
_CANDIDATE = re.compile(r"[0-9]{1,4}")
_USERNAME = re.compile(r"[\w.@+-]{1,150}")
_EMAIL = re.compile(r"[^@\s,;<>\"]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def text(max_length: int, required: bool = True) -> Parser:
    def parse(value: str) -> str:
        value = without_invisible(value)
        if required and not value:
            raise ValueError("required")
        if len(value) > max_length:
            raise ValueError(f"too long (at most {max_length} characters)")
        if any(ord(ch) < 32 for ch in value):
            raise ValueError("contains a control character")
        return value

    return parse


# Dates the Diploma's data can hold: a year like 9998 passed the format and then failed
# in the database (an award series years after it) with an unreadable error.
FIRST_YEAR, LAST_YEAR = 1990, 2099


def date(value: str) -> datetime.date:
    if not _DATE.fullmatch(value):
        raise ValueError("not a date in the form YYYY-MM-DD" if value else "required")
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError("not a real date") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"not a date between {FIRST_YEAR} and {LAST_YEAR}")
    return day


def optional_date(value: str) -> datetime.date | None:
    return date(value) if value else None


def date_time(zone: str) -> Parser:
    """ISO 8601; a time without an offset is read in the feed's time zone."""
    tz = ZoneInfo(zone)

    def parse(value: str) -> datetime.datetime:
        if not value:
            raise ValueError("required")
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("not a date and time in ISO 8601 form") from None
        if not FIRST_YEAR <= moment.year <= LAST_YEAR:
            raise ValueError(f"not a date between {FIRST_YEAR} and {LAST_YEAR}")
        return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment

    return parse


def yes_no(value: str) -> bool:
    upper = value.upper()
    if upper == "Y":
        return True
    if upper == "N":
        return False
    raise ValueError("must be Y or N")


def whole_number(value: str) -> int:
    if not _WHOLE_NUMBER.fullmatch(value):
        raise ValueError("not a whole number" if value else "required")
    return int(value)


def optional_whole_number(value: str) -> int | None:
    return whole_number(value) if value else None


def choice(allowed: Collection[str], what: str) -> Parser:
    listed = ", ".join(allowed)

    def parse(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"not a {what} (one of {listed})" if value else "required")
        return value

    return parse


def code(value: str) -> str:
    if not is_valid_catalogue_code(value):
        raise ValueError(
            "not a code (letters, digits, - or _, at most 20)" if value else "required"
        )
    return value


def uln(value: str) -> str:
    problem = uln_problem(value)
    if problem:
        raise ValueError(f"not a valid ULN: it {problem}" if value else "required")
    return value


def centre_number(value: str) -> str:
    if not is_valid_centre_number(value):
        raise ValueError("not a centre number (five digits)" if value else "required")
    return value


def series_code(value: str) -> str:
    if not is_valid_series_code(value):
        raise ValueError("not a series code (YYYY-MM, 1990 to 2099)" if value else "required")
    return value


def optional_series_code(value: str) -> str:
    return series_code(value) if value else ""


def candidate_number(value: str) -> str:
    if not _CANDIDATE.fullmatch(value):
        raise ValueError("not a candidate number (up to four digits)" if value else "required")
    return value.zfill(4)


def username(value: str) -> str:
    value = unicodedata.normalize("NFKC", without_invisible(value))
    if not _USERNAME.fullmatch(value):
        raise ValueError("not a username (letters, digits and @ . + - _)" if value else "required")
    return value


def email(value: str) -> str:
    value = unicodedata.normalize("NFKC", without_invisible(value))
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise ValueError("not an email address" if value else "required")
    return value


def as_submitted(max_length: int) -> Parser:
    """A value kept as the centre sent it, blank allowed (a ULN on an entry, say)."""
    return text(max_length, required=False)
