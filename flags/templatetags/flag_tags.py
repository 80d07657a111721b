"""The flag badge: an icon and words, with the data-* attributes of DOMAIN.md section 8."""

from django import template

from flags import codes

register = template.Library()

# The badge's colour only repeats what its words and symbol say.
TONES = {
    codes.COMPLETE: "good",
    codes.ELIGIBLE: "good",
    codes.SUBMITTED: "good",
    codes.PASSED: "good",
    codes.OTHER_CAB: "info",
    codes.UNDETERMINED: "info",
    codes.NOT_OPEN: "info",
    codes.INELIGIBLE: "warning",
    codes.DUE: "warning",
    codes.MISSING: "bad",
    codes.OVERDUE: "bad",
    codes.FAILED: "bad",
}


@register.inclusion_tag("includes/flag.html")
def flag(component: str, kind: str, code: str | None, late: bool = False) -> dict:
    """`late`: entries arrived after the overnight snapshot, so the flag is not yet known."""
    info = None
    if code:
        info = codes.entry_flag(code) if kind == codes.ENTRY else codes.assessment_flag(code)
    return {
        "component": component,
        "kind": kind,
        "code": code or "",
        "info": info,
        "tone": TONES.get(code or "", "none"),
        "late": late,
    }


@register.filter
def flag_label(code: str | None, kind: str = codes.ENTRY) -> str:
    if not code:
        return ""
    return (codes.entry_flag(code) if kind == codes.ENTRY else codes.assessment_flag(code)).label


@register.filter
def severity_label(severity: str) -> str:
    return codes.SEVERITY_LABELS.get(severity, severity)
