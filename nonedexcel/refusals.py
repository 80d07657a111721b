"""Which non-Edexcel records a centre may not make (DOMAIN.md 7 and 4.2). Pure functions.

One home for the rules, so the ILR's form and the bulk upload refuse exactly the same rows.
"""

from learners import diploma


def qan_refusal(qan_is_ours: tuple[str, str] | None, component: str) -> str:
    """Why a QAN cannot be recorded as taken elsewhere; empty when it can.

    `qan_is_ours` is (qualification code, component) when the QAN is in our catalogue.
    """
    if qan_is_ours is None:
        return ""
    code, ours_for = qan_is_ours
    if ours_for != component:
        return (
            f"this QAN is {code}, an Edexcel qualification for "
            f"{diploma.COMPONENT_NAMES[ours_for]}, not for {diploma.COMPONENT_NAMES[component]}: "
            "make the entry with Edexcel"
        )
    return f"this is an Edexcel qualification: make the entry with Edexcel (it is {code})"


def component_refusal(level: str, component: str) -> str:
    """Why the learner's Diploma has no such component to record; empty when it has."""
    if component not in diploma.LEVELS[level].components:
        return (
            f"a {diploma.LEVELS[level].name} Diploma has no "
            f"{diploma.COMPONENT_NAMES[component].lower()}"
        )
    return ""
