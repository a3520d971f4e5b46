"""The call stage: executes a :class:`RoutePlan` with retries, backoff, fallback and breakers.

Try order: the plan's candidates one after the other (a *round*); deployments that failed with a
retryable error (429, 5xx, timeout, connection error) are tried again in the next round, after a
backoff ``min(backoff_max_s, backoff_base_s · 2^(round-1))`` of which a ``jitter`` fraction is
random (an upstream ``Retry-After`` is honoured when it fits under ``backoff_max_s``; a longer one
drops the deployment). It stops at the first success, after ``max_attempts`` tries, after
``max_tries_per_deployment`` rounds, or at the per-request deadline. Only the plan's candidates are
ever called: fallback never leaves the allowed set.

Streams fall back only until the first chunk has been obtained; the deadline covers that wait.
After it, an upstream error ends the stream with :class:`UpstreamError` / :class:`UpstreamTimeout`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from socle.pipeline.context import Attempt, RequestContext
from socle.pipeline.errors import (
    GatewayError,
    InvalidRequest,
    NoRouteAvailable,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
)
from socle.providers.base import Provider, ProviderError, ProviderTimeout
from socle.providers.endpoint import Endpoint
from socle.routing.catalog import Deployment
from socle.routing.health import DeploymentHealth
from socle.routing.plan import RoutePlan
from socle.routing.router import Router

log = logging.getLogger(__name__)

Json = dict[str, Any]
T = TypeVar("T")
Invoke = Callable[[Provider, Endpoint, Json], Awaitable[T]]

DEPLOYMENT_HEADER = "X-Socle-Deployment"
LOCATION_HEADER = "X-Socle-Location"
# Upstream statuses meaning "this request is wrong", not "this deployment is unwell": the same
# request would fail elsewhere too, so the client gets a 400 and nothing else is tried.
_CLIENT_ERRORS = frozenset({400, 413, 422})
_DETAIL_MAX = 200
_SKIPPED = frozenset({"breaker_open", "refused"})


@dataclass(slots=True)
class _Outcome:
    """The verdict on one failed try."""

    outcome: str  # Attempt.outcome
    retry: bool  # worth another try of the same deployment
    breaker_failure: bool
    retry_after: float | None = None
    rejected: bool = False  # the upstream refused the request itself (400, 413, 422)


class Dispatcher:
    """Calls providers along ``ctx.route``; one instance serves every request."""

    def __init__(
        self,
        router: Router,
        providers: Mapping[str, Provider],
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.router = router
        self.providers = providers
        self._sleep = sleep
        self._rand = rand

    async def chat(self, ctx: RequestContext) -> Json:
        """A non-streaming chat completion; the response's ``model`` is the logical name."""
        response, _, health, started = await self._dispatch(ctx, _chat)
        health.observe_latency((time.perf_counter() - started) * 1000.0)
        response["model"] = _plan(ctx).model
        return response

    async def embeddings(self, ctx: RequestContext) -> Json:
        """Embeddings; the response's ``model`` is the logical name."""
        response, _, health, started = await self._dispatch(ctx, _embeddings)
        health.observe_latency((time.perf_counter() - started) * 1000.0)
        response["model"] = _plan(ctx).model
        return response

    async def chat_stream(self, ctx: RequestContext) -> AsyncIterator[Json]:
        """A streaming chat completion; each chunk's ``model`` is the logical name.

        Response headers (``X-Socle-Deployment``…) are set before the first chunk is yielded,
        so pull the first chunk before sending the HTTP headers.
        """
        (chunks, first), deployment, health, started = await self._dispatch(ctx, _open_stream)
        health.observe_ttft((time.perf_counter() - started) * 1000.0)
        model = _plan(ctx).model
        attempt = ctx.attempts[-1]
        try:
            first["model"] = model
            yield first
            async for chunk in chunks:
                if "model" in chunk:
                    chunk["model"] = model
                yield chunk
        except ProviderError as exc:
            outcome = "timeout" if isinstance(exc, ProviderTimeout) else "error"
            attempt.outcome = outcome
            attempt.status = exc.status
            attempt.detail = f"after first chunk: {exc.message}"[:_DETAIL_MAX]
            health.attempts[outcome] += 1
            health.breaker.record_failure()
            cls = UpstreamTimeout if outcome == "timeout" else UpstreamError
            raise cls(
                f"Deployment `{deployment.id}` stopped the stream: {_describe(exc)}."
            ) from None
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _dispatch(
        self, ctx: RequestContext, invoke: Invoke[T]
    ) -> tuple[T, Deployment, DeploymentHealth, float]:
        """Try the plan's candidates until one answers; returns its result and bookkeeping."""
        plan = _plan(ctx)
        retry = self.router.config.retry
        offline = self.router.offline
        board = self.router.health
        loop = asyncio.get_running_loop()
        deadline = loop.time() + retry.deadline_s
        pending = list(plan.candidates)
        tries: dict[str, int] = {}
        attempts = ctx.attempts
        failures: list[_Outcome] = []
        last_error: tuple[Deployment, ProviderError] | None = None
        round_no = 0
        retry_after = 0.0
        deadline_hit = False
        while pending and len(failures) < retry.max_attempts and not deadline_hit:
            if round_no:
                delay = self._backoff(round_no, retry_after)
                if loop.time() + delay >= deadline:
                    break
                await self._sleep(delay)
            retry_after = 0.0
            again: list[Deployment] = []
            for deployment in pending:
                remaining = deadline - loop.time()
                if len(failures) >= retry.max_attempts or remaining <= 0:
                    deadline_hit = remaining <= 0
                    break
                health = board.get(deployment.id)
                skipped = self._skip_reason(deployment, offline, health)
                if skipped is not None:
                    attempts.append(Attempt(deployment.id, skipped[0], detail=skipped[1]))
                    health.attempts[skipped[0]] += 1
                    continue
                provider = self.providers[deployment.endpoint.provider]
                body = dict(ctx.body)
                body["model"] = deployment.endpoint.upstream_model
                started = time.perf_counter()
                try:
                    async with asyncio.timeout(remaining):
                        result = await invoke(provider, deployment.endpoint, body)
                except ProviderError as exc:
                    verdict = _judge(exc, self.router.config.breaker.count_rate_limited)
                    error = exc
                except TimeoutError:
                    # The per-request deadline (or a provider that let a raw timeout escape).
                    deadline_hit = loop.time() >= deadline
                    verdict = _Outcome("timeout", retry=True, breaker_failure=True)
                    error = ProviderTimeout("request deadline" if deadline_hit else "timeout")
                except asyncio.CancelledError:
                    health.breaker.release()
                    raise
                except Exception as exc:
                    log.exception("provider %s raised unexpectedly", deployment.endpoint.provider)
                    verdict = _Outcome("error", retry=False, breaker_failure=True)
                    error = ProviderError(type(exc).__name__)
                else:
                    latency = (time.perf_counter() - started) * 1000.0
                    attempts.append(Attempt(deployment.id, "ok", latency_ms=latency))
                    health.attempts["ok"] += 1
                    health.breaker.record_success()
                    _settle(ctx, deployment)
                    return result, deployment, health, started
                latency = (time.perf_counter() - started) * 1000.0
                attempts.append(
                    Attempt(
                        deployment.id,
                        verdict.outcome,
                        status=error.status,
                        latency_ms=latency,
                        detail=error.message[:_DETAIL_MAX],
                    )
                )
                health.attempts[verdict.outcome] += 1
                if verdict.rejected:
                    # The upstream is up and answered: this request is what it refused.
                    health.breaker.record_success()
                    raise InvalidRequest(
                        f"Deployment `{deployment.id}` rejected the request: {_describe(error)}.",
                        code="upstream_rejected",
                    )
                if verdict.breaker_failure:
                    health.breaker.record_failure()
                else:
                    health.breaker.release()
                failures.append(verdict)
                last_error = (deployment, error)
                tries[deployment.id] = tries.get(deployment.id, 0) + 1
                # An upstream asking for a longer pause than we may wait is not retried.
                patient = verdict.retry_after is None or verdict.retry_after <= retry.backoff_max_s
                if (
                    verdict.retry
                    and patient
                    and tries[deployment.id] < retry.max_tries_per_deployment
                ):
                    again.append(deployment)
                    retry_after = max(retry_after, verdict.retry_after or 0.0)
                if deadline_hit:
                    break
            pending = again
            round_no += 1
        raise self._final_error(plan, failures, last_error)

    def _skip_reason(
        self, deployment: Deployment, offline: bool, health: DeploymentHealth
    ) -> tuple[str, str] | None:
        """Why this candidate is not called now (and the breaker slot is not taken), or None."""
        if offline and not deployment.is_local:
            # The plan never holds such a deployment; this guards against a stale plan.
            return "refused", f"offline mode: location {deployment.location}"
        if deployment.endpoint.provider not in self.providers:
            return "refused", f"no provider configured for {deployment.endpoint.provider}"
        if not health.breaker.acquire():
            return "breaker_open", "circuit breaker open"
        return None

    def _backoff(self, round_no: int, retry_after: float) -> float:
        retry = self.router.config.retry
        delay: float = min(retry.backoff_max_s, retry.backoff_base_s * 2.0 ** (round_no - 1))
        delay *= 1.0 - retry.jitter * self._rand()
        return max(delay, retry_after)

    def _final_error(
        self,
        plan: RoutePlan,
        failures: list[_Outcome],
        last_error: tuple[Deployment, ProviderError] | None,
    ) -> GatewayError:
        tried = "; ".join(f"{a.deployment}: {_summary(a)}" for a in plan.attempts)
        if not failures or last_error is None:
            return NoRouteAvailable(
                f"no {plan.where()} deployment healthy for classification="
                f"{plan.classification.label} (model `{plan.model}`: {tried})"
            )
        if all(f.outcome == "timeout" for f in failures):
            return UpstreamTimeout(
                f"Model `{plan.model}` did not answer in time ({len(failures)} attempts: {tried})."
            )
        if all(f.outcome == "rate_limited" for f in failures):
            waits = [f.retry_after for f in failures if f.retry_after is not None]
            headers = {"Retry-After": str(max(1, round(min(waits))))} if waits else {}
            return RateLimited(
                f"Every deployment of model `{plan.model}` is rate limited ({tried}).",
                code="upstream_rate_limited",
                headers=headers,
            )
        deployment, error = last_error
        return UpstreamError(
            f"Deployment `{deployment.id}` failed: {_describe(error)}"
            f" ({len(failures)} attempts: {tried})."
        )


