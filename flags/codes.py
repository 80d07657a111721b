"""The flag catalogue: every entry and assessment flag with its words, icon and order.

One source for the pages, the exports, the help legend and the tests (DOMAIN.md 4).
Codes are a contract (exports, `data-flag`, tests); labels and texts are for people and
may be reworded. A flag is always shown as its icon *and* its words, never colour alone,
so every flag has a text symbol for places an SVG cannot go (CSV, e-mail, screen readers
read the label).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# --- codes ----------------------------------------------------------------------------------

COMPLETE = "complete"
ELIGIBLE = "eligible"
INELIGIBLE = "ineligible"
MISSING = "missing"
OTHER_CAB = "other-cab"
UNDETERMINED = "undetermined"

SUBMITTED = "submitted"
DUE = "due"
OVERDUE = "overdue"
NOT_OPEN = "not-open"
PASSED = "passed"
FAILED = "failed"

ENTRY = "entry"
ASSESSMENT = "assessment"

# Worst first: this is also the sort order of the Overview's status columns.
ENTRY_FLAGS: tuple[str, ...] = (MISSING, INELIGIBLE, UNDETERMINED, OTHER_CAB, ELIGIBLE, COMPLETE)
ASSESSMENT_FLAGS: tuple[str, ...] = (OVERDUE, FAILED, DUE, NOT_OPEN, SUBMITTED, PASSED)

# The badge's colour only repeats what its words and symbol say.
TONES: dict[str, str] = {
    COMPLETE: "good",
    ELIGIBLE: "good",
    SUBMITTED: "good",
    PASSED: "good",
    OTHER_CAB: "info",
    UNDETERMINED: "info",
    NOT_OPEN: "info",
    INELIGIBLE: "warning",
    DUE: "warning",
    MISSING: "bad",
    OVERDUE: "bad",
    FAILED: "bad",
}

ENTRY_RANK: dict[str, int] = {code: rank for rank, code in enumerate(ENTRY_FLAGS)}
ASSESSMENT_RANK: dict[str, int] = {code: rank for rank, code in enumerate(ASSESSMENT_FLAGS)}
# No assessment flag sorts after every flag: nothing to chase.
NO_ASSESSMENT_RANK = len(ASSESSMENT_FLAGS)


@dataclass(frozen=True, slots=True)
class Flag:
    code: str
    kind: str  # ENTRY or ASSESSMENT
    label: str  # a few words shown beside the icon
    description: str
    action: str
    icon: str  # the name of the SVG symbol in the icon sprite
    symbol: str  # a text fallback for CSV, plain-text e-mail and the like
    rank: int  # 0 is the worst of its kind
    # Assessment flags mean different things for general and vocational qualifications;
    # empty when the flag has one meaning only.
    gq_description: str = ""
    gq_action: str = ""
    vq_description: str = ""
    vq_action: str = ""


def _entry(code: str, label: str, description: str, action: str, icon: str, symbol: str) -> Flag:
    return Flag(code, ENTRY, label, description, action, icon, symbol, ENTRY_RANK[code])


def _assessment(code: str, label: str, icon: str, symbol: str, **texts: str) -> Flag:
    description = texts.pop("description", "")
    action = texts.pop("action", "")
    if not description:
        description = f"GQ: {texts['gq_description']} VQ: {texts['vq_description']}"
        action = f"GQ: {texts['gq_action']} VQ: {texts['vq_action']}"
    return Flag(
        code,
        ASSESSMENT,
        label,
        description,
        action,
        icon,
        symbol,
        ASSESSMENT_RANK[code],
        **texts,
    )


ENTRY_FLAG_INFO: dict[str, Flag] = {
    f.code: f
    for f in (
        _entry(
            COMPLETE,
            "Complete",
            "The component is complete on the DAS and is ready for aggregation.",
            "You don't need to do anything.",
            "check-circle",
            "✓",
        ),
        _entry(
            ELIGIBLE,
            "Eligible",
            "Entries have been found that are valid for this component and Diploma.",
            "All the entry administration has been done. You don't need to do anything for now.",
            "check",
            "✔",
        ),
        _entry(
            INELIGIBLE,
            "Unit entries missing",
            "A valid cash-in has been made for this component and Diploma, but one or "
            "more unit entries are missing.",
            "Make the missing unit entries through Edexcel Online or EDI, making sure a "
            "valid ULN is attached.",
            "alert-triangle",
            "!",
        ),
        _entry(
            MISSING,
            "Missing",
            "Entries for this component are missing, or the entries found are not valid "
            "for this component and Diploma.",
            "Either the cash-in is missing or nothing has been found for the component. "
            "Make the cash-in in the usual way through Edexcel Online or EDI, making sure "
            "a valid ULN is attached. If the component is being taken with another "
            "awarding body, record it under Manage non-Edexcel Qualifications.",
            "x-circle",
            "✗",
        ),
        _entry(
            OTHER_CAB,
            "Other awarding body",
            "The component is being taken with another awarding body.",
            "You don't need to do anything else with Edexcel, but we recommend you check "
            "with that awarding body that all its administration has been done.",
            "external-link",
            "↗",
        ),
        _entry(
            UNDETERMINED,
            "Cannot be checked",
            "Learner Tracking cannot tell whether the component is valid for this Diploma.",
            "This should only appear against ASL: use the national Diploma validator to "
            "check that the qualification is valid for the ASL of this Diploma. Against any "
            "other component it means the entry has only just been received; its status "
            "will be worked out overnight.",
            "help-circle",
            "?",
        ),
    )
}

ASSESSMENT_FLAG_INFO: dict[str, Flag] = {
    f.code: f
    for f in (
        _assessment(
            SUBMITTED,
            "Submitted",
            "send",
            "✉",
            gq_description="Centre marks have been submitted and the unit is awaiting assessment.",
            gq_action="All the administration has been done. You don't need to do "
            "anything for now.",
            vq_description="The centre has been verified and certification has been claimed.",
            vq_action="All the administration has been done. You don't need to do "
            "anything for now.",
        ),
        _assessment(
            DUE,
            "Due",
            "clock",
            "◷",
            gq_description="Centre marks have not been submitted yet; the mark submission "
            "window is open.",
            gq_action="The centre that made the entries needs to submit centre marks for "
            "one or more units before the deadline shown.",
            vq_description="The centre has been verified but certification has not been "
            "claimed yet.",
            vq_action="Claim certification through Edexcel Online, the SRF or EDIFACT "
            "before the claim deadline shown.",
        ),
        _assessment(
            OVERDUE,
            "Overdue",
            "alert-octagon",
            "‼",
            gq_description="Centre marks have not been submitted and the mark submission "
            "deadline has passed.",
            gq_action="The centre that made the entries needs to contact Edexcel urgently "
            "and submit centre marks for one or more units. If it does not, the learner "
            "may be recorded as absent for the unit.",
            vq_description="The centre's verification has not been confirmed yet, or "
            "certification was not claimed before the claim deadline.",
            vq_action="If verification is outstanding, there may be an administrative issue "
            "to resolve: if you believe your verification has been confirmed, contact your "
            "usual BTEC support officer for guidance. If the claim deadline has passed, claim "
            "certification now: the Diploma cannot be aggregated until you do.",
        ),
        _assessment(
            NOT_OPEN,
            "Window not open",
            "calendar",
            "…",
            description="Centre marks have not been submitted yet; the mark submission "
            "window has not opened. Shown for information: it is not counted as a problem.",
            action="You don't need to do anything until the mark submission window opens "
            "on the date shown.",
        ),
        _assessment(
            PASSED,
            "Passed",
            "award",
            "★",
            description="The Functional Skills component has been passed. A pass is kept: "
            "a later fail does not undo it.",
            action="The result will be sent to the DAS. If the component does not then "
            "show as complete on the Diploma Learner Overview, there may be a problem with "
            "the ULN: please contact us.",
        ),
        _assessment(
            FAILED,
            "Failed",
            "x-octagon",
            "✗",
            description="The Functional Skills component has been failed.",
            action="Functional Skills must be passed before the Diploma can be aggregated. "
            "Make new cash-in and unit entries in the usual way through Edexcel Online or "
            "EDI, making sure a valid ULN is attached.",
        ),
    )
}

FLAGS: dict[str, Flag] = {**ENTRY_FLAG_INFO, **ASSESSMENT_FLAG_INFO}

# --- problem severities and the actions that are not a flag's own --------------------------

URGENT = "urgent"
ACTION = "action"
INFO = "info"
SEVERITIES: tuple[str, ...] = (URGENT, ACTION, INFO)  # most urgent first
SEVERITY_RANK: dict[str, int] = {code: rank for rank, code in enumerate(SEVERITIES)}
# A Detail line with nothing to do sorts after every problem of the same deadline.
READY_RANK = 9
SEVERITY_LABELS: dict[str, str] = {
    URGENT: "Urgent",
    ACTION: "Action needed",
    INFO: "For information",
}

ACTION_ASL_MISSING = (
    "If the ASL is being taken with another awarding body, record it under Manage "
    "non-Edexcel Qualifications. If you have made an Edexcel ASL entry that is not shown "
    "here, check that a valid ULN was attached to it."
)
ACTION_ASL_VALIDITY = (
    "Check with the national Diploma validator that the qualification is valid for the ASL "
    "of this Diploma. Learner Tracking cannot check this for you."
)
# Filled in per learner: {wanted} names the valid qualifications, {component} the component.
ACTION_CORRECT_ENTRY = (
    "Correct the entries{wanted} through Edexcel Online or EDI, so that they are for the "
    "{component} of this Diploma's line of learning and level, making sure a valid ULN is "
    "attached. If the component is being taken with another awarding body, record it under "
    "Manage non-Edexcel Qualifications."
)
# {low} and {high}: the Diploma's ASL levels.
ACTION_ASL_BELOW_LEVEL = (
    "Enter the learner for ASL at level {low} or {high} through Edexcel Online or EDI, making "
    "sure a valid ULN is attached. If the ASL is being taken with another awarding body, "
    "record it under Manage non-Edexcel Qualifications."
)
ACTION_FS_RESIT_ENTERED = (
    "The re-sit is already entered, so you do not need to make new entries: make sure the "
    "learner sits it. Functional Skills must be passed before the Diploma can be aggregated."
)
ACTION_CLAIM_OVERDUE = (
    "The claim deadline has passed: claim certification now through Edexcel Online, the SRF "
    "or EDIFACT. The Diploma cannot be aggregated until you do."
)
ACTION_CONFIRM_ON_DAS = (
    "The centre records this directly on the DAS: confirm it there once the learner has "
    "completed it."
)


def entry_flag(code: str) -> Flag:
    return ENTRY_FLAG_INFO[code]


def assessment_flag(code: str) -> Flag:
    return ASSESSMENT_FLAG_INFO[code]


def worst_assessment(codes: Iterable[str]) -> str | None:
    """The worst of some assessment flags (DOMAIN.md 4.3), or None when there are none."""
    worst: str | None = None
    worst_rank = NO_ASSESSMENT_RANK
    for code in codes:
        rank = ASSESSMENT_RANK[code]
        if rank < worst_rank:
            worst, worst_rank = code, rank
    return worst


def entry_sort_key(code: str) -> int:
    """Worst first."""
    return ENTRY_RANK[code]


def assessment_sort_key(code: str | None) -> int:
    """Worst first; no flag last."""
    return NO_ASSESSMENT_RANK if code is None else ASSESSMENT_RANK[code]
