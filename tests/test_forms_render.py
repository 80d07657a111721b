"""Issue 21: selects render in Python (base.forms), as Django's templates render them."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe

from base.forms import FormRenderer

CHOICES = [
    ("", "Any"),
    ("a&b", 'Quote " and <tag>'),
    (3, mark_safe("<b>safe</b>")),
    ("Group & co", [("g1", "In a group"), (mark_safe('x"y'), "Safe value")]),
]


@pytest.mark.parametrize(
    "widget",
    [
        forms.Select(choices=CHOICES),
        forms.Select(choices=CHOICES, attrs={"class": "a<b", "required": True, "hidden": False}),
        forms.SelectMultiple(choices=CHOICES, attrs={"aria-describedby": "x y"}),
        forms.NullBooleanSelect(),
        forms.Select(choices=[]),
    ],
)
@pytest.mark.parametrize("value", [None, "", "a&b", 3, ["g1", "a&b"], 'x"y', "unknown"])
def test_it_renders_a_select_as_django_does(widget, value):
    attrs = {"id": "id_f", "data-x": mark_safe("<safe>")}

    try:
        djangos = widget.render("f&name", value, attrs, renderer=DjangoTemplates())
    except TypeError:  # a list for a single select: Django refuses it, and so do we
        with pytest.raises(TypeError):
            widget.render("f&name", value, attrs, renderer=FormRenderer())
        return
    ours = widget.render("f&name", value, attrs, renderer=FormRenderer())

    assert ours == djangos


def test_it_renders_an_overview_filter_without_option_templates(rf, monkeypatch):
    used = []
    monkeypatch.setattr(
        DjangoTemplates, "render", lambda self, name, *a, **k: used.append(name) or ""
    )
    forms.Select(choices=CHOICES).render("f", "", renderer=FormRenderer())
    assert used == []
