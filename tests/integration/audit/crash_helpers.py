"""Reusable pieces of crash tests: acknowledgement logs, hard kills, and the after-crash checks.

The pattern (used here with a bare writer process, and reusable with a server process):

1. start the process under load; each time a request is acknowledged (an append returned in
   ``sync`` mode, or an HTTP 200 arrived), its request id is appended to an :class:`AckLog`;
2. :func:`wait_for_acks` until enough are logged, then :func:`kill_hard` (SIGKILL, no cleanup);
3. restart, then :func:`missing_records` must be empty and :func:`verify_database` must pass.

:class:`HttpLoad` is the client side against a real server (``tests/support/server.py``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select

from socle.audit.keys import TrustedKeys
from socle.audit.sources import DatabaseSource
from socle.audit.verify import VerifyReport, verify_source
from socle.store.database import Database
from socle.store.models.audit import AuditRecord

REPO_ROOT = Path(__file__).resolve().parents[3]


class AckLog:
    """An append-only file of acknowledged request ids, one per line.

    Each id is written with a single ``write`` on an ``O_APPEND`` descriptor, so a line is either
    whole or (if the writer is killed mid-write) a partial last line that :func:`read_acks` drops.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def ack(self, request_id: str) -> None:
        os.write(self._fd, request_id.encode() + b"\n")

    def close(self) -> None:
        os.close(self._fd)


def read_acks(path: Path) -> list[str]:
    """The acknowledged ids (a partial last line, cut by a kill, is not an acknowledgement)."""
    if not path.exists():
        return []
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    return [line for line in complete.decode().splitlines() if line]


def count_acks(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def wait_for_acks(
    path: Path, count: int, *, timeout: float, process: subprocess.Popen[bytes] | None = None
) -> int:
    """Wait until ``count`` acknowledgements are logged; fails if the process dies first."""
    deadline = time.monotonic() + timeout
    while True:
        seen = count_acks(path)
        if seen >= count:
            return seen
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the process exited ({process.returncode}) after {seen} acks")
        if time.monotonic() > deadline:
            raise AssertionError(f"only {seen} of {count} acknowledgements in {timeout} s")
        time.sleep(0.02)


def kill_hard(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL: no finally blocks, no flush, no final checkpoint."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def python_env() -> dict[str, str]:
    """The environment for a child Python process that imports ``socle`` and ``tests``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCLE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def start_crash_writer(
    url: str,
    home: Path,
    acks: Path,
    *,
    chain: str,
    prefix: str,
    concurrency: int = 32,
    max_seconds: float = 60.0,
) -> subprocess.Popen[bytes]:
    """Start :mod:`tests.integration.audit.crash_writer` appending under concurrent load."""
    command = [
        sys.executable,
        "-m",
        "tests.integration.audit.crash_writer",
        "--url",
        url,
        "--home",
        str(home),
        "--acks",
        str(acks),
        "--chain",
        chain,
        "--prefix",
        prefix,
        "--concurrency",
        str(concurrency),
        "--max-seconds",
        str(max_seconds),
    ]
    log = (home / f"{prefix}.log").open("wb")
    return subprocess.Popen(command, cwd=REPO_ROOT, env=python_env(), stdout=log, stderr=log)


async def missing_records(
    database: Database, request_ids: Iterable[str], kinds: tuple[str, ...] | None = None
) -> list[str]:
    """The acknowledged ids with no audit record (of one of ``kinds``, if given)."""
    wanted = list(dict.fromkeys(request_ids))
    found: set[str] = set()
    async with database.engine.connect() as conn:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            stmt = select(AuditRecord.request_id).where(AuditRecord.request_id.in_(chunk))
            if kinds:
                stmt = stmt.where(AuditRecord.kind.in_(kinds))
            found.update(r for r in (await conn.execute(stmt)).scalars() if r is not None)
    return [r for r in wanted if r not in found]


async def verify_database(
    database: Database, trusted: TrustedKeys, chains: list[str] | None = None
) -> VerifyReport:
    """Verify the stored chains (all, or ``chains``) against ``trusted``."""
    return await verify_source(DatabaseSource(database), trusted, chains=chains)


class HttpLoad:
    """Concurrent chat requests from a background thread; each 200 is logged in an AckLog.

    Every request carries its own ``X-Request-Id``, which the gateway keeps as the audit record's
    request id. Connection errors (a killed server) are retried after a pause until :meth:`stop`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        acks: AckLog,
        *,
        prefix: str,
        concurrency: int = 32,
        model: str = "sim-small",
        max_seconds: float = 120.0,
    ) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.acks = acks
        self.prefix = prefix
        self.concurrency = concurrency
        self.model = model
        self.max_seconds = max_seconds
        self.statuses: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self) -> HttpLoad:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    async def _run(self) -> None:
        import httpx

        deadline = time.monotonic() + self.max_seconds
        headers = {"Authorization": f"Bearer {self.api_key}"}
        limits = httpx.Limits(max_connections=self.concurrency)
        async with httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=15, limits=limits
        ) as client:

            async def worker(number: int) -> None:
                sent = 0
                while not self._stop.is_set() and time.monotonic() < deadline:
                    request_id = f"{self.prefix}-{number}-{sent}"
                    sent += 1
                    body = {
                        "model": self.model,
                        "user": f"user{number % 4}",
                        "messages": [{"role": "user", "content": f"question {request_id}"}],
                    }
                    try:
                        response = await client.post(
                            "/v1/chat/completions", json=body, headers={"X-Request-Id": request_id}
                        )
                    except httpx.HTTPError:
                        await asyncio.sleep(0.05)
                        continue
                    status = response.status_code
                    self.statuses[status] = self.statuses.get(status, 0) + 1
                    if status == 200:
                        self.acks.ack(request_id)

            await asyncio.gather(*(worker(n) for n in range(self.concurrency)))
