"""Throughput cost of the audit trail: the same HTTP endpoint with audit off, async and sync.

    python bench/audit_overhead.py [--seconds 10] [--concurrency 64] [--db sqlite,postgres]

For each database and mode, a server process (uvicorn, uvloop, httptools, one worker) serves
``POST /v1/chat/completions`` through the real pipeline runner with only the audit stage and a
canned answer (no upstream, so the audit's share is as large as it can be), and an aiohttp client
in this process keeps ``--concurrency`` requests in flight for ``--seconds`` after a warm-up.
Reported per mode (median of interleaved rounds): requests/s, latency p50/p99, the writer's mean
batch (records per transaction) and the server process's CPU time per request (user + system,
from /proc: steadier than requests/s on a shared machine, and on SQLite it includes the commit
work; PostgreSQL's own CPU is not counted). In ``sync`` mode every 200 was sent after its record
was committed.

PostgreSQL runs use a fresh database at 127.0.0.1:5432 (dropped afterwards); they are skipped
when PostgreSQL is not running.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
REPO = Path(__file__).resolve().parent.parent
BODY = orjson.dumps(
    {
        "model": "chat",
        "user": "alice",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Résume la note de service sur les congés d'été."},
        ],
    }
)
ANSWER = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "model": "chat",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Les congés d'été sont posés avant mai."},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 31, "completion_tokens": 12, "total_tokens": 43},
}


# -- server side ------------------------------------------------------------------------------


def build_pipeline(db_url: str, mode: str, home: Path) -> tuple[Any, Any, Any]:
    """(pipeline, audit log, database): the real runner with only the audit stage."""
    from socle.audit.config import AuditConfig
    from socle.audit.log import build_audit
    from socle.pipeline.context import RequestContext, Usage
    from socle.pipeline.runner import Pipeline
    from socle.store.database import Database

    database = Database(db_url)
    config = AuditConfig(mode=mode, replica_name="bench")
    audit = build_audit(config, database, home)

    class Canned:
        async def chat(self, ctx: RequestContext) -> dict[str, Any]:
            ctx.deployment, ctx.location, ctx.finish_reason = "sim-1", "on_prem", "stop"
            ctx.usage = Usage(prompt_tokens=31, completion_tokens=12)
            ctx.cost = 0.0000215
            return ANSWER

        async def embeddings(self, ctx: RequestContext) -> dict[str, Any]:
            raise NotImplementedError

        def chat_stream(self, ctx: RequestContext) -> AsyncIterator[dict[str, Any]]:
            raise NotImplementedError

    return Pipeline([audit.stage], Canned()), audit, database


def new_context(number: int, body: dict[str, Any]) -> Any:
    from socle.pipeline.context import Principal, RequestContext

    ctx = RequestContext(
        request_id=f"req_{number}",
        endpoint="chat.completions",
        body=body,
        headers={},
        model=body["model"],
    )
    ctx.principal = Principal(key_id="key_bench", org_id="org", project_id="proj", team_id="t")
    return ctx


async def create_tables(database: Any) -> None:
    from socle.store.base import Base
    from socle.store.models.audit import AUDIT_TABLES

    async with database.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all, tables=list(AUDIT_TABLES))


def create_app() -> Any:
    """The benchmark server (reads BENCH_AUDIT_MODE, BENCH_DB_URL, BENCH_HOME)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    pipeline, audit, database = build_pipeline(
        os.environ["BENCH_DB_URL"], os.environ["BENCH_AUDIT_MODE"], Path(os.environ["BENCH_HOME"])
    )
    counter = iter(range(1, 1 << 62))

    async def chat(request: Request) -> Response:
        body = orjson.loads(await request.body())
        response = await pipeline.run(new_context(next(counter), body))
        return Response(orjson.dumps(response), media_type="application/json")

    async def stats(request: Request) -> Response:
        writer = audit.writer
        data = {"batches": writer.batches, "committed": writer.committed} if writer else {}
        return Response(orjson.dumps(data), media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        await create_tables(database)
        await audit.start()
        yield
        await audit.stop()
        await database.dispose()

    routes = [Route("/v1/chat/completions", chat, methods=["POST"]), Route("/stats", stats)]
    return Starlette(routes=routes, lifespan=lifespan)


# -- client side ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def load(url: str, seconds: float, concurrency: int) -> tuple[int, int, list[float]]:
    import aiohttp

    ok = errors = 0
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"content-type": "application/json"}
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal ok, errors
            while (start := time.perf_counter()) < deadline:
                async with session.post(url, data=BODY, headers=headers) as response:
                    await response.read()
                    if response.status == 200:
                        ok += 1
                        latencies.append(time.perf_counter() - start)
                    else:
                        errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok, errors, latencies


