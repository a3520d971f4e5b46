"""Route planning: filtering by classification, location, project policy and key; strategies;
errors; live catalog replacement."""

from __future__ import annotations

from collections import Counter

import pytest

from socle.pipeline.context import Classification
from socle.pipeline.errors import InvalidRequest, ModelNotFound, NoRouteAvailable
from socle.routing.catalog import Catalog
from socle.routing.config import BreakerPolicy, RoutingConfig
from socle.routing.policy import PolicyError
from socle.routing.rollout import Rollout
from socle.routing.router import Router
from socle.routing.stage import RouteStage
from tests.unit.routing.fakes import FakeClock, context, deployment, model

C = Classification


def catalog_models() -> list:  # type: ignore[type-arg]
    return [
        model(
            "chat",
            deployment("onprem-a", priority=0, price=2.0),
            deployment("onprem-b", priority=0, price=2.0),
            deployment("edge", location="edge", max_classification="confidential", priority=1),
            deployment(
                "sov",
                location="sovereign_cloud",
                certifications=["SecNumCloud"],
                max_classification="confidential",
                priority=2,
                price=1.0,
            ),
            deployment(
                "eu-cloud",
                location="public_cloud",
                jurisdiction="DE",
                max_classification="internal",
                priority=3,
                price=0.5,
            ),
            deployment(
                "us-cloud",
                location="public_cloud",
                jurisdiction="US",
                max_classification="internal",
                priority=4,
                price=0.1,
            ),
            deployment("old", enabled=False),
        ),
        model("emb", deployment("emb-1"), kind="embeddings"),
    ]


def make_router(**kwargs: object) -> Router:
    return Router(RoutingConfig(models=catalog_models(), **kwargs))  # type: ignore[arg-type]


def ids(router: Router, **kwargs: object) -> list[str]:
    return [d.id for d in router.plan(context("chat", **kwargs)).candidates]  # type: ignore[arg-type]


def test_classification_filters_by_location_and_max_classification() -> None:
    router = make_router()
    assert set(ids(router, classification=C.PUBLIC)) == {
        "onprem-a",
        "onprem-b",
        "edge",
        "sov",
        "eu-cloud",
        "us-cloud",
    }
    assert set(ids(router, classification=C.CONFIDENTIAL)) == {
        "onprem-a",
        "onprem-b",
        "edge",
        "sov",
    }
    plan = router.plan(context("chat", classification=C.SECRET))
    assert {d.id for d in plan.candidates} == {"onprem-a", "onprem-b"}
    assert plan.dropped["edge"] == "location edge not allowed for classification=secret"
    assert plan.dropped["old"] == "disabled"
    assert plan.dropped["us-cloud"] == "location public_cloud not allowed for classification=secret"


def test_max_classification_is_enforced_even_where_the_location_is_allowed() -> None:
    router = make_router(
        classification_locations={
            level: ["on_prem", "edge", "sovereign_cloud", "public_cloud"]
            for level in ("public", "internal", "confidential", "secret")
        }
    )
    plan = router.plan(context("chat", classification=C.CONFIDENTIAL))
    assert "eu-cloud" not in {d.id for d in plan.candidates}
    assert (
        plan.dropped["eu-cloud"] == "max_classification=internal below classification=confidential"
    )


def test_project_policy_jurisdictions_locations_and_certifications() -> None:
    router = make_router()
    eu = {"routing": {"allowed_jurisdictions": ["EU"]}}
    assert "us-cloud" not in ids(router, classification=C.PUBLIC, settings=eu)
    assert "eu-cloud" in ids(router, classification=C.PUBLIC, settings=eu)  # DE is in the EU
    fr = {"routing": {"allowed_jurisdictions": ["fr"], "allowed_locations": ["sovereign_cloud"]}}
    plan = router.plan(context("chat", classification=C.PUBLIC, settings=fr))
    assert [d.id for d in plan.candidates] == ["sov"]
    assert plan.dropped["eu-cloud"] == "project policy: location public_cloud not allowed"
    certified = {"routing": {"required_certifications": ["secnumcloud"]}}
    plan = router.plan(context("chat", classification=C.PUBLIC, settings=certified))
    assert [d.id for d in plan.candidates] == ["sov"]
    assert plan.dropped["onprem-a"] == "project policy: missing certification secnumcloud"


def test_policy_cache_sees_in_place_edits() -> None:
    router = make_router()
    settings = {"routing": {"allowed_locations": ["on_prem"]}}
    assert set(ids(router, settings=settings)) == {"onprem-a", "onprem-b"}
    settings["routing"]["allowed_locations"].append("edge")
    assert set(ids(router, settings=settings)) == {"onprem-a", "onprem-b", "edge"}


