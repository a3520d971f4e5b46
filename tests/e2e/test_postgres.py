"""The same API on PostgreSQL: a server on a fresh database it migrates itself."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest

from tests.support.databases import create_pg_database, drop_pg_database, postgres_available
from tests.support.server import SocleServer

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SocleServer]:
    if not postgres_available():
        pytest.skip("PostgreSQL is not running at 127.0.0.1:5432")
    with ThreadPoolExecutor(1) as pool:
        name, url = pool.submit(asyncio.run, create_pg_database()).result()
    try:
        env = {"SOCLE_DATABASE_URL": url}
        with SocleServer(tmp_path_factory.mktemp("pg"), env=env) as server:
            yield server
    finally:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, drop_pg_database(name)).result()


def test_sdk_admin_and_audit_on_postgres(pg_server: SocleServer) -> None:
    assert pg_server.admin("POST", "/users", json={"email": "ana@example.fr"}).status_code == 201
    created = pg_server.create_key(user="ana@example.fr", allowed_models=["chat-default"])
    assert created["user_id"]
    client = openai.OpenAI(
        base_url=f"{pg_server.base_url}/v1", api_key=created["key"], max_retries=0
    )
    answer = client.chat.completions.create(
        model="chat-default", messages=[{"role": "user", "content": "Bonjour"}]
    )
    assert answer.choices[0].message.content
    streamed = client.chat.completions.create(
        model="chat-default", messages=[{"role": "user", "content": "Bonjour"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
    assert [m.id for m in client.models.list()] == ["chat-default"]

    revoked = pg_server.admin("POST", f"/keys/{created['id']}/revoke")
    assert revoked.status_code == 200
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(
            model="chat-default", messages=[{"role": "user", "content": "encore"}]
        )

    verify = pg_server.admin("GET", "/audit/verify").json()
    assert verify["ok"] is True and verify["records"] >= 4
    ready = httpx.get(f"{pg_server.base_url}/readyz", timeout=10).json()
    assert ready["checks"]["database"] is True
