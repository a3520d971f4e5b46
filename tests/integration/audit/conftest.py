"""Fixtures of the audit integration tests: a real SQLite file and a PostgreSQL database of our own.

The PostgreSQL database is created for this session and dropped at the end, so the audit tables
(created here with ``create_all``, not by migrations) never meet another suite's schema.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from socle.store.database import Database
from tests.integration.audit.support import create_audit_tables, empty_audit_tables
from tests.support.databases import create_pg_database, drop_pg_database, postgres_available


@pytest.fixture(scope="session")
async def audit_pg_url() -> AsyncIterator[str]:
    if not postgres_available():
        pytest.skip("PostgreSQL is not running at 127.0.0.1:5432")
    name, url = await create_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(name)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL: a SQLite file, then our PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
    url: str = request.getfixturevalue("audit_pg_url")
    return url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """That database with the audit tables, emptied."""
    database = Database(db_url)
    try:
        await create_audit_tables(database)
        await empty_audit_tables(database)
        yield database
    finally:
        await database.dispose()