def test_invalid_project_policy_is_an_operator_error() -> None:
    router = make_router()
    with pytest.raises(PolicyError, match="unknown locations"):
        router.plan(context("chat", settings={"routing": {"allowed_locations": ["mars"]}}))
    with pytest.raises(PolicyError, match="unknown keys"):
        router.plan(context("chat", settings={"routing": {"allow": ["FR"]}}))
    with pytest.raises(PolicyError, match="allowed_jurisdictions must be a list of strings"):
        router.plan(context("chat", settings={"routing": {"allowed_jurisdictions": "FR"}}))
    with pytest.raises(PolicyError, match="must be a list of strings"):
        router.plan(context("chat", settings={"routing": {"allowed_locations": 3}}))


def test_key_pinned_to_deployments_only_gets_those() -> None:
    router = make_router()
    plan = router.plan(
        context("chat", classification=C.PUBLIC, allowed_models=frozenset({"sov", "edge"}))
    )
    assert {d.id for d in plan.candidates} == {"sov", "edge"}
    assert plan.dropped["onprem-a"] == "key not allowed"
    # A key allowed the logical name gets every allowed deployment.
    assert len(ids(router, classification=C.PUBLIC, allowed_models=frozenset({"chat"}))) == 6


def test_unknown_model_is_404_like_openai() -> None:
    with pytest.raises(ModelNotFound) as caught:
        make_router().plan(context("gpt-17"))
    assert caught.value.status == 404
    assert caught.value.message == (
        "The model `gpt-17` does not exist or you do not have access to it."
    )
    assert caught.value.param == "model"


def test_model_kind_must_match_the_endpoint() -> None:
    router = make_router()
    with pytest.raises(InvalidRequest, match="embeddings model"):
        router.plan(context("emb"))
    with pytest.raises(InvalidRequest, match="chat model"):
        router.plan(context("chat", endpoint="embeddings"))
    assert [d.id for d in router.plan(context("emb", endpoint="embeddings")).candidates] == [
        "emb-1"
    ]


def test_no_allowed_deployment_is_a_503_that_says_why() -> None:
    router = make_router()
    settings = {"routing": {"allowed_jurisdictions": ["US"]}}
    with pytest.raises(NoRouteAvailable) as caught:
        router.plan(context("chat", classification=C.SECRET, settings=settings))
    assert caught.value.status == 503
    message = caught.value.message
    assert message.startswith("no on_prem deployment allowed for classification=secret")
    assert "onprem-a: project policy: jurisdiction FR not allowed" in message
    assert "us-cloud: location public_cloud not allowed for classification=secret" in message


def test_open_breakers_on_every_candidate_give_a_503_healthy_message() -> None:
    clock = FakeClock()
    router = Router(
        RoutingConfig(models=catalog_models(), breaker=BreakerPolicy(failures=1)), clock=clock
    )
    for deployment_id in ("onprem-a", "onprem-b"):
        router.health.get(deployment_id).breaker.record_failure()
    with pytest.raises(NoRouteAvailable) as caught:
        router.plan(context("chat", classification=C.SECRET))
    assert caught.value.message.startswith(
        "no on_prem deployment healthy for classification=secret (model `chat`: "
        "onprem-a: circuit breaker open; onprem-b: circuit breaker open"
    ) or caught.value.message.startswith(
        "no on_prem deployment healthy for classification=secret (model `chat`: "
        "onprem-b: circuit breaker open; onprem-a: circuit breaker open"
    )
    # Internal data may still go elsewhere: never a silent downgrade, but no needless refusal.
    assert ids(router, classification=C.INTERNAL)[0] == "edge"
    clock.advance(BreakerPolicy().open_s)
    assert set(ids(router, classification=C.SECRET)) == {"onprem-a", "onprem-b"}


def test_offline_mode_drops_remote_deployments_at_run_time() -> None:
    models = [model("m", deployment("local"), deployment("edge", location="edge"))]
    router = Router(RoutingConfig(models=models, offline=True))
    assert set(ids_for(router, "m")) == {"local", "edge"}
    remote = Catalog(
        [model("m", deployment("local"), deployment("cloud", location="public_cloud"))]
    )
    with pytest.raises(ValueError, match="offline"):
        router.replace_catalog(remote)
    assert set(ids_for(router, "m")) == {"local", "edge"}  # unchanged


def ids_for(router: Router, name: str, **kwargs: object) -> list[str]:
    return [d.id for d in router.plan(context(name, **kwargs)).candidates]  # type: ignore[arg-type]


