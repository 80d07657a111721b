import pytest

from base.identifiers import (
    is_valid_centre_number,
    is_valid_qan,
    is_valid_series_code,
    is_valid_uln,
    uln_check_digit,
    uln_problem,
)

from .factories import uln_for


@pytest.mark.parametrize("uln", ["9276308686", "1000000043"])
def test_it_accepts_the_valid_ulns_of_the_domain(uln):
    assert is_valid_uln(uln)


@pytest.mark.parametrize(
    "uln",
    [
        "1000000063",  # wrong check digit
        "9999999999",  # placeholder some systems use
        "0276308686",  # leading zero
        "927630868",  # nine digits
        "92763086860",  # eleven digits
        "927630868A",
        "",
        " 9276308686",
    ],
)
def test_it_rejects_invalid_ulns(uln):
    assert not is_valid_uln(uln)


@pytest.mark.parametrize(
    ("uln", "problem"),
    [
        ("9276308686", ""),
        ("1000000063", "has a wrong check digit"),
        ("9999999999", "is a placeholder (9999999999), not a learner's ULN"),
        ("0276308686", "starts with 0"),
        ("9276308", "is not 10 digits (it has 7)"),
        ("92763086860", "is not 10 digits (it has 11)"),
        ("927630868A", "contains something other than digits"),
        ("９２７６３０８６８６", "contains something other than digits"),  # full-width digits
        ("", "is blank"),
    ],
)
def test_it_says_exactly_what_is_wrong_with_a_uln(uln, problem):
    assert uln_problem(uln) == problem
    assert (problem == "") is is_valid_uln(uln)


def test_it_has_no_check_digit_when_the_remainder_is_zero():
    # 1*10 + 0*9 + ... : find a stem whose weighted sum is a multiple of 11.
    stem = next(str(n) for n in range(100000000, 100001000) if uln_check_digit(str(n)) is None)
    assert all(not is_valid_uln(stem + str(d)) for d in range(10))


def test_it_makes_valid_ulns_for_tests():
    ulns = {uln_for(n) for n in range(500)}
    assert len(ulns) == 500
    assert all(is_valid_uln(u) for u in ulns)


@pytest.mark.parametrize("qan", ["500/1234/5", "100/0001/X", "600/9999/a"])
def test_it_accepts_qans_in_the_published_format(qan):
    assert is_valid_qan(qan)


@pytest.mark.parametrize("qan", ["5001234/5", "500/123/5", "500/1234/55", "500-1234-5", ""])
def test_it_rejects_malformed_qans(qan):
    assert not is_valid_qan(qan)


def test_it_checks_centre_numbers_and_series_codes():
    assert is_valid_centre_number("12345")
    assert not is_valid_centre_number("1234")
    assert is_valid_series_code("2010-06")
    assert not is_valid_series_code("2010-13")
    assert not is_valid_series_code("June 2010")
