"""The readiness picture: for each centre and component, how many learners have each flag."""

import hashlib
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import Count
from django.urls import reverse

from flags import codes
from flags.models import COMPONENT_FIELDS, OverviewRow
from flags.snapshot import snapshot_version
from flags.templatetags.flag_tags import TONES

from . import diploma

BAR_WIDTH = 600  # SVG user units; the picture scales to its container


@dataclass
class Segment:
    flag: str
    label: str
    count: int
    x: float
    width: float
    tone: str
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
    # The counts change only with the snapshot (or a move made to it): worked out once a night
    # per set of centres.
    centres_hash = hashlib.sha256(",".join(numbers).encode()).hexdigest()[:16]
    key = f"readiness:{snapshot_version(run)}:{centres_hash}"
    counts = cache.get(key)
    if counts is None:
        counts = _counts(run, numbers)
        cache.set(key, counts, timeout=26 * 3600)
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
                        TONES[flag],
                        f"{reverse('overview')}?{query}",
                    )
                )
                x += width
            bars.append(bar)
        learners = max((b.total for b in bars), default=0)
        pictures.append(CentreReadiness(centre.number, centre.name, learners, bars))
    return pictures


def _counts(run, numbers: list[str]) -> dict[tuple[str, str], dict[str, int]]:
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for component, name in COMPONENT_FIELDS.items():
        for centre, flag, n in (
            OverviewRow.objects.filter(run=run, centre_id__in=numbers)
            .exclude(**{f"{name}_entry": ""})
            .values_list("centre_id", f"{name}_entry")
            .annotate(n=Count("uln"))
            .order_by()
        ):
            counts.setdefault((centre, component), {})[flag] = n
    return counts


def legend() -> list[dict]:
    return [
        {
            "code": f,
            "label": codes.entry_flag(f).label,
            "symbol": codes.entry_flag(f).symbol,
            "tone": TONES[f],
        }
        for f in reversed(codes.ENTRY_FLAGS)
    ]
