"""``socle audit`` commands against a real database: verify, export (offline verify), keys, erase.

These tests are synchronous: the commands run their own event loop, as they do in a shell.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from socle.audit.keys import public_pem
from socle.audit.log import AuditLog
from socle.cli.audit import app
from socle.store.database import Database
from tests.integration.audit.support import (
    create_audit_tables,
    empty_audit_tables,
    execute,
    request,
    running_audit,
)

runner = CliRunner()


def with_audit(url: str, home: Path, work: Callable[[AuditLog, Database], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        db = Database(url)
        try:
            async with running_audit(db, home, replica_name="cli-test", checkpoint_every=5) as log:
                return await work(log, db)
        finally:
            await db.dispose()

    return asyncio.run(go())


@pytest.fixture
def setup(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A config file, an empty database with 12 records in it; returns (config, home)."""
    for name in ("SOCLE_CONFIG", "SOCLE_HOME", "SOCLE_DATABASE_URL", "SOCLE_AUDIT_SIGNING_KEY"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    config = tmp_path / "socle.yaml"
    config.write_text(yaml.safe_dump({"home": str(home), "database_url": db_url}))

    async def prepare() -> None:
        db = Database(db_url)
        try:
            await create_audit_tables(db)
            await empty_audit_tables(db)
        finally:
            await db.dispose()

    asyncio.run(prepare())

    async def fill(log: AuditLog, db: Database) -> None:
        for _ in range(12):
            await log.append(request(), content={"prompt": "hello"}, subject="alice")

    with_audit(db_url, home, fill)
    return config, home


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_verify_passes_then_names_the_tampering(setup: tuple[Path, Path], db_url: str) -> None:
    config, home = setup
    result = invoke("verify", "-c", str(config))
    assert result.exit_code == 0, result.output
    assert "verified 12 records" in result.stdout

    async def tamper(log: AuditLog, db: Database) -> None:
        await log.stop()
        await execute(db, "UPDATE audit_records SET model = 'other' WHERE seq = 4")

    with_audit(db_url, home, tamper)
    result = invoke("verify", "-c", str(config))
    assert result.exit_code == 1
    assert "chain cli-test at seq 4: altered" in " ".join(result.stderr.split())

    result = invoke("verify", "-c", str(config), "--json")
    assert result.exit_code == 1
    body = orjson.loads(result.stdout)
    assert body["ok"] is False
    assert body["chains"][0]["problem"]["kind"] == "altered"


def test_export_verifies_offline(setup: tuple[Path, Path], db_url: str, tmp_path: Path) -> None:
    config, home = setup
    pub = tmp_path / "audit.pub"
    assert invoke("keys", "show", "-c", str(config), "--out", str(pub)).exit_code == 0
    assert pub.read_text().startswith("-----BEGIN PUBLIC KEY-----")

    time.sleep(0.05)
    middle = datetime.now(UTC).isoformat()

    async def more(log: AuditLog, db: Database) -> None:
        for _ in range(12):
            await log.append(request())

    with_audit(db_url, home, more)
    export = tmp_path / "audit.jsonl"
    result = invoke(
        "export", "-c", str(config), "--from", middle, "--format", "jsonl", "-o", str(export)
    )
    assert result.exit_code == 0, result.output
    lines = [orjson.loads(line) for line in export.read_bytes().splitlines()]
    records = [line for line in lines if line["type"] == "record"]
    # Whole segments: from the checkpoint at or before --from (seq 12, the first life's stop).
    assert [r["seq"] for r in records] == list(range(13, 25))
    assert lines[0]["public_keys"] == [pub.read_text()]

    result = invoke("verify", "--file", str(export), "--public-key", str(pub))
    assert result.exit_code == 0, result.output

    # Another key: the export's checkpoints are no longer trusted.
    stranger = tmp_path / "stranger.pub"
    stranger.write_text(public_pem(Ed25519PrivateKey.generate().public_key()))
    result = invoke("verify", "--file", str(export), "--public-key", str(stranger))
    assert result.exit_code == 1 and "unknown_key" in result.stderr

    # One edited record in the file.
    edited = [
        {**line, "body": line["body"].replace('"status":200', '"status":404')}
        if line.get("seq") == 15 and line["type"] == "record"
        else line
        for line in lines
    ]
    export.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in edited))
    result = invoke("verify", "--file", str(export), "--public-key", str(pub))
    assert result.exit_code == 1
    assert "seq 15: altered" in " ".join(result.stderr.split())


def test_erase_and_purge(setup: tuple[Path, Path], db_url: str) -> None:
    config, _home = setup
    result = invoke("erase", "alice", "-c", str(config))
    assert result.exit_code == 0, result.output
    assert "destroyed 1 content key" in result.stdout
    result = invoke("purge", "-c", str(config), "--older-than-days", "1", "--dry-run")
    assert result.exit_code == 0 and "would delete 0 records" in result.stdout
    result = invoke("verify", "-c", str(config))
    assert result.exit_code == 0, result.output


def test_keys_generate(tmp_path: Path) -> None:
    target = tmp_path / "new.pem"
    result = invoke("keys", "generate", "--out", str(target))
    assert result.exit_code == 0
    assert target.stat().st_mode & 0o777 == 0o600
    assert result.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    assert invoke("keys", "generate", "--out", str(target)).exit_code == 2
