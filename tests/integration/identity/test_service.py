"""Identity service and key cache against real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from socle.identity.cache import KeyCache
from socle.identity.errors import ConflictError, InvalidValueError, NotFoundError
from socle.identity.keys import hash_key
from socle.identity.service import IdentityService
from socle.store.database import Database

SECRET = b"test-secret"


async def test_defaults_and_bootstrap_key_once(database: Database) -> None:
    identity = IdentityService(database, SECRET)
    project = await identity.ensure_defaults()
    assert project.name == "default"
    assert (await identity.ensure_defaults()).id == project.id

    key = await identity.bootstrap_admin_key()
    assert key is not None and key.startswith("sk-socle-")
    assert await identity.bootstrap_admin_key() is None  # never twice

    record = await identity.load_key(hash_key(SECRET, key))
    assert record is not None
    assert record.role == "admin"
    assert record.project_id == project.id


async def test_bootstrap_key_can_be_provided(database: Database) -> None:
    identity = IdentityService(database, SECRET)
    key = await identity.bootstrap_admin_key("sk-socle-" + "x" * 43)
    assert key == "sk-socle-" + "x" * 43
    assert await identity.load_key(hash_key(SECRET, key)) is not None


async def test_org_team_project_key_lifecycle(database: Database) -> None:
    identity = IdentityService(database, SECRET)
    org = await identity.create_org("acme")
    team = await identity.create_team("acme", "data")
    project = await identity.create_project(
        org.id, "chatbot", team="data", settings={"guard_policy": "strict"}
    )
    assert project.team_id == team.id
    created = await identity.create_key(
        "chatbot",
        "ci",
        allowed_models=["chat-default", "chat-default"],
        ip_allowlist=["10.0.0.0/8"],
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    assert created.row.allowed_models == ["chat-default"]
    assert created.row.key_hash != created.plaintext
    record = await identity.load_key(hash_key(SECRET, created.plaintext))
    assert record is not None
    assert record.org_id == org.id
    assert record.team_id == team.id
    assert record.project_settings == {"guard_policy": "strict"}
    assert record.allowed_models == frozenset({"chat-default"})
    assert record.expires_at is not None and record.expires_at.tzinfo is not None

    listed = await identity.list_keys("chatbot")
    assert [k.id for k in listed] == [created.row.id]

    revoked = await identity.revoke_key(created.row.id)
    assert revoked.revoked_at is not None
    record = await identity.load_key(hash_key(SECRET, created.plaintext))
    assert record is not None and record.revoked_at is not None


async def test_conflicts_and_bad_values_change_nothing(database: Database) -> None:
    identity = IdentityService(database, SECRET)
    await identity.create_org("acme")
    with pytest.raises(ConflictError):
        await identity.create_org("acme")
    assert [o.name for o in await identity.list_orgs()] == ["acme"]

    await identity.create_project("acme", "p1")
    with pytest.raises(ConflictError):
        await identity.create_project("acme", "p1")
    with pytest.raises(NotFoundError):
        await identity.create_project("nope", "p2")
    with pytest.raises(NotFoundError):
        await identity.create_key("missing", "k")
    with pytest.raises(InvalidValueError):
        await identity.create_key("p1", "k", role="superuser")
    with pytest.raises(InvalidValueError):
        await identity.create_key("p1", "k", ip_allowlist=["not-an-ip"])
    with pytest.raises(InvalidValueError):
        await identity.create_key("p1", "k", expires_at=datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(InvalidValueError):
        await identity.create_org("  ")
    assert await identity.list_keys() == []
    with pytest.raises(NotFoundError):
        await identity.revoke_key("key_missing")


async def test_revocation_reaches_another_replica_within_two_seconds(database: Database) -> None:
    """Two caches (two replicas) on one database: a revocation by one is seen by the other."""
    writer = IdentityService(database, SECRET)
    await writer.create_org("acme")
    await writer.create_project("acme", "p")
    created = await writer.create_key("p", "k")
    key_hash = hash_key(SECRET, created.plaintext)

    replica = KeyCache(IdentityService(database, SECRET), poll_interval=0.5)
    await replica.start()
    try:
        first = await replica.resolve(key_hash)
        assert first is not None and first.revoked_at is None
        await writer.revoke_key(created.row.id)
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            record = await replica.resolve(key_hash)
            assert record is not None
            if record.revoked_at is not None:
                break
            assert loop.time() - started < 2.0, "revocation not seen within 2 s"
            await asyncio.sleep(0.05)
    finally:
        await replica.stop()


async def test_unknown_keys_are_negatively_cached(database: Database) -> None:
    identity = IdentityService(database, SECRET)
    cache = KeyCache(identity, negative_ttl=60)
    calls = 0
    original = identity.load_key

    async def counting(key_hash: str):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return await original(key_hash)

    identity.load_key = counting  # type: ignore[method-assign]
    results = await asyncio.gather(*(cache.resolve("f" * 64) for _ in range(20)))
    assert results == [None] * 20
    assert await cache.resolve("f" * 64) is None
    assert calls == 1  # concurrent misses share one query, later ones hit the negative cache


async def test_users_and_keys_belonging_to_them(database: Database) -> None:
    identity = IdentityService(database, SECRET)
    await identity.create_org("acme")
    await identity.create_project("acme", "p")
    user = await identity.create_user("acme", "Alice@Example.fr", name="Alice", role="owner")
    assert user.email == "alice@example.fr"
    with pytest.raises(ConflictError):
        await identity.create_user("acme", "alice@example.fr")
    with pytest.raises(InvalidValueError):
        await identity.create_user("acme", "bob@example.fr", role="emperor")
    assert [u.email for u in await identity.list_users("acme")] == ["alice@example.fr"]

    created = await identity.create_key("p", "alice-laptop", user="alice@example.fr")
    record = await identity.load_key(hash_key(SECRET, created.plaintext))
    assert record is not None and record.principal.user_id == user.id
    with pytest.raises(NotFoundError):
        await identity.create_key("p", "ghost", user="ghost@example.fr")
