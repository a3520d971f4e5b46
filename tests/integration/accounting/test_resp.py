"""The pipelined client of the accounting scripts, against real redis-servers.

The shared Redis (127.0.0.1:6379) is used in database 15, which no other suite uses (the e2e
shared-budget test flushes 12, the gateway bench 7 and up). What would disturb other suites on the
shared server (SCRIPT FLUSH, busy scripts, ACL users) runs on a private redis-server instead.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import secrets
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from socle.accounting.resp import LuaScript, RespClient
from tests.integration.accounting.conftest import PrivateRedis, free_port
from tests.support.databases import port_open

pytestmark = pytest.mark.redis

DB = 15
ECHO = "return {ARGV[1], tonumber(ARGV[2]) * 2, KEYS[1]}"
# Spins for ARGV[1] microseconds: keeps the server busy without DEBUG SLEEP.
SPIN = """
local t = redis.call('TIME')
local start = t[1] * 1000000 + t[2]
repeat
  t = redis.call('TIME')
until t[1] * 1000000 + t[2] - start > tonumber(ARGV[1])
return 'done'
"""


def fresh(source: str) -> LuaScript:
    """A script Redis has never seen (a unique comment changes its SHA1): the first call misses."""
    return LuaScript(f"-- {secrets.token_hex(8)}\n{source}")


@pytest.fixture
async def shared_url(redis_url: str) -> AsyncIterator[str]:
    """Database 15 of the shared Redis; the keys a test writes are under its own prefix."""
    yield redis_url.rsplit("/", 1)[0] + f"/{DB}"


@pytest.fixture
async def admin(shared_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(shared_url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


async def test_hundreds_of_concurrent_calls_each_get_their_own_reply(shared_url: str) -> None:
    client = RespClient.from_url(shared_url, timeout=5.0)
    script = fresh(ECHO)
    try:
        connection_id = await client.execute("CLIENT", "ID")
        for _ in range(2):  # first round: every call misses the script cache at once
            replies = await asyncio.gather(
                *(client.evalsha(script, [f"k{i}"], [f"caller-{i}", i]) for i in range(500))
            )
            assert replies == [[f"caller-{i}", 2 * i, f"k{i}"] for i in range(500)]
        assert await client.execute("CLIENT", "ID") == connection_id  # all on one connection
    finally:
        await client.close()


async def test_a_flushed_script_cache_is_reloaded(private_redis: PrivateRedis) -> None:
    client = RespClient.from_url(private_redis.url, timeout=2.0)
    script = LuaScript(ECHO)
    try:
        assert await client.execute("SCRIPT", "EXISTS", script.sha) == [0]
        assert await client.evalsha(script, ["a"], ["x", 1]) == ["x", 2, "a"]
        assert await client.execute("SCRIPT", "EXISTS", script.sha) == [1]
        assert await client.execute("SCRIPT", "FLUSH") == "OK"
        assert await client.evalsha(script, ["b"], ["y", 2]) == ["y", 4, "b"]
        assert await client.execute("SCRIPT", "EXISTS", script.sha) == [1]
    finally:
        await client.close()


async def test_a_script_error_fails_its_call_only(shared_url: str, admin: Redis) -> None:
    key = f"socle:test:resp:{secrets.token_hex(4)}"
    await admin.set(key, "not a number")
    client = RespClient.from_url(shared_url, timeout=2.0)
    incr = fresh("return redis.call('INCR', KEYS[1])")
    echo = fresh(ECHO)
    try:
        connection_id = await client.execute("CLIENT", "ID")
        replies = await asyncio.gather(
            client.evalsha(echo, ["a"], ["before", 1]),
            client.evalsha(incr, [key], []),
            client.evalsha(echo, ["b"], ["after", 2]),
            return_exceptions=True,
        )
        assert replies[0] == ["before", 2, "a"]
        assert isinstance(replies[1], ResponseError)
        assert not isinstance(replies[1], RedisConnectionError)
        assert "not an integer" in str(replies[1])
        assert replies[2] == ["after", 4, "b"]
        with pytest.raises(ResponseError, match="boom"):
            await client.evalsha(fresh("return redis.error_reply('boom')"), [], [])
        assert await client.execute("CLIENT", "ID") == connection_id
    finally:
        await client.close()
        await admin.delete(key)


async def test_a_killed_connection_fails_its_calls_and_the_next_call_reconnects(
    shared_url: str, admin: Redis
) -> None:
    client = RespClient.from_url(shared_url, timeout=10.0)
    script = fresh(ECHO)
    try:
        connection_id = await client.execute("CLIENT", "ID")
        # BLPOP on a key nobody pushes to holds the connection: the calls behind it wait.
        blocked = asyncio.create_task(
            client.execute("BLPOP", f"socle:test:resp:{connection_id}", 0)
        )
        queued = [asyncio.create_task(client.evalsha(script, ["k"], ["q", i])) for i in range(5)]
        deadline = time.monotonic() + 5
        while (await admin.client_list(client_id=[connection_id]))[0]["cmd"] != "blpop":
            assert time.monotonic() < deadline, "BLPOP never reached the server"
            await asyncio.sleep(0.01)
        assert await admin.client_kill_filter(_id=str(connection_id)) == 1
        outcomes = await asyncio.gather(blocked, *queued, return_exceptions=True)
        assert all(isinstance(o, RedisConnectionError) for o in outcomes), outcomes
        assert await client.evalsha(script, ["k"], ["again", 3]) == ["again", 6, "k"]
        assert await client.execute("CLIENT", "ID") != connection_id
    finally:
        await client.close()


async def test_a_stopped_server_is_a_connection_error_until_it_is_back(
    private_redis: PrivateRedis,
) -> None:
    client = RespClient.from_url(private_redis.url, timeout=2.0)
    try:
        assert await client.execute("PING") == "PONG"
        private_redis.stop()
        for _ in range(2):  # the lost connection, then a refused one
            with pytest.raises(RedisConnectionError):
                await client.execute("PING")
        private_redis.start()
        assert await client.execute("PING") == "PONG"
    finally:
        await client.close()


async def test_a_slow_reply_times_out_and_fails_the_calls_behind_it(
    private_redis: PrivateRedis,
) -> None:
    client = RespClient.from_url(private_redis.url, timeout=0.1)
    spin = LuaScript(SPIN)
    try:
        assert await client.evalsha(spin, [], [1000]) == "done"  # loaded: no NOSCRIPT below
        connection_id = await client.execute("CLIENT", "ID")
        start = time.monotonic()
        outcomes = await asyncio.gather(
            client.evalsha(spin, [], [400_000]),  # 0.4 s
            client.execute("PING"),
            return_exceptions=True,
        )
        assert all(isinstance(o, RedisTimeoutError) for o in outcomes), outcomes
        assert time.monotonic() - start < 0.3
        await asyncio.sleep(0.5)  # the server finishes the script
        assert await client.evalsha(spin, [], [1000]) == "done"
        assert await client.execute("CLIENT", "ID") != connection_id
    finally:
        await client.close()


async def test_the_database_of_the_url_is_selected(shared_url: str, admin: Redis) -> None:
    key = f"socle:test:resp:{secrets.token_hex(4)}"
    await admin.set(key, "in db 15")
    base = shared_url.rsplit("/", 1)[0]
    try:
        for url in (shared_url, f"{base}/0?db={DB}"):
            client = RespClient.from_url(url, timeout=2.0)
            try:
                get = fresh("return redis.call('GET', KEYS[1])")
                assert await client.evalsha(get, [key], []) == "in db 15"
                assert await client.execute("GET", key) == "in db 15"
            finally:
                await client.close()
        client = RespClient.from_url(f"{base}/0", timeout=2.0)
        try:
            assert await client.execute("GET", key) is None
        finally:
            await client.close()
    finally:
        await admin.delete(key)


async def test_username_and_password_from_the_url(private_redis: PrivateRedis) -> None:
    admin = Redis.from_url(private_redis.url, decode_responses=True)
    await admin.acl_setuser(
        "acct", enabled=True, passwords=["+s3cret"], keys=["*"], channels=["*"], commands=["+@all"]
    )
    await admin.config_set("requirepass", "default-pw")
    host = f"127.0.0.1:{private_redis.port}"
    try:
        user = RespClient.from_url(f"redis://acct:s3cret@{host}/2", timeout=2.0)
        default = RespClient.from_url(f"redis://:default-pw@{host}/0", timeout=2.0)
        try:
            assert await user.execute("ACL", "WHOAMI") == "acct"
            assert await user.execute("SET", "where", "db2") == "OK"
            assert await user.evalsha(fresh(ECHO), ["k"], ["x", 1]) == ["x", 2, "k"]
            assert await default.execute("ACL", "WHOAMI") == "default"
            assert await default.execute("GET", "where") is None  # db 0
        finally:
            await user.close()
            await default.close()
        for url in (f"redis://acct:wrong@{host}/2", f"redis://{host}/0"):
            client = RespClient.from_url(url, timeout=2.0)
            try:
                with pytest.raises(AuthenticationError):
                    await client.execute("GET", "where")
            finally:
                await client.close()
    finally:
        await admin.aclose()


async def test_calls_fail_once_the_client_is_closed(shared_url: str) -> None:
    client = RespClient.from_url(shared_url, timeout=10.0)
    await client.execute("PING")
    blocked = asyncio.create_task(client.execute("BLPOP", f"socle:test:resp:{id(client)}", 0))
    await asyncio.sleep(0.05)
    await client.close()
    with pytest.raises(RedisConnectionError):
        await blocked
    with pytest.raises(RedisConnectionError):
        await client.execute("PING")
    # Closed while a call is still connecting.
    client = RespClient.from_url(shared_url, timeout=10.0)
    connecting = asyncio.create_task(client.execute("PING"))
    await asyncio.sleep(0)
    await client.close()
    with pytest.raises(RedisConnectionError, match="closed"):
        await connecting


@contextmanager
def redis_server(*options: str, ready: Path | int) -> Iterator[None]:
    """A private redis-server with ``options``, ready once its socket path or port answers."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    process = subprocess.Popen(
        ["redis-server", "--port", "0", "--save", "", "--appendonly", "no", *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not (ready.exists() if isinstance(ready, Path) else port_open("127.0.0.1", ready)):
            assert process.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)
        yield
    finally:
        process.terminate()
        process.wait(10)


