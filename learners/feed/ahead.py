"""The learner files read ahead of the import, on a second connection (issue 21).

The import writes in one transaction, so on one of PostgreSQL's cores. While it checks and
writes one file, another connection COPYs the files still to come into tables of their own
and gives them statistics; a file none of whose lines can be left out as unchanged (a first
load) it checks too (byvalue). None of that needs anything the import has written: the
checks read what the import knew once the catalogue and the centres were written. The import
takes a file's tables (and checks) when it comes to the file, or reads the file itself if no
one has started on it. The largest files go first, and the import writes them last
(importer._in_writing_order): the entries (1.45 M lines) are read and checked while the
import writes the learners and the smaller files.

The tables live in a schema of the run's own, dropped once the import's transaction has
ended (they are not part of it: a rejected import drops them too), or by the next import if
this one's process was killed.
"""

import concurrent.futures
import logging
from collections.abc import Callable
from pathlib import Path

from django.db import Error, connection, transaction

from base.delivery import FileSpec

from .byvalue import FileChecks, ReadAhead

logger = logging.getLogger(__name__)

SCHEMA_PREFIX = "feed_ahead_"

# How long the reading connection waits for a lock before giving the file back to the import.
# It takes none the import holds (its own tables, and nothing else), so this is a safeguard.
LOCK_TIMEOUT = "2s"

# Seconds between two words on the import's connection while it waits for a file.
KEEP_ALIVE = 10.0


def schema_of(run: int) -> str:
    return f"{SCHEMA_PREFIX}{int(run)}"


class Reader:
    """Reads files ahead on a thread of its own (so on a connection of its own: Django's are
    per thread). `start` each file, `take` it when the import comes to it, `close` at the end,
    after the import's transaction."""

    def __init__(self, run: int) -> None:
        self.schema = schema_of(run)
        self.known = None
        self.parsed: dict | None = None
        self._prepared = True
        self._futures: dict[str, concurrent.futures.Future] = {}
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    def start(
        self,
        files: list[tuple[FileSpec, Path, bool]],
        known,
        header: Callable[[FileSpec, Path], tuple[dict[str, int], int] | None],
        parsed: dict | None = None,
    ) -> None:
        """Read each (spec, path, whether to check it), largest first, checked with what is
        `known` (which checking a learner file does not change) and the cells `parsed`
        already (shared with the import); `header` gives a file's column positions and width
        (None: the import reports it)."""
        if not files:
            return
        self.known, self.parsed = known, parsed
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="feed-ahead")
        self._pool.submit(self._prepare)
        for spec, path, check in sorted(files, key=lambda f: -f[1].stat().st_size):
            self._futures[spec.name] = self._pool.submit(self._read, spec, path, header, check)

    def take(self, name: str) -> ReadAhead | None:
        """The file's table, waiting for it if it is being read; None if it was not read
        ahead (the import reads it itself)."""
        future = self._futures.pop(name, None)
        if future is None or future.cancel():
            return None
        while True:
            try:
                return future.result(timeout=KEEP_ALIVE)
            except concurrent.futures.TimeoutError:
                # A word on the import's connection, idle in its transaction meanwhile:
                # PostgreSQL ends a session idle in a transaction for too long
                # (idle_in_transaction_session_timeout).
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
            except Exception:  # the import reads the file itself, and meets the error if any
                logger.warning("Reading %s ahead failed", name, exc_info=True)
                return None

    def close(self) -> None:
        """Stop reading (after the file being read), let go of the connection and drop the
        tables. After the import's transaction: its reads of the tables hold them until then."""
        if self._pool is None:
            return
        for future in self._futures.values():
            future.cancel()
        self._futures.clear()
        self._pool.submit(_let_go)
        self._pool.shutdown(wait=True)
        self._pool = None
        drop(self.schema)

    def _prepare(self) -> None:
        try:
            with connection.cursor() as cursor:
                # As the import's own connection: room for the hashes, no JIT (importer).
                cursor.execute("SET work_mem = '256MB'")
                cursor.execute("SET jit = off")
                cursor.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
                schema = connection.ops.quote_name(self.schema)
                cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        except Error:  # no right to create a schema, say: the import reads every file itself
            logger.warning("Not reading the files ahead", exc_info=True)
            self._prepared = False

    def _read(self, spec: FileSpec, path: Path, header, check: bool) -> ReadAhead | None:
        if not self._prepared:
            return None
        columns = header(spec, path)
        if columns is None:
            return None
        positions, width = columns
        stage = f"feed_stage_{spec.name.removesuffix('.csv')}"
        with connection.cursor() as cursor:
            checks = FileChecks(
                cursor, spec, stage, self.known, _Unseen(), self.parsed, schema=self.schema
            )
            return checks.read_ahead(path, positions, width, check)


def drop(schema: str) -> None:
    """Drop a schema of tables read ahead, if it is there; a failure is logged, not raised
    (the next import tries again)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {connection.ops.quote_name(schema)} CASCADE")
    except Error:  # a connection closed too: the import's own error is the one to tell
        logger.warning("Could not drop %s", schema, exc_info=True)


def drop_abandoned(running: Callable[[], set[int]]) -> None:
    """Drop the schemas of runs no longer `running` (killed, or whose drop failed)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", [SCHEMA_PREFIX]
        )
        schemas = [name for (name,) in cursor.fetchall()]
    if not schemas:
        return
    # Asked after the schemas were listed: a run that starts meanwhile has none listed.
    running = running()
    for schema in schemas:
        run = schema.removeprefix(SCHEMA_PREFIX)
        if run.isdigit() and int(run) not in running:
            drop(schema)


def _let_go() -> None:
    """Close the connection of the thread this runs in (the reading thread's)."""
    connection.close()


class _Unseen:
    """The reading thread's progress: none (the import tells the file's rows as it takes it)."""

    def advance(self, done: int) -> None:
        pass
