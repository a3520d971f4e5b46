"""Prometheus metrics: requests, latency, tokens, cost and carbon per model and status.

Each gateway process keeps its own registry (``GET /metrics``); with several workers, scrape each
replica (one port per replica in Kubernetes). Updating a counter costs about a microsecond.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from socle.pipeline.context import RequestContext
from socle.pipeline.errors import GatewayError
from socle.pipeline.stage import Stage

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

    def __init__(self, metrics: GatewayMetrics) -> None:
        self.metrics = metrics

    async def finish(self, ctx: RequestContext, error: GatewayError | None) -> None:
        m = self.metrics
        model = ctx.model or "-"
        m.requests.labels(ctx.endpoint, model, str(ctx.status)).inc()
        m.latency.labels(ctx.endpoint, model).observe(ctx.elapsed_ms / 1000.0)
        usage = ctx.usage
        if usage.prompt_tokens:
            m.tokens.labels(model, "input").inc(usage.prompt_tokens)
        if usage.completion_tokens:
            m.tokens.labels(model, "output").inc(usage.completion_tokens)
        if ctx.cost:
            m.cost.labels(model).inc(ctx.cost)
        if ctx.co2e_g:
            m.co2e.labels(model).inc(ctx.co2e_g)
        for finding in ctx.findings:
            m.findings.labels(str(finding.get("type")), str(finding.get("action"))).inc()
