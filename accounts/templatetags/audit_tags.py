from django import template

register = template.Library()


@register.filter
def change(value) -> str:
    """An audit event's before or after, as 'role: viewer; status: approved'."""
    if value in (None, "", {}):
        return ""
    if isinstance(value, dict):
        return "; ".join(f"{key.replace('_', ' ')}: {item}" for key, item in value.items())
    return str(value)
