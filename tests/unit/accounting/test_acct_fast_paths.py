"""The hot path's shortcuts give exactly what the straightforward code they replaced gave.

Each ``reference_*`` function below is the plain version (as it was before the shortcut); the
properties compare it with the shipped code on generated inputs, results and order included.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from socle.accounting.backend import RateKind, RateRef, RateState
from socle.accounting.config import RateLimit, RateLimits, Scope
from socle.accounting.ratelimits import RatePlan, format_duration, rate_headers
from socle.pipeline.context import Principal
from tests.unit.accounting.acct_support import principal


def reference_refs(config: RateLimits, who: Principal, tokens: int) -> tuple[RateRef, ...]:
    found: list[RateRef] = []
    scopes: tuple[tuple[Scope, str, RateLimit], ...] = (
        ("key", who.key_id, config.keys.get(who.key_id, config.key)),
        ("project", who.project_id, config.projects.get(who.project_id, config.project)),
    )
    for scope, scope_id, limit in scopes:
        kinds: tuple[tuple[RateKind, int | None, int | None, int], ...] = (
            ("requests", limit.rpm, limit.burst_requests, 1),
            ("tokens", limit.tpm, limit.burst_tokens, tokens),
        )
        for kind, per_minute, burst, weight in kinds:
            if per_minute:
                found.append(
                    RateRef(
                        f"{scope}:{scope_id}:{kind}",
                        scope,
                        scope_id,
                        kind,
                        per_minute,
                        burst or per_minute,
                        weight,
                    )
                )
    return tuple(found)


def reference_rate_headers(states: list[RateState]) -> dict[str, str]:
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


limits = st.builds(
    RateLimit,
    rpm=st.none() | st.integers(1, 10**9),
    tpm=st.none() | st.integers(1, 10**12),
    burst_requests=st.none() | st.integers(1, 1000),
    burst_tokens=st.none() | st.integers(1, 10**6),
)
rate_limits = st.builds(
    RateLimits,
    key=limits,
    project=limits,
    keys=st.dictionaries(st.sampled_from(["k1", "k2"]), limits, max_size=2),
    projects=st.dictionaries(st.sampled_from(["p1", "p2"]), limits, max_size=2),
)
callers = st.builds(
    principal, key_id=st.sampled_from(["k1", "k2", "k3"]), project_id=st.sampled_from(["p1", "p2"])
)


@settings(max_examples=300, deadline=None)
@given(
    config=rate_limits,
    requests=st.lists(st.tuples(callers, st.integers(-5, 5000) | st.just(100)), max_size=12),
)
def test_cached_rate_refs_equal_freshly_built_ones(
    config: RateLimits, requests: list[tuple[Principal, int]]
) -> None:
    plan = RatePlan(config)
    for who, tokens in requests:
        expected = reference_refs(config, who, tokens) if plan.enabled else ()
        assert plan.refs(who, tokens) == expected


ref_kinds = st.sampled_from(["requests", "tokens"])
states = st.builds(
    RateState,
    ref=st.builds(
        RateRef,
        key=st.just("key:k1:x"),
        scope=st.just("key"),
        scope_id=st.just("k1"),
        kind=ref_kinds,
        limit=st.integers(1, 10**9),
        burst=st.integers(1, 10**9),
        weight=st.integers(0, 10**6),
    ),
    remaining=st.integers(-3, 5),  # few values: ties are common
    reset_after=st.sampled_from([0.0, 0.0004, 0.5, 1.0, 59.99, 61.0, 3601.5])
    | st.floats(0.0, 10_000.0),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(states, max_size=6))
def test_rate_headers_pick_the_same_tightest_limit_in_the_same_order(
    given_states: list[RateState],
) -> None:
    headers = rate_headers(given_states)
    expected = reference_rate_headers(given_states)
    assert list(headers.items()) == list(expected.items())
