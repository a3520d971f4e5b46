"""The accounting stage: defaults and caps, rate limits and budget reservation before the call;
usage, cost, carbon, settlement and the usage roll-up after it.

Per request it does one backend round trip before the call and one after (none at all when no
budget or rate limit applies), never a database query: roll-ups and spend go to the database in
batches (:class:`~socle.accounting.runtime.AccountingRuntime`).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from socle.accounting.alerts import AlertHub, StormDetector, budget_alerts
from socle.accounting.backend import Admission
from socle.accounting.carbon import CarbonModel, Footprint
from socle.accounting.config import AccountingConfig
from socle.accounting.journal import UsageBuffer
from socle.accounting.ledger import BudgetLedger, Reservation
from socle.accounting.periods import PeriodClock
from socle.accounting.policy import apply_policy, request_limit
from socle.accounting.pricebook import PriceBook
from socle.accounting.prices import FREE, from_nano
from socle.accounting.ratelimits import rate_headers, retry_headers
from socle.accounting.tokens import estimate_completion, estimate_prompt, estimate_text
from socle.accounting.usage import read_usage
from socle.pipeline.context import Principal, RequestContext, Usage
from socle.pipeline.errors import BudgetExceeded, GatewayError, RateLimited
from socle.pipeline.stage import Chunk, Stage
from socle.routing.catalog import Deployment

if TYPE_CHECKING:
    from socle.accounting.runtime import AccountingRuntime
    from socle.store.database import Database


@dataclass(slots=True)
class Ticket:
    """The accounting state of one request, kept in ``ctx.reservation``."""

    reservation: Reservation | None = None
    candidates: tuple[Deployment, ...] = ()
    prompt_estimate: int = 0
    max_output: int = 0
    temperature: float | None = None
    refused: bool = False
    finished: bool = False
    stream_text: list[str] = field(default_factory=list)


class AccountingStage(Stage):
    """FinOps and GreenOps for every request (see docs/finops.md and docs/carbon.md)."""

    name = "accounting"

    def __init__(
        self,
        config: AccountingConfig,
        ledger: BudgetLedger,
        prices: PriceBook,
        carbon: CarbonModel,
        usage: UsageBuffer,
        alerts: AlertHub,
        clock: PeriodClock,
    ) -> None:
        self.config = config
        self.ledger = ledger
        self.prices = prices
        self.carbon = carbon
        self.usage = usage
        self.alerts = alerts
        self.clock = clock
        self.storms = StormDetector(config.alerts.storm_threshold)
        self.currency = config.currency
        self._settling: set[asyncio.Task[None]] = set()
        # Read once: the configuration does not change while the stage lives.
        reservation = config.reservation
        self._margin = reservation.prompt_margin
        self._default_output = reservation.default_max_output_tokens
        self._enforce_output = reservation.enforce_output_limit
        # The usage day of the last request, reused while requests stay in the same day.
        self._day = date.min
        self._day_start = self._day_end = 0.0

    # -- before the call ---------------------------------------------------------------------

    async def before_call(self, ctx: RequestContext) -> None:
        principal = ctx.principal
        if principal is None:
            return
        ticket = Ticket()
        ctx.reservation = ticket
        ctx.currency = self.currency
        body = ctx.body
        endpoint = ctx.endpoint
        if ctx.project_settings:  # no settings: no default nor cap to apply
            applied = apply_policy(body, ctx.project_settings, endpoint)
            if applied:
                ctx.applied_defaults.update(applied)
        temperature = body.get("temperature")
        if isinstance(temperature, _NUMBER) and not isinstance(temperature, bool):
            ticket.temperature = float(temperature)
        ticket.prompt_estimate = estimate_prompt(endpoint, body)
        now = time.time()
        if endpoint != "embeddings":
            limit = request_limit(body)
            if limit is None:
                limit = self._default_output
                if self._enforce_output and self._hard_budget(principal, now):
                    # Without a limit the upstream could outspend the reservation.
                    body["max_tokens"] = limit
                    ctx.applied_defaults["max_tokens"] = {"value": limit, "reason": "budget"}
            choices = body.get("n")
            if isinstance(choices, int) and not isinstance(choices, bool) and choices > 1:
                limit *= choices  # every choice may use the whole limit
            ticket.max_output = limit
        prompt = math.ceil(ticket.prompt_estimate * self._margin)
        candidates = getattr(ctx.route, "candidates", None)
        ticket.candidates = candidates = tuple(candidates) if candidates else ()
        amount = 0
        rates = self.prices.rates
        for deployment in candidates:
            bound = rates(deployment).max_cost(prompt, ticket.max_output)
            if bound > amount:
                amount = bound
        reservation, admission = await self.ledger.reserve(
            principal, amount, prompt + ticket.max_output, now
        )
        ticket.reservation = reservation
        if admission is None:
            return
        if not admission.ok:
            ticket.refused = True
            raise self._refusal(admission, amount, now)
        ctx.response_headers.update(rate_headers(admission.rates))

    def _hard_budget(self, principal: Principal, now: float) -> bool:
        budgets = self.ledger.budgets
        if not budgets:
            return False
        return any(c.hard_limit is not None for c in budgets.counters(principal, now))

    def _refusal(self, admission: Admission, amount: int, now: float) -> GatewayError:
        headers = rate_headers(admission.rates)
        ref = admission.denied_rate
        if ref is not None:
            storm = self.storms.record(ref.scope, ref.scope_id, now)
            if storm is not None:
                self.alerts.emit(storm)
            if admission.retry_after is None:
                return RateLimited(
                    f"This request may use {ref.weight} {ref.kind}, more than the limit of "
                    f"{ref.scope} {ref.scope_id} ({ref.burst} {ref.kind} per burst, "
                    f"{ref.limit} per minute). Lower max_tokens or shorten the prompt.",
                    headers=headers,
                )
            headers.update(retry_headers(admission.retry_after))
            return RateLimited(
                f"Rate limit reached for {ref.scope} {ref.scope_id}: {ref.limit} {ref.kind} per "
                f"minute. Retry after {admission.retry_after:.1f}s.",
                headers=headers,
            )
        counter = admission.denied_budget
        assert counter is not None
        for alert in budget_alerts(counter, admission.spent, self.currency, refused=True):
            self.alerts.emit(alert)
        limit = from_nano(counter.hard_limit or 0)
        spent = from_nano(admission.spent)
        if counter.period_end is None:
            reset = "this budget has no period and never resets"
        else:
            stamp = datetime.fromtimestamp(counter.period_end, UTC).isoformat()
            reset = f"it resets at {stamp.replace('+00:00', 'Z')}"
            headers.update(retry_headers(counter.period_end - now))
        cur = self.currency
        in_flight = from_nano(admission.reserved)
        return BudgetExceeded(
            f"Budget exceeded for {counter.scope} {counter.scope_id} "
            f"({counter.period} {counter.period_key}): limit {_money(limit)} {cur}, spent "
            f"{_money(spent)} {cur} ({_money(in_flight)} {cur} reserved by requests in flight); "
            f"this request may cost up to {_money(from_nano(amount))} {cur}; {reset}.",
            headers=headers,
        )

    # -- after the call ----------------------------------------------------------------------

    async def on_response(self, ctx: RequestContext, response: dict[str, Any]) -> dict[str, Any]:
        ticket = ctx.reservation
        if isinstance(ticket, Ticket) and _is_empty(ctx.usage):
            found = read_usage(response.get("usage"))
            if found is not None:
                ctx.usage = found
            else:
                ctx.usage = Usage(
                    prompt_tokens=ticket.prompt_estimate,
                    completion_tokens=estimate_completion(response),
                    estimated=True,
                )
        return response

    def wrap_stream(
        self, ctx: RequestContext, chunks: AsyncIterator[Chunk]
    ) -> AsyncIterator[Chunk]:
        ticket = ctx.reservation
        if not isinstance(ticket, Ticket):
            return chunks
        return self._watch(ctx, ticket, chunks)

    async def _watch(
        self, ctx: RequestContext, ticket: Ticket, chunks: AsyncIterator[Chunk]
    ) -> AsyncIterator[Chunk]:
        async for chunk in chunks:
            usage = chunk.get("usage")
            if usage:
                if _is_empty(ctx.usage):
                    found = read_usage(usage)
                    if found is not None:
                        ctx.usage = found
                if self.config.stream_usage_extra and isinstance(usage, dict):
                    self._annotate(ctx, usage)
            choices = chunk.get("choices")
            if choices:
                _collect_text(choices, ticket.stream_text)
            yield chunk

    def _annotate(self, ctx: RequestContext, usage: dict[str, Any]) -> None:
        deployment = _find(ctx.deployment, ctx.reservation.candidates)
        if deployment is None:
            return
        cost = self.prices.rates(deployment).cost(ctx.usage)
        usage["socle_cost"] = from_nano(cost)
        usage["socle_currency"] = self.currency
        footprint = self._footprint(ctx, deployment)
        if footprint is not None:
            usage["socle_co2e_g"] = round(footprint.co2e_g, 6)

    async def finish(self, ctx: RequestContext, error: GatewayError | None) -> None:
        ticket = ctx.reservation
        if not isinstance(ticket, Ticket) or ticket.finished:
            return
        ticket.finished = True
        if ticket.refused or ticket.reservation is None:
            self._record(ctx, ticket, 0, None, error, refused=ticket.refused)
            return
        usage = self._final_usage(ctx, ticket, error)
        deployment = _find(ctx.deployment, ticket.candidates)
        rates = self.prices.rates(deployment) if deployment is not None else FREE
        tokens = usage.total_tokens
        cost = rates.cost(usage) if tokens else 0
        if ticket.reservation.empty:
            pass  # no budget nor rate limit applied: nothing to settle (ledger.settle no-ops)
        elif self.ledger.backend.shared:
            # Off the response path: until it runs the reservation stays held, which can only
            # refuse a little early, never overspend; stop() waits for every pending settle.
            task = asyncio.create_task(self._settle(ticket.reservation, cost, tokens))
            self._settling.add(task)
            task.add_done_callback(self._settling.discard)
        else:
            await self._settle(ticket.reservation, cost, tokens)
        footprint = self._footprint(ctx, deployment) if tokens else None
        ctx.cost = from_nano(cost)
        ctx.currency = self.currency
        headers = ctx.response_headers
        headers["X-Socle-Cost"] = _decimal(ctx.cost)
        headers["X-Socle-Currency"] = self.currency
        if footprint is not None:
            ctx.energy_kwh = footprint.energy_kwh
            ctx.co2e_g = footprint.co2e_g
            headers["X-Socle-CO2e"] = f"{footprint.co2e_g:.6g}"
            headers["X-Socle-Energy-kWh"] = f"{footprint.energy_kwh:.6g}"
        elif tokens == 0:
            ctx.energy_kwh, ctx.co2e_g = 0.0, 0.0
            headers["X-Socle-CO2e"] = "0"
        else:
            headers["X-Socle-CO2e"] = "unknown"
        if usage.estimated:
            headers["X-Socle-Usage-Estimated"] = "true"
        self._record(ctx, ticket, cost, footprint, error, refused=False)

    async def _settle(self, reservation: Reservation, cost: int, tokens: int) -> None:
        settlement = await self.ledger.settle(reservation, cost, tokens)
        if settlement is None or not settlement.spent:
            return
        for counter in reservation.counters:
            spent = settlement.spent.get(counter.counter)
            if spent is not None and counter.rules:
                for alert in budget_alerts(counter, spent, self.currency, refused=False):
                    self.alerts.emit(alert)

    async def drain(self) -> None:
        """Wait for the settlements still running in the background."""
        while self._settling:
            await asyncio.gather(*list(self._settling), return_exceptions=True)

    def _final_usage(
        self, ctx: RequestContext, ticket: Ticket, error: GatewayError | None
    ) -> Usage:
        """The upstream's usage if it gave one, else an estimate of what it consumed."""
        if not _is_empty(ctx.usage):
            return ctx.usage
        streamed = "".join(ticket.stream_text)
        if error is not None and not streamed:
            return ctx.usage  # nothing was generated: the reservation is released in full
        if error is None and ctx.endpoint == "embeddings":
            ctx.usage = Usage(prompt_tokens=ticket.prompt_estimate, estimated=True)
        elif error is None or streamed:
            ctx.usage = Usage(
                prompt_tokens=ticket.prompt_estimate,
                completion_tokens=estimate_text(streamed),
                estimated=True,
            )
        return ctx.usage

    def _footprint(self, ctx: RequestContext, deployment: Deployment | None) -> Footprint | None:
        if deployment is None:
            return None
        usage = ctx.usage
        return self.carbon.estimate(
            deployment,
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.cached_tokens,
            latency_s=ctx.elapsed_ms / 1000.0,
        )

    def _new_day(self, started_at: float) -> None:
        """Take the usage day (and its bounds) of a request that falls outside the current one."""
        window = self.clock.window("day", started_at)
        assert window.end_ts is not None  # a day always ends
        self._day = date.fromisoformat(window.key)
        self._day_start, self._day_end = window.start, window.end_ts

    def _record(
        self,
        ctx: RequestContext,
        ticket: Ticket,
        cost: int,
        footprint: Footprint | None,
        error: GatewayError | None,
        *,
        refused: bool,
    ) -> None:
        principal = ctx.principal
        assert principal is not None
        started_at = ctx.started_at
        if not self._day_start <= started_at < self._day_end:
            self._new_day(started_at)
        day = self._day
        usage = ctx.usage
        key = (
            day,
            principal.org_id or "",
            principal.team_id or "",
            principal.project_id or "",
            principal.key_id or "",
            ctx.model or "",
            ctx.deployment or "",
        )
        self.usage.add_request(
            key,
            error=error is not None,
            refused=refused,
            usage=usage,
            cost_nano=cost,
            footprint=footprint,
            temperature=ticket.temperature,
            defaults_applied=bool(ctx.applied_defaults),
        )


