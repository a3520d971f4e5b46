"""GDPR erasure by crypto-shredding, and retention by whole segments: the chain still verifies."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest

from socle.audit.errors import ContentErased
from socle.store.database import Database
from tests.integration.audit.support import execute, request, rows, running_audit


async def test_content_is_encrypted_and_readable(db: Database, tmp_path: Path) -> None:
    async with running_audit(db, tmp_path) as audit:
        record = request()
        secret = "Mon IBAN est FR7630006000011234567890189"
        await audit.append(record, content={"prompt": secret}, subject="alice")
        (row,) = await rows(db, "SELECT seq, body, content FROM audit_records")
        assert secret.encode() not in bytes(row.content)
        assert "FR76" not in row.body
        assert await audit.read_content(audit.chain or "", row.seq) == {"prompt": secret}


async def test_erasure_shreds_only_that_subject(db: Database, tmp_path: Path) -> None:
    async with running_audit(db, tmp_path) as audit:
        chain = audit.chain or ""
        await audit.append(request(user="alice"), content={"prompt": "a1"}, subject="alice")
        await audit.append(request(user="bob"), content={"prompt": "b1"}, subject="bob")
        await audit.append(request(user="alice"), content={"prompt": "a2"}, subject="alice")

        assert await audit.erase_subject("alice", actor="dpo@example.org") == 1

        for seq in (1, 3):
            with pytest.raises(ContentErased):
                await audit.read_content(chain, seq)
        assert await audit.read_content(chain, 2) == {"prompt": "b1"}
        # New content of the same subject gets a new key, readable until the next erasure.
        await audit.append(request(user="alice"), content={"prompt": "a3"}, subject="alice")
        (admin,) = await rows(db, "SELECT seq, body FROM audit_records WHERE kind = 'admin'")
        assert await audit.read_content(chain, admin.seq + 1) == {"prompt": "a3"}

    # The key is gone from the table, not just flagged: no stored bytes can decrypt record 1.
    keys = await rows(db, "SELECT wrapped FROM audit_content_keys WHERE erased_at IS NOT NULL")
    assert [k.wrapped for k in keys] == [None]

    # The erasure is itself audited (with the subject hashed), and the chain still verifies.
    details = orjson.loads(admin.body)
    assert details["action"] == "audit.erase_subject" and details["actor"] == "dpo@example.org"
    assert "alice" not in admin.body and details["details"] == {"keys_destroyed": 1}
    report = await audit.verify()
    assert report.ok, report.first_problem


async def test_purge_keeps_the_anchor_and_the_rest_verifies(db: Database, tmp_path: Path) -> None:
    async with running_audit(db, tmp_path, checkpoint_every=10) as audit:
        for _ in range(25):
            await audit.append(request())
        cut = time.time()
        for _ in range(12):
            await audit.append(request())
        # Checkpoints at 10 and 20 were signed before the cut; 30 after.
        plan = await audit.purge(actor="retention", before=cut)
        assert plan.through == {audit.chain: 20} and plan.total == 20

        remaining = await rows(db, "SELECT min(seq) AS low FROM audit_records")
        assert remaining[0].low == 21
        kept = await rows(db, "SELECT seq FROM audit_checkpoints ORDER BY seq")
        assert [k.seq for k in kept][:2] == [20, 30]

        report = await audit.verify()
        assert report.ok, report.first_problem
        assert report.chains[0].anchored_at == 20
        (purge,) = await rows(db, "SELECT body FROM audit_records WHERE kind = 'admin'")
        assert orjson.loads(purge.body)["details"]["records"] == 20


async def test_deleting_beyond_the_anchor_is_still_detected(db: Database, tmp_path: Path) -> None:
    async with running_audit(db, tmp_path, checkpoint_every=10) as audit:
        for _ in range(25):
            await audit.append(request())
        await audit.purge(before=time.time())
        await execute(db, "DELETE FROM audit_records WHERE seq = 21")
        report = await audit.verify()
        problem = report.first_problem
        assert problem is not None and problem.kind == "deleted" and problem.seq == 21
