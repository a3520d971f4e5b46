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
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

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


@dataclass(slots=True)
class _Success(Generic[T]):
    result: T
    deployment: Deployment
    health: DeploymentHealth
    started: float


@dataclass(slots=True)
class _Run:
    """The bookkeeping of one request's tries."""

    plan: RoutePlan
    deadline: float
    failures: list[_Outcome] = field(default_factory=list)
    tries: dict[str, int] = field(default_factory=dict)
    last_error: tuple[Deployment, ProviderError] | None = None
    retry_after: float = 0.0  # the longest Retry-After to honour before the next round


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
        done = await self._dispatch(ctx, _chat)
        done.health.observe_latency((time.perf_counter() - done.started) * 1000.0)
        done.result["model"] = _plan(ctx).model
        return done.result

    async def embeddings(self, ctx: RequestContext) -> Json:
        """Embeddings; the response's ``model`` is the logical name."""
        done = await self._dispatch(ctx, _embeddings)
        done.health.observe_latency((time.perf_counter() - done.started) * 1000.0)
        done.result["model"] = _plan(ctx).model
        return done.result

    async def chat_stream(self, ctx: RequestContext) -> AsyncIterator[Json]:
        """A streaming chat completion; each chunk's ``model`` is the logical name.

        Response headers (``X-Socle-Deployment``…) are set before the first chunk is yielded,
        so pull the first chunk before sending the HTTP headers.
        """
        done = await self._dispatch(ctx, _open_stream)
        health = done.health
        health.observe_ttft((time.perf_counter() - done.started) * 1000.0)
        chunks, first = done.result
        model = _plan(ctx).model
        try:
            first["model"] = model
            yield first
            async for chunk in chunks:
                if "model" in chunk:
                    chunk["model"] = model
                yield chunk
        except Exception as exc:
            error = exc if isinstance(exc, ProviderError) else ProviderError(type(exc).__name__)
            outcome = "timeout" if isinstance(error, ProviderTimeout) else "error"
            attempt = ctx.attempts[-1]
            attempt.outcome = outcome
            attempt.status = error.status
            attempt.detail = f"after first chunk: {error.message}"[:_DETAIL_MAX]
            health.attempts[outcome] += 1
            health.breaker.record_failure()
            cls = UpstreamTimeout if outcome == "timeout" else UpstreamError
            raise cls(
                f"Deployment `{done.deployment.id}` stopped the stream: {_describe(error)}."
            ) from None
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _dispatch(self, ctx: RequestContext, invoke: Invoke[T]) -> _Success[T]:
        """Try the plan's candidates, in rounds, until one answers."""
        plan = _plan(ctx)
        retry = self.router.config.retry
        loop = asyncio.get_running_loop()
        run = _Run(plan, loop.time() + retry.deadline_s)
        pending = list(plan.candidates)
        round_no = 0
        while pending and len(run.failures) < retry.max_attempts:
            if round_no:
                delay = self._backoff(round_no, run.retry_after)
                if loop.time() + delay >= run.deadline:
                    break
                await self._sleep(delay)
                run.retry_after = 0.0
            again: list[Deployment] = []
            for deployment in pending:
                if len(run.failures) >= retry.max_attempts or loop.time() >= run.deadline:
                    break
                verdict = await self._try(ctx, run, deployment, invoke)
                if isinstance(verdict, _Success):
                    return verdict
                if verdict is not None and self._worth_retrying(run, deployment, verdict):
                    again.append(deployment)
            pending = again
            round_no += 1
        raise self._final_error(run)

    async def _try(
        self, ctx: RequestContext, run: _Run, deployment: Deployment, invoke: Invoke[T]
    ) -> _Success[T] | _Outcome | None:
        """One try of one deployment: its result, the verdict on its failure, or ``None`` when
        the deployment could not be called at all."""
        health = self.router.health.get(deployment.id)
        skipped = self._skip_reason(deployment, health)
        if skipped is not None:
            ctx.attempts.append(Attempt(deployment.id, skipped[0], detail=skipped[1]))
            health.attempts[skipped[0]] += 1
            return None
        provider = self.providers[deployment.endpoint.provider]
        body = dict(ctx.body)
        body["model"] = deployment.endpoint.upstream_model
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        try:
            if deployment.endpoint.timeouts.total < run.deadline - loop.time():
                # The provider's own total timeout (Provider contract) ends this try before the
                # deadline: no need for a timer of ours (asyncio.timeout costs ~6 µs).
                result = await invoke(provider, deployment.endpoint, body)
            else:
                async with asyncio.timeout_at(run.deadline):
                    result = await invoke(provider, deployment.endpoint, body)
        except ProviderError as exc:
            verdict = _judge(exc, self.router.config.breaker.count_rate_limited)
            error = exc
        except TimeoutError:
            # The per-request deadline (or a provider that let a raw timeout escape).
            late = loop.time() >= run.deadline
            verdict = _Outcome("timeout", retry=not late, breaker_failure=True)
            error = ProviderTimeout("request deadline" if late else "timeout")
        except asyncio.CancelledError:
            health.breaker.release()
            raise
        except Exception as exc:
            log.exception("provider %s raised unexpectedly", deployment.endpoint.provider)
            verdict = _Outcome("error", retry=False, breaker_failure=True)
            error = ProviderError(type(exc).__name__)
        else:
            latency = (time.perf_counter() - started) * 1000.0
            ctx.attempts.append(Attempt(deployment.id, "ok", latency_ms=latency))
            health.attempts["ok"] += 1
            health.breaker.record_success()
            _settle(ctx, deployment)
            return _Success(result, deployment, health, started)
        latency = (time.perf_counter() - started) * 1000.0
        detail = error.message[:_DETAIL_MAX]
        ctx.attempts.append(Attempt(deployment.id, verdict.outcome, error.status, latency, detail))
        health.attempts[verdict.outcome] += 1
        if verdict.rejected:
            # The upstream is up and answered: it is this request that it refused.
            health.breaker.record_success()
            raise InvalidRequest(
                f"Deployment `{deployment.id}` rejected the request: {_describe(error)}.",
                code="upstream_rejected",
            )
        if verdict.breaker_failure:
            health.breaker.record_failure()
        else:
            health.breaker.release()
        run.failures.append(verdict)
        run.last_error = (deployment, error)
        return verdict

    def _worth_retrying(self, run: _Run, deployment: Deployment, verdict: _Outcome) -> bool:
        """Whether to try this deployment again next round (and note its Retry-After)."""
        retry = self.router.config.retry
        tries = run.tries[deployment.id] = run.tries.get(deployment.id, 0) + 1
        # An upstream asking for a longer pause than we may wait is not retried.
        wait = verdict.retry_after or 0.0
        if not verdict.retry or wait > retry.backoff_max_s:
            return False
        if tries >= retry.max_tries_per_deployment:
            return False
        run.retry_after = max(run.retry_after, wait)
        return True

    def _skip_reason(
        self, deployment: Deployment, health: DeploymentHealth
    ) -> tuple[str, str] | None:
        """Why this candidate is not called now (and the breaker slot is not taken), or None."""
        if self.router.offline and not deployment.is_local:
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

    def _final_error(self, run: _Run) -> GatewayError:
        plan, failures = run.plan, run.failures
        tried = "; ".join(f"{a.deployment}: {_summary(a)}" for a in plan.attempts)
        if run.last_error is None:
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
        deployment, error = run.last_error
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
    # Always ask for the usage chunk: accounting settles on the upstream's own token counts. The
    # pipeline drops that chunk before the client sees it unless the client asked for it too.
    body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
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
