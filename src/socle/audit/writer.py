"""The group-commit chain writer: one task per process appends every record to its own chain.

Records from concurrent requests queue in memory; the writer task takes them in arrival order
and commits them together: one transaction for up to ``max_batch`` records, so the cost of a
commit (and its fsync) is shared. A record waits at most ``commit_interval_ms`` for others to join
it; under load the queue fills while the previous commit runs, and no waiting is added at all.

Each record is serialised canonically, given the next sequence number of this writer's chain and
hashed with its predecessor. The chain head is kept in ``audit_chains`` and advanced with a
compare-and-set on ``head_seq`` in the same transaction, so a second writer on the same chain (a
shared replica name, an expired lease) can never fork it: its commit fails, it re-reads the head
and tries again. Every ``checkpoint_every`` records a signed checkpoint of the head is written in
the same transaction (and on its own every ``checkpoint_interval_s`` seconds, and at stop).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import secrets
import socket
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from socle.audit.canonical import GENESIS, canonical, sha256_hex
from socle.audit.checkpoint import CheckpointRow, make_checkpoint
from socle.audit.config import AuditConfig
from socle.audit.content import ALGORITHM, ContentVault, encrypt
from socle.audit.errors import AuditUnavailable
from socle.audit.keys import Signer
from socle.audit.store import HeadMoved, Row, open_store
from socle.store.database import Database
from socle.store.models.audit import AuditChain, AuditCheckpoint, AuditRecord

log = logging.getLogger(__name__)
checkpoint_log = logging.getLogger("socle.audit.checkpoint")

_RETRIES = 5
_COMMIT_TIMEOUT_S = 15.0
_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]+")
# Owners of the chains this process writes now: a lease held under this pid by an owner that is
# not here belongs to a previous life of the process (same pid after a container restart).
_LIVE_OWNERS: set[str] = set()


@dataclass(slots=True)
class Pending:
    """A record waiting for its commit."""

    record: dict[str, Any]
    content: bytes | None = None
    subject_hash: str | None = None
    future: asyncio.Future[None] | None = None
    queued: float = field(default_factory=time.monotonic)


def _release(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def default_chain_base() -> str:
    """The host name, made safe for a chain name."""
    return _UNSAFE.sub("-", socket.gethostname()).strip("-")[:90] or "socle"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _jsonable(value: Any) -> Any:
    """A last-resort copy of a record that orjson can always encode."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | bool | float) or value is None:
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**64 else str(value)
    return str(value)


