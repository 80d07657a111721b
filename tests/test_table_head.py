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
