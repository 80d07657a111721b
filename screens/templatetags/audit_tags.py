from django import template

from learners.diploma import series_name

register = template.Library()
# Values people read as a series name ("June 2027"); the event itself keeps the code.
_SERIES_KEYS = frozenset({"award_series"})


@register.filter
def change(value) -> str:
    """An audit event's before or after, as 'role: viewer; status: approved'."""
    if value in (None, "", {}):
        return ""
    if isinstance(value, dict):
        return "; ".join(
            f"{key.replace('_', ' ')}: {series_name(item) if key in _SERIES_KEYS else item}"
            for key, item in value.items()
        )
    return str(value)
