"""The writer's commit path: one transaction per batch, with as little overhead per row as possible.

This is the audit trail's only hot database path, so it skips the ORM and SQLAlchemy's parameter
processing and hands rows (tuples, in :data:`RECORD_COLUMNS` order) straight to the driver's
``executemany``:

- SQLite: a dedicated stdlib ``sqlite3`` connection; the whole transaction (compare-and-set of
  the head, inserts, commit) runs on the event loop's thread without ever waiting for a lock or
  an fsync (see :class:`SqliteStore`), and checkpoints run on a worker thread.
- PostgreSQL: a dedicated asyncpg connection and one prepared statement that advances the head
  (compare-and-set), inserts the records (``unnest`` of one array per column) and the checkpoint:
  one round trip, atomic on its own, no BEGIN/COMMIT. Measured: about 20 µs of CPU per record
  at 27 records per batch instead of about 110 through the engine.
- anything else (in-memory SQLite): the async engine, with ``exec_driver_sql``.

Both raise :class:`HeadMoved` when the chain's head is no longer where the writer thinks it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mmap
import sqlite3
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.engine import make_url

from socle.audit.checkpoint import CheckpointRow
from socle.store.database import SQLITE_JOURNAL_PRAGMAS, Database, is_sqlite
from socle.store.models.audit import AuditChain

RECORD_COLUMNS = (
    "chain",
    "seq",
    "ts",
    "kind",
    "request_id",
    "project_id",
    "key_id",
    "model",
    "status",
    "body",
    "prev_hash",
    "hash",
    "content",
)
CHECKPOINT_COLUMNS = ("chain", "seq", "ts", "head_hash", "body", "signature", "key_id")

Row = tuple[Any, ...]
log = logging.getLogger(__name__)

_BUSY_RETRY_S = (0.0002, 0.0005, 0.001, 0.002, 0.004)

WAL_CHECKPOINT_BYTES = 64 * 1024 * 1024
"""WAL size at which the SQLite writer pauses for a checkpoint (about 5,000 requests' records).

Each such pause holds every ``sync`` request waiting for its record (5–15 ms measured under load,
mostly the fdatasync of what the last background pass copied): a 16 MiB budget paused the writer
about once a second at 1,300 requests/s, enough to make those pauses the p99 latency.
"""

BACKGROUND_CHECKPOINT_S = 0.05
"""Least time between two PASSIVE checkpoints beside the commits.

Frequent passes keep what the WAL holds beyond the database small, so the WAL often restarts on
its own (a pass that ends with nothing left to copy before the next commit), and a pause has
little to copy. Measured in process at 1,300 requests/s: 0.25 s between passes gave 11 pauses in
10 s, 0.05 s with the 64 MiB budget one; each pass costs the loop one executor hand-off.
"""


class HeadMoved(Exception):
    """The chain head changed under this writer (another writer, or our own lost commit)."""


def _insert(table: str, columns: tuple[str, ...], paramstyle: str) -> str:
    if paramstyle == "qmark":
        marks = ["?"] * len(columns)
    elif paramstyle == "numeric_dollar":
        marks = [f"${n}" for n in range(1, len(columns) + 1)]
    else:
        marks = ["%s"] * len(columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(marks)})"  # noqa: S608


class ChainStore(Protocol):
    async def commit(
        self,
        chain: str,
        expected_seq: int,
        rows: list[Row],
        head: tuple[int, str],
        now: float,
        checkpoint: CheckpointRow | None,
    ) -> None:
        """Advance ``chain`` from ``expected_seq`` to ``head`` with ``rows``, atomically."""

    async def close(self) -> None: ...


def open_store(database: Database) -> ChainStore:
    """The fastest store for this database."""
    if is_sqlite(database.url):
        path = make_url(database.url).database
        if path and path != ":memory:" and not path.startswith("file:"):
            return SqliteStore(path)
    elif database.dialect == "postgresql":
        return PostgresStore(database.url)
    return EngineStore(database)


class WalIndex:
    """How many frames a database's WAL holds, read from the WAL-index SQLite keeps in ``-shm``.

    The header's layout is documented (https://www.sqlite.org/walformat.html, section 2.1) and
    has not changed since WAL appeared (version 3007000): ``mxFrame`` is the native-endian u32 at
    offset 16. Reading it costs a memory access, where asking SQLite (a checkpoint) costs a
    checkpoint. Returns None when the file is missing or of another version.
    """

    VERSION = 3007000
    _HEADER = 48

    def __init__(self, db_path: str) -> None:
        self._path = f"{db_path}-shm"
        self._map: mmap.mmap | None = None

    def frames(self) -> int | None:
        if self._map is None:
            try:
                with open(self._path, "rb") as file:
                    self._map = mmap.mmap(file.fileno(), self._HEADER, access=mmap.ACCESS_READ)
            except (OSError, ValueError):
                return None
        version, frames = _WAL_HEADER.unpack_from(self._map, 0)
        return frames if version == self.VERSION else None

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None


_WAL_HEADER = struct.Struct("=I12xI")  # iVersion, then mxFrame at offset 16


class SqliteStore:
    """Commits on a stdlib sqlite3 connection, on the event loop's thread.

    Why on the loop: a hop to a worker thread per batch cost more than the commit itself. The
    worker thread needs the GIL back after every SQLite call while the loop keeps it busy, so
    under load each batch waited for forced GIL switches (5 ms apiece) and the two threads
    traded the GIL through the kernel: in process, ``audit.mode: sync`` cost about 300 µs of
    CPU per request more this way than committing inline (bench/README.md).

    What keeps the loop from blocking:

    - No waiting for a lock: ``busy_timeout`` is 0 on this connection. When another connection
      holds the write lock (an admin change, an accounting flush, another worker process),
      the transaction fails at once with SQLITE_BUSY before writing anything; the writer tries
      again a few times within about 8 ms (``asyncio.sleep`` in between: another worker's
      commit holds the lock for a fraction of a millisecond), then commits that batch from the
      worker thread, which may wait for the lock.
    - No fsync: WAL with ``synchronous=NORMAL`` (as every Socle connection) appends to the WAL
      file in the page cache; a committed transaction survives a crash of the process.
    - No checkpoint inside a commit: the automatic checkpoint is off on this connection (it
      fsyncs and copies pages into the database file). Instead, at most every
      ``background_every_s`` after a commit, a PASSIVE checkpoint runs on a second connection in
      the worker thread while commits go on, copying what the WAL holds into the database. A
      WAL that only grows would never restart, though (it restarts when a write begins with
      every frame copied), so once it holds (:class:`WalIndex`, read after every commit)
      ``checkpoint_bytes`` the writer commits nothing until one more checkpoint completes: that
      pause only copies what came since the last background pass, and the next commit writes
      the WAL again from its beginning. The WAL stays bounded.
    """

    _RECORDS = _insert("audit_records", RECORD_COLUMNS, "qmark")
    _CHECKPOINT = _insert("audit_checkpoints", CHECKPOINT_COLUMNS, "qmark")
    _ADVANCE = (
        "UPDATE audit_chains SET head_seq = ?, head_hash = ?, updated_at = ?"
        " WHERE name = ? AND head_seq = ?"
    )
    _WAIT_MS = 10_000  # how long the worker thread waits for another connection's write lock

    def __init__(
        self,
        path: str,
        checkpoint_bytes: int = WAL_CHECKPOINT_BYTES,
        background_every_s: float = BACKGROUND_CHECKPOINT_S,
    ) -> None:
        self._path = path
        self._checkpoint_bytes = checkpoint_bytes
        self._background_every_s = background_every_s
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="audit-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._checkpointer: sqlite3.Connection | None = None  # used in the worker thread only
        self._budget = 0  # WAL frames that make the writer pause for a checkpoint (page size known)
        self._limit = 0
        self._frames = 0  # WAL frames at the last checkpoint's count
        self._background: asyncio.Future[tuple[int, int, int]] | None = None
        self._background_at = 0.0
        self._index = WalIndex(path)
        self._restart_due = False  # a checkpoint completed: the next commit restarts the WAL
        self.busy_retries = 0  # commits tried again because another connection held the lock
        self.busy_fallbacks = 0  # batches committed from the thread (another writer held the lock)
        self.checkpoints = 0  # checkpoints the writer paused for

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        for pragma in SQLITE_JOURNAL_PRAGMAS:  # as every connection to the file
            conn.execute(pragma)
        conn.execute("PRAGMA busy_timeout=0")
        conn.execute("PRAGMA wal_autocheckpoint=0")
        return conn

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = self._open()
            # The file keeps its size between restarts of the WAL (no truncation to pay for),
            # unless a long pause of the checkpoints let it grow past the budget.
            conn.execute(f"PRAGMA journal_size_limit={self._checkpoint_bytes}")
            (page,) = conn.execute("PRAGMA page_size").fetchone()
            self._budget = self._limit = max(1, self._checkpoint_bytes // page)
            self._conn = conn
        return self._conn

    def _commit(
        self,
        chain: str,
        expected_seq: int,
        rows: list[Row],
        head: tuple[int, str],
        now: float,
        checkpoint: CheckpointRow | None,
    ) -> None:
        conn = self._connection()
        # IMMEDIATE takes the write lock first, so the transaction never fails half-way on it.
        conn.execute("BEGIN IMMEDIATE")
        try:
            moved = conn.execute(self._ADVANCE, (head[0], head[1], now, chain, expected_seq))
            if moved.rowcount != 1:
                raise HeadMoved
            if rows:
                conn.executemany(self._RECORDS, rows)
            if checkpoint is not None:
                conn.execute(self._CHECKPOINT, tuple(checkpoint.as_row().values()))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _commit_waiting(self, *args: Any) -> None:
        """``_commit`` from the worker thread, waiting for another connection's write lock."""
        conn = self._connection()
        conn.execute(f"PRAGMA busy_timeout={self._WAIT_MS}")
        try:
            self._commit(*args)
        finally:
            conn.execute("PRAGMA busy_timeout=0")

    @staticmethod
    def _checkpoint_on(conn: sqlite3.Connection) -> tuple[int, int, int]:
        """PASSIVE checkpoint: (busy, frames in the WAL, frames copied into the database)."""
        busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return busy, frames, copied

    def _background_checkpoint(self) -> tuple[int, int, int]:
        if self._checkpointer is None:
            self._checkpointer = self._open()
        return self._checkpoint_on(self._checkpointer)

    def _final_checkpoint(self) -> tuple[int, int, int]:
        return self._checkpoint_on(self._connection())

    async def commit(
        self,
        chain: str,
        expected_seq: int,
        rows: list[Row],
        head: tuple[int, str],
        now: float,
        checkpoint: CheckpointRow | None,
    ) -> None:
        args = (chain, expected_seq, rows, head, now, checkpoint)
        loop = asyncio.get_running_loop()
        for delay in (*_BUSY_RETRY_S, None):
            try:
                self._commit(*args)
                break
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # extended codes too
                    raise
            if delay is not None:
                # Another writer's commits (a second worker process) hold the lock for a
                # fraction of a millisecond: try again soon, without blocking the loop.
                self.busy_retries += 1
                await asyncio.sleep(delay)
        else:
            # Still locked (a long transaction elsewhere): wait for it in the worker thread.
            self.busy_fallbacks += 1
            await loop.run_in_executor(self._executor, self._commit_waiting, *args)
        await self._after_commit(loop)

    async def _after_commit(self, loop: asyncio.AbstractEventLoop) -> None:
        frames = self._index.frames()
        if frames is not None:
            self._frames = frames  # else: as the last background checkpoint counted them
        if self._restart_due:
            self._restart_due = False
            if self._frames >= self._limit:
                # A reader began before this commit and kept the WAL from restarting.
                self._limit = self._frames + self._budget // 4
        if self._frames >= self._limit:
            await self._pause_for_checkpoint(loop)
            return
        moment = time.monotonic()
        if self._background is None and moment - self._background_at >= self._background_every_s:
            self._background_at = moment
            background = loop.run_in_executor(self._executor, self._background_checkpoint)
            background.add_done_callback(self._background_done)
            self._background = background

    def _background_done(self, future: asyncio.Future[tuple[int, int, int]]) -> None:
        self._background = None
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            log.warning("audit: background WAL checkpoint failed", exc_info=error)
            return
        self._frames = future.result()[1]

    async def _pause_for_checkpoint(self, loop: asyncio.AbstractEventLoop) -> None:
        """Checkpoint with no commit in between, so the WAL restarts at the next commit."""
        await self._background_finished()
        busy, frames, copied = await loop.run_in_executor(self._executor, self._final_checkpoint)
        self.checkpoints += 1
        if busy or copied < frames:
            # A reader still uses older frames: try again after another share of the budget.
            self._frames = frames
            self._limit = frames + self._budget // 4
        else:
            self._frames = 0
            self._limit = self._budget
            self._restart_due = True

    def _close(self) -> None:
        for conn in (self._conn, self._checkpointer):
            if conn is not None:
                conn.close()
        self._conn = self._checkpointer = None
        self._index.close()

    async def _background_finished(self) -> None:
        """Wait for a background checkpoint in progress (its failure is logged when it ends)."""
        if self._background is not None:
            with contextlib.suppress(Exception):
                await self._background

    async def close(self) -> None:
        await self._background_finished()
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)


