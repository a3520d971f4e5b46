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
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.engine import make_url

from socle.audit.checkpoint import CheckpointRow
from socle.store.database import Database, is_sqlite
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

WAL_CHECKPOINT_BYTES = 16 * 1024 * 1024
"""WAL size at which the SQLite store checkpoints (about 2,000 requests' records)."""


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
      the transaction fails at once with SQLITE_BUSY before writing anything and that batch is
      committed from the worker thread, which may wait for the lock.
    - No fsync: WAL with ``synchronous=NORMAL`` (as every Socle connection) appends to the WAL
      file in the page cache; a committed transaction survives a crash of the process.
    - No checkpoint inside a commit: the automatic checkpoint is off on this connection (it
      fsyncs and copies pages into the database file). When the WAL file reaches
      ``checkpoint_bytes``, the writer checkpoints it from the worker thread and commits nothing
      meanwhile, so the checkpoint completes and the next commit restarts the WAL from its
      beginning (``journal_size_limit`` then trims the file): the WAL stays bounded.
    """

    _RECORDS = _insert("audit_records", RECORD_COLUMNS, "qmark")
    _CHECKPOINT = _insert("audit_checkpoints", CHECKPOINT_COLUMNS, "qmark")
    _ADVANCE = (
        "UPDATE audit_chains SET head_seq = ?, head_hash = ?, updated_at = ?"
        " WHERE name = ? AND head_seq = ?"
    )
    _WAIT_MS = 10_000  # how long the worker thread waits for another connection's write lock

    def __init__(self, path: str, checkpoint_bytes: int = WAL_CHECKPOINT_BYTES) -> None:
        self._path = path
        self._wal = f"{path}-wal"
        self._checkpoint_bytes = checkpoint_bytes
        self._next_checkpoint = checkpoint_bytes
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="audit-sqlite")
        self._conn: sqlite3.Connection | None = None
        self.busy_fallbacks = 0  # batches committed from the thread (another writer held the lock)
        self.checkpoints = 0

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            # The same journal settings as socle.store.database, for the same file.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=0")
            conn.execute("PRAGMA wal_autocheckpoint=0")
            # Trimmed to a quarter of the budget when the WAL restarts: its size then tells how
            # much the WAL holds (a restarted WAL is written again from its beginning).
            conn.execute(f"PRAGMA journal_size_limit={self._checkpoint_bytes // 4}")
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

    def _checkpoint(self) -> tuple[int, int, int]:
        busy, log_frames, done = (
            self._connection().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        )
        return busy, log_frames, done

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
        try:
            self._commit(*args)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # extended codes included
                raise
            self.busy_fallbacks += 1
            await loop.run_in_executor(self._executor, self._commit_waiting, *args)
        await self._maybe_checkpoint(loop)

    async def _maybe_checkpoint(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            size = os.stat(self._wal).st_size
        except OSError:
            return
        if size < self._next_checkpoint:
            return
        busy, log_frames, done = await loop.run_in_executor(self._executor, self._checkpoint)
        self.checkpoints += 1
        if busy or done < log_frames:
            # A reader still uses older frames: try again after another share of the budget
            # has been written rather than after every commit.
            self._next_checkpoint = size + self._checkpoint_bytes // 4
        else:
            self._next_checkpoint = self._checkpoint_bytes

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def close(self) -> None:
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
