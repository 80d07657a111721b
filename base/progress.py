"""How far a long job has got (issue 21): the import's files, the rebuild's learners.

Told three ways at once: a bar on a terminal (tqdm), a log line every few seconds otherwise
(a worker, cron), and a short line in the "progress" cache, which the admin pages read while
the job runs in another process. Cheap enough to be told every few thousand rows.
"""

import logging
import sys
import time
from typing import TextIO

from django.core.cache import caches
from tqdm import tqdm

logger = logging.getLogger(__name__)

LOG_EVERY = 5.0  # seconds between log lines when no one watches a terminal
KEPT_FOR = 24 * 60 * 60  # a job's last line stays a day in the cache


def cache_key(job: str, key: object) -> str:
    return f"progress:{job}:{key}"


def said(job: str, key: object) -> str:
    """The last line a running job left for the admin pages; "" when none."""
    return caches["progress"].get(cache_key(job, key), "")


class Progress:
    """One job's progress through its stages (a file, a shard): `stage`, then `advance`."""

    def __init__(self, job: str, key: object, stream: TextIO | None = None) -> None:
        self.job, self.key = job, key
        self.stream = stream if stream is not None else sys.stderr
        self.on_terminal = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._bar: tqdm | None = None
        self._name, self._unit, self._total, self._done = "", "", None, 0
        self._started = self._last_told = time.monotonic()

    def stage(self, name: str, total: int | None, unit: str) -> None:
        """A new stage of `total` units (None: not known)."""
        self._end_stage()
        self._name, self._unit, self._total, self._done = name, unit, total, 0
        self._started = time.monotonic()
        if self.on_terminal:
            self._bar = tqdm(total=total, desc=name, unit=f" {unit}", file=self.stream)
        self._tell(force=True)

    def note(self, text: str) -> None:
        """A step with nothing to count (the merge of a file into the tables)."""
        self._end_stage()
        self._name = ""
        self._say(text, log=False)

    def advance(self, done: int) -> None:
        self._done += done
        if self._bar is not None:
            self._bar.update(done)
        self._tell()

    def finish(self) -> None:
        self._end_stage()

    def line(self) -> str:
        """ "learners.csv: 1,200,000 of 2,600,000 bytes (46%), 310,000 bytes/s, 5 s left"."""
        elapsed = max(time.monotonic() - self._started, 1e-6)
        rate = self._done / elapsed
        if not self._total:
            return f"{self._name}: {self._done:,} {self._unit}, {rate:,.0f} {self._unit}/s"
        share = min(self._done / self._total, 1)
        left = (self._total - self._done) / rate if rate else 0
        return (
            f"{self._name}: {self._done:,} of {self._total:,} {self._unit} ({share:.0%}), "
            f"{rate:,.0f} {self._unit}/s, {left:,.0f} s left"
        )

    def _tell(self, force: bool = False) -> None:
        """The cache at each stage's start and end and every few seconds; the log only every
        few seconds (a small import says nothing until its totals)."""
        now = time.monotonic()
        due = now - self._last_told >= LOG_EVERY
        if not force and not due:
            return
        self._say(self.line(), log=due)
        if due:
            self._last_told = now

    def _say(self, text: str, log: bool = True) -> None:
        if self.on_terminal and self._bar is None:
            self.stream.write(text + "\n")
        try:
            caches["progress"].set(cache_key(self.job, self.key), text, KEPT_FOR)
        except Exception:  # the cache is down: the job goes on, untold
            logger.warning("Could not record %s progress", self.job, exc_info=True)
        if log and not self.on_terminal:
            logger.info("%s %s: %s", self.job.capitalize(), self.key, text)

    def _end_stage(self) -> None:
        """The stage's last word, as it ends: how far it got."""
        if self._name:
            self._tell(force=True)
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self._name = ""