_NUMBER = (int, float)  # a tuple: ``int | float`` would build a union object on every call


def _is_empty(usage: Usage) -> bool:
    return usage.prompt_tokens == 0 and usage.completion_tokens == 0


def _find(deployment_id: str | None, candidates: Sequence[Deployment]) -> Deployment | None:
    if deployment_id is None:
        return None
    for deployment in candidates:
        if deployment.id == deployment_id:
            return deployment
    return None


def _collect_text(choices: Any, into: list[str]) -> None:
    for choice in choices:
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if not isinstance(delta, dict):
            continue
        content = delta.get("content")
        if isinstance(content, str):
            into.append(content)
        for call in delta.get("tool_calls") or ():
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict):
                into.append(str(function.get("name") or ""))
                into.append(str(function.get("arguments") or ""))


def _money(value: float) -> str:
    """2 decimals from 1 up, else down to the nano: 40.00, 0.0001, 0.0000549."""
    if value == 0 or abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.9f}".rstrip("0")


def _decimal(value: float) -> str:
    text = f"{value:.9f}".rstrip("0").rstrip(".")
    return text or "0"


def build_accounting(
    config: AccountingConfig, database: Database, redis_url: str | None = None
) -> AccountingRuntime:
    """Build the accounting runtime (stage, backend, flusher, alerts) from the configuration."""
    from socle.accounting.runtime import AccountingRuntime

    return AccountingRuntime.build(config, database, redis_url)
