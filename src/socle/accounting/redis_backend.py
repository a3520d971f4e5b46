"""Counters shared by every replica in Redis, updated by Lua scripts (one round trip each).

Key layout under the prefix (default ``socle:acct:``): ``epoch`` names the current generation of
the counters; ``b:<counter>`` hashes hold settled spend ``s`` and each replica's reservations
``r:<replica>``; ``rl:<scope>:<id>:<kind>`` hold GCRA arrival times; ``alive:<replica>`` are
heartbeats, so that a crashed replica's reservations stop counting within 30 s.

The per-request scripts (admit, settle) go through :class:`~socle.accounting.resp.RespClient`, one
pipelined connection that costs a fraction of redis-py's CPU per call; everything else (heartbeat,
rebuild, re-applied spend, locks, scans) uses redis-py and its bounded pool.

If the epoch key is missing, Redis lost its data (restart without persistence, flush): one
replica, holding ``rebuild`` as a lock, writes a new epoch to the database and reads the settled
spend there, then seeds the counters and publishes the epoch. Spend that the database did not have
at that moment is re-applied by its replica after its next flush (:meth:`after_flush`); the
database's epoch tells which is which. docs/finops.md walks through the cases.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from socle.accounting.backend import (
    Admission,
    BackendUnavailable,
    CounterRef,
    RateRef,
    RateState,
    Settlement,
)
from socle.accounting.resp import LuaScript, RespClient

log = logging.getLogger(__name__)

RebuildSource = Callable[[str], Awaitable[Sequence[tuple[str, int, float | None]]]]

HEARTBEAT_SECONDS = 5.0
HEARTBEAT_TTL_MS = 30_000
REBUILD_LOCK_MS = 15_000
FAILURES_BEFORE_PAUSE = 3
SEED_CHUNK = 500
_HOT_SCRIPTS = ("admit", "settle")  # once per request each: on the pipelined client
_SCRIPTS = ("apply", "seed")
_UNLOCK = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end"


def _script(name: str) -> str:
    return resources.files("socle.accounting").joinpath("lua", f"{name}.lua").read_text("utf-8")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisBackend:
    """Budget counters and rate limiters in Redis; see the module docstring."""

    shared = True

    def __init__(
        self,
        client: Redis,
        resp: RespClient,
        *,
        prefix: str = "socle:acct:",
        rebuild_source: RebuildSource,
        pause_after_failure: float = 1.0,
        settle_lanes: int = 32,
    ) -> None:
        self.redis = client
        self.resp = resp
        self.prefix = prefix
        self.replica = secrets.token_hex(6)
        self._epoch_key = prefix + "epoch"
        self._rebuild_source = rebuild_source
        self._pause = pause_after_failure
        self._hot_scripts = {name: LuaScript(_script(name)) for name in _HOT_SCRIPTS}
        self._scripts = {name: client.register_script(_script(name)) for name in _SCRIPTS}
        self._unlock = client.register_script(_UNLOCK)
        self._down_until = 0.0
        self._failures = 0
        self._pending: dict[str, dict[CounterRef, int]] = {}
        self._heartbeat: asyncio.Task[None] | None = None
        self._rebuilding: asyncio.Future[None] | None = None
        # Settlements run after the response; capping those in flight keeps a burst of them
        # from queueing ahead of admissions on the shared connection.
        self._settle_lanes = asyncio.Semaphore(settle_lanes)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str,
        timeout_ms: int,
        max_connections: int,
        rebuild_source: RebuildSource,
    ) -> RedisBackend:
        """A backend with its own bounded pool; fails fast (no retries) when Redis is down.

        The pool is bounded so that a burst of calls waits briefly for a connection instead of
        opening hundreds at once (each call holds one for well under a millisecond). The
        per-request scripts share one pipelined connection instead, with the same timeout.
        """
        timeout = timeout_ms / 1000.0
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            # Waiting for a free connection only happens when all are busy talking to a live
            # Redis (a dead one fails them at once), so this wait may be longer.
            timeout=max(5.0, 5 * timeout),
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            decode_responses=True,
        )
        client = Redis(connection_pool=pool, retry=Retry(NoBackoff(), 0))
        return cls(
            client,
            RespClient.from_url(url, timeout=timeout),
            prefix=prefix,
            rebuild_source=rebuild_source,
            settle_lanes=max(1, max_connections // 2),
        )

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Announce this replica (its reservations count while it is alive), seed if needed."""
        try:
            await self._beat()
            if not await self._guard(self.redis.exists(self._epoch_key)):
                await self.rebuild()
            # Open the scripts' connection now rather than on the first request.
            await self._guard(self.resp.execute("PING"))
        except BackendUnavailable as exc:
            log.error("Redis accounting backend not ready at start: %s", exc)
        self._heartbeat = asyncio.create_task(self._heartbeat_loop(), name="socle-acct-heartbeat")

    async def close(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        with contextlib.suppress(RedisError, OSError):
            await self.redis.delete(self.prefix + "alive:" + self.replica)
        await self.resp.close()
        await self.redis.aclose()
        await self.redis.connection_pool.disconnect()

    async def _beat(self) -> None:
        await self._guard(
            self.redis.set(self.prefix + "alive:" + self.replica, "1", px=HEARTBEAT_TTL_MS)
        )

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            with contextlib.suppress(BackendUnavailable):
                await self._beat()

    # -- calls -----------------------------------------------------------------------------

    @property
    def available(self) -> bool:
        """False during the pause that follows a failure (requests then skip Redis at once)."""
        return time.monotonic() >= self._down_until

    async def _guard(self, call: Awaitable[Any]) -> Any:
        if not self.available:
            if asyncio.iscoroutine(call):
                call.close()
            raise BackendUnavailable("Redis unreachable (recent failures)")
        try:
            result = await call
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            # A busy local pool is not an outage; repeated network failures are: skip Redis for
            # a moment then, so that requests fail (or pass) at once instead of each timing out.
            if "No connection available" not in str(exc):
                self._failures += 1
                if self._failures >= FAILURES_BEFORE_PAUSE:
                    self._down_until = time.monotonic() + self._pause
            raise BackendUnavailable(f"Redis unreachable: {exc}") from exc
        except RedisError as exc:
            log.error("Redis accounting call failed: %s", exc)
            raise BackendUnavailable(f"Redis error: {exc}") from exc
        self._failures = 0
        return result

    async def _run(self, name: str, keys: list[str], args: list[Any]) -> list[Any]:
        hot = self._hot_scripts.get(name)
        if hot is not None:
            call = self.resp.evalsha(hot, keys, args)
        else:
            call = self._scripts[name](keys=keys, args=args)
        reply = await self._guard(call)
        return [_text(v) if isinstance(v, bytes) else v for v in reply]

    def _counter_key(self, counter: CounterRef) -> str:
        return self.prefix + "b:" + counter.counter

    def _rate_key(self, ref: RateRef) -> str:
        return self.prefix + "rl:" + ref.key

    # -- the CounterBackend protocol ---------------------------------------------------------

    async def admit(
        self, counters: Sequence[CounterRef], amount: int, rates: Sequence[RateRef]
    ) -> Admission:
        keys = [self._epoch_key]
        keys += [self._counter_key(c) for c in counters]
        keys += [self._rate_key(r) for r in rates]
        args: list[Any] = [amount, len(counters), len(rates), self.prefix, self.replica]
        for c in counters:
            args += [-1 if c.hard_limit is None else c.hard_limit, c.expire_at]
        for r in rates:
            args += [repr(r.interval * 1000.0), r.burst, r.weight]
        for _ in range(2):
            reply = await self._run("admit", keys, args)
            if reply[0] != "noepoch":
                return self._admission(reply, counters, rates)
            await self.rebuild()
        raise BackendUnavailable("Redis counters are being rebuilt")

    @staticmethod
    def _admission(
        reply: list[Any], counters: Sequence[CounterRef], rates: Sequence[RateRef]
    ) -> Admission:
        status = reply[0]
        if status == "ok":
            states = [
                RateState(ref, int(reply[2 + 2 * j]), float(reply[3 + 2 * j]) / 1000.0)
                for j, ref in enumerate(rates)
            ]
            return Admission(ok=True, epoch=_text(reply[1]), rates=states)
        if status == "rate":
            ref = rates[int(reply[1]) - 1]
            retry_ms = float(reply[2])
            state = RateState(ref, int(reply[3]), float(reply[4]) / 1000.0)
            return Admission(
                ok=False,
                rates=[state],
                denied_rate=ref,
                retry_after=None if retry_ms < 0 else retry_ms / 1000.0,
            )
        counter = counters[int(reply[1]) - 1]
        return Admission(
            ok=False,
            denied_budget=counter,
            spent=int(float(reply[2])),
            reserved=int(float(reply[3])),
        )

    async def settle(
        self,
        counters: Sequence[CounterRef],
        epoch: str,
        reserved: int,
        actual: int,
        refunds: Sequence[tuple[RateRef, int]],
    ) -> Settlement:
        keys = [self._epoch_key]
        keys += [self._counter_key(c) for c in counters]
        keys += [self._rate_key(r) for r, _ in refunds]
        args: list[Any] = [epoch, reserved, actual, len(counters), len(refunds), self.replica]
        args += [c.expire_at for c in counters]
        for ref, units in refunds:
            args += [repr(ref.interval * 1000.0), units]
        async with self._settle_lanes:
            reply = await self._run("settle", keys, args)
        if reply[0] == "noepoch":
            return Settlement(applied_epoch=None)
        spent = {c.counter: int(v) for c, v in zip(counters, reply[2:], strict=True)}
        return Settlement(applied_epoch=_text(reply[1]), spent=spent)

    async def load(self, rows: Sequence[tuple[str, int, float | None]]) -> None:
        return None  # Redis is the live copy; the database only seeds it in rebuild()

    async def after_flush(self, db_epoch: str, unapplied: dict[CounterRef, int]) -> None:
        """Apply spend that is in the database but in no live epoch (see the module docstring)."""
        if unapplied:
            bucket = self._pending.setdefault(db_epoch, {})
            for counter, amount in unapplied.items():
                bucket[counter] = bucket.get(counter, 0) + amount
        for expected in list(self._pending):
            amounts = self._pending[expected]
            keys = [self._epoch_key] + [self._counter_key(c) for c in amounts]
            args: list[Any] = [expected]
            for counter, amount in amounts.items():
                args += [amount, counter.expire_at]
            try:
                reply = await self._run("apply", keys, args)
            except BackendUnavailable:
                return
            if reply[0] == "noepoch":
                with contextlib.suppress(BackendUnavailable):
                    await self.rebuild()
                continue
            del self._pending[expected]
            if reply[0] == "ok":
                log.info("reconciled %d budget counters with Redis", len(amounts))

    @property
    def pending_reconciliation(self) -> int:
        """Counters whose spend waits to be re-applied to Redis."""
        return sum(len(v) for v in self._pending.values())

    # -- rebuild -----------------------------------------------------------------------------

    async def _drop_stale_counters(self) -> None:
        # Counters written without an epoch can only be leftovers: the seed replaces them all.
        try:
            stale = [k async for k in self.redis.scan_iter(match=self.prefix + "b:*", count=1000)]
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"Redis unreachable: {exc}") from exc
        for start in range(0, len(stale), 500):
            await self._guard(self.redis.unlink(*stale[start : start + 500]))

    async def rebuild(self) -> None:
        """Seed lost counters from the database, once across replicas (the others wait).

        Concurrent callers in this process share one attempt.
        """
        if self._rebuilding is not None:
            await asyncio.shield(self._rebuilding)
            return
        self._rebuilding = asyncio.get_running_loop().create_future()
        try:
            await self._rebuild_once()
            self._rebuilding.set_result(None)
        except BaseException as exc:
            self._rebuilding.set_exception(exc)
            raise
        finally:
            # Retrieve the outcome so that an unawaited failure is not reported as lost.
            if self._rebuilding.done() and not self._rebuilding.cancelled():
                self._rebuilding.exception()
            self._rebuilding = None

    async def _rebuild_once(self) -> None:
        token = secrets.token_hex(8)
        lock = self.prefix + "rebuild"
        if not await self._guard(self.redis.set(lock, token, nx=True, px=REBUILD_LOCK_MS)):
            # Another replica is rebuilding: wait for its epoch (or for its lock to lapse).
            deadline = time.monotonic() + REBUILD_LOCK_MS / 1000.0
            while time.monotonic() < deadline:
                await asyncio.sleep(0.02)
                if await self._guard(self.redis.exists(self._epoch_key)):
                    return
                if not await self._guard(self.redis.exists(lock)):
                    break
            return
        try:
            if await self._guard(self.redis.exists(self._epoch_key)):
                return
            epoch = secrets.token_hex(8)
            try:
                rows = list(await self._rebuild_source(epoch))
            except Exception as exc:
                log.exception("cannot read the settled spend from the database")
                raise BackendUnavailable("budget counters cannot be rebuilt") from exc
            await self._drop_stale_counters()
            chunks = [rows[i : i + SEED_CHUNK] for i in range(0, len(rows), SEED_CHUNK)] or [[]]
            for index, chunk in enumerate(chunks):
                publish = epoch if index == len(chunks) - 1 else ""
                keys = [self._epoch_key] + [self.prefix + "b:" + name for name, _, _ in chunk]
                args: list[Any] = [publish]
                for _, spent, end in chunk:
                    args += [spent, 0 if end is None else int(end) + 2 * 86400]
                reply = await self._run("seed", keys, args)
                if reply[0] != "ok":
                    return
            log.warning(
                "Redis had lost the budget counters: rebuilt %d from the database (epoch %s)",
                len(rows),
                epoch,
            )
        finally:
            with contextlib.suppress(BackendUnavailable):
                await self._guard(self._unlock(keys=[lock], args=[token]))
