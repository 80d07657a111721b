"""The tables' cells built in Python (screens.tables) write what Django's format_html would."""

from types import SimpleNamespace

from django.utils.html import format_html
from hypothesis import given
from hypothesis import strategies as st

from screens.tables import LearnerColumn

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["O'Brien", '"quoted"', "<b>bold</b>", "a & b", "?list=%2Foverview%2F%3Fpage%3D2"]
)


def _as_format_html(record, suffix: str, selectable: bool) -> str:
    link = format_html('<a href="/learners/{}/{}">{}</a>', record.uln, suffix, record.uln)
    if not selectable:
        return link
    return format_html(
        '<input type="checkbox" name="uln" value="{}" form="choose-learners" '
        'aria-label="Choose {}, {}"> {}',
        record.uln,
        record.surname,
        record.forename,
        link,
    )


@given(uln=TEXT, surname=TEXT, forename=TEXT, suffix=TEXT, selectable=st.booleans())
def test_it_writes_the_learner_cell_as_format_html_would(
    uln, surname, forename, suffix, selectable
):
    record = SimpleNamespace(uln=uln, surname=surname, forename=forename)

    cell = LearnerColumn().render(record, suffix=suffix, selectable=selectable)

    assert cell == _as_format_html(record, suffix, selectable)
    assert hasattr(cell, "__html__")
