"""Alerts: budget thresholds, rate-limit storms and usage drift, sent to webhooks.

Raising an alert on the hot path only puts it on a queue. A background worker claims it in the
database (a unique dedupe key: one alert per threshold and period, whatever the replica or
restart), then POSTs it to every webhook subscribed to its kind with an HMAC-SHA256 signature,
retrying with exponential backoff. Receivers verify::

    expected = hex(HMAC_SHA256(secret, f"{X-Socle-Timestamp}.".encode() + body))
    X-Socle-Signature == "sha256=" + expected
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from socle.accounting.backend import CounterRef
from socle.accounting.config import AlertEvent, AlertsConfig, WebhookTarget
from socle.accounting.persistence import AccountingStore
from socle.accounting.prices import from_nano

log = logging.getLogger(__name__)

_QUEUE_SIZE = 10_000
_SEEN_LIMIT = 100_000


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AlertEvent
    dedupe_key: str
    data: dict[str, Any] = field(hash=False, compare=False)

    @property
    def event_id(self) -> str:
        return "evt_" + hashlib.sha256(self.dedupe_key.encode()).hexdigest()[:24]

    def body(self, now: float) -> bytes:
        return orjson.dumps(
            {"id": self.event_id, "type": self.kind, "created_at": int(now), "data": self.data}
        )


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The X-Socle-Signature value for a body sent at ``timestamp``."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return "sha256=" + digest


def budget_alerts(counter: CounterRef, spent: int, currency: str, refused: bool) -> list[Alert]:
    """Alerts for each threshold of each rule on ``counter`` that ``spent`` has reached.

    A refusal by a hard budget counts as reaching 100 %: with reservations, spend can stop just
    under the limit while every new request is already refused.
    """
    alerts: list[Alert] = []
    for rule in counter.rules:
        if rule.limit <= 0:
            percent = 100.0 if spent > 0 or refused else 0.0
        else:
            percent = 100.0 * from_nano(spent) / rule.limit
        if refused and rule.mode == "hard":
            percent = max(percent, 100.0)
        for threshold in rule.thresholds:
            if percent + 1e-9 < threshold:
                break
            alerts.append(
                Alert(
                    "budget",
                    f"budget:{rule.name}:{counter.scope_id}:{counter.period_key}:{threshold:g}",
                    {
                        "budget": rule.name,
                        "scope": counter.scope,
                        "scope_id": counter.scope_id,
                        "period": counter.period,
                        "period_key": counter.period_key,
                        "mode": rule.mode,
                        "threshold_percent": threshold,
                        "percent": round(percent, 2),
                        "limit": rule.limit,
                        "spent": round(from_nano(spent), 6),
                        "currency": currency,
                        "resets_at": counter.period_end,
                    },
                )
            )
    return alerts


class StormDetector:
    """Counts rate-limit refusals per key or project per minute (per replica)."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}

    def record(self, scope: str, scope_id: str, now: float) -> Alert | None:
        minute = int(now // 60)
        key = (scope, scope_id)
        start, count = self._counts.get(key, (minute, 0))
        if start != minute:
            start, count = minute, 0
            if len(self._counts) > _SEEN_LIMIT:
                self._counts.clear()
        count += 1
        self._counts[key] = (start, count)
        if count != self.threshold:
            return None
        hour = time.strftime("%Y-%m-%dT%H", time.gmtime(now))
        return Alert(
            "rate_limit_storm",
            f"storm:{scope}:{scope_id}:{hour}",
            {"scope": scope, "scope_id": scope_id, "refusals_per_minute": count, "hour": hour},
        )


class AlertHub:
    """Queue, dedupe and delivery of alerts."""

    def __init__(self, config: AlertsConfig, store: AccountingStore | None) -> None:
        self.config = config
        self.store = store
        self.queue: asyncio.Queue[Alert] = asyncio.Queue(maxsize=_QUEUE_SIZE)
        self._seen: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._secrets: dict[str, bytes | None] = {}
        for target in config.webhooks:
            name = target.secret_env or config.secret_env
            value = os.environ.get(name) if name else None
            if not value:
                log.warning(
                    "alert webhook %s has no HMAC secret: bodies are sent unsigned", target.url
                )
            self._secrets[target.url] = value.encode() if value else None

    def emit(self, alert: Alert) -> None:
        """Queue an alert unless this replica already did (never blocks)."""
        if alert.dedupe_key in self._seen:
            return
        if len(self._seen) > _SEEN_LIMIT:
            self._seen.clear()
        self._seen.add(alert.dedupe_key)
        try:
            self.queue.put_nowait(alert)
        except asyncio.QueueFull:
            log.error("alert queue full: dropped %s", alert.dedupe_key)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._work(), name="socle-acct-alerts")

    async def stop(self, drain_seconds: float = 5.0) -> None:
        """Send what is queued (for at most ``drain_seconds``), then stop."""
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.queue.join(), drain_seconds)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _work(self) -> None:
        while True:
            alert = await self.queue.get()
            try:
                await self.handle(alert)
            except Exception:
                log.exception("alert %s failed", alert.dedupe_key)
            finally:
                self.queue.task_done()

    async def handle(self, alert: Alert) -> None:
        """Claim the alert (once across replicas), log it and deliver it."""
        now = time.time()
        body = alert.body(now)
        if self.store is not None:
            try:
                claimed = await self.store.claim_alert(
                    alert.dedupe_key, alert.kind, body.decode(), now
                )
            except Exception:
                # Without the database we cannot dedupe across replicas: better twice than never.
                log.exception("cannot record alert %s; sending it anyway", alert.dedupe_key)
                claimed = True
            if not claimed:
                return
        log.warning("alert %s: %s", alert.kind, orjson.dumps(alert.data).decode())
        targets = [t for t in self.config.webhooks if alert.kind in t.events]
        if not targets:
            return
        results = await asyncio.gather(*(self._deliver(t, alert, body) for t in targets))
        delivered = any(ok for ok, _, _ in results)
        attempts = sum(n for _, n, _ in results)
        error = "; ".join(e for _, _, e in results if e)
        if self.store is not None:
            with contextlib.suppress(Exception):
                await self.store.alert_attempted(
                    alert.dedupe_key, attempts, delivered, error, time.time()
                )

    async def _deliver(
        self, target: WebhookTarget, alert: Alert, body: bytes
    ) -> tuple[bool, int, str]:
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self.config.timeout_seconds)
            self._session = aiohttp.ClientSession(timeout=timeout)
        secret = self._secrets.get(target.url)
        error = ""
        for attempt in range(1, self.config.max_attempts + 1):
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "socle-alerts",
                "X-Socle-Event": alert.kind,
                "X-Socle-Event-Id": alert.event_id,
                "X-Socle-Timestamp": timestamp,
            }
            if secret is not None:
                headers["X-Socle-Signature"] = sign(secret, timestamp, body)
            try:
                async with self._session.post(target.url, data=body, headers=headers) as resp:
                    if 200 <= resp.status < 300:
                        return True, attempt, ""
                    error = f"HTTP {resp.status}"
                    if 400 <= resp.status < 500 and resp.status not in (408, 429):
                        break  # the receiver rejects it: retrying will not help
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            if attempt < self.config.max_attempts:
                await asyncio.sleep(self.config.backoff_seconds * 2 ** (attempt - 1))
        log.error("alert %s to %s failed: %s", alert.event_id, target.url, error)
        return False, attempt, error