async def wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            if process.poll() is not None:
                raise RuntimeError("the benchmark server exited")
            try:
                async with session.get(base + "/stats") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError("the benchmark server did not start")


async def stats(base: str) -> dict[str, int]:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(base + "/stats") as response:
        data: dict[str, int] = await response.json()
        return data


def start_server(db_url: str, mode: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BENCH_DB_URL": db_url,
        "BENCH_AUDIT_MODE": mode,
        "BENCH_HOME": tempfile.mkdtemp(prefix="socle-bench-"),
        "PYTHONPATH": str(REPO),
    }
    command = [
        sys.executable, "-m", "uvicorn", "bench.audit_overhead:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    return subprocess.Popen(command, env=env)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


async def run_one(db_url: str, mode: str, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    process = start_server(db_url, mode, port)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base, process)
        url = base + "/v1/chat/completions"
        await load(url, args.warmup, args.concurrency)
        before = await stats(base)
        cpu_before = cpu_seconds(process.pid)
        ok, errors, latencies = await load(url, args.seconds, args.concurrency)
        cpu = cpu_seconds(process.pid) - cpu_before
        after = await stats(base)
    finally:
        stop_server(process)
    latencies.sort()
    batches = after.get("batches", 0) - before.get("batches", 0)
    committed = after.get("committed", 0) - before.get("committed", 0)
    return {
        "mode": mode,
        "rps": ok / args.seconds,
        "errors": errors,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else None,
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99) - 1] if latencies else None,
        "batch": committed / batches if batches else None,
        "cpu_us": 1e6 * cpu / ok if ok else None,
    }


async def pg_database() -> tuple[str, str] | None:
    try:
        import asyncpg  # type: ignore[import-untyped]

        conn = await asyncpg.connect(PG_ADMIN, timeout=2)
    except (OSError, ImportError):
        return None
    name = f"socle_bench_{secrets.token_hex(4)}"
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name, f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def drop_pg(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3, help="Modes are interleaved per round.")
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--modes", default="off,async,sync")
    parser.add_argument("--json", type=Path, help="Also write the results to this file.")
    args = parser.parse_args()

    results: list[dict[str, Any]] = []
    for db in args.db.split(","):
        created = None
        if db == "sqlite":
            url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='socle-bench-')}/audit.db"
        else:
            created = await pg_database()
            if created is None:
                print("PostgreSQL is not running at 127.0.0.1:5432: skipped")
                continue
            url = created[1]
        try:
            runs: dict[str, list[dict[str, Any]]] = {m: [] for m in args.modes.split(",")}
            # Interleaved rounds: load from other processes on the machine hits every mode alike.
            for _ in range(args.rounds):
                for mode, done in runs.items():
                    done.append(await run_one(url, mode, args))
            capacity = await writer_capacity(url, args.seconds)
            print(
                f"{db}: one writer sustains {capacity['records_per_s']:.0f} sync records/s "
                f"(256 concurrent appends, {capacity['batch']:.0f} records per transaction)",
                flush=True,
            )
            cpu = {
                mode: statistics.median(
                    [await pipeline_cpu(url, mode, 20_000, args.concurrency) for _ in range(3)]
                )
                for mode in runs
            }
            print(
                f"{db}: pipeline alone (no HTTP), CPU per request: "
                + ", ".join(f"{mode} {us:.0f} us" for mode, us in cpu.items()),
                flush=True,
            )
        finally:
            if created is not None:
                await drop_pg(created[0])
        for mode, done in runs.items():
            result = summarise(db, mode, done)
            results.append(result)
            print_row(result, results)
    if args.json:
        args.json.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


