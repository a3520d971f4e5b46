"""Prometheus metrics: requests, latency, tokens, cost and carbon per model and status.

Each gateway process keeps its own registry (``GET /metrics``); with several workers, scrape each
replica (one port per replica in Kubernetes). Updating a counter costs about a microsecond.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from socle.pipeline.context import RequestContext
from socle.pipeline.errors import GatewayError
from socle.pipeline.stage import Stage

MAX_SERIES = 10_000
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        labels = ("endpoint", "model", "status")
        self.requests = Counter(
            "socle_requests", "Governed requests by outcome.", labels, registry=self.registry
        )
        self.latency = Histogram(
            "socle_request_duration_seconds",
            "Time from request to the end of the answer.",
            ("endpoint", "model"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.tokens = Counter(
            "socle_tokens", "Tokens by direction.", ("model", "direction"), registry=self.registry
        )
        self.cost = Counter(
            "socle_cost", "Cost in the reporting currency.", ("model",), registry=self.registry
        )
        self.co2e = Counter(
            "socle_co2e_grams", "Estimated emissions (gCO2e).", ("model",), registry=self.registry
        )
        self.findings = Counter(
            "socle_guard_findings",
            "Guard findings by type and action.",
            ("type", "action"),
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsStage(Stage):
    """Records the outcome of every request; placed just before the audit stage."""

    name = "metrics"

    def __init__(self, metrics: GatewayMetrics, known_models: Callable[[], Container[str]]) -> None:
        self.metrics = metrics
        self._known_models = known_models
        self._series: dict[tuple[str, str, int], tuple[Any, ...]] = {}

    @property
    def _known(self) -> Container[str]:
        # Unknown model names (typos, probes) share one "-" series: label values stay bounded.
        return self._known_models()

    async def finish(self, ctx: RequestContext, error: GatewayError | None) -> None:
        model = ctx.model if ctx.model in self._known else "-"
        series = self._series.get((ctx.endpoint, model, ctx.status))
        if series is None:
            series = self._make_series(ctx.endpoint, model, ctx.status)
        requests, latency, tokens_in, tokens_out, cost, co2e = series
        requests.inc()
        latency.observe(ctx.elapsed_ms / 1000.0)
        usage = ctx.usage
        if usage.prompt_tokens:
            tokens_in.inc(usage.prompt_tokens)
        if usage.completion_tokens:
            tokens_out.inc(usage.completion_tokens)
        if ctx.cost:
            cost.inc(ctx.cost)
        if ctx.co2e_g:
            co2e.inc(ctx.co2e_g)
        for finding in ctx.findings:
            self.metrics.findings.labels(str(finding.get("type")), str(finding.get("action"))).inc()

    def _make_series(self, endpoint: str, model: str, status: int) -> tuple[Any, ...]:
        """Label children, looked up once per (endpoint, model, status) instead of per request."""
        m = self.metrics
        series = (
            m.requests.labels(endpoint, model, str(status)),
            m.latency.labels(endpoint, model),
            m.tokens.labels(model, "input"),
            m.tokens.labels(model, "output"),
            m.cost.labels(model),
            m.co2e.labels(model),
        )
        if len(self._series) < MAX_SERIES:
            self._series[(endpoint, model, status)] = series
        return series
