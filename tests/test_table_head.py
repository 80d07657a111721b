"""Issue 21: the Overview's, the Detail's and the Changes' column headings are written in
Python (screens.tables.FastRowsTable.fast_head), as the template loop wrote them."""

import re
from pathlib import Path

import pytest
from django.template import Context, Template
from django.urls import reverse

from .builders import snapshot_of

pytestmark = pytest.mark.django_db

# The loop tables/table.html held before: the reference.
TEMPLATE_HEAD = Template((Path(__file__).parent / "data" / "table_head_reference.html").read_text())


def _words(html: str) -> str:
    return re.sub(r"\s+", " ", html).strip()


@pytest.mark.parametrize("page", ["overview", "detail"])
@pytest.mark.parametrize(
    "query",
    ["", "sort=name", "sort=-problems", "sort=points&level=A", "flag=overdue&sort=-name&page=1"],
)
def test_it_heads_the_columns_as_the_template_did(client, viewer, centre, page, query):
    snapshot_of(centre, [(3, 40), (0, 120)])
    client.force_login(viewer)

    response = client.get(f"{reverse(page)}?centre={centre.number}&{query}&q=a%26b")

    assert response.status_code == 200
    table, request = response.context["table"], response.wsgi_request
    expected = TEMPLATE_HEAD.render(Context({"table": table, "request": request}))
    assert _words(table.fast_head()) == _words(expected)
    assert _words(table.fast_head()) in _words(response.content.decode())


def test_it_shares_the_class_columns_between_requests_and_no_request_changes_them(
    client, viewer, centre
):
    """The tables use their class's columns as they are (screens.tables._ColumnsOfTheClass)
    rather than a copy each: what any page, sort or filter does must leave them unchanged."""
    from screens.tables import DetailTable, OverviewTable

    snapshot_of(centre, [(3, 40), (0, 120)])
    client.force_login(viewer)

    def state(table_class) -> dict:
        return {name: repr(sorted(vars(c).items())) for name, c in table_class.base_columns.items()}

    for page in ("overview", "detail"):
        # django-tables2 gives a column without an accessor its name, once, on first use.
        client.get(f"{reverse(page)}?centre={centre.number}")
    before = {table: state(table) for table in (OverviewTable, DetailTable)}
    for page in ("overview", "detail"):
        for query in ("", "sort=-problems", "sort=deadline&page=2", "level=A&sort=-name"):
            response = client.get(f"{reverse(page)}?centre={centre.number}&{query}")
            assert response.status_code == 200
            table = response.context["table"]
            assert all(table.columns[n].column is c for n, c in type(table).base_columns.items())
    assert {table: state(table) for table in (OverviewTable, DetailTable)} == before
