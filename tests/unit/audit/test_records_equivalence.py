"""The hot-path ``request_record`` says exactly what the straightforward version said.

``reference_record`` is the implementation before it was tuned for CPU; any context must give
the same record (and so the same canonical bytes), except ``latency_ms``, which is read from the
clock at each call.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from socle.audit.canonical import canonical
from socle.audit.records import (
    KIND_REQUEST,
    KIND_STREAM_END,
    KIND_STREAM_START,
    _end_reason,
    _route,
    request_record,
    sanitise_finding,
)
from socle.pipeline.context import Attempt, Classification, Principal, RequestContext, Usage
from socle.pipeline.errors import GatewayError, RateLimited


def reference_record(
    ctx: RequestContext,
    kind: str,
    error: GatewayError | None = None,
    *,
    finish_reason: str | None = None,
) -> dict[str, Any]:
    principal = ctx.principal
    status = error.status if error is not None else ctx.status
    record: dict[str, Any] = {
        "kind": kind,
        "request_id": ctx.request_id,
        "endpoint": ctx.endpoint,
        "started_at": ctx.started_at,
        "stream": ctx.stream,
        "org_id": principal.org_id if principal else None,
        "team_id": principal.team_id if principal else None,
        "project_id": principal.project_id if principal else None,
        "key_id": principal.key_id if principal else None,
        "user": ctx.user,
        "model": ctx.model or None,
        "upstream_model": ctx.upstream_model,
        "deployment": ctx.deployment,
        "location": ctx.location,
        "classification": ctx.classification.label,
        "classification_reasons": list(ctx.classification_reasons),
        "findings": [sanitise_finding(f) for f in ctx.findings] if ctx.findings else [],
        "route": _route(ctx.route),
        "attempts": [
            {
                "deployment": a.deployment,
                "outcome": a.outcome,
                "status": a.status,
                "latency_ms": a.latency_ms,
                "detail": a.detail,
            }
            for a in ctx.attempts
        ],
    }
    if kind == KIND_STREAM_START:
        return record
    usage = ctx.usage
    record["usage"] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cached_tokens": usage.cached_tokens,
        "estimated": usage.estimated,
    }
    record["cost"] = ctx.cost
    record["currency"] = ctx.currency
    record["energy_kwh"] = ctx.energy_kwh
    record["co2e_g"] = ctx.co2e_g
    record["latency_ms"] = round(ctx.elapsed_ms, 3)
    record["status"] = status
    record["error_code"] = error.code if error is not None else ctx.error_code
    record["finish_reason"] = reason = ctx.finish_reason or finish_reason
    record["applied_defaults"] = dict(ctx.applied_defaults) if ctx.applied_defaults else {}
    if kind == KIND_STREAM_END:
        record["end_reason"] = _end_reason(reason, error)
    return record


class _Route:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def to_audit(self) -> dict[str, Any]:
        return self.data


_text = st.text(max_size=8)
_maybe = st.none() | _text
_principals = st.none() | st.builds(
    Principal, key_id=_text, org_id=_text, project_id=_text, team_id=_maybe
)
_findings = st.lists(
    st.dictionaries(st.sampled_from(["type", "rule", "value", "span", "text", "hash"]), _text),
    max_size=3,
)
_attempts = st.lists(
    st.builds(
        Attempt,
        deployment=_text,
        outcome=st.sampled_from(["ok", "error", "timeout"]),
        status=st.none() | st.integers(100, 599),
        latency_ms=st.floats(0, 1e4),
        detail=_text,
    ),
    max_size=3,
)
_routes = (
    st.none()
    | st.dictionaries(_text, _text, max_size=3)
    | st.builds(_Route, st.dictionaries(_text, _text, max_size=3))
)


@st.composite
def contexts(draw: st.DrawFn) -> RequestContext:
    body: dict[str, Any] = {"model": "chat"}
    user = draw(st.none() | _text | st.integers())
    if user is not None:
        body["user"] = user
    ctx = RequestContext(
        request_id=draw(_text),
        endpoint=draw(st.sampled_from(["chat.completions", "embeddings"])),
        body=body,
        headers={},
        model=draw(_text),
        stream=draw(st.booleans()),
    )
    ctx.principal = draw(_principals)
    ctx.classification = draw(st.sampled_from(list(Classification)))
    ctx.classification_reasons = draw(st.lists(_text, max_size=2))
    ctx.findings = draw(_findings)
    ctx.route = draw(_routes)
    ctx.deployment, ctx.location, ctx.upstream_model = draw(_maybe), draw(_maybe), draw(_maybe)
    ctx.attempts = draw(_attempts)
    ctx.usage = Usage(
        prompt_tokens=draw(st.integers(0, 10**6)),
        completion_tokens=draw(st.integers(0, 10**6)),
        cached_tokens=draw(st.integers(0, 10**6)),
        estimated=draw(st.booleans()),
    )
    ctx.cost = draw(st.none() | st.floats(0, 100))
    ctx.energy_kwh = draw(st.none() | st.floats(0, 1))
    ctx.co2e_g = draw(st.none() | st.floats(0, 1))
    ctx.applied_defaults = draw(st.dictionaries(_text, _text, max_size=2))
    ctx.status = draw(st.integers(100, 599))
    ctx.error_code = draw(_maybe)
    ctx.finish_reason = draw(_maybe)
    return ctx


def _without_latency(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "latency_ms"}


@settings(max_examples=300)
@given(
    contexts(),
    st.sampled_from([KIND_REQUEST, KIND_STREAM_START, KIND_STREAM_END]),
    st.none() | st.just(RateLimited("slow down")) | st.just(GatewayError("boom")),
    _maybe,
)
def test_request_record_matches_the_reference(
    ctx: RequestContext, kind: str, error: GatewayError | None, finish_reason: str | None
) -> None:
    fast = request_record(ctx, kind, error, finish_reason=finish_reason)
    slow = reference_record(ctx, kind, error, finish_reason=finish_reason)
    assert ("latency_ms" in fast) == ("latency_ms" in slow)
    assert _without_latency(fast) == _without_latency(slow)
    assert canonical(_without_latency(fast)) == canonical(_without_latency(slow))
