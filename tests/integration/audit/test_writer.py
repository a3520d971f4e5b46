"""The group-commit writer: batching, resuming a chain, sharing a chain safely, async mode."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from socle.audit.config import AuditConfig
from socle.audit.errors import AuditUnavailable
from socle.audit.log import build_audit
from socle.store.database import Database
from tests.integration.audit.support import request, rows, running_audit


async def test_concurrent_appends_share_transactions(db: Database, tmp_path: Path) -> None:
    async with running_audit(db, tmp_path, commit_interval_ms=2, max_batch=256) as audit:
        await asyncio.gather(*(audit.append(request()) for _ in range(1000)))
        writer = audit.writer
        assert writer is not None
        assert writer.committed == 1000
        # 1000 concurrent appends, at most 256 per transaction: a handful of commits, not 1000.
        assert 4 <= writer.batches <= 20
    report = await audit.verify()
    assert report.ok and report.records == 1000


async def test_sync_append_returns_after_commit(db: Database, tmp_path: Path) -> None:
    async with running_audit(db, tmp_path) as audit:
        record = request()
        await audit.append(record)
        # Another connection sees it at once: it was committed before append returned.
        found = await rows(
            db, "SELECT seq FROM audit_records WHERE request_id = :r", r=record["request_id"]
        )
        assert [r.seq for r in found] == [1]


async def test_restart_resumes_the_chain(db: Database, tmp_path: Path) -> None:
    async with running_audit(db, tmp_path, replica_name="r1", checkpoint_every=5) as first:
        for _ in range(7):
            await first.append(request())
    async with running_audit(db, tmp_path, replica_name="r1", checkpoint_every=5) as second:
        assert second.chain == "r1"
        assert second.writer is not None and second.writer.head_seq == 7
        for _ in range(4):
            await second.append(request())
    report = await second.verify()
    assert report.ok, report.first_problem
    assert report.chains[0].records == 11
    # 5 by count, 7 when the first life stopped, 11 when the second did (fewer than 5 since 7).
    checkpoints = await rows(db, "SELECT seq FROM audit_checkpoints ORDER BY seq")
    assert [r.seq for r in checkpoints] == [5, 7, 11]


async def test_two_writers_on_one_name_never_fork(db: Database, tmp_path: Path) -> None:
    async with (
        running_audit(db, tmp_path, replica_name="shared") as one,
        running_audit(db, tmp_path, replica_name="shared") as two,
    ):
        # An explicit name is taken over at start: both write "shared", interleaved.
        assert one.chain == two.chain == "shared"
        await asyncio.gather(
            *(one.append(request()) for _ in range(200)),
            *(two.append(request()) for _ in range(200)),
        )
    report = await one.verify()
    assert report.ok, report.first_problem
    assert [(c.name, c.records) for c in report.chains] == [("shared", 400)]


async def test_default_names_do_not_collide(db: Database, tmp_path: Path) -> None:
    config = AuditConfig()
    first = build_audit(config, db, tmp_path, chain_base="host")
    second = build_audit(config, db, tmp_path, chain_base="host")
    await first.start()
    await second.start()
    try:
        # The first holds a live lease on "host"; the second takes the next free name.
        assert (first.chain, second.chain) == ("host", "host-2")
    finally:
        await first.stop()
        await second.stop()
    # A clean stop releases the lease: the next process resumes "host".
    third = build_audit(config, db, tmp_path, chain_base="host")
    await third.start()
    try:
        assert third.chain == "host"
    finally:
        await third.stop()


async def test_async_mode_commits_in_the_background(db: Database, tmp_path: Path) -> None:
    async with running_audit(db, tmp_path, mode="async", commit_interval_ms=5) as audit:
        records = [request() for _ in range(50)]
        for record in records:
            await audit.append(record)  # returns before the commit
        deadline = time.monotonic() + 5
        while audit.writer is not None and audit.writer.committed < 50:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
    found = await rows(db, "SELECT count(*) AS n FROM audit_records")
    assert found[0].n == 50


async def test_timer_checkpoint(db: Database, tmp_path: Path) -> None:
    async with running_audit(db, tmp_path, checkpoint_interval_s=0.2) as audit:
        await audit.append(request())
        await audit.append(request())
        await asyncio.sleep(0.6)
        found = await rows(db, "SELECT seq FROM audit_checkpoints")
        assert [r.seq for r in found] == [2]


async def test_off_mode_records_nothing(db: Database, tmp_path: Path) -> None:
    async with running_audit(db, tmp_path, mode="off") as audit:
        await audit.append(request())
        await audit.record_admin("alice", "key.create", "key:1")
    assert (await rows(db, "SELECT count(*) AS n FROM audit_records"))[0].n == 0


async def test_commit_failure_refuses_the_acknowledgement(db: Database, tmp_path: Path) -> None:
    async with running_audit(db, tmp_path) as audit:
        await audit.append(request())
        # The table is gone: the record cannot be committed, and append must say so.
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql("ALTER TABLE audit_records RENAME TO audit_records_away")
        try:
            with pytest.raises(AuditUnavailable):
                await asyncio.wait_for(audit.append(request()), timeout=30)
        finally:
            async with db.engine.begin() as conn:
                await conn.exec_driver_sql("ALTER TABLE audit_records_away RENAME TO audit_records")
        await audit.append(request())
    report = await audit.verify()
    assert report.ok, report.first_problem
    assert report.records == 2


async def test_writer_leaves_a_chain_another_process_claimed(db: Database, tmp_path: Path) -> None:
    audit = build_audit(AuditConfig(lease_s=1), db, tmp_path, chain_base="node")
    await audit.start()
    try:
        await audit.append(request())
        # Another process claims "node" (as it may once our lease has lapsed during a stall).
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql(
                "UPDATE audit_chains SET owner = 'elsewhere:1:beef' WHERE name = 'node'"
            )
        deadline = time.monotonic() + 5
        while audit.chain == "node":
            assert time.monotonic() < deadline, "the writer kept a chain it no longer owns"
            await asyncio.sleep(0.05)
        assert audit.chain == "node-2"
        await audit.append(request())
    finally:
        await audit.stop()
    report = await audit.verify()
    assert report.ok, report.first_problem
    assert sorted((c.name, c.records) for c in report.chains) == [("node", 1), ("node-2", 1)]
