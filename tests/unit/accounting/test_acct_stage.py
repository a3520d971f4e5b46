"""The accounting stage end to end over the in-process backend (no database needed)."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from socle.accounting.config import AccountingConfig
from socle.accounting.prices import from_nano
from socle.accounting.runtime import AccountingRuntime
from socle.accounting.stage import Ticket
from socle.accounting.tokens import estimate_prompt, estimate_text
from socle.pipeline.context import Usage
from socle.pipeline.errors import UpstreamError
from socle.store.database import Database
from tests.unit.accounting.acct_support import call, config, context, deployment


def runtime(cfg: AccountingConfig | None = None) -> AccountingRuntime:
    # The database is never touched: nothing here starts the flusher.
    return AccountingRuntime.build(cfg or config(), Database("sqlite+aiosqlite:///:memory:"))


async def test_cost_and_carbon_from_the_upstream_usage_are_set_and_shown() -> None:
    rt = runtime()
    ctx = context()
    outcome = await call(rt.stage, ctx, completion_tokens=50)
    assert outcome.status == "ok"
    prompt = ctx.usage.prompt_tokens
    assert ctx.cost == pytest.approx((prompt * 1.0 + 50 * 2.0) / 1e6)
    assert outcome.headers["X-Socle-Cost"] == f"{ctx.cost:.9f}".rstrip("0")
    assert outcome.headers["X-Socle-Currency"] == "EUR"
    assert ctx.co2e_g is not None and ctx.co2e_g > 0
    assert float(outcome.headers["X-Socle-CO2e"]) == pytest.approx(ctx.co2e_g, rel=1e-5)
    assert ctx.energy_kwh is not None and ctx.energy_kwh > 0
    assert "X-Socle-Usage-Estimated" not in outcome.headers
    [(key, totals)] = rt.usage.take().items()
    assert key[1:] == ("o1", "t1", "p1", "k1", "chat", "dep-a")
    assert key[0] == datetime.fromtimestamp(ctx.started_at, UTC).date()
    assert totals.requests == 1 and totals.completion_tokens == 50
    assert totals.cost_nano == round(ctx.cost * 1e9)


async def test_usage_is_estimated_and_marked_when_the_upstream_reports_none() -> None:
    rt = runtime()
    ctx = context()
    outcome = await call(rt.stage, ctx)
    assert ctx.usage.estimated
    assert ctx.usage.prompt_tokens == estimate_prompt("chat.completions", ctx.body)
    assert ctx.usage.completion_tokens == estimate_text("D'accord.")
    assert outcome.headers["X-Socle-Usage-Estimated"] == "true"
    assert next(iter(rt.usage.take().values())).estimated == 1


async def test_a_hard_budget_refuses_with_limit_spend_and_reset_time() -> None:
    rt = runtime(config(budgets=[{"scope": "project", "id": "p1", "limit": 0.0003}]))
    first = await call(rt.stage, context(max_tokens=100), completion_tokens=100)
    assert first.status == "ok"
    second = await call(rt.stage, context(max_tokens=100), completion_tokens=100)
    assert second.status == "budget_exceeded"
    error = second.error
    assert error is not None and error.status == 429
    month_end = datetime(
        date.today().year + date.today().month // 12, date.today().month % 12 + 1, 1
    )
    assert "limit 0.0003 EUR" in error.message
    assert (
        first.cost is not None and f"spent {first.cost:.9f}".rstrip("0") + " EUR" in error.message
    )
    assert month_end.strftime("resets at %Y-%m-01T00:00:00") in error.message
    assert int(second.headers["Retry-After"]) > 0
    rows = rt.usage.take()
    assert sorted((k[-1], t.refused, t.errors) for k, t in rows.items()) == [
        ("", 1, 1),
        ("dep-a", 0, 0),
    ]


async def test_the_reservation_covers_the_most_expensive_candidate() -> None:
    cheap, dear = deployment("cheap", output_per_mtok=1), deployment("dear", output_per_mtok=50)
    rt = runtime(config(budgets=[{"scope": "key", "limit": 1.0}], reservation={"prompt_margin": 1}))
    ctx = context(candidates=[cheap, dear], max_tokens=1000)
    await rt.stage.before_call(ctx)
    ticket = ctx.reservation
    assert isinstance(ticket, Ticket) and ticket.reservation is not None
    assert ticket.reservation.amount == math.ceil(ticket.prompt_estimate * 1000 + 1000 * 50_000)
    await rt.stage.finish(ctx, UpstreamError("boom"))
    counter = ticket.reservation.counters[0].counter
    assert rt.backend.reserved[counter] == 0 and rt.backend.spent[counter] == 0  # type: ignore[attr-defined]


async def test_rate_limit_refusal_has_retry_after_and_openai_headers() -> None:
    rt = runtime(
        config(
            rate_limits={"key": {"rpm": 2}}, alerts={"drift_enabled": False, "storm_threshold": 2}
        )
    )
    ok = await call(rt.stage, context(), completion_tokens=1)
    assert ok.headers["x-ratelimit-limit-requests"] == "2"
    assert ok.headers["x-ratelimit-remaining-requests"] == "1"
    await call(rt.stage, context(), completion_tokens=1)
    refused = await call(rt.stage, context(), completion_tokens=1)
    assert refused.status == "rate_limit_exceeded"
    assert refused.headers["Retry-After"] == "30"
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"
    assert refused.headers["x-ratelimit-reset-requests"].endswith("s")
    await call(rt.stage, context(), completion_tokens=1)
    storm = rt.alerts.queue.get_nowait()
    assert storm.kind == "rate_limit_storm" and storm.data["scope_id"] == "k1"


async def test_budget_thresholds_alert_once_each() -> None:
    rt = runtime(config(budgets=[{"scope": "project", "id": "p1", "limit": 0.001, "mode": "soft"}]))
    for _ in range(8):
        await call(rt.stage, context(max_tokens=100), completion_tokens=100)
    kinds = []
    while not rt.alerts.queue.empty():
        kinds.append(rt.alerts.queue.get_nowait().data["threshold_percent"])
    assert kinds == [50.0, 80.0, 100.0]


async def test_project_defaults_are_applied_and_the_temperature_recorded() -> None:
    rt = runtime()
    settings = {"defaults": {"temperature": 0.3}, "caps": {"max_tokens": 64}}
    ctx = context(settings=settings, max_tokens=None)
    await call(rt.stage, ctx, completion_tokens=10)
    assert ctx.body["temperature"] == 0.3 and ctx.body["max_tokens"] == 64
    assert ctx.applied_defaults["temperature"] == {"value": 0.3, "reason": "default"}
    totals = next(iter(rt.usage.take().values()))
    assert (totals.temperature_sum, totals.temperature_count, totals.defaults_applied) == (
        0.3,
        1,
        1,
    )


async def chunks(
    items: list[dict[str, Any]], fail_after: int | None = None
) -> AsyncIterator[dict[str, Any]]:
    for index, item in enumerate(items):
        if fail_after is not None and index == fail_after:
            raise UpstreamError("upstream closed")
        yield item


def delta(text: str) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"content": text}}]}


async def run_stream(
    rt: AccountingRuntime, items: list[dict[str, Any]], fail_after: int | None = None
) -> tuple[Any, list[dict[str, Any]]]:
    ctx = context()
    ctx.stream = True
    await rt.stage.before_call(ctx)
    ctx.deployment = "dep-a"
    seen: list[dict[str, Any]] = []
    error = None
    try:
        async for chunk in rt.stage.wrap_stream(ctx, chunks(items, fail_after)):
            seen.append(chunk)
    except UpstreamError as exc:
        error = exc
    await rt.stage.finish(ctx, error)
    return ctx, seen


async def test_stream_usage_chunk_is_read_and_optionally_annotated() -> None:
    rt = runtime(config(stream_usage_extra=True))
    usage = {"prompt_tokens": 20, "completion_tokens": 7, "total_tokens": 27}
    ctx, seen = await run_stream(rt, [delta("Bon"), delta("jour"), {"choices": [], "usage": usage}])
    assert ctx.usage == Usage(20, 7, 0, False)
    assert seen[-1]["usage"]["socle_cost"] == pytest.approx((20 + 14) / 1e6)
    assert seen[-1]["usage"]["socle_currency"] == "EUR"
    assert seen[0] == delta("Bon")  # other chunks untouched


async def test_stream_without_usage_is_estimated_from_the_streamed_text() -> None:
    rt = runtime()
    ctx, _ = await run_stream(rt, [delta("Bonjour "), delta("à tous.")])
    assert ctx.usage.estimated and ctx.usage.completion_tokens == estimate_text("Bonjour à tous.")


async def test_a_broken_stream_is_charged_for_what_was_streamed_and_releases_the_rest() -> None:
    rt = runtime(config(budgets=[{"scope": "key", "limit": 1.0}]))
    ctx, _ = await run_stream(rt, [delta("Bonjour "), delta("x"), delta("y")], fail_after=1)
    ticket = ctx.reservation
    counter = ticket.reservation.counters[0].counter
    assert rt.backend.reserved[counter] == 0  # type: ignore[attr-defined]
    expected = ctx.usage.prompt_tokens * 1000 + estimate_text("Bonjour ") * 2000
    assert rt.backend.spent[counter] == expected  # type: ignore[attr-defined]
    assert from_nano(expected) == pytest.approx(ctx.cost)
    # An upstream failure before any output costs nothing.
    ctx2, _ = await run_stream(rt, [delta("a")], fail_after=0)
    assert ctx2.cost == 0.0 and ctx2.usage.total_tokens == 0


async def test_several_choices_multiply_the_reserved_output() -> None:
    rt = runtime(config(budgets=[{"scope": "key", "limit": 1.0}], reservation={"prompt_margin": 1}))
    ctx = context(max_tokens=100)
    ctx.body["n"] = 3
    await rt.stage.before_call(ctx)
    ticket = ctx.reservation
    assert isinstance(ticket, Ticket) and ticket.max_output == 300
    assert ticket.reservation is not None
    assert ticket.reservation.amount == ticket.prompt_estimate * 1000 + 300 * 2000
    await rt.stage.finish(ctx, None)


async def test_a_request_without_limit_gets_one_only_under_a_hard_budget() -> None:
    free = runtime(config(reservation={"default_max_output_tokens": 512}))
    ctx = context(max_tokens=None)
    await free.stage.before_call(ctx)
    assert "max_tokens" not in ctx.body
    bounded = runtime(
        config(
            reservation={"default_max_output_tokens": 512},
            budgets=[{"scope": "org", "limit": 10.0}],
        )
    )
    ctx = context(max_tokens=None)
    await bounded.stage.before_call(ctx)
    assert ctx.body["max_tokens"] == 512
    assert ctx.applied_defaults["max_tokens"] == {"value": 512, "reason": "budget"}
