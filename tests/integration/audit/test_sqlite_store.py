"""The SQLite commit path: inline on the loop, never waiting for a lock there, WAL bounded."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from pathlib import Path

from socle.audit.store import SqliteStore
from socle.store.database import Database
from tests.integration.audit.support import create_audit_tables


def _row(seq: int, body: str = "x" * 900) -> tuple[object, ...]:
    return (
        "c",
        seq,
        time.time(),
        "request",
        f"req_{seq}",
        "p",
        "k",
        "m",
        200,
        body,
        "a",
        "b",
        None,
    )


async def _store(
    tmp_path: Path, checkpoint_bytes: int, background_every_s: float = 0.25
) -> tuple[SqliteStore, Path]:
    path = tmp_path / "audit.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await create_audit_tables(database)
    finally:
        await database.dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO audit_chains VALUES ('c', 0, 'g', 'me', 0.0, 0.0, 0.0)")
    store = SqliteStore(
        str(path), checkpoint_bytes=checkpoint_bytes, background_every_s=background_every_s
    )
    return store, path


async def test_a_locked_database_is_waited_for_off_the_loop(tmp_path: Path) -> None:
    store, path = await _store(tmp_path, checkpoint_bytes=1 << 30)
    await store.commit("c", 0, [_row(1)], (1, "h1"), time.time(), None)

    # Another connection takes the write lock and holds it for 300 ms.
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(5)
        conn.execute("COMMIT")
        conn.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    locked.wait(5)
    loop = asyncio.get_running_loop()
    loop.call_later(0.3, release.set)

    # The loop keeps running while the commit waits: ticks every 10 ms keep coming.
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while not release.is_set():
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    await store.commit("c", 1, [_row(2)], (2, "h2"), time.time(), None)
    waited = time.monotonic() - started
    await ticker
    holder.join()
    await store.close()

    assert waited >= 0.25, "the commit must have waited for the other writer"
    assert store.busy_fallbacks == 1 and store.busy_retries == 5
    assert ticks >= 15, "the event loop was blocked while the commit waited for the lock"
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT head_seq FROM audit_chains").fetchone() == (2,)
        assert conn.execute("SELECT count(*) FROM audit_records").fetchone() == (2,)


async def _commit_batches(store: SqliteStore, seq: int, batches: int, wal: str) -> tuple[int, int]:
    """Commit ``batches`` batches of 4 records after ``seq``; (new seq, largest WAL size)."""
    largest = 0
    for _ in range(batches):
        rows = [_row(seq + i + 1) for i in range(4)]
        await store.commit("c", seq, rows, (seq + 4, f"h{seq + 4}"), time.time(), None)
        seq += 4
        largest = max(largest, os.stat(wal).st_size)
        await asyncio.sleep(0)  # let background checkpoints report
    return seq, largest


async def test_the_wal_stays_bounded_under_continuous_commits(tmp_path: Path) -> None:
    budget = 256 * 1024
    # A background pass after every commit, so the test need not run for seconds.
    store, path = await _store(tmp_path, checkpoint_bytes=budget, background_every_s=0)
    seq, largest = await _commit_batches(store, 0, 400, f"{path}-wal")  # ~3 MB of records
    await store.close()

    # Without checkpoints the WAL would hold every page written (several MB).
    assert largest < 2 * budget, f"the WAL grew to {largest} bytes"
    assert store.checkpoints >= 5
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*), max(seq) FROM audit_records").fetchone() == (
            seq,
            seq,
        )


async def test_a_reader_holds_the_wal_back_only_while_it_reads(tmp_path: Path) -> None:
    budget = 256 * 1024
    store, path = await _store(tmp_path, checkpoint_bytes=budget, background_every_s=0)
    wal = f"{path}-wal"
    seq, _ = await _commit_batches(store, 0, 10, wal)

    # A long read keeps its snapshot: frames after it cannot be copied, the WAL must grow, and
    # the writer pauses for a checkpoint (which cannot finish) about every quarter budget.
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM audit_records").fetchone()
    seq, largest = await _commit_batches(store, seq, 200, wal)
    assert largest > 2 * budget
    assert store.checkpoints >= 2
    reader.execute("COMMIT")
    reader.close()

    # The reader gone, a checkpoint completes and the WAL restarts (and is trimmed).
    seq, _ = await _commit_batches(store, seq, 200, wal)
    trimmed = os.stat(wal).st_size
    await store.close()
    assert trimmed <= 2 * budget < largest
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM audit_records").fetchone() == (seq,)