class EngineStore:
    """Commits through the async engine (asyncpg for PostgreSQL)."""

    def __init__(self, database: Database) -> None:
        self._db = database
        style = database.engine.dialect.paramstyle
        self._records = _insert("audit_records", RECORD_COLUMNS, style)
        self._checkpoint = _insert("audit_checkpoints", CHECKPOINT_COLUMNS, style)

    async def commit(
        self,
        chain: str,
        expected_seq: int,
        rows: list[Row],
        head: tuple[int, str],
        now: float,
        checkpoint: CheckpointRow | None,
    ) -> None:
        async with self._db.engine.begin() as conn:
            # The compare-and-set comes first: on PostgreSQL it takes the chain row's lock, so
            # two writers of one chain serialise here instead of failing on the unique index.
            moved = await conn.execute(
                update(AuditChain)
                .where(AuditChain.name == chain, AuditChain.head_seq == expected_seq)
                .values(head_seq=head[0], head_hash=head[1], updated_at=now)
            )
            if moved.rowcount != 1:
                raise HeadMoved
            if rows:
                await conn.exec_driver_sql(self._records, rows)
            if checkpoint is not None:
                await conn.exec_driver_sql(self._checkpoint, tuple(checkpoint.as_row().values()))

    async def close(self) -> None:
        return None


