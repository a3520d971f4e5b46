"""In-memory cache of API keys, invalidated across replicas by polling the identity revision.

The hot path resolves a key with a dict lookup. A miss costs one query, shared by concurrent
requests for the same key. A background task polls the revision counter every ``poll_interval``
seconds and drops the cache when it moves, so a revocation reaches every replica within
``poll_interval`` plus one query.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict

from socle.identity.service import IdentityService, KeyRecord

log = logging.getLogger(__name__)


class KeyCache:
    def __init__(
        self,
        service: IdentityService,
        *,
        poll_interval: float = 1.0,
        negative_ttl: float = 2.0,
        max_entries: int = 100_000,
    ) -> None:
        self.service = service
        self.poll_interval = poll_interval
        self.negative_ttl = negative_ttl
        self.max_entries = max_entries
        self._known: dict[str, KeyRecord] = {}
        self._unknown: OrderedDict[str, float] = OrderedDict()
        self._loading: dict[str, asyncio.Future[KeyRecord | None]] = {}
        self._revision = -1
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._revision = await self.service.revision()
        self._task = asyncio.create_task(self._poll(), name="socle-key-cache-poll")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def clear(self) -> None:
        self._known.clear()
        self._unknown.clear()

    async def resolve(self, key_hash: str) -> KeyRecord | None:
        record = self._known.get(key_hash)
        if record is not None:
            return record
        seen = self._unknown.get(key_hash)
        if seen is not None and time.monotonic() - seen < self.negative_ttl:
            return None
        pending = self._loading.get(key_hash)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[KeyRecord | None] = asyncio.get_running_loop().create_future()
        self._loading[key_hash] = future
        try:
            record = await self.service.load_key(key_hash)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            self._loading.pop(key_hash, None)
        future.set_result(record)
        self._remember(key_hash, record)
        return record

    def _remember(self, key_hash: str, record: KeyRecord | None) -> None:
        if record is None:
            self._unknown[key_hash] = time.monotonic()
            self._unknown.move_to_end(key_hash)
            while len(self._unknown) > self.max_entries:
                self._unknown.popitem(last=False)
            return
        if len(self._known) >= self.max_entries:
            self._known.clear()
        self._known[key_hash] = record

    async def refresh(self) -> bool:
        """Check the revision once; drop the caches if it moved. Returns whether it moved."""
        revision = await self.service.revision()
        if revision != self._revision:
            self._revision = revision
            self.clear()
            return True
        return False

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                await self.refresh()
            except Exception:
                # The database may be briefly unreachable; keep serving from the cache.
                log.warning("identity revision poll failed", exc_info=True)
