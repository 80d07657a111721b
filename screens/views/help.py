"""Help: the FAQ in our own words, and a legend of every flag built from the catalogue.

The questions and their anchors are data, so the table of contents, the page's headings
and the tests all read one list; the answers are in the template. The legend is built
from flags/codes.py on every request, so it says exactly what the pages say.
"""

from typing import NamedTuple

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from flags import codes
from learners import diploma
from screens.cohort import LATE_ISSUE


class Question(NamedTuple):
    anchor: str  # the heading's id: stable, other pages and bookmarks link to it
    question: str


class Section(NamedTuple):
    anchor: str
    title: str
    questions: tuple[Question, ...]


SECTIONS: tuple[Section, ...] = (
    Section(
        "accounts",
        "Getting an account",
        (
            Question("create-account-centre", "I am a centre user. How do I get an account?"),
            Question(
                "create-account-non-centre",
                "I am not a centre user. How do I get an account?",
            ),
            Question(
                "allocate-permissions",
                "I am a centre administrator. How do I let other people see our learners?",
            ),
        ),
    ),
    Section(
        "what-can-i-do",
        "What you can do",
        (
            Question("view-learner-data", "How do I see a learner's data?"),
            Question("what-is-overview", "What is the Diploma Learner Overview?"),
            Question("what-is-detail", "What is the Diploma Learner Detail?"),
            Question("what-is-ilr", "What is the Individual Learner Record?"),
        ),
    ),
    Section(
        "flags",
        "What the flags mean",
        (
            Question("entry-flags", "Entry flags"),
            Question("assessment-flags", "Assessment flags"),
            Question("asl-flags", "What do the flags mean for ASL?"),
            Question("how-we-read-the-rules", "How we read the rules, and what we assume"),
        ),
    ),
    Section(
        "common-questions",
        "Common questions",
        (
            Question("award-date", "How do I change the anticipated award date?"),
            Question("filter-cohort", "How do I filter my cohort?"),
            Question(
                "non-edexcel", "How do I record qualifications taken with other awarding bodies?"
            ),
            Question("data-updated", "How often is the data updated?"),
            Question("what-changed", "How do I see what changed overnight?"),
            Question("calendar", "Can I see my centres' deadlines in my calendar?"),
            Question("weekly-digest", "Can I be reminded of what is due by email?"),
            Question("view-results", "Where can I see learners' results?"),
            Question("estimated-grade", "What is the estimated Diploma grade?"),
            Question("amend-details", "Can I change a learner's details?"),
            Question("submit-marks", "How do I submit centre marks?"),
            Question(
                "validate-asl",
                "Why can't Learner Tracking tell me whether an ASL qualification is valid?",
            ),
            Question("asl-percent", "What does “ASL % complete” mean?"),
            Question(
                "asl-50-percent",
                "Why is the ASL partly complete when no ASL entries are shown?",
            ),
        ),
    ),
    Section(
        "common-problems",
        "Common problems",
        (
            Question("no-learner-data", "I cannot see any learners, or not all of them"),
            Question("unmatched-entries", "An entry I made is not shown against the learner"),
            Question(
                "non-edexcel-cab-data",
                "I cannot see any data for components taken with other awarding bodies",
            ),
            Question("result-not-showing", "A result is not showing on a component"),
            Question("overview-out-of-date", "The Overview does not show a change yet"),
            Question("details-incorrect", "Some of a learner's details are wrong"),
            Question("cannot-edit", "I cannot change the award date or record qualifications"),
            Question("no-password", "I have no password, or I have forgotten it"),
        ),
    ),
    Section("contact-us", "Contact us", ()),
)


def _by_key(items) -> dict:
    """Anchors as template-friendly keys: `award-date` is `q.award_date` in the template."""
    return {item.anchor.replace("-", "_"): item for item in items}


def _by_code(flags: list[codes.Flag]) -> dict[str, codes.Flag]:
    return {flag.code.replace("-", "_"): flag for flag in flags}


def _legend(kind: str) -> list[codes.Flag]:
    # Read the catalogue now, not at import: the legend follows every change to it.
    if kind == codes.ENTRY:
        return [codes.ENTRY_FLAG_INFO[code] for code in codes.ENTRY_FLAGS]
    return [codes.ASSESSMENT_FLAG_INFO[code] for code in codes.ASSESSMENT_FLAGS]


@login_not_required
def help_page(request: HttpRequest) -> HttpResponse:
    questions = [question for section in SECTIONS for question in section.questions]
    entry_legend, assessment_legend = _legend(codes.ENTRY), _legend(codes.ASSESSMENT)
    return render(
        request,
        "help.html",
        {
            "sections": SECTIONS,
            "s": _by_key(SECTIONS),
            "q": _by_key(questions),
            "entry_legend": entry_legend,
            "assessment_legend": assessment_legend,
            # For flags named in the answers: `entry.other_cab.label` and the like.
            "entry": _by_code(entry_legend),
            "assessment": _by_code(assessment_legend),
            "legend_component": "PL",
            "action_asl_missing": codes.ACTION_ASL_MISSING,
            "action_asl_validity": codes.ACTION_ASL_VALIDITY,
            "action_confirm_on_das": codes.ACTION_CONFIRM_ON_DAS,
            "action_fs_resit_entered": codes.ACTION_FS_RESIT_ENTERED,
            "action_claim_overdue": codes.ACTION_CLAIM_OVERDUE,
            "late_issue": LATE_ISSUE,
            # The assumed claim deadlines, from the one place the rules read them.
            "claims_june": diploma.day_and_month(diploma.default_claim_deadline("2000-06")),
            "claims_january": diploma.day_and_month(diploma.default_claim_deadline("2000-01")),
            "results_june": diploma.day_and_month(diploma.assumed_results_day("2000-06")),
            "results_january": diploma.day_and_month(diploma.assumed_results_day("2000-01")),
            "asl_levels": "; ".join(
                f"{level.name} level {level.asl_levels[0]} or {level.asl_levels[1]}"
                for level in diploma.LEVELS.values()
                if level.has_asl
            ),
        },
    )