def _plan(ctx: RequestContext) -> RoutePlan:
    plan = ctx.route
    if not isinstance(plan, RoutePlan):
        raise RuntimeError("the route stage must run before the call stage")
    return plan


def _judge(exc: ProviderError, count_rate_limited: bool) -> _Outcome:
    """How the router treats one provider error."""
    if isinstance(exc, ProviderTimeout):
        return _Outcome("timeout", retry=True, breaker_failure=True)
    if exc.status == 429:
        return _Outcome("rate_limited", True, count_rate_limited, exc.retry_after)
    if exc.status in _CLIENT_ERRORS and not exc.retryable:
        return _Outcome("error", retry=False, breaker_failure=False, rejected=True)
    # 5xx, connection errors and the provider's own retryable verdicts are tried again; other
    # statuses (401, 403, 404: a misconfigured deployment) fall back without a retry.
    return _Outcome("error", exc.retryable, breaker_failure=True, retry_after=exc.retry_after)


def _summary(attempt: Attempt) -> str:
    if attempt.outcome in _SKIPPED:
        return attempt.detail
    return f"{attempt.outcome} {attempt.status}" if attempt.status else attempt.outcome


def _describe(error: ProviderError) -> str:
    status = f"upstream status {error.status}" if error.status else "no upstream status"
    return f"{status}, {error.message[:_DETAIL_MAX]}"


def _settle(ctx: RequestContext, deployment: Deployment) -> None:
    ctx.deployment = deployment.id
    ctx.location = deployment.location
    ctx.upstream_model = deployment.endpoint.upstream_model
    ctx.response_headers[DEPLOYMENT_HEADER] = deployment.id
    ctx.response_headers[LOCATION_HEADER] = deployment.location


async def _chat(provider: Provider, endpoint: Endpoint, body: Json) -> Json:
    return await provider.chat(endpoint, body)


async def _embeddings(provider: Provider, endpoint: Endpoint, body: Json) -> Json:
    return await provider.embeddings(endpoint, body)


async def _open_stream(
    provider: Provider, endpoint: Endpoint, body: Json
) -> tuple[AsyncIterator[Json], Json]:
    """Start a stream and wait for its first chunk (the last moment a fallback is possible)."""
    chunks = provider.chat_stream(endpoint, body)
    try:
        first = await anext(chunks)
    except StopAsyncIteration:
        raise ProviderError("upstream closed the stream before any chunk", retryable=True) from None
    except BaseException:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
        raise
    return chunks, first