_PG_TYPES = {
    "seq": "bigint",
    "ts": "float8",
    "status": "int",
    "body": "text",
    "content": "bytea",
}
_CP_TYPES = {"seq": "bigint", "ts": "float8", "body": "text"}


def _pg_commit_sql() -> str:
    n = 5
    arrays = []
    for column in RECORD_COLUMNS:
        n += 1
        arrays.append(f"${n}::{_PG_TYPES.get(column, 'varchar')}[]")
    checkpoint = []
    for column in CHECKPOINT_COLUMNS:
        n += 1
        checkpoint.append(f"${n}::{_CP_TYPES.get(column, 'varchar')}")
    return (
        "WITH moved AS (UPDATE audit_chains SET head_seq = $1, head_hash = $2, updated_at = $3"  # noqa: S608
        " WHERE name = $4 AND head_seq = $5 RETURNING 1),"
        f" records AS (INSERT INTO audit_records ({', '.join(RECORD_COLUMNS)})"
        f" SELECT * FROM unnest({', '.join(arrays)}) WHERE EXISTS (SELECT 1 FROM moved)),"
        f" checkpoint AS (INSERT INTO audit_checkpoints ({', '.join(CHECKPOINT_COLUMNS)})"
        f" SELECT {', '.join(checkpoint)} WHERE {checkpoint[0]} IS NOT NULL"
        " AND EXISTS (SELECT 1 FROM moved))"
        " SELECT count(*) FROM moved"
    )


