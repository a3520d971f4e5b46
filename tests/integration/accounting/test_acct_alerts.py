"""Webhook alerts against a real local HTTP receiver: signature, retries, one alert per key."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import date, timedelta
from typing import Any

import orjson
import pytest
from aiohttp import web
from sqlalchemy import select

from socle.accounting.alerts import Alert, AlertHub
from socle.accounting.config import AlertsConfig
from socle.accounting.drift import DriftMonitor
from socle.accounting.journal import UsageTotals
from socle.accounting.persistence import AccountingStore
from socle.store.database import Database
from socle.store.models.accounting import AlertRecord

SECRET = "s3cret-for-tests"


class Receiver:
    """A webhook endpoint that fails its first ``failures`` calls with ``status``."""

    def __init__(self, failures: int = 0, status: int = 500) -> None:
        self.failures = failures
        self.status = status
        self.calls: list[tuple[dict[str, str], bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.calls.append((dict(request.headers), await request.read()))
        if len(self.calls) <= self.failures:
            return web.Response(status=self.status)
        return web.Response(status=204)


async def serve(receiver: Receiver) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/hook"


def alerts_config(url: str, **extra: Any) -> AlertsConfig:
    return AlertsConfig.model_validate(
        {
            "webhooks": [{"url": url, "secret_env": "SOCLE_TEST_ALERT_SECRET"}],
            "backoff_seconds": 0.02,
            "max_attempts": 4,
            **extra,
        }
    )


ALERT = Alert("budget", "budget:p1:2026-11:80", {"budget": "p1", "threshold_percent": 80})


async def test_signed_delivery_with_retries_and_a_single_alert_across_replicas(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCLE_TEST_ALERT_SECRET", SECRET)
    receiver = Receiver(failures=2)
    runner, url = await serve(receiver)
    store = AccountingStore(sqlite_db)
    try:
        first, second = AlertHub(alerts_config(url), store), AlertHub(alerts_config(url), store)
        await first.handle(ALERT)
        await second.handle(ALERT)  # another replica, same threshold and period
    finally:
        await first.stop()
        await second.stop()
        await runner.cleanup()
    assert len(receiver.calls) == 3  # two failures, then delivered once; no duplicate
    headers, body = receiver.calls[-1]
    expected = hmac.new(
        SECRET.encode(), headers["X-Socle-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Socle-Signature"] == "sha256=" + expected
    assert headers["X-Socle-Event"] == "budget"
    assert len({h["X-Socle-Event-Id"] for h, _ in receiver.calls}) == 1  # stable across retries
    payload = orjson.loads(body)
    assert payload["type"] == "budget" and payload["data"]["threshold_percent"] == 80
    async with sqlite_db.session() as session:
        record = (await session.execute(select(AlertRecord))).scalar_one()
    assert record.attempts == 3 and record.delivered_at is not None


async def test_a_receiver_that_rejects_the_alert_is_not_retried(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCLE_TEST_ALERT_SECRET", SECRET)
    receiver = Receiver(failures=10, status=400)
    runner, url = await serve(receiver)
    hub = AlertHub(alerts_config(url), AccountingStore(sqlite_db))
    try:
        await hub.start()
        hub.emit(ALERT)
        hub.emit(ALERT)  # deduplicated before it reaches the queue
        await hub.stop()
    finally:
        await runner.cleanup()
    assert len(receiver.calls) == 1
    async with sqlite_db.session() as session:
        record = (await session.execute(select(AlertRecord))).scalar_one()
    assert record.delivered_at is None and record.last_error == "HTTP 400"


async def test_drift_monitor_alerts_on_a_spike_in_daily_spend(sqlite_db: Database) -> None:
    store = AccountingStore(sqlite_db)
    today = date.today()
    usage = {}
    for back in range(1, 15):
        day = today - timedelta(days=back)
        cost = 1_000_000_000 + (back % 3) * 50_000_000  # about 1 EUR a day
        usage[(day, "o1", "", "p1", "k1", "m", "d")] = UsageTotals(requests=100, cost_nano=cost)
    usage[(today, "o1", "", "p1", "k1", "m", "d")] = UsageTotals(
        requests=90, cost_nano=9_000_000_000
    )
    await store.ensure_meta()
    await store.flush({}, usage, time.time())
    hub = AlertHub(AlertsConfig(), None)
    monitor = DriftMonitor(store, hub, AlertsConfig(drift_k=3.0), "UTC", "EUR")
    alerts = await monitor.check()
    assert [(a.data["metric"], a.data["direction"], a.data["day"]) for a in alerts] == [
        ("cost", "above", today.isoformat())
    ]
    assert alerts[0].data["value"] == 9.0 and alerts[0].data["median"] == pytest.approx(1.05)
    assert hub.queue.qsize() == 1