def test_priority_strategy_orders_by_priority_and_balances_ties_by_weight() -> None:
    models = [
        model(
            "m",
            deployment("a", priority=0, weight=3),
            deployment("b", priority=0, weight=1),
            deployment("c", priority=1),
        )
    ]
    router = Router(RoutingConfig(models=models))
    firsts = Counter()
    for _ in range(4000):
        order = ids_for(router, "m")
        assert order[2] == "c"
        firsts[order[0]] += 1
    assert 0.70 < firsts["a"] / 4000 < 0.80  # weight 3 of 4


def test_cost_strategy_from_project_policy() -> None:
    router = make_router()
    settings = {"routing": {"strategy": "cost"}}
    assert ids(router, classification=C.PUBLIC, settings=settings)[:3] == [
        "edge",
        "us-cloud",
        "eu-cloud",
    ]


def test_latency_strategy_prefers_unmeasured_then_fastest() -> None:
    latency = model("m", deployment("a"), deployment("b"), deployment("c")).model_copy(
        update={"strategy": "latency"}
    )
    router = Router(RoutingConfig(models=[latency]))
    router.health.get("a").observe_latency(300)
    router.health.get("b").observe_latency(100)
    assert ids_for(router, "m") == ["c", "b", "a"]
    router.health.get("c").observe_latency(200)
    assert ids_for(router, "m") == ["b", "c", "a"]
    # Streams sort by time to first chunk when it is known.
    router.health.get("a").observe_ttft(5)
    assert ids_for(router, "m", stream=True)[0] == "a"


def test_weighted_strategy_follows_weights_and_zero_weight_is_last() -> None:
    models = [
        model("m", deployment("a", weight=1), deployment("b", weight=4), deployment("z", weight=0))
    ]
    router = Router(RoutingConfig(models=models, strategy="weighted"))
    firsts = Counter()
    for _ in range(5000):
        order = ids_for(router, "m")
        assert order[-1] == "z"
        firsts[order[0]] += 1
    assert 0.77 < firsts["b"] / 5000 < 0.83


def test_replace_catalog_swaps_without_restart_and_keeps_health() -> None:
    router = make_router()
    router.health.get("onprem-a").observe_latency(42)
    new = Catalog([model("chat", deployment("onprem-a"), deployment("fresh"))])
    router.replace_catalog(new)
    assert set(ids(router)) == {"onprem-a", "fresh"}
    assert router.health.get("onprem-a").latency_ms == 42
    assert "us-cloud" not in router.health.by_id
    status = {s["id"]: s for s in router.deployments_status()}
    assert status["onprem-a"]["latency_ms"] == 42
    assert status["fresh"]["breaker"]["state"] == "closed"


async def test_route_stage_sets_plan_and_classification_header() -> None:
    router = make_router()
    ctx = context("chat", classification=C.CONFIDENTIAL)
    await RouteStage(router).before_call(ctx)
    assert ctx.response_headers["X-Socle-Classification"] == "confidential"
    audit = ctx.route.to_audit()
    assert audit["classification"] == "confidential"
    assert set(audit["candidates"]) == {"onprem-a", "onprem-b", "edge", "sov"}
    assert audit["dropped"]["eu-cloud"].startswith("location public_cloud")
    assert audit["attempts"] == []
    assert ctx.route.attempts is ctx.attempts


def test_export_and_load_round_trip() -> None:
    router = make_router()
    data = router.export()
    other = Router()
    other.load(data)
    assert other.export() == data
    with pytest.raises(ValueError, match="deployments"):
        other.load({"models": [{"name": "x"}]})
    with pytest.raises(ValueError, match="at least one logical model"):
        other.load({"rollouts": []})
    with pytest.raises(ValueError, match="unknown routing keys: model"):
        other.load({**data, "model": []})
    assert other.export() == data


def test_upsert_and_remove_model_are_validated() -> None:
    router = make_router()
    router.upsert_model(model("chat", deployment("only")))
    assert ids(router) == ["only"]
    router.upsert_model(model("new", deployment("n1")))
    assert ids_for(router, "new") == ["n1"]
    with pytest.raises(ValueError, match="'n1' is used twice"):
        router.upsert_model(model("other", deployment("n1")))
    assert router.remove_model("new")
    assert not router.remove_model("new")
    with pytest.raises(ModelNotFound):
        router.plan(context("new"))


def test_a_model_used_by_a_rollout_cannot_be_removed() -> None:
    router = make_router()
    router.upsert_model(model("chat-next", deployment("v2")))
    router.set_rollout(
        Rollout.model_validate(
            {
                "model": "chat",
                "versions": [
                    {"name": "a", "percent": 50, "deployments": ["onprem-a"]},
                    {"name": "b", "percent": 50, "model": "chat-next"},
                ],
            }
        )
    )
    with pytest.raises(ValueError, match="unknown model 'chat-next'"):
        router.remove_model("chat-next")
    assert ids_for(router, "chat-next") == ["v2"]
