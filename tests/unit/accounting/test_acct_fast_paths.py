"""The hot path's shortcuts give exactly what the straightforward code they replaced gave.

Each ``reference_*`` function below is the plain version (as it was before the shortcut); the
properties compare it with the shipped code on generated inputs, results and order included.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from socle.accounting import tokens as estimator
from socle.accounting.backend import (
    Admission,
    CounterRef,
    RateKind,
    RateRef,
    RateState,
    Settlement,
)
from socle.accounting.config import RateLimit, RateLimits, Scope
from socle.accounting.gcra import gcra, refund
from socle.accounting.memory import MemoryBackend
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


def reference_format_duration(seconds: float) -> str:
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


def reference_rate_headers(states: list[RateState]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for kind in ("requests", "tokens"):
        of_kind = [s for s in states if s.ref.kind == kind]
        if not of_kind:
            continue
        tightest = min(of_kind, key=lambda s: (s.remaining, -s.reset_after))
        headers[f"x-ratelimit-limit-{kind}"] = str(tightest.ref.limit)
        headers[f"x-ratelimit-remaining-{kind}"] = str(max(0, tightest.remaining))
        headers[f"x-ratelimit-reset-{kind}"] = reference_format_duration(tightest.reset_after)
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


def reference_gcra(
    tat: float, now: float, interval: float, burst: int, weight: int
) -> tuple[bool, float, float | None, int, float]:
    tolerance = burst * interval
    base = max(tat, now)
    new_tat = base + weight * interval
    if new_tat - now <= tolerance + 1e-9:
        remaining = math.floor((tolerance - (new_tat - now)) / interval + 1e-9)
        return True, new_tat, 0.0, remaining, new_tat - now
    remaining = math.floor((tolerance - (base - now)) / interval + 1e-9)
    retry = None if weight > burst else new_tat - tolerance - now
    return False, tat, retry, max(0, remaining), base - now


moments = st.sampled_from([0.0, -0.0, 10.0, 10.5]) | st.floats(0.0, 1e6)


@settings(max_examples=500, deadline=None)
@given(
    tat=moments,
    now=moments,
    interval=st.sampled_from([6e-11, 0.5, 1.0, 60.0]) | st.floats(1e-9, 100.0),
    burst=st.integers(1, 10**6),
    weight=st.integers(0, 10**6),
    units=st.integers(0, 10**6),
)
def test_gcra_and_refund_give_the_plain_arithmetic_bit_for_bit(
    tat: float, now: float, interval: float, burst: int, weight: int, units: int
) -> None:
    got = tuple(gcra(tat, now, interval, burst, weight))
    expected = reference_gcra(tat, now, interval, burst, weight)
    assert repr(got) == repr(expected)  # repr: -0.0 and 0.0 told apart
    assert repr(refund(tat, now, interval, units)) == repr(max(now, tat - units * interval))


class ReferenceBackend:
    """MemoryBackend's admit and settle as first written, over the same dictionaries."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.spent: dict[str, int] = {}
        self.reserved: dict[str, int] = {}
        self.tats: dict[str, float] = {}
        self.expiry: dict[str, float] = {}

    def admit(
        self, counters: Sequence[CounterRef], amount: int, rates: Sequence[RateRef]
    ) -> Admission:
        now = self.clock[0]
        states: list[RateState] = []
        new_tats: list[float] = []
        for ref in rates:
            result = gcra(self.tats.get(ref.key, 0.0), now, ref.interval, ref.burst, ref.weight)
            if not result.allowed:
                return Admission(
                    ok=False,
                    rates=[RateState(ref, result.remaining, result.reset_after)],
                    denied_rate=ref,
                    retry_after=result.retry_after,
                )
            new_tats.append(result.tat)
            states.append(RateState(ref, result.remaining, result.reset_after))
        for counter in counters:
            if counter.hard_limit is None:
                continue
            spent = self.spent.get(counter.counter, 0)
            reserved = self.reserved.get(counter.counter, 0)
            if spent >= counter.hard_limit or spent + reserved + amount > counter.hard_limit:
                return Admission(
                    ok=False, rates=states, denied_budget=counter, spent=spent, reserved=reserved
                )
        for ref, tat in zip(rates, new_tats, strict=True):
            self.tats[ref.key] = tat
        for counter in counters:
            key = counter.counter
            self.reserved[key] = self.reserved.get(key, 0) + amount
            if counter.period_end is not None:
                self.expiry[key] = counter.period_end
        return Admission(ok=True, rates=states)

    def settle(
        self,
        counters: Sequence[CounterRef],
        epoch: str,
        reserved: int,
        actual: int,
        refunds: Sequence[tuple[RateRef, int]],
    ) -> Settlement:
        settlement = Settlement(applied_epoch=epoch)
        for counter in counters:
            key = counter.counter
            held = self.reserved.get(key, 0)
            self.reserved[key] = max(0, held - reserved)
            total = self.spent.get(key, 0) + actual
            self.spent[key] = total
            settlement.spent[key] = total
        now = self.clock[0]
        for ref, units in refunds:
            tat = self.tats.get(ref.key)
            if tat is not None and units > 0:
                self.tats[ref.key] = refund(tat, now, ref.interval, units)
        return settlement


