"""Shared fixtures: real SQLite and PostgreSQL databases with the migrated schema."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

from socle.store import migrate
from socle.store.database import Database
from tests.support.databases import create_pg_database, drop_pg_database, postgres_available

T = TypeVar("T")


def _in_thread(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on its own loop in a thread (callable from inside a running loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (skipped when PostgreSQL is absent)."""
    if not postgres_available():
        pytest.skip("PostgreSQL is not running at 127.0.0.1:5432")
    name, url = _in_thread(create_pg_database())
    try:
        yield url
    finally:
        _in_thread(drop_pg_database(name))


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database: SQLite in a temp dir, then PostgreSQL (tables emptied)."""
    if request.param == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'socle.db'}")
    else:
        url = request.getfixturevalue("pg_url")
        db = Database(url)
    await migrate.upgrade(db)
    if request.param == "postgres":
        await truncate_all(db)
    try:
        yield db
    finally:
        await db.dispose()


async def truncate_all(db: Database) -> None:
    from sqlalchemy import text

    import socle.store.models.all  # noqa: F401
    from socle.store.base import Base

    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} CASCADE"))
