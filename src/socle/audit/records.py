"""What one audit record says: built from a finished request's context, or an admin action.

Records never hold raw prompt text or detected values: findings keep their type, rule, action,
span and value hash, and any key that could carry the matched text is dropped here as a last
line of defence (see ``RAW_VALUE_KEYS``).
"""

from __future__ import annotations

from typing import Any

from socle.pipeline.context import RequestContext
from socle.pipeline.errors import GatewayError

KIND_REQUEST = "request"
KIND_STREAM_START = "stream_start"
KIND_STREAM_END = "stream_end"
KIND_ADMIN = "admin"

RAW_VALUE_KEYS = frozenset(
    {
        "value",
        "text",
        "match",
        "matched",
        "raw",
        "original",
        "content",
        "snippet",
        "excerpt",
        "replacement",
        "pseudonym",
        "surrogate",
    }
)


def sanitise_finding(finding: dict[str, Any]) -> dict[str, Any]:
    """A finding without any key that could carry the detected value itself."""
    return {k: v for k, v in finding.items() if k not in RAW_VALUE_KEYS}


def _route(route: Any) -> Any:
    if route is None:
        return None
    to_audit = getattr(route, "to_audit", None)
    if callable(to_audit):
        return to_audit()
    if isinstance(route, dict):
        return route
    return {"type": type(route).__name__}


def request_record(
    ctx: RequestContext,
    kind: str,
    error: GatewayError | None = None,
    *,
    finish_reason: str | None = None,
) -> dict[str, Any]:
    """The record of a request (or of a stream's start or end) from its context.

    ``finish_reason`` is the upstream's, used when ``ctx.finish_reason`` was not set.
    Built once per request on the hot path: the principal is read once.
    """
    principal = ctx.principal
    org_id: str | None = None
    team_id: str | None = None
    project_id: str | None = None
    key_id: str | None = None
    if principal is not None:
        org_id, team_id = principal.org_id, principal.team_id
        project_id, key_id = principal.project_id, principal.key_id
    record: dict[str, Any] = {
        "kind": kind,
        "request_id": ctx.request_id,
        "endpoint": ctx.endpoint,
        "started_at": ctx.started_at,
        "stream": ctx.stream,
        "org_id": org_id,
        "team_id": team_id,
        "project_id": project_id,
        "key_id": key_id,
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
        ]
        if ctx.attempts
        else [],
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
    record["status"] = error.status if error is not None else ctx.status
    record["error_code"] = error.code if error is not None else ctx.error_code
    record["finish_reason"] = reason = ctx.finish_reason or finish_reason
    record["applied_defaults"] = dict(ctx.applied_defaults) if ctx.applied_defaults else {}
    if kind == KIND_STREAM_END:
        record["end_reason"] = _end_reason(reason, error)
    return record


def _end_reason(finish_reason: str | None, error: GatewayError | None) -> str:
    """Why a stream ended: the model's finish reason, the error code, or a disconnect."""
    if finish_reason:
        return finish_reason
    if error is not None:
        return error.code or "error"
    return "incomplete"


def admin_record(actor: str, action: str, target: str, details: dict[str, Any]) -> dict[str, Any]:
    """The record of an administrative action: who changed what."""
    return {
        "kind": KIND_ADMIN,
        "actor": actor,
        "action": action,
        "target": target,
        "details": details,
    }
