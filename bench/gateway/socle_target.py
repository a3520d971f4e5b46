"""Socle under test: SQLite in a fresh data directory, or PostgreSQL + Redis on a bench database.

Started with the installed ``socle serve`` command. The PostgreSQL run uses its own database
(``socle_bench_w<workers>``, dropped and recreated before each start, never the ``test``
database) and its own Redis database index (7 for one worker, 8 for two; flushed before each
start).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.gateway.procs import Service, ServiceGroup, free_port, merged_env

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


@dataclass(frozen=True)
class SocleBackend:
    """Where Socle keeps its state for one run."""

    name: str  # "sqlite" or "pg"
    pg_database: str = "socle_bench"
    redis_db: int = 7

    @classmethod
    def for_system(cls, system: str, workers: int) -> SocleBackend:
        """The backend of ``socle-sqlite`` / ``socle-pg`` with ``workers`` workers.

        Instances run side by side, so each PostgreSQL one gets its own database
        (``socle_bench_w<N>``) and Redis index (6 + N).
        """
        if system == "socle-pg":
            return cls("pg", pg_database=f"socle_bench_w{workers}", redis_db=6 + workers)
        return cls("sqlite")

    @property
    def database_url(self) -> str | None:
        """SOCLE_DATABASE_URL, None for the default SQLite file in SOCLE_HOME."""
        if self.name == "sqlite":
            return None
        return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.pg_database}"

    @property
    def redis_url(self) -> str | None:
        """SOCLE_REDIS_URL, None for in-process counters."""
        return (
            None if self.name == "sqlite" else f"redis://{REDIS_HOST}:{REDIS_PORT}/{self.redis_db}"
        )


class SocleUnavailable(RuntimeError):
    """Socle cannot run here; the message says why and what to do."""


def socle_command() -> str:
    """Path of the ``socle`` command if it runs, else raise :class:`SocleUnavailable`."""
    path = shutil.which("socle")
    if path is None:
        raise SocleUnavailable("no `socle` command on PATH (pip install -e . in the repository)")
    done = subprocess.run(
        [path, "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:]
        raise SocleUnavailable(f"`socle --version` fails: {' '.join(last) or done.returncode}")
    return path


def _env(backend: SocleBackend, home: Path, config: Path, admin_key: str) -> dict[str, str | None]:
    return {
        "SOCLE_HOME": str(home),
        "SOCLE_CONFIG": str(config),
        "SOCLE_BOOTSTRAP_ADMIN_KEY": admin_key,
        "SOCLE_DATABASE_URL": backend.database_url,
        "SOCLE_REDIS_URL": backend.redis_url,
    }


def check_config(command: str, backend: SocleBackend, home: Path, config: Path, key: str) -> None:
    """Run ``socle config check``; raise :class:`SocleUnavailable` with its message on failure."""
    done = subprocess.run(
        [command, "config", "check"],
        capture_output=True,
        text=True,
        env=merged_env(_env(backend, home, config, key)),
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise SocleUnavailable(
            f"`socle config check` rejects {config}: {(done.stderr or done.stdout).strip()}\n"
            "adjust bench/gateway/socle_config.py or pass --socle-config-extra"
        )


def reset_state(backend: SocleBackend, home: Path) -> None:
    """Empty data directory; for ``pg``, a recreated database and a flushed Redis index."""
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    if backend.name == "pg":
        asyncio.run(_recreate_database(backend.pg_database))
        _flush_redis(backend.redis_db)


async def _recreate_database(name: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    if not name.replace("_", "").isalnum() or name in {"test", "postgres"}:
        raise ValueError(f"refusing to drop database {name!r}")
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def _flush_redis(index: int) -> None:
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=index, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


def start_socle(
    group: ServiceGroup,
    command: str,
    *,
    name: str,
    backend: SocleBackend,
    workers: int,
    home: Path,
    config: Path,
    admin_key: str,
) -> tuple[Service, str]:
    """Reset state, start ``socle serve`` and wait for /readyz; returns (service, origin)."""
    reset_state(backend, home)
    port = free_port()
    argv = [command, "serve", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--workers", str(workers)]
    service = group.start(name, argv, env=_env(backend, home, config, admin_key), cwd=home)
    origin = f"http://127.0.0.1:{port}"
    service.wait_http(f"{origin}/readyz", timeout=120)
    return service, origin
