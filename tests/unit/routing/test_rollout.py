"""Canary splits, stickiness and rollout waves."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from socle.routing.config import RoutingConfig
from socle.routing.rollout import BUCKETS, Rollout, sticky_bucket
from socle.routing.router import Router
from tests.unit.routing.fakes import context, deployment, model


def canary(percent: float, **extra: object) -> Rollout:
    return Rollout.model_validate(
        {
            "model": "chat",
            "versions": [
                {"name": "stable", "percent": 100 - percent, "deployments": ["v1-a", "v1-b"]},
                {"name": "next", "percent": percent, "model": "chat-next"},
            ],
            **extra,
        }
    )


def make_router(rollout: Rollout) -> Router:
    models = [
        model("chat", deployment("v1-a"), deployment("v1-b"), deployment("spare")),
        model("chat-next", deployment("v2")),
    ]
    return Router(RoutingConfig(models=models, rollouts=[rollout]))


def version(router: Router, key: str = "k", **kwargs: object) -> str | None:
    return router.plan(context("chat", key_id=key, **kwargs)).version  # type: ignore[arg-type]


@pytest.mark.parametrize("percent", [10.0, 30.0, 50.0, 2.5])
def test_split_is_within_three_points_over_10000_requests(percent: float) -> None:
    router = make_router(canary(percent))
    counts = Counter(version(router, f"key-{i}") for i in range(10_000))
    assert abs(counts["next"] / 10_000 * 100 - percent) <= 3.0
    assert counts["stable"] + counts["next"] == 10_000


def test_same_key_keeps_its_version() -> None:
    router = make_router(canary(50))
    for i in range(200):
        key = f"key-{i}"
        first = version(router, key)
        assert all(version(router, key) == first for _ in range(5))


def test_sticky_by_user_ignores_the_key() -> None:
    router = make_router(canary(50, sticky_by="user"))
    seen = {version(router, f"key-{i}", user="alice") for i in range(50)}
    assert len(seen) == 1
    users = Counter(version(router, "shared-key", user=f"user-{i}") for i in range(400))
    assert users["next"] > 100 and users["stable"] > 100


def test_bucket_is_a_stable_hash_not_pythons() -> None:
    # Every replica, whatever its PYTHONHASHSEED, computes the same bucket.
    digest = hashlib.blake2b(b"chat\x00key-1", digest_size=8).digest()
    assert sticky_bucket("chat", "key-1") == int.from_bytes(digest, "big") % BUCKETS
    # Different models split callers independently.
    same = sum(
        sticky_bucket("chat", f"k{i}") == sticky_bucket("other", f"k{i}") for i in range(100)
    )
    assert same < 5


def test_raising_the_canary_share_keeps_existing_canary_callers() -> None:
    router = make_router(canary(10))
    keys = [f"key-{i}" for i in range(2000)]
    before = {k for k in keys if version(router, k) == "next"}
    router.set_rollout(canary(25))  # no restart
    after = {k for k in keys if version(router, k) == "next"}
    assert before < after
    assert abs(len(after) / 2000 - 0.25) < 0.04


def test_version_candidates_and_fallback_across_versions() -> None:
    router = make_router(canary(100))
    plan = router.plan(context("chat"))
    assert plan.version == "next"
    assert next(d.id for d in plan.candidates) == "v2"
    assert {d.id for d in plan.candidates[1:]} == {"v1-a", "v1-b"}
    assert plan.dropped == {"spare": "rollout: not in any version"}

    router.set_rollout(canary(100, fallback_across_versions=False))
    plan = router.plan(context("chat"))
    assert [d.id for d in plan.candidates] == ["v2"]
    assert plan.dropped["v1-a"] == "rollout: version next serves this request"


def test_waves_get_the_new_version_first() -> None:
    waves = {
        "waves": {1: {"teams": ["platform"]}, 2: {"projects": ["proj-early"]}},
        "wave_version": "next",
        "active_wave": 1,
    }
    router = make_router(canary(0, **waves))
    assert version(router, team_id="platform") == "next"
    assert version(router, project_id="proj-early") == "stable"
    assert version(router, team_id="others") == "stable"
    # The project's own setting wins over the lists.
    assert version(router, team_id="others", settings={"rollout_wave": 1}) == "next"

    router.set_rollout(canary(0, **{**waves, "active_wave": 2}))
    assert version(router, project_id="proj-early") == "next"
    assert version(router, team_id="others") == "stable"


def test_remove_rollout_serves_every_deployment_of_the_model() -> None:
    router = make_router(canary(50))
    assert router.remove_rollout("chat")
    assert not router.remove_rollout("chat")
    plan = router.plan(context("chat"))
    assert plan.version is None
    assert {d.id for d in plan.candidates} == {"v1-a", "v1-b", "spare"}


def test_invalid_rollout_update_changes_nothing() -> None:
    router = make_router(canary(10))
    bad = Rollout.model_validate(
        {"model": "chat", "versions": [{"name": "x", "percent": 100, "deployments": ["nope"]}]}
    )
    with pytest.raises(ValueError, match="nope not deployments of chat"):
        router.set_rollout(bad)
    assert router.rollouts() == [canary(10)]
