"""One "gateway process" for the multi-process tests: runs N concurrent requests through the
accounting stage (Redis backend, shared database) and prints a JSON summary on stdout.

Usage: python acct_hammer.py CONFIG_JSON DATABASE_URL REQUESTS GO_KEY full|random
The process prints "ready" once started, pops GO_KEY (a Redis list) to start, then fires every
request at once; each simulated upstream call takes 0-20 ms and generates all of its max_tokens
(full) or a random part of them (random).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from redis.asyncio import Redis

from socle.accounting.config import AccountingConfig
from socle.accounting.stage import build_accounting
from socle.store.database import Database
from tests.unit.accounting.acct_support import call, context, deployment


def _log_to_stderr() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)


async def main(config_json: str, database_url: str, requests: int, go_key: str, mode: str) -> None:
    config = AccountingConfig.model_validate_json(config_json)
    database = Database(database_url)
    runtime = build_accounting(config, database)
    await runtime.start()
    redis = Redis.from_url(config.redis_url or "")
    print("ready", flush=True)
    await redis.blpop([go_key], timeout=60)  # the test pushes one "go" per process
    started = time.monotonic()
    dep = deployment()

    errors: set[str] = set()

    async def one(index: int) -> tuple[str, float]:
        ctx = context(candidates=[dep], max_tokens=100)
        completion = 100 if mode == "full" else random.randint(1, 100)
        outcome = await call(
            runtime.stage, ctx, completion_tokens=completion, upstream_delay=random.random() / 50
        )
        if outcome.error is not None and outcome.status != "budget_exceeded":
            errors.add(outcome.error.message)
        return outcome.status, (ctx.cost or 0.0)

    results = await asyncio.gather(*(one(i) for i in range(requests)))
    elapsed = time.monotonic() - started
    await runtime.stop()
    await redis.aclose()
    await database.dispose()
    statuses: dict[str, int] = {}
    for status, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    settled_nano = sum(round(cost * 1e9) for status, cost in results if status == "ok")
    summary = {
        "statuses": statuses,
        "settled_nano": settled_nano,
        "elapsed": elapsed,
        "errors": sorted(errors)[:5],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    _log_to_stderr()
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]))
