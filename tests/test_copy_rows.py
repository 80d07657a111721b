"""copy_rows: what goes in comes back, whatever the text holds (COPY's text format escapes)."""

import datetime

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flags.models import DetailLine, RebuildRun
from flags.snapshot import DETAIL_COLUMNS
from learners.feed import bulk
from learners.feed.bulk import copy_rows

pytestmark = pytest.mark.django_db

# Any text PostgreSQL stores (no NUL; no lone surrogate, which no UTF-8 file holds), with
# COPY's separators and escapes well represented.
text = st.text(
    alphabet=st.one_of(
        st.sampled_from("\\\t\n\r\x0b\x0c N,;\"'"),
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    ),
    max_size=20,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(surname=text, issue=text, element=text, ready=st.booleans(), deadline=st.none() | st.dates())
def test_it_gives_back_every_value_it_wrote(surname, issue, element, ready, deadline):
    run = RebuildRun.objects.create(
        started_at=datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC),
        built_for=datetime.date(2026, 12, 1),
    )
    row = (
        run.pk,
        "1234567890",
        "12345",
        surname,
        "Forename",
        "IT",
        "A",
        "",
        "PL",
        1,
        0,
        ready,
        element,
        issue,
        "",
        deadline,
        "",
        0,
        "",
        7,
        "",
        False,
    )
    with connection.cursor() as cursor:
        copy_rows(cursor, DetailLine._meta.db_table, DETAIL_COLUMNS, [row])
    stored = DetailLine.objects.filter(run=run).values_list(*DETAIL_COLUMNS[1:]).get()
    assert stored == row[1:]


values = st.one_of(text, st.none(), st.booleans(), st.integers(), st.dates())


@given(row=st.lists(values, min_size=1, max_size=8).map(tuple))
def test_it_writes_any_row_as_escaping_each_value_would(row):
    # Either database: the line COPY would read, without a database to read it.
    assert bulk._copy_line(row) == "\t".join(map(bulk._text_value, row)) + "\n"
