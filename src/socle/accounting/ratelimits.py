"""Which rate limits a request is checked against, and the OpenAI-style headers they produce."""

from __future__ import annotations

import math

from socle.accounting.backend import RateKind, RateRef, RateState
from socle.accounting.config import RateLimit, RateLimits, Scope
from socle.pipeline.context import Principal

# Callers whose limits are kept resolved; past this many the cache starts over (bounded memory).
_CACHE_LIMIT = 50_000


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
        self._callers: dict[tuple[str, str], CallerRates] = {}

    def refs(self, principal: Principal, tokens: int) -> tuple[RateRef, ...]:
        """The limits of this caller; ``tokens`` is what the request may use at most."""
        if not self.enabled:
            return ()
        ids = (principal.key_id, principal.project_id)
        caller = self._callers.get(ids)
        if caller is None:
            if len(self._callers) >= _CACHE_LIMIT:
                self._callers.clear()
            caller = self._callers[ids] = CallerRates(self._limits(principal))
        return caller.refs(tokens)

    def _limits(self, principal: Principal) -> tuple[tuple[Scope, str, RateLimit], ...]:
        config = self.config
        return (
            ("key", principal.key_id, config.keys.get(principal.key_id, config.key)),
            (
                "project",
                principal.project_id,
                config.projects.get(principal.project_id, config.project),
            ),
        )


class CallerRates:
    """One caller's limits, resolved once: only the token weight changes between requests.

    The request-count refs (weight 1) are built once and shared; the token refs are rebuilt
    from their template only when the request's token bound differs from the previous one of
    the same caller.
    """

    __slots__ = ("_refs", "_templates", "_tokens")

    def __init__(self, limits: tuple[tuple[Scope, str, RateLimit], ...]) -> None:
        templates: list[RateRef] = []  # in checking order; token refs weigh 0 until a request
        for scope, scope_id, limit in limits:
            if limit.rpm:
                templates.append(
                    _ref(scope, scope_id, "requests", limit.rpm, limit.burst_requests, 1)
                )
            if limit.tpm:
                templates.append(_ref(scope, scope_id, "tokens", limit.tpm, limit.burst_tokens, 0))
        self._templates = tuple(templates)
        self._tokens: int | None = None
        self._refs: tuple[RateRef, ...] = ()

    def refs(self, tokens: int) -> tuple[RateRef, ...]:
        """The refs of a request that may use ``tokens`` tokens."""
        if tokens == self._tokens:
            return self._refs
        refs = tuple(
            [
                t
                if t.kind == "requests"
                else RateRef(t.key, t.scope, t.scope_id, t.kind, t.limit, t.burst, tokens)
                for t in self._templates
            ]
        )
        self._tokens, self._refs = tokens, refs
        return refs


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


# Below one second a reset is written in whole milliseconds: the texts are made once.
_MILLISECONDS = tuple(f"{ms}ms" for ms in range(1001))


def format_duration(seconds: float) -> str:
    """Durations as OpenAI writes them in x-ratelimit-reset-*: "120ms", "1.5s", "6m0s"."""
    if seconds < 1.0:
        ms = math.ceil(seconds * 1000)
        return _MILLISECONDS[ms] if ms > 0 else "0ms"
    if seconds < 60.0:
        text = f"{seconds:.3f}".rstrip("0").rstrip(".")
        return f"{text}s"
    minutes, rest = divmod(math.ceil(seconds), 60)
    if minutes >= 60:
        hours, minutes = divmod(minutes, 60)
        return f"{hours}h{minutes}m{rest}s"
    return f"{minutes}m{rest}s"


_REQUESTS_HEADERS = (
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
)
_TOKENS_HEADERS = (
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-tokens",
)


def rate_headers(states: list[RateState]) -> dict[str, str]:
    """x-ratelimit-{limit,remaining,reset}-{requests,tokens} for the tightest limit of each kind.

    The tightest has the fewest units remaining, then the longest reset; on a tie the first.
    """
    requests: RateState | None = None
    tokens: RateState | None = None
    for state in states:
        kind = state.ref.kind
        if kind == "requests":
            if requests is None or _tighter(state, requests):
                requests = state
        elif kind == "tokens" and (tokens is None or _tighter(state, tokens)):
            tokens = state
    headers: dict[str, str] = {}
    if requests is not None:
        _put(headers, _REQUESTS_HEADERS, requests)
    if tokens is not None:
        _put(headers, _TOKENS_HEADERS, tokens)
    return headers


def _tighter(state: RateState, best: RateState) -> bool:
    return state.remaining < best.remaining or (
        state.remaining == best.remaining and state.reset_after > best.reset_after
    )


def _put(headers: dict[str, str], names: tuple[str, str, str], state: RateState) -> None:
    limit, remaining, reset = names
    headers[limit] = str(state.ref.limit)
    headers[remaining] = str(state.remaining) if state.remaining > 0 else "0"
    headers[reset] = format_duration(state.reset_after)


def retry_headers(retry_after: float) -> dict[str, str]:
    """Retry-After (whole seconds, at least 1) and retry-after-ms, which OpenAI SDKs honour."""
    return {
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "retry-after-ms": str(max(1, math.ceil(retry_after * 1000))),
    }
