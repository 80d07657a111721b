from django import template

from learners import diploma

register = template.Library()


@register.filter
def series_name(code: str) -> str:
    """'2010-06' -> 'June 2010'; empty stays empty."""
    return diploma.series_name(code) if code else ""


@register.filter
def component_name(code: str) -> str:
    return diploma.COMPONENT_NAMES.get(code, code)


@register.filter
def level_name(code: str) -> str:
    level = diploma.LEVELS.get(code)
    return level.name if level else code
