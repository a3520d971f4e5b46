"""Crash test of the gateway: SIGKILL under concurrent load, restart, nothing acknowledged lost.

A real ``socle serve`` process (simulator upstream) takes concurrent chat requests; the client
logs the id of every request that got a 200. The server is killed with SIGKILL mid-run, restarted
on the same data directory and database, loaded again, then stopped cleanly. Every acknowledged
request must have its audit record, and every chain must verify. SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from socle.audit.config import AuditConfig
from socle.audit.keys import load_signer, load_trusted_keys
from socle.store.database import Database
from tests.integration.audit.crash_helpers import (
    AckLog,
    HttpLoad,
    missing_records,
    read_acks,
    verify_database,
    wait_for_acks,
)
from tests.support.databases import create_pg_database, drop_pg_database
from tests.support.server import SocleServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def gateway_db_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database for the server, which migrates it itself (no create_all tables here)."""
    if db_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'home' / 'socle.db'}"
        return
    name, url = asyncio.run(create_pg_database())
    try:
        yield url
    finally:
        asyncio.run(drop_pg_database(name))


def test_gateway_sigkill_loses_no_acknowledged_request(gateway_db_url: str, tmp_path: Path) -> None:
    db_url = gateway_db_url
    home = tmp_path / "home"
    config = {"database_url": db_url, "audit": {"replica_name": "gw-crash"}}
    acks_path = tmp_path / "acks.log"
    acks = AckLog(acks_path)
    server = SocleServer(home, config).start()
    try:
        key = server.create_key()["key"]
        load = HttpLoad(server.base_url, key, acks, prefix="life1").start()
        try:
            wait_for_acks(acks_path, 400, timeout=120)
            server.kill()  # SIGKILL with requests in flight
        finally:
            load.stop()
        first_life = len(read_acks(acks_path))

        server.start()  # same home, database and replica name: the chain continues
        load = HttpLoad(server.base_url, key, acks, prefix="life2").start()
        try:
            wait_for_acks(acks_path, first_life + 150, timeout=120)
        finally:
            load.stop()
    finally:
        server.stop()
        acks.close()

    acked = read_acks(acks_path)
    assert len(acked) >= first_life + 150

    async def check() -> None:
        database = Database(db_url)
        try:
            missing = await missing_records(database, acked)
            assert not missing, f"{len(missing)} acknowledged requests have no record"
            trusted = load_trusted_keys(AuditConfig(), load_signer(AuditConfig(), home))
            report = await verify_database(database, trusted)
            assert report.ok, report.first_problem
            assert [c.name for c in report.chains if c.records] == ["gw-crash"]
        finally:
            await database.dispose()

    asyncio.run(check())
