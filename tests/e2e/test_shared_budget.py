"""Two gateway processes sharing PostgreSQL and Redis enforce one hard budget together."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import redis

from tests.support.databases import (
    create_pg_database,
    drop_pg_database,
    postgres_available,
    redis_available,
)
from tests.support.server import SocleServer

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

REDIS_DB = 12
MAX_TOKENS = 5
PRICE_PER_MTOK = 1000.0  # output only: one request costs exactly 5 tokens x 1000 EUR / 1e6
COST = MAX_TOKENS * PRICE_PER_MTOK / 1e6
K = 40
REQUESTS = 200


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SocleServer, SocleServer]]:
    if not (postgres_available() and redis_available()):
        pytest.skip("needs PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379")
    redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()
    with ThreadPoolExecutor(1) as pool:
        name, url = pool.submit(asyncio.run, create_pg_database()).result()
    config = {
        "routing": {
            "models": [
                {
                    "name": "metered",
                    "deployments": [
                        {
                            "id": "metered-sim",
                            "endpoint": {"provider": "simulator", "upstream_model": "sim-small"},
                            "pricing": {"input_per_mtok": 0, "output_per_mtok": PRICE_PER_MTOK},
                        }
                    ],
                }
            ]
        },
        "accounting": {
            "backend": "redis",
            "budgets": [
                {"scope": "project", "id": "*", "period": "day", "limit": K * COST, "mode": "hard"}
            ],
        },
    }
    env = {
        "SOCLE_DATABASE_URL": url,
        "SOCLE_REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "SOCLE_SECRET_KEY": "shared-instance-secret-for-both-replicas",
    }
    home = tmp_path_factory.mktemp("pair")
    first = SocleServer(home / "a", config, env=env).start()
    try:
        second = SocleServer(home / "b", config, env=env).start()
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, drop_pg_database(name)).result()
        redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()


async def _hammer(urls: list[str], key: str) -> Counter[str]:
    body = {
        "model": "metered",
        "max_tokens": MAX_TOKENS,
        "messages": [{"role": "user", "content": "Rédige un long rapport sur le budget."}],
    }
    outcomes: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def one(i: int) -> None:
            response = await client.post(
                f"{urls[i % 2]}/v1/chat/completions",
                headers={"Authorization": f"Bearer {key}"},
                json=body,
            )
            if response.status_code == 200:
                assert response.json()["usage"]["completion_tokens"] == MAX_TOKENS
                outcomes["ok"] += 1
            else:
                outcomes[response.json()["error"]["code"]] += 1

        await asyncio.gather(*(one(i) for i in range(REQUESTS)))
    return outcomes


def test_two_replicas_never_overspend(pair: tuple[SocleServer, SocleServer]) -> None:
    first, second = pair
    key = first.create_key()["key"]  # created on one replica, valid on both
    outcomes = asyncio.run(_hammer([first.base_url, second.base_url], key))
    assert outcomes["ok"] + outcomes["budget_exceeded"] == REQUESTS, outcomes
    assert K - 1 <= outcomes["ok"] <= K, outcomes

    # Each replica writes its settled spend to the database in batches (flush interval 2 s):
    # the persisted total converges to what was charged, and never exceeds the limit.
    deadline = time.monotonic() + 15
    while True:
        budgets = second.admin("GET", "/budgets").json()["data"]
        spent = sum(row["spent"] for row in budgets if row["scope"] == "project")
        assert spent <= K * COST + 1e-9
        if spent == pytest.approx(outcomes["ok"] * COST) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert spent == pytest.approx(outcomes["ok"] * COST)
