"""The Overview or Detail a learner's record was opened from: the way back, and the learners
before and after in that list, in its order and with its filters."""

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.http import QueryDict
from django.urls import reverse

from flags.snapshot import current_run

from . import cohort
from .filters import DetailFilter, OverviewFilter
from .tables import DetailTable, OverviewTable

LIST_PARAMETER = "list"
# The most rows read to place a learner in their list: a centre's whole Overview, and enough
# of any Detail. Beyond it (staff reading every centre's lines) the record leads back only.
MOST_ROWS_READ = 10_000


@dataclass(frozen=True)
class LearnerList:
    url: str  # the list as it was shown: its path and query
    name: str
    ulns: tuple[str, ...]

    def link(self, uln: str) -> str:
        """A learner's record, opened from this list."""
        return f"{reverse('learner_record', args=[uln])}?{urlencode({LIST_PARAMETER: self.url})}"

    def around(self, uln: str) -> tuple[int, str | None, str | None]:
        """(position counted from 1, the learner before, the learner after); 0 when the
        learner is not in the list."""
        try:
            at = self.ulns.index(uln)
        except ValueError:
            return 0, None, None
        before = self.ulns[at - 1] if at > 0 else None
        after = self.ulns[at + 1] if at + 1 < len(self.ulns) else None
        return at + 1, before, after


def opened_from(user, given: str) -> LearnerList | None:
    """The list named by `given`, if it is an Overview or Detail of this site (never another
    site: the parameter is the user's, and a link from it must not leave)."""
    if not given:
        return None
    parts = urlsplit(given)
    lists = {
        reverse("overview"): ("the Overview", OverviewFilter, OverviewTable),
        reverse("detail"): ("the Detail", DetailFilter, DetailTable),
    }
    if parts.scheme or parts.netloc or parts.path not in lists:
        return None
    name, filter_class, table_class = lists[parts.path]
    params = QueryDict(parts.query)
    run = current_run()
    late = cohort.late_changes(run)
    rows = (
        cohort.overview_rows(run)
        if filter_class is OverviewFilter
        else cohort.detail_lines(run, late)
    )
    filterset = filter_class(
        params,
        queryset=rows,
        user=user,
        award_series=cohort.award_series_offered(run, user),
        late_changes=late,
    )
    table = table_class(filterset.qs)
    if params.get("sort"):
        table.order_by = params["sort"]  # one the table does not offer is left out
    ordered = table.data.data.values_list("uln", flat=True)[:MOST_ROWS_READ]
    # The Detail has a line per problem: each learner once, where they first appear.
    ulns = tuple(dict.fromkeys(ordered))
    url = parts.path + (f"?{parts.query}" if parts.query else "")
    return LearnerList(url, name, ulns)


def link_suffix(request) -> str:
    """What a list's links to records carry, so the record can lead back."""
    return "?" + urlencode({LIST_PARAMETER: request.get_full_path()})
