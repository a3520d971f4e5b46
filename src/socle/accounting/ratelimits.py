"""Which rate limits a request is checked against, and the OpenAI-style headers they produce."""

from __future__ import annotations

import math

from socle.accounting.backend import RateKind, RateRef, RateState
from socle.accounting.config import RateLimit, RateLimits, Scope
from socle.pipeline.context import Principal


class RatePlan:
    """Per-key and per-project limits, defaults overridden by id."""

    def __init__(self, config: RateLimits) -> None:
        self.config = config
        self.enabled = any(
            limit.rpm or limit.tpm
            for limit in (
                config.key,
                config.project,
                *config.keys.values(),
                *config.projects.values(),
            )
        )

    def refs(self, principal: Principal, tokens: int) -> tuple[RateRef, ...]:
        """The limits of this caller; ``tokens`` is what the request may use at most."""
        if not self.enabled:
            return ()
        found: list[RateRef] = []
        scopes: tuple[tuple[Scope, str, RateLimit], ...] = (
            ("key", principal.key_id, self.config.keys.get(principal.key_id, self.config.key)),
            (
                "project",
                principal.project_id,
                self.config.projects.get(principal.project_id, self.config.project),
            ),
        )
        for scope, scope_id, limit in scopes:
            if limit.rpm:
                found.append(_ref(scope, scope_id, "requests", limit.rpm, limit.burst_requests, 1))
            if limit.tpm:
                found.append(_ref(scope, scope_id, "tokens", limit.tpm, limit.burst_tokens, tokens))
        return tuple(found)


def _ref(
    scope: Scope, scope_id: str, kind: RateKind, limit: int, burst: int | None, weight: int
) -> RateRef:
    return RateRef(
        key=f"{scope}:{scope_id}:{kind}",
        scope=scope,
        scope_id=scope_id,
        kind=kind,
        limit=limit,
        burst=burst or limit,
        weight=weight,
    )


def format_duration(seconds: float) -> str:
    """Durations as OpenAI writes them in x-ratelimit-reset-*: "120ms", "1.5s", "6m0s"."""
    if seconds < 1.0:
        return f"{max(0, math.ceil(seconds * 1000))}ms"
    if seconds < 60.0:
        text = f"{seconds:.3f}".rstrip("0").rstrip(".")
        return f"{text}s"
    minutes, rest = divmod(math.ceil(seconds), 60)
    if minutes >= 60:
        hours, minutes = divmod(minutes, 60)
        return f"{hours}h{minutes}m{rest}s"
    return f"{minutes}m{rest}s"


def rate_headers(states: list[RateState]) -> dict[str, str]:
    """x-ratelimit-{limit,remaining,reset}-{requests,tokens} for the tightest limit of each kind."""
    headers: dict[str, str] = {}
    for kind in ("requests", "tokens"):
        of_kind = [s for s in states if s.ref.kind == kind]
        if not of_kind:
            continue
        tightest = min(of_kind, key=lambda s: (s.remaining, -s.reset_after))
        headers[f"x-ratelimit-limit-{kind}"] = str(tightest.ref.limit)
        headers[f"x-ratelimit-remaining-{kind}"] = str(max(0, tightest.remaining))
        headers[f"x-ratelimit-reset-{kind}"] = format_duration(tightest.reset_after)
    return headers


def retry_headers(retry_after: float) -> dict[str, str]:
    """Retry-After (whole seconds, at least 1) and retry-after-ms, which OpenAI SDKs honour."""
    return {
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "retry-after-ms": str(max(1, math.ceil(retry_after * 1000))),
    }
