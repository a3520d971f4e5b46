"""The tamper matrix: every kind of tampering is detected by verify, and named."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from socle.audit.canonical import canonical, chain_hash
from socle.audit.keys import Signer
from socle.audit.log import AuditLog
from socle.audit.verify import Tamper
from socle.store.database import Database
from tests.integration.audit.support import (
    bodies_of,
    execute,
    request,
    rewrite_chain,
    rows,
    running_audit,
)

CHAIN = "tamper"


@pytest.fixture
async def audit(db: Database, tmp_path: Path) -> AsyncIterator[AuditLog]:
    """35 records appended one by one: checkpoints signed at seq 10, 20 and 30; 31..35 unsigned."""
    async with running_audit(
        db, tmp_path, replica_name=CHAIN, checkpoint_every=10, checkpoint_interval_s=3600
    ) as log:
        for _ in range(35):
            await log.append(request())
        yield log


async def first_problem(audit: AuditLog) -> tuple[Tamper, int]:
    report = await audit.verify()
    problem = report.first_problem
    assert problem is not None, "tampering went unnoticed"
    assert problem.chain == CHAIN
    return problem.kind, problem.seq


async def test_untouched_chain_verifies(audit: AuditLog, db: Database) -> None:
    report = await audit.verify()
    assert report.ok, report.first_problem
    (chain,) = report.chains
    assert (chain.records, chain.first_seq, chain.last_seq) == (35, 1, 35)
    assert chain.checkpoints == 3 and chain.unsigned_tail == 5
    checkpoints = await rows(db, "SELECT seq FROM audit_checkpoints ORDER BY seq")
    assert [r.seq for r in checkpoints] == [10, 20, 30]


async def test_changed_field_in_body(audit: AuditLog, db: Database) -> None:
    changed = await execute(
        db,
        "UPDATE audit_records SET body = replace(body, :old, :new) WHERE seq = 5",
        old='"status":200',
        new='"status":201',
    )
    assert changed == 1
    assert await first_problem(audit) == (Tamper.ALTERED, 5)


async def test_changed_column(audit: AuditLog, db: Database) -> None:
    await execute(db, "UPDATE audit_records SET project_id = 'proj_b' WHERE seq = 12")
    assert await first_problem(audit) == (Tamper.ALTERED, 12)


async def test_deleted_record(audit: AuditLog, db: Database) -> None:
    await execute(db, "DELETE FROM audit_records WHERE seq = 7")
    assert await first_problem(audit) == (Tamper.DELETED, 7)


async def test_deleted_first_records(audit: AuditLog, db: Database) -> None:
    await execute(db, "DELETE FROM audit_records WHERE seq <= 3")
    assert await first_problem(audit) == (Tamper.DELETED, 1)


async def test_swapped_records(audit: AuditLog, db: Database) -> None:
    await execute(db, "UPDATE audit_records SET seq = -1 WHERE seq = 5")
    await execute(db, "UPDATE audit_records SET seq = 5 WHERE seq = 6")
    await execute(db, "UPDATE audit_records SET seq = 6 WHERE seq = -1")
    assert await first_problem(audit) == (Tamper.REORDERED, 5)


async def _forge(db: Database, seq: int, prev_hash: str) -> None:
    body = {**request(), "chain": CHAIN, "seq": seq, "v": 1, "ts": 1.0, "request_id": "forged"}
    raw = canonical(body)
    await execute(
        db,
        "INSERT INTO audit_records (chain, seq, ts, kind, request_id, project_id, key_id, model,"
        " status, body, prev_hash, hash) VALUES (:c, :seq, 1.0, 'request', 'forged', 'proj_a',"
        " 'key_a', 'chat-small', 200, :body, :prev, :hash)",
        c=CHAIN,
        seq=seq,
        body=raw.decode(),
        prev=prev_hash,
        hash=chain_hash(prev_hash, raw),
    )


async def test_inserted_forged_record(audit: AuditLog, db: Database) -> None:
    (fifth,) = await rows(db, "SELECT hash FROM audit_records WHERE seq = 5")
    # Make room at seq 6, then insert a self-consistent record chained to record 5.
    await execute(db, "UPDATE audit_records SET seq = seq + 1000 WHERE seq >= 6")
    await execute(db, "UPDATE audit_records SET seq = seq - 999 WHERE seq >= 1006")
    await _forge(db, 6, fifth.hash)
    assert await first_problem(audit) == (Tamper.INSERTED, 7)


async def test_replaced_record(audit: AuditLog, db: Database) -> None:
    (fourth,) = await rows(db, "SELECT hash FROM audit_records WHERE seq = 4")
    await execute(db, "DELETE FROM audit_records WHERE seq = 5")
    await _forge(db, 5, fourth.hash)
    assert await first_problem(audit) == (Tamper.FORGED, 5)


async def test_record_added_after_the_head(audit: AuditLog, db: Database) -> None:
    (last,) = await rows(db, "SELECT hash FROM audit_records WHERE seq = 35")
    await _forge(db, 36, last.hash)
    assert await first_problem(audit) == (Tamper.INSERTED, 36)


async def test_inserted_record_with_the_rest_rehashed(audit: AuditLog, db: Database) -> None:
    bodies = await bodies_of(db, CHAIN)
    forged = {**bodies[5], "request_id": "forged", "status": 200}
    await rewrite_chain(db, CHAIN, [*bodies[:5], forged, *bodies[5:]])
    # Every record is consistent and linked: only the signed checkpoint shows the rewrite.
    assert await first_problem(audit) == (Tamper.CHECKPOINT_MISMATCH, 10)


async def test_truncated_after_a_checkpoint(audit: AuditLog, db: Database) -> None:
    await execute(db, "DELETE FROM audit_records WHERE seq > 20")
    assert await first_problem(audit) == (Tamper.TRUNCATED, 21)


async def test_truncated_after_the_last_checkpoint(audit: AuditLog, db: Database) -> None:
    await execute(db, "DELETE FROM audit_records WHERE seq > 30")
    assert await first_problem(audit) == (Tamper.TRUNCATED, 31)


async def test_truncated_with_its_checkpoints(audit: AuditLog, db: Database) -> None:
    await execute(db, "DELETE FROM audit_records WHERE seq > 15")
    await execute(db, "DELETE FROM audit_checkpoints WHERE seq > 15")
    assert await first_problem(audit) == (Tamper.TRUNCATED, 16)


async def test_replaced_checkpoint(audit: AuditLog, db: Database) -> None:
    (ninth,) = await rows(db, "SELECT hash FROM audit_records WHERE seq = 9")
    await execute(
        db,
        "UPDATE audit_checkpoints SET head_hash = :h, body = replace(body, head_hash, :h2)"
        " WHERE seq = 20",
        h=ninth.hash,
        h2=ninth.hash,
    )
    assert await first_problem(audit) == (Tamper.BAD_SIGNATURE, 20)


async def test_checkpoint_signature_swapped(audit: AuditLog, db: Database) -> None:
    (other,) = await rows(db, "SELECT signature FROM audit_checkpoints WHERE seq = 10")
    await execute(
        db, "UPDATE audit_checkpoints SET signature = :s WHERE seq = 20", s=other.signature
    )
    assert await first_problem(audit) == (Tamper.BAD_SIGNATURE, 20)


async def test_deleted_checkpoint(audit: AuditLog, db: Database) -> None:
    await execute(db, "DELETE FROM audit_checkpoints WHERE seq = 20")
    assert await first_problem(audit) == (Tamper.CHECKPOINT_MISSING, 30)


async def test_resigned_with_another_key(audit: AuditLog, db: Database) -> None:
    bodies = await bodies_of(db, CHAIN)
    bodies[3] = {**bodies[3], "status": 200, "cost": 0.0}
    attacker = Signer.from_key(Ed25519PrivateKey.generate())
    await rewrite_chain(db, CHAIN, bodies, resign_with=attacker)
    assert await first_problem(audit) == (Tamper.UNKNOWN_KEY, 10)


async def test_writer_refuses_a_tampered_chain_and_starts_another(
    audit: AuditLog, db: Database, tmp_path: Path
) -> None:
    await audit.stop()
    await execute(db, "DELETE FROM audit_records WHERE seq > 30")
    async with running_audit(db, tmp_path, replica_name=CHAIN) as second:
        assert second.chain == f"{CHAIN}-2"
        await second.append(request())
    report = await second.verify()
    by_name = {c.name: c for c in report.chains}
    assert by_name[f"{CHAIN}-2"].ok
    problem = by_name[CHAIN].problem
    assert problem is not None and problem.kind is Tamper.TRUNCATED