COUNTERS = (
    CounterRef("org:o1:month:2026-11", "org", "o1", "month", "2026-11", 1.8e9, 5000),
    CounterRef("key:k1:total:total", "key", "k1", "total", "total", None, None),
    CounterRef("project:p1:day:2026-11-23", "project", "p1", "day", "2026-11-23", 1.7e9, 2500),
)
RATES = (
    RateRef("key:k1:requests", "key", "k1", "requests", 6, 3, 1),
    RateRef("key:k1:tokens", "key", "k1", "tokens", 600, 400, 0),
    RateRef("project:p1:requests", "project", "p1", "requests", 12, 12, 1),
)
steps = st.lists(
    st.tuples(
        st.floats(0.0, 20.0),  # seconds since the previous step
        st.lists(st.sampled_from(COUNTERS), max_size=3, unique=True),
        st.lists(st.sampled_from(RATES), max_size=3, unique=True),
        st.integers(0, 3000),  # amount
        st.integers(0, 300),  # token weight
        st.integers(0, 3000),  # actual cost
        st.integers(0, 300),  # tokens used
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_memory_backend_decides_and_counts_like_the_plain_code(
    plan: list[tuple[float, list[CounterRef], list[RateRef], int, int, int, int]],
) -> None:
    clock = [1000.0]
    fast = MemoryBackend(monotonic=lambda: clock[0])
    slow = ReferenceBackend(clock)

    async def run() -> None:
        for gap, counters, rates, amount, weight, actual, used in plan:
            clock[0] += gap
            refs = [
                RateRef(r.key, r.scope, r.scope_id, r.kind, r.limit, r.burst, weight)
                if r.kind == "tokens"
                else r
                for r in rates
            ]
            admission = await fast.admit(counters, amount, refs)
            assert admission == slow.admit(counters, amount, refs)
            # A refused request settles nothing; settling it anyway stands for a reservation
            # the counters no longer hold (pruned, or made before a restart).
            refunds = [(r, r.weight - used) for r in refs if r.kind == "tokens"]
            settled = await fast.settle(counters, "", amount, actual, refunds)
            assert settled == slow.settle(counters, "", amount, actual, refunds)
            assert (fast.spent, fast.reserved, fast.tats) == (slow.spent, slow.reserved, slow.tats)
            assert list(fast.tats.items()) == list(slow.tats.items())
            assert fast._expiry == slow.expiry

    asyncio.run(run())


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from([-1.0, -0.0, 0.0, 1e-9, 0.0004, 0.999, 0.9999999, 0.99999999999999999, 1.0])
    | st.floats(-10.0, 100_000.0)
)
def test_durations_are_written_as_before(seconds: float) -> None:
    assert format_duration(seconds) == reference_format_duration(seconds)


texts = st.sampled_from(
    ["", "Bonjour", "Tu es l'assistant des équipes commerciales.", "x" * 9000, "é\n" * 5000]
) | st.text(max_size=60)
chats = st.lists(
    st.lists(
        st.fixed_dictionaries(
            {"role": st.just("user"), "content": texts | st.none()},
            optional={"name": st.just("bob")},
        ),
        max_size=4,
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(chats)
def test_remembered_message_estimates_equal_fresh_ones(bodies: list[list[dict[str, str]]]) -> None:
    for messages in bodies:
        expected = estimator.REPLY_PRIMING + sum(
            estimator.MESSAGE_OVERHEAD
            + (estimator.estimate_text(m["content"]) if m["content"] is not None else 0)
            + (estimator.NAME_OVERHEAD if m.get("name") else 0)
            for m in messages
        )
        assert estimator.estimate_messages(messages) == expected
        assert estimator.estimate_messages(messages) == expected  # now from the memo
    assert len(estimator._memo) <= estimator._MEMO_ENTRIES
    assert all(len(text) <= estimator._MEMO_MAX_CHARS for text in estimator._memo)
