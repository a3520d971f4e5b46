"""Real databases for tests: a temporary SQLite file, or a fresh PostgreSQL database per test run.

PostgreSQL runs at 127.0.0.1:5432 (trust auth, user postgres). Each test session creates its own
database (``socle_t_<random>``) from the ``test`` database and drops it at the end, so parallel runs
and other suites never see each other's tables.
"""

from __future__ import annotations

import secrets
import socket

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_ADMIN_URL = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/test"


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def postgres_available() -> bool:
    return port_open(PG_HOST, PG_PORT)


def redis_available() -> bool:
    return port_open("127.0.0.1", 6379)


async def create_pg_database() -> tuple[str, str]:
    """Create a fresh database; returns (name, SQLAlchemy async URL)."""
    import asyncpg

    name = f"socle_t_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name, f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"


async def drop_pg_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
