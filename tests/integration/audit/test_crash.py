"""Crash test: a writer killed with SIGKILL under load loses no acknowledged record.

Two crash cycles on the same chain name: the restarted writer resumes the chain from the database,
and after the last kill every acknowledged request id has its record and the chain verifies.
"""

from __future__ import annotations

from pathlib import Path

from socle.store.database import Database
from tests.integration.audit.crash_helpers import (
    kill_hard,
    missing_records,
    read_acks,
    start_crash_writer,
    wait_for_acks,
)
from tests.integration.audit.support import request, rows, running_audit

CHAIN = "crashy"


async def test_acknowledged_records_survive_sigkill(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    acks = tmp_path / "acks.log"
    acknowledged = 0
    for cycle, target in enumerate((1500, 1500)):
        process = start_crash_writer(
            db_url, tmp_path, acks, chain=CHAIN, prefix=f"c{cycle}", concurrency=32
        )
        try:
            acknowledged = wait_for_acks(acks, acknowledged + target, timeout=90, process=process)
        finally:
            kill_hard(process)
        assert process.returncode == -9, "the writer must die by SIGKILL, mid-run"

    acked = read_acks(acks)
    assert len(acked) >= 3000
    assert not await missing_records(db, acked)

    # Both lives of the process wrote to the same chain, without a fork or a gap.
    (count,) = await rows(db, "SELECT count(*) AS n, max(seq) AS top FROM audit_records")
    assert count.n == count.top >= len(acked)
    async with running_audit(db, tmp_path, replica_name=CHAIN) as audit:
        assert audit.chain == CHAIN
        await audit.append(request())
    report = await audit.verify()
    assert report.ok, report.first_problem
    (chain,) = report.chains
    assert chain.name == CHAIN and chain.records == count.n + 1
