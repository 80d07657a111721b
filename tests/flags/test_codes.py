"""The flag catalogue and the purity of the rule modules."""

import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from flags import codes

ROOT = Path(__file__).resolve().parents[2]


def test_it_defines_every_flag_code_of_the_contract() -> None:
    assert set(codes.ENTRY_FLAGS) == {
        "complete",
        "eligible",
        "ineligible",
        "missing",
        "other-cab",
        "undetermined",
    }
    assert set(codes.ASSESSMENT_FLAGS) == {
        "submitted",
        "due",
        "overdue",
        "not-open",
        "passed",
        "failed",
    }
    assert set(codes.FLAGS) == {*codes.ENTRY_FLAGS, *codes.ASSESSMENT_FLAGS}


@pytest.mark.parametrize("code", [*codes.ENTRY_FLAGS, *codes.ASSESSMENT_FLAGS])
def test_it_gives_every_flag_words_an_icon_and_a_symbol(code) -> None:
    flag = codes.FLAGS[code]
    assert flag.code == code
    assert flag.label and flag.description and flag.action and flag.icon and flag.symbol
    assert flag.kind == (codes.ENTRY if code in codes.ENTRY_FLAGS else codes.ASSESSMENT)
    assert "  " not in flag.description + flag.action


def test_it_gives_gq_and_vq_meanings_to_the_shared_assessment_flags() -> None:
    for code in (codes.SUBMITTED, codes.DUE, codes.OVERDUE):
        flag = codes.ASSESSMENT_FLAG_INFO[code]
        assert flag.gq_description and flag.gq_action and flag.vq_description and flag.vq_action


def test_it_writes_british_english() -> None:
    text = " ".join(
        f"{f.label} {f.description} {f.action} {f.gq_action} {f.vq_action}"
        for f in codes.FLAGS.values()
    )
    for american in ("organization", "color", "center", "authorize", "program "):
        assert american not in text.lower()


def test_it_orders_assessment_flags_worst_first() -> None:
    assert codes.ASSESSMENT_FLAGS == (
        "overdue",
        "failed",
        "due",
        "not-open",
        "submitted",
        "passed",
    )
    for a, b in itertools.permutations(codes.ASSESSMENT_FLAGS, 2):
        worst = a if codes.ASSESSMENT_RANK[a] < codes.ASSESSMENT_RANK[b] else b
        assert codes.worst_assessment([a, b]) == worst
    assert codes.worst_assessment([]) is None


def test_it_orders_entry_flags_from_missing_to_complete() -> None:
    ordered = sorted(codes.ENTRY_FLAGS, key=codes.entry_sort_key)
    assert ordered[0] == "missing" and ordered[1] == "ineligible" and ordered[-1] == "complete"
    assert codes.assessment_sort_key(None) > codes.assessment_sort_key("passed")


def test_it_keeps_the_rule_modules_free_of_django() -> None:
    script = (
        "import sys; import flags.inputs, flags.codes, flags.rules; "
        "bad = [m for m in sys.modules if m.split('.')[0] == 'django']; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True)