async def test_a_unix_socket_url(tmp_path: Path) -> None:
    socket_path = tmp_path / "redis.sock"
    with redis_server("--unixsocket", str(socket_path), ready=socket_path):
        client = RespClient.from_url(f"unix://{socket_path}?db=3", timeout=2.0)
        try:
            assert await client.execute("SET", "k", "v") == "OK"
            assert await client.evalsha(fresh(ECHO), ["k"], ["x", 4]) == ["x", 8, "k"]
            check = Redis(unix_socket_path=str(socket_path), db=3, decode_responses=True)
            assert await check.get("k") == "v"
            await check.aclose()
        finally:
            await client.close()


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, in PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "socle-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


async def test_a_tls_url_verifies_the_server_like_redis_py(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    port = free_port()
    tls = ["--tls-port", str(port), "--tls-cert-file", str(cert), "--tls-key-file", str(key)]
    tls += ["--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no"]
    with redis_server(*tls, ready=port):
        client = RespClient.from_url(f"rediss://127.0.0.1:{port}/1?ssl_ca_certs={cert}", timeout=2)
        try:
            assert await client.evalsha(fresh(ECHO), ["k"], ["tls", 5]) == ["tls", 10, "k"]
        finally:
            await client.close()
        # Without the CA the certificate is refused, as redis-py refuses it (cert_reqs=required).
        client = RespClient.from_url(f"rediss://127.0.0.1:{port}/1", timeout=2)
        try:
            with pytest.raises(RedisConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
                await client.execute("PING")
        finally:
            await client.close()
