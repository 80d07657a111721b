"""ULN, QAN, centre number and series code checks (DOMAIN.md section 7). Pure functions."""

import operator
import re

_ULN_SHAPE = re.compile(r"[1-9][0-9]{9}")
_QAN_SHAPE = re.compile(r"[0-9]{3}/[0-9]{4}/[0-9A-Za-z]")
_CENTRE_SHAPE = re.compile(r"[0-9]{5}")
# A year the Diploma could have had a series in: "0000-06" has the shape but no date.
_SERIES_SHAPE = re.compile(r"(199[0-9]|20[0-9]{2})-(0[1-9]|1[0-2])")
# Qualification and unit codes, in the feed and the admin alike.
_CATALOGUE_CODE = re.compile(r"[A-Za-z0-9_-]{1,20}")
_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def uln_check_digit(first_nine: str) -> int | None:
    """The check digit for the first nine digits, or None when no digit can make them valid."""
    if len(first_nine) != len(_WEIGHTS):
        raise ValueError("a ULN's check digit comes from nine digits")
    # map() rather than a generator: a national delivery checks half a million ULNs.
    remainder = sum(map(operator.mul, map(int, first_nine), _WEIGHTS)) % 11
    check = 10 - remainder
    return None if check == 10 else check


PLACEHOLDER_ULN = "9999999999"


def uln_problem(value: str) -> str:
    """What is wrong with a ULN, to follow "The ULN"; empty when it is valid.

    The most specific reason first: a 7-digit ULN "is not 10 digits", not "has a wrong check
    digit", so the centre knows to look for missing digits rather than a typo.
    """
    if not value:
        return "is blank"
    if value == PLACEHOLDER_ULN:
        return f"is a placeholder ({PLACEHOLDER_ULN}), not a learner's ULN"
    if not value.isascii() or not value.isdigit():
        return "contains something other than digits"
    if len(value) != 10:
        return f"is not 10 digits (it has {len(value)})"
    if value[0] == "0":
        return "starts with 0"
    if not is_valid_uln(value):
        return "has a wrong check digit"
    return ""


def is_valid_uln(value: str) -> bool:
    """Ten digits, the first not 0, the last the check digit of the other nine."""
    if not isinstance(value, str) or not _ULN_SHAPE.fullmatch(value):
        return False
    check = uln_check_digit(value[:9])
    return check is not None and int(value[9]) == check


def is_valid_qan(value: str) -> bool:
    """NNN/NNNN/C: no check-character rule is published, so only the format is checked."""
    return isinstance(value, str) and bool(_QAN_SHAPE.fullmatch(value))


def is_valid_centre_number(value: str) -> bool:
    return isinstance(value, str) and bool(_CENTRE_SHAPE.fullmatch(value))


def is_valid_series_code(value: str) -> bool:
    """YYYY-MM, e.g. 2010-06, of a year from 1990 to 2099."""
    return isinstance(value, str) and bool(_SERIES_SHAPE.fullmatch(value))


def is_valid_catalogue_code(value: str) -> bool:
    """A qualification or unit code: letters, digits, - or _, at most 20."""
    return isinstance(value, str) and bool(_CATALOGUE_CODE.fullmatch(value))