class PostgresStore:
    """Commits with one prepared statement on a dedicated asyncpg connection (autocommit)."""

    _SQL = _pg_commit_sql()
    _NO_CHECKPOINT = (None,) * len(CHECKPOINT_COLUMNS)

    def __init__(self, url: str) -> None:
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
        self._conn: Any = None
        self._statement: Any = None

    async def _prepared(self) -> Any:
        if self._conn is None or self._conn.is_closed():
            import asyncpg  # type: ignore[import-untyped]

            self._conn = await asyncpg.connect(self._dsn)
            self._statement = await self._conn.prepare(self._SQL)
        return self._statement

    async def commit(
        self,
        chain: str,
        expected_seq: int,
        rows: list[Row],
        head: tuple[int, str],
        now: float,
        checkpoint: CheckpointRow | None,
    ) -> None:
        statement = await self._prepared()
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(RECORD_COLUMNS)
        cp = tuple(checkpoint.as_row().values()) if checkpoint else self._NO_CHECKPOINT
        try:
            moved = await statement.fetchval(
                head[0], head[1], now, chain, expected_seq, *columns, *cp
            )
        except BaseException:
            # A failed or cancelled statement may leave the connection in any state: start over.
            conn, self._conn, self._statement = self._conn, None, None
            if conn is not None:
                conn.terminate()
            raise
        if moved != 1:
            raise HeadMoved

    async def close(self) -> None:
        conn, self._conn, self._statement = self._conn, None, None
        if conn is not None and not conn.is_closed():
            await conn.close(timeout=5)
