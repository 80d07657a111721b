"""How forms render: Django's templates, but a select's options in one pass of Python.

Django renders each option of a select through two template includes; the Overview's
filters hold seven selects and sixty options, a third of the page's time (issue 21). The
HTML is Django's own, character for character (tests.test_forms_render compares them).
"""

from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"


def _attrs(attrs: dict[str, Any]) -> str:
    """As django/forms/widgets/attrs.html writes them."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {conditional_escape(name)}")
        else:
            parts.append(f' {conditional_escape(name)}="{conditional_escape(value)}"')
    return "".join(parts)


def _select(widget: dict[str, Any]) -> SafeString:
    """As django/forms/widgets/select.html and select_option.html write it."""
    html = [format_html('<select name="{}"', widget["name"]), _attrs(widget["attrs"]), ">"]
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            html.append(format_html('\n  <optgroup label="{}">', group_name))
        for option in group_choices:
            value = conditional_escape(option["value"])
            label = conditional_escape(option["label"])
            # The option's template ends with a newline, which the select keeps.
            html.append(f'\n  <option value="{value}"{_attrs(option["attrs"])}>{label}</option>\n')
        if group_name:
            html.append("\n  </optgroup>")
    html.append("\n</select>")
    return mark_safe("".join(html))  # noqa: S308 - every part escaped above


class FormRenderer(DjangoTemplates):
    """Django's renderer, but a plain select in Python (a widget with a template of its own
    still goes through it)."""

    def render(self, template_name, context, request=None):
        widget = context.get("widget") if template_name == SELECT else None
        if widget is not None and all(
            option["template_name"] == OPTION
            for _name, choices, _index in widget["optgroups"]
            for option in choices
        ):
            return _select(widget)
        return super().render(template_name, context, request)
