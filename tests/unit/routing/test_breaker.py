"""Circuit breaker transitions, and their exposure to the admin API and Prometheus."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from socle.routing.breaker import CircuitBreaker
from socle.routing.config import BreakerPolicy, RoutingConfig
from socle.routing.metrics import register_routing_metrics
from socle.routing.router import Router
from tests.unit.routing.fakes import FakeClock, deployment, model

POLICY = BreakerPolicy(failures=3, window_s=10, open_s=5, half_open_probes=2)


def breaker() -> tuple[CircuitBreaker, FakeClock]:
    clock = FakeClock()
    return CircuitBreaker(POLICY, clock), clock


def test_opens_after_n_failures_within_the_window() -> None:
    b, _clock = breaker()
    b.record_failure()
    b.record_failure()
    assert b.state == "closed" and b.acquire()
    b.record_failure()
    assert b.state == "open"
    assert not b.available() and not b.acquire()


def test_failures_outside_the_window_do_not_count() -> None:
    b, clock = breaker()
    b.record_failure()
    b.record_failure()
    clock.advance(10.5)
    b.record_failure()
    assert b.state == "closed"
    b.record_failure()
    b.record_failure()
    assert b.state == "open"


def test_successes_in_between_do_not_reset_the_window() -> None:
    b, _ = breaker()
    for _ in range(2):
        b.record_failure()
        b.record_success()
    assert b.state == "closed"
    b.record_failure()
    assert b.state == "open"


def test_half_open_allows_limited_probes_and_closes_on_success() -> None:
    b, clock = breaker()
    for _ in range(3):
        b.record_failure()
    clock.advance(4.9)
    assert b.state == "open"
    clock.advance(0.1)
    assert b.state == "half_open"
    assert b.acquire() and b.acquire()
    assert not b.acquire()  # two probes already in flight
    assert not b.available()
    b.release()  # a cancelled probe gives its slot back
    assert b.available()
    b.record_success()
    assert b.state == "closed"
    assert b.acquire() and b.acquire() and b.acquire()


def test_failed_probe_reopens_for_a_full_period() -> None:
    b, clock = breaker()
    for _ in range(3):
        b.record_failure()
    clock.advance(5)
    assert b.acquire()
    b.record_failure()
    assert b.state == "open"
    clock.advance(4.9)
    assert b.state == "open"
    clock.advance(0.1)
    assert b.state == "half_open"
    assert b.transitions == 4  # closed→open→half_open→open→half_open


def test_snapshot_for_the_admin_api() -> None:
    b, clock = breaker()
    b.record_failure()
    assert b.snapshot() == {
        "state": "closed",
        "recent_failures": 1,
        "half_open_in_s": None,
        "transitions": 0,
    }
    b.record_failure()
    b.record_failure()
    clock.advance(2)
    snap = b.snapshot()
    assert snap["state"] == "open" and snap["half_open_in_s"] == 3


def test_breaker_state_and_attempts_in_prometheus_and_admin_status() -> None:
    clock = FakeClock()
    router = Router(
        RoutingConfig(models=[model("m", deployment("a"), deployment("b"))], breaker=POLICY),
        clock=clock,
    )
    registry = CollectorRegistry()
    register_routing_metrics(router, registry)
    health = router.health.get("a")
    for _ in range(3):
        health.attempts["error"] += 1
        health.breaker.record_failure()
    router.health.get("b").observe_latency(250)
    text = generate_latest(registry).decode()
    assert 'socle_deployment_breaker_state{deployment="a",location="on_prem",model="m"} 2.0' in text
    assert 'socle_deployment_breaker_state{deployment="b",location="on_prem",model="m"} 0.0' in text
    assert (
        'socle_deployment_attempts_total{deployment="a",location="on_prem",model="m",'
        'outcome="error"} 3.0'
    ) in text
    assert (
        'socle_deployment_latency_seconds{deployment="b",kind="complete",location="on_prem",'
        'model="m"} 0.25'
    ) in text
    status = {s["id"]: s for s in router.deployments_status()}
    assert status["a"]["breaker"]["state"] == "open"
    assert status["a"]["attempts"] == {"error": 3}
    clock.advance(5)
    text = generate_latest(registry).decode()
    assert 'socle_deployment_breaker_state{deployment="a",location="on_prem",model="m"} 1.0' in text