async def pipeline_cpu(db_url: str, mode: str, requests: int, concurrency: int) -> float:
    """CPU µs per request of the pipeline alone (no HTTP), ``concurrency`` requests in flight."""
    pipeline, audit, database = build_pipeline(
        db_url, mode, Path(tempfile.mkdtemp(prefix="socle-bench-"))
    )
    await create_tables(database)
    await audit.start()
    body = orjson.loads(BODY)
    numbers = iter(range(requests))

    async def worker() -> None:
        for number in numbers:
            await pipeline.run(new_context(number, body))

    started = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    await audit.stop()  # async mode: count the commits too
    cpu = time.process_time() - started
    await database.dispose()
    return 1e6 * cpu / requests


async def writer_capacity(db_url: str, seconds: float, producers: int = 256) -> dict[str, Any]:
    """Records/s one process's writer commits with ``producers`` sync appends always waiting."""
    from socle.audit.config import AuditConfig
    from socle.audit.log import build_audit
    from socle.store.database import Database

    database = Database(db_url)
    await create_tables(database)
    home = Path(tempfile.mkdtemp(prefix="socle-bench-"))
    audit = build_audit(AuditConfig(replica_name="capacity"), database, home)
    await audit.start()
    done = 0
    deadline = time.perf_counter() + seconds
    usage = {"prompt_tokens": 31, "completion_tokens": 12}
    record = {"kind": "request", "request_id": "req", "status": 200, "usage": usage}

    async def producer() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await audit.append(dict(record))
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(producer() for _ in range(producers)))
    elapsed = time.perf_counter() - started
    writer = audit.writer
    batch = writer.committed / writer.batches if writer and writer.batches else 0.0
    await audit.stop()
    await database.dispose()
    return {"records_per_s": done / elapsed, "batch": batch}


def summarise(db: str, mode: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the rounds (and every round's req/s, to show the spread)."""
    batches = [r["batch"] for r in runs if r["batch"]]
    return {
        "db": db,
        "mode": mode,
        "rps": statistics.median(r["rps"] for r in runs),
        "rounds_rps": [round(r["rps"]) for r in runs],
        "p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "batch": statistics.mean(batches) if batches else None,
        "cpu_us": statistics.median(r["cpu_us"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
    }


def print_row(result: dict[str, Any], results: list[dict[str, Any]]) -> None:
    if len(results) == 1:
        print(
            f"{'db':9} {'mode':6} {'req/s':>8} {'vs off':>7} {'p50 ms':>7} {'p99 ms':>7} "
            f"{'batch':>6} {'cpu us/req':>10} {'vs off':>7}  rounds"
        )
    off = next((r for r in results if r["db"] == result["db"] and r["mode"] == "off"), None)
    ratio = f"{result['rps'] / off['rps']:.0%}" if off and off["rps"] else "-"
    batch = f"{result['batch']:.1f}" if result["batch"] else "-"
    cpu_ratio = f"{result['cpu_us'] / off['cpu_us']:.0%}" if off and off["cpu_us"] else "-"
    print(
        f"{result['db']:9} {result['mode']:6} {result['rps']:8.0f} {ratio:>7} "
        f"{result['p50_ms']:7.2f} {result['p99_ms']:7.2f} {batch:>6} {result['cpu_us']:10.0f} "
        f"{cpu_ratio:>7}  {result['rounds_rps']}"
        + (f"  ({result['errors']} errors)" if result["errors"] else ""),
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(main())
