"""The readiness picture: for each centre and component, how many learners have each flag."""

import hashlib
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import Case, Count, F, Value, When
from django.urls import reverse

from flags import codes
from flags.models import COMPONENT_FIELDS, OverviewRow
from flags.snapshot import snapshot_version
from learners import diploma

from .cohort import STALE_AFTER, is_late, late_changes

BAR_WIDTH = 600  # SVG user units; the picture scales to its container


@dataclass
class Segment:
    flag: str
    label: str
    count: int
    x: float
    width: float
    symbol: str
    url: str


@dataclass
class Bar:
    component: str
    name: str
    total: int
    segments: list[Segment] = field(default_factory=list)


@dataclass
class CentreReadiness:
    number: str
    name: str
    learners: int
    bars: list[Bar]

    @property
    def height(self) -> int:
        return 30 * len(self.bars)


def readiness(centres, *, run) -> list[CentreReadiness]:
    """One query per component, whatever the number of centres or learners."""
    if run is None or not centres:
        return []
    numbers = sorted(c.number for c in centres)
    late = late_changes(run)
    # The counts change only with the snapshot, a move made to it, or data it did not see:
    # worked out once for each of those per set of centres.
    centres_hash = hashlib.sha256(",".join(numbers).encode()).hexdigest()[:16]
    late_hash = hashlib.sha256(repr(sorted(late)).encode()).hexdigest()[:16]
    key = f"readiness:{snapshot_version(run)}:{late_hash}:{centres_hash}"
    counts = cache.get(key)
    if counts is None:
        counts = _counts(run, numbers, late)
        cache.set(key, counts, timeout=STALE_AFTER.total_seconds())
    pictures = []
    for centre in centres:
        bars = []
        for component in diploma.COMPONENTS:
            by_flag = counts.get((centre.number, component), {})
            total = sum(by_flag.values())
            bar = Bar(component, diploma.COMPONENT_SHORT_NAMES[component], total)
            x = 0.0
            for flag in reversed(codes.ENTRY_FLAGS):  # best first, from the left
                count = by_flag.get(flag, 0)
                if not count:
                    continue
                width = BAR_WIDTH * count / total
                query = urlencode({"centre": centre.number, "component": component, "flag": flag})
                bar.segments.append(
                    Segment(
                        flag,
                        codes.entry_flag(flag).label,
                        count,
                        round(x, 2),
                        round(width, 2),
                        codes.entry_flag(flag).symbol,
                        f"{reverse('overview')}?{query}",
                    )
                )
                x += width
            bars.append(bar)
        learners = max((b.total for b in bars), default=0)
        pictures.append(CentreReadiness(centre.number, centre.name, learners, bars))
    return pictures


def _counts(
    run, numbers: list[str], late: tuple[int, ...]
) -> dict[tuple[str, str], dict[str, int]]:
    """Learners per (centre, component) and entry flag, as the Overview shows them: a
    component with data the snapshot did not see counts as undetermined."""
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for component, name in COMPONENT_FIELDS.items():
        rows = OverviewRow.objects.filter(run=run, centre_id__in=numbers).exclude(
            **{f"{name}_entry": ""}
        )
        if late:
            flag = Case(
                When(is_late(late, component), then=Value(codes.UNDETERMINED)),
                default=F(f"{name}_entry"),
            )
        else:
            flag = F(f"{name}_entry")
        for centre, shown, n in (
            rows.annotate(shown=flag)
            .values_list("centre_id", "shown")
            .annotate(n=Count("uln"))
            .order_by()
        ):
            counts.setdefault((centre, component), {})[shown] = n
    return counts


def legend() -> list[dict]:
    return [
        {
            "code": f,
            "label": codes.entry_flag(f).label,
            "symbol": codes.entry_flag(f).symbol,
        }
        for f in reversed(codes.ENTRY_FLAGS)
    ]
