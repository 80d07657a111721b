"""The flag badge: an icon and words, with the data-* attributes of DOMAIN.md section 8."""

import functools

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from flags import codes

register = template.Library()

LATE_NOTE = '<span class="flag__note"> (received since the last overnight update)</span>'


@register.simple_tag
def flag(component: str, kind: str, code: str | None, late: bool = False) -> SafeString:
    return _flag(component, kind, code or "", bool(late))


@functools.lru_cache(maxsize=2048)
def _flag(component: str, kind: str, code: str, late: bool) -> SafeString:
    """The badge: icon and words, with data-component, data-kind and data-flag.

    Built in Python rather than from a template: the Overview draws sixteen on each row.
    `late`: data arrived after the overnight snapshot, so the flag is not yet known.
    """
    if not code:
        return format_html(
            '<span class="flag flag--none" data-component="{}" data-kind="{}" data-flag="">'
            '<span class="muted" aria-hidden="true">—</span>'
            '<span class="visually-hidden">No {} flag</span></span>',
            component,
            kind,
            kind,
        )
    info = codes.entry_flag(code) if kind == codes.ENTRY else codes.assessment_flag(code)
    note = mark_safe(LATE_NOTE) if late else ""  # noqa: S308 - a constant
    return format_html(
        '<span class="flag flag--{}" data-component="{}" data-kind="{}" data-flag="{}" '
        'title="{}"><span class="flag__icon" aria-hidden="true">{}</span>'
        '<span class="flag__label">{}</span>{}</span>',
        codes.TONES.get(code, "none"),
        component,
        kind,
        code,
        info.description,
        info.symbol,
        info.label,
        note,
    )


@register.filter
def severity_label(severity: str) -> str:
    return codes.SEVERITY_LABELS.get(severity, severity)


@functools.lru_cache(maxsize=4096)
def flag_cell(component: str, entry: str, assessment: str | None, late: bool = False) -> SafeString:
    """A component's two flags, compact, for the Overview's 800 a page: each keeps its data-*
    attributes and words; its symbol, colour and the words "Entry:" and "Assessment:" for
    screen readers come from the stylesheet (static/css/flags.css, from flags.stylesheet).
    """
    assessment = assessment or ""
    entry_label = codes.entry_flag(entry).label if entry else ""
    assessment_label = codes.assessment_flag(assessment).label if assessment else ""
    return format_html(
        '<span data-component="{}" data-kind="entry" data-flag="{}">{}{}</span>'
        '<span data-component="{}" data-kind="assessment" data-flag="{}">{}</span>',
        component,
        entry,
        entry_label,
        mark_safe(LATE_NOTE) if late else "",  # noqa: S308 - a constant
        component,
        assessment,
        assessment_label,
    )