class ChainWriter:
    """Owns one chain and the task that commits records to it."""

    def __init__(
        self,
        database: Database,
        config: AuditConfig,
        signer: Signer,
        vault: ContentVault | None,
        *,
        chain_base: str | None = None,
    ) -> None:
        self._db = database
        self._config = config
        self._signer = signer
        self._vault = vault
        self._store = open_store(database)
        self._explicit = config.replica_name is not None
        self._base = config.replica_name or chain_base or default_chain_base()
        self._host = socket.gethostname()
        self.owner = f"{self._host}:{os.getpid()}:{secrets.token_hex(4)}"
        self.chain = ""
        self.head_seq = 0
        self.head_hash = GENESIS
        self._cp_seq = 0
        self._cp_digest: str | None = None
        self._cp_time = time.monotonic()
        self._lease_renewed = time.monotonic()
        self._queue: list[Pending] = []
        self._waiter: asyncio.Future[None] | None = None  # set while the idle writer waits
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.committed = 0
        self.batches = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Claim a chain (resuming its head from the database) and start the writer task."""
        await self._claim()
        _LIVE_OWNERS.add(self.owner)
        self._task = asyncio.create_task(self._run(), name=f"audit-writer:{self.chain}")
        self._task.add_done_callback(self._task_ended)

    def _task_ended(self, task: asyncio.Task[None]) -> None:
        """If the writer task dies, nobody must wait forever for a commit that won't come."""
        error = None if task.cancelled() else task.exception()
        if task.cancelled() or error is not None:
            log.error("audit writer of chain %s stopped", self.chain, exc_info=error)
            self._stopping = True
            for item in self._queue:
                if item.future is not None and not item.future.done():
                    item.future.set_exception(AuditUnavailable("the audit writer stopped"))
            self._queue.clear()

    async def stop(self) -> None:
        """Commit everything queued, sign a final checkpoint and release the chain's lease."""
        if self._task is None:
            return
        self._stopping = True
        self._wake()
        await self._task
        self._task = None
        _LIVE_OWNERS.discard(self.owner)
        if self.head_seq > self._cp_seq:
            try:
                await self._checkpoint_now()
            except Exception:
                log.exception("audit chain %s: the final checkpoint failed", self.chain)
        with contextlib.suppress(Exception):
            async with self._db.engine.begin() as conn:
                await conn.execute(
                    update(AuditChain)
                    .where(AuditChain.name == self.chain, AuditChain.owner == self.owner)
                    .values(lease_until=0.0)
                )
        await self._store.close()

    @property
    def pending(self) -> int:
        return len(self._queue)

    def submit(self, item: Pending) -> None:
        """Queue a record; its future (if any) resolves once the record is committed."""
        if self._task is None or self._stopping:
            raise AuditUnavailable("the audit writer is not running")
        self._queue.append(item)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _idle(self, delay: float) -> None:
        """Wait until ``_wake`` (a record, or stop), or ``delay`` seconds.

        A bare future and a timer handle: cheaper than ``wait_for`` on an ``Event``, which makes
        a task per wait, and the writer waits once per batch. The caller checks the queue and
        the stop flag first, with no await in between, so no wake-up can be missed.
        """
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiter = waiter
        timer = loop.call_later(delay, _release, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    # -- claiming a chain --------------------------------------------------------------------

    def _candidates(self) -> list[str]:
        return [self._base] + [f"{self._base}-{n}" for n in range(2, 1000)]

    async def _claim(self) -> None:
        for name in self._candidates():
            if await self._try_claim(name):
                self.chain = name
                log.info("audit chain %s resumed at seq %d", name, self.head_seq)
                return
        raise RuntimeError(f"no free audit chain name from {self._base}")

    def _lease_is_stale(self, owner: str, lease_until: float) -> bool:
        if self._explicit or lease_until < time.time():
            return True
        host, _, rest = owner.partition(":")
        pid_text = rest.partition(":")[0]
        if host != self._host or not pid_text.isdigit():
            return False
        pid = int(pid_text)
        # Same host: the holder is a previous life of this process (same pid, e.g. pid 1 in a
        # restarted container) or a process that no longer exists.
        if pid == os.getpid():
            return owner not in _LIVE_OWNERS
        return not _pid_alive(pid)

    async def _try_claim(self, name: str) -> bool:
        now = time.time()
        try:
            async with self._db.engine.begin() as conn:
                row = (
                    await conn.execute(
                        select(AuditChain).where(AuditChain.name == name).with_for_update()
                    )
                ).first()
                if row is None:
                    head_seq, head_hash = 0, GENESIS
                elif self._lease_is_stale(row.owner, row.lease_until):
                    head_seq, head_hash = row.head_seq, row.head_hash
                else:
                    return False
                if not await self._consistent(conn, name, head_seq, head_hash):
                    return False
                if row is None:
                    await conn.execute(
                        insert(AuditChain).values(
                            name=name,
                            head_seq=0,
                            head_hash=GENESIS,
                            owner=self.owner,
                            lease_until=now + self._config.lease_s,
                            created_at=now,
                            updated_at=now,
                        )
                    )
                else:
                    await conn.execute(
                        update(AuditChain)
                        .where(AuditChain.name == name)
                        .values(owner=self.owner, lease_until=now + self._config.lease_s)
                    )
                cp = await self._last_checkpoint(conn, name)
        except IntegrityError:
            return False  # another process created this chain at the same moment
        self.head_seq, self.head_hash = head_seq, head_hash
        self._set_checkpoint_state(cp)
        self._lease_renewed = time.monotonic()
        return True

    @staticmethod
    async def _consistent(conn: Any, name: str, head_seq: int, head_hash: str) -> bool:
        """Does the chain's last record match its head row? If not, leave it for `verify`."""
        last = (
            await conn.execute(
                select(AuditRecord.seq, AuditRecord.hash)
                .where(AuditRecord.chain == name)
                .order_by(AuditRecord.seq.desc())
                .limit(1)
            )
        ).first()
        found = (0, GENESIS) if last is None else (last.seq, last.hash)
        if found == (head_seq, head_hash) or (last is None and head_seq > 0):
            # No record but a head: the chain was purged whole; its anchor checkpoint remains.
            return True
        log.error(
            "audit chain %s: head row (seq %d) disagrees with its last record (seq %d); not"
            " writing to it, run `socle audit verify`",
            name,
            head_seq,
            found[0],
        )
        return False

    @staticmethod
    async def _last_checkpoint(conn: Any, name: str) -> CheckpointRow | None:
        row = (
            await conn.execute(
                select(AuditCheckpoint)
                .where(AuditCheckpoint.chain == name)
                .order_by(AuditCheckpoint.seq.desc())
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        return CheckpointRow(
            row.chain, row.seq, row.ts, row.head_hash, row.body, row.signature, row.key_id
        )

    def _set_checkpoint_state(self, cp: CheckpointRow | None) -> None:
        self._cp_seq = cp.seq if cp else 0
        self._cp_digest = cp.digest if cp else None
        self._cp_time = time.monotonic()

    async def _reload_head(self) -> None:
        async with self._db.engine.connect() as conn:
            row = (
                await conn.execute(select(AuditChain).where(AuditChain.name == self.chain))
            ).one()
            cp = await self._last_checkpoint(conn, self.chain)
        self.head_seq, self.head_hash = row.head_seq, row.head_hash
        self._set_checkpoint_state(cp)

    # -- the writer task ---------------------------------------------------------------------

    def _timer_timeout(self) -> float:
        due = self._lease_renewed + self._config.lease_s / 3
        if self.head_seq > self._cp_seq:
            due = min(due, self._cp_time + self._config.checkpoint_interval_s)
        return max(0.0, due - time.monotonic())

    async def _run(self) -> None:
        interval = self._config.commit_interval_ms / 1000.0
        max_batch = self._config.max_batch
        while True:
            if not self._queue:
                if self._stopping:
                    return
                await self._idle(self._timer_timeout())
                if not self._queue:
                    await self._timers()
                    continue
            if interval > 0 and len(self._queue) < max_batch and not self._stopping:
                # Let the oldest record wait up to the interval so that more records share its
                # transaction; records that queued during the previous commit have waited already.
                delay = self._queue[0].queued + interval - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            batch = self._queue[:max_batch]
            del self._queue[:max_batch]
            await self._commit_batch(batch)
            await self._timers()

    async def _timers(self) -> None:
        now = time.monotonic()
        try:
            if (
                self.head_seq > self._cp_seq
                and now - self._cp_time >= self._config.checkpoint_interval_s
            ):
                self._cp_time = now  # retried after another interval if it fails
                await self._checkpoint_now()
            if now - self._lease_renewed >= self._config.lease_s / 3:
                self._lease_renewed = now
                await self._renew_lease()
        except Exception:
            log.exception("audit chain %s: periodic checkpoint or lease renewal failed", self.chain)

    async def _renew_lease(self) -> None:
        """Extend this writer's lease; with an automatic name, move on if another took it."""
        stmt = update(AuditChain).where(AuditChain.name == self.chain)
        if not self._explicit:
            stmt = stmt.where(AuditChain.owner == self.owner)
        async with self._db.engine.begin() as conn:
            renewed = await conn.execute(
                stmt.values(owner=self.owner, lease_until=time.time() + self._config.lease_s)
            )
        self._lease_renewed = time.monotonic()
        if renewed.rowcount == 0:
            # Our lease lapsed (a long stall) and another process claimed the chain: leave it to
            # them and continue on a free name, rather than sharing one chain between two writers.
            log.warning("audit chain %s was taken over by another process", self.chain)
            await self._claim()

    async def _checkpoint_now(self) -> None:
        """A checkpoint of the current head on its own (timer, or stop)."""
        for _ in range(_RETRIES):
            cp = make_checkpoint(
                self._signer,
                self.chain,
                self.head_seq,
                self.head_hash,
                time.time(),
                self._cp_digest,
            )
            head = (self.head_seq, self.head_hash)
            try:
                async with asyncio.timeout(_COMMIT_TIMEOUT_S):
                    await self._store.commit(self.chain, self.head_seq, [], head, cp.ts, cp)
            except (HeadMoved, IntegrityError, sqlite3.IntegrityError):
                await self._reload_head()
                if self.head_seq == self._cp_seq:
                    return
                continue
            self._checkpoint_done(cp)
            return

    def _checkpoint_done(self, cp: CheckpointRow) -> None:
        self._cp_seq = cp.seq
        self._cp_digest = cp.digest
        self._cp_time = time.monotonic()
        checkpoint_log.info(
            "audit checkpoint %s",
            orjson.dumps({"body": cp.body, "signature": cp.signature}).decode(),
        )

    # -- committing a batch ------------------------------------------------------------------

    async def _commit_batch(self, batch: list[Pending]) -> None:
        error: BaseException | None = None
        try:
            keys: dict[str, Any] = {}
            hashes = {p.subject_hash for p in batch if p.content is not None and p.subject_hash}
            if hashes and self._vault is not None:
                keys = await self._vault.keys_for(hashes)
            await self._write(batch, keys)
        except Exception as exc:
            error = exc
            log.exception(
                "audit chain %s: %d records could not be committed", self.chain, len(batch)
            )
        self.batches += 1
        for item in batch:
            fut = item.future
            if fut is None or fut.done():
                continue
            if error is None:
                fut.set_result(None)
            else:
                fut.set_exception(AuditUnavailable("the audit record could not be committed"))
        if error is None:
            self.committed += len(batch)
        else:
            # Records nobody waits for (async mode) are kept and retried with the next batch,
            # except when stopping: then they are lost, and said so.
            kept = [p for p in batch if p.future is None]
            if kept and self._stopping:
                log.error("audit chain %s: %d async records lost at stop", self.chain, len(kept))
            elif kept:
                self._queue[:0] = kept
                await asyncio.sleep(0.5)

    def _serialise(self, batch: list[Pending], keys: dict[str, Any]) -> tuple[list[Row], int, str]:
        rows: list[Row] = []
        seq, prev = self.head_seq, self.head_hash
        # chain_hash(prev, body), without decoding each predecessor's hex again.
        prev_raw = bytes.fromhex(prev)
        chain, sha256 = self.chain, hashlib.sha256
        for item in batch:
            seq += 1
            record = {**item.record, "v": 1, "chain": chain, "seq": seq}  # a copy: retries redo it
            blob = None
            if item.content is not None and item.subject_hash in keys:
                key_id, dek = keys[item.subject_hash]
                blob = encrypt(dek, key_id, record.get("request_id"), item.content)
                record["content"] = {"key_id": key_id, "alg": ALGORITHM, "sha256": sha256_hex(blob)}
            try:
                body = canonical(record)
            except (TypeError, orjson.JSONEncodeError):
                body = canonical(_jsonable(record))
            hasher = sha256(prev_raw)
            hasher.update(body)
            prev_raw = hasher.digest()
            digest = prev_raw.hex()
            get = record.get
            # In store.RECORD_COLUMNS order.
            rows.append(
                (
                    chain,
                    seq,
                    record["ts"],
                    record["kind"],
                    get("request_id"),
                    get("project_id"),
                    get("key_id"),
                    get("model"),
                    get("status"),
                    body.decode(),
                    prev,
                    digest,
                    blob,
                )
            )
            prev = digest
        return rows, seq, prev

    async def _write(self, batch: list[Pending], keys: dict[str, Any]) -> None:
        last_error: Exception | None = None
        for attempt in range(_RETRIES):
            rows, seq, head = self._serialise(batch, keys)
            checkpoint = None
            if seq - self._cp_seq >= self._config.checkpoint_every:
                checkpoint = make_checkpoint(
                    self._signer, self.chain, seq, head, time.time(), self._cp_digest
                )
            try:
                async with asyncio.timeout(_COMMIT_TIMEOUT_S):
                    await self._store.commit(
                        self.chain, self.head_seq, rows, (seq, head), time.time(), checkpoint
                    )
            except Exception as exc:
                last_error = exc
                if not await self._reconcile(head):
                    if not isinstance(exc, HeadMoved | IntegrityError | sqlite3.IntegrityError):
                        await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
                    continue
            else:
                self.head_seq, self.head_hash = seq, head
            if checkpoint is not None and self.head_hash == head:
                self._checkpoint_done(checkpoint)
            return
        raise AuditUnavailable("audit commit failed") from last_error

    async def _reconcile(self, head: str) -> bool:
        """After a failed commit: True if it did commit after all; else re-read the head."""
        before = self.head_seq
        try:
            await self._reload_head()
        except Exception:
            log.warning("audit chain %s: cannot read the chain head", self.chain, exc_info=True)
            return False
        if self.head_hash == head:
            return True
        if self.head_seq != before:
            log.warning(
                "audit chain %s moved to seq %d under this writer (is replica_name shared?)",
                self.chain,
                self.head_seq,
            )
        return False
