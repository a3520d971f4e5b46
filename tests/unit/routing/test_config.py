"""RoutingConfig validation, the default catalog and the catalog's serialisable form."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from socle.pipeline.context import Classification
from socle.routing.catalog import Catalog
from socle.routing.config import RoutingConfig
from tests.unit.routing.fakes import deployment, model

YAML = """
offline: false
strategy: cost
default_classification: confidential
retry: {max_attempts: 3, deadline_s: 20}
breaker: {failures: 3, window_s: 10, open_s: 5, half_open_probes: 2}
models:
  - name: chat-default
    deployments:
      - id: vllm-onprem
        endpoint: {provider: openai_compat, upstream_model: mistral-small, base_url: "http://vllm:8000/v1"}
        location: on_prem
        max_classification: secret
      - id: scaleway
        endpoint: {provider: openai_compat, upstream_model: mistral-small, base_url: "https://api.example/v1"}
        location: sovereign_cloud
        jurisdiction: fr
        certifications: [SecNumCloud, HDS]
        max_classification: confidential
  - name: chat-next
    deployments:
      - id: vllm-next
        endpoint: {provider: openai_compat, upstream_model: mistral-medium, base_url: "http://vllm:8001/v1"}
rollouts:
  - model: chat-default
    sticky_by: user
    versions:
      - {name: stable, percent: 90, deployments: [vllm-onprem, scaleway]}
      - {name: next, percent: 10, model: chat-next}
"""


def test_yaml_config_is_parsed_and_normalised() -> None:
    config = RoutingConfig.model_validate(yaml.safe_load(YAML))
    assert config.strategy == "cost"
    assert config.default_classification is Classification.CONFIDENTIAL
    assert config.retry.max_attempts == 3 and config.retry.max_tries_per_deployment == 2
    catalog = config.catalog()
    scaleway = catalog.deployment("scaleway")
    assert scaleway is not None
    assert scaleway.jurisdiction == "FR"
    assert scaleway.certifications == frozenset({"secnumcloud", "hds"})
    assert scaleway.max_classification is Classification.CONFIDENTIAL
    assert catalog.model_of("vllm-next") is catalog.get("chat-next")
    assert config.rollouts[0].versions[1].model == "chat-next"


def test_no_arg_config_gives_the_simulator_catalog() -> None:
    catalog = RoutingConfig().catalog()
    assert {"chat-default", "sim-small", "sim-flaky", "text-embedding-sim"} <= set(catalog.models)
    assert catalog.get("text-embedding-sim").kind == "embeddings"  # type: ignore[union-attr]
    upstreams = {d.endpoint.upstream_model for d in catalog.deployments()}
    assert upstreams <= {"sim-small", "sim-large", "sim-flaky", "sim-slow", "sim-embed"}
    assert all(d.endpoint.provider == "simulator" and d.is_local for d in catalog.deployments())
    # The default catalog is valid in air-gapped mode.
    assert RoutingConfig(offline=True).offline


def test_offline_refuses_remote_deployments_at_config_check() -> None:
    data = yaml.safe_load(YAML)
    data["offline"] = True
    data["rollouts"] = []
    with pytest.raises(ValidationError, match=r"offline.*scaleway \(sovereign_cloud\)"):
        RoutingConfig.model_validate(data)


def test_unknown_key_is_named() -> None:
    with pytest.raises(ValidationError, match="retries"):
        RoutingConfig.model_validate({"retries": {}})


@pytest.mark.parametrize(
    ("versions", "message"),
    [
        ([{"name": "a", "percent": 60, "deployments": ["vllm-onprem"]}], "add up to 60"),
        (
            [
                {"name": "a", "percent": 50, "deployments": ["vllm-onprem"]},
                {"name": "b", "percent": 50, "deployments": ["vllm-next"]},
            ],
            "vllm-next not deployments of chat-default",
        ),
        (
            [
                {"name": "a", "percent": 50, "deployments": ["vllm-onprem"]},
                {"name": "b", "percent": 50, "model": "nope"},
            ],
            "unknown model 'nope'",
        ),
        (
            [{"name": "a", "percent": 100, "deployments": ["vllm-onprem"], "model": "chat-next"}],
            "either deployments or model",
        ),
    ],
)
def test_invalid_rollouts_are_refused(versions: list[dict[str, object]], message: str) -> None:
    data = yaml.safe_load(YAML)
    data["rollouts"] = [{"model": "chat-default", "versions": versions}]
    with pytest.raises(ValidationError, match=message):
        RoutingConfig.model_validate(data)


def test_rollout_to_a_model_of_another_kind_is_refused() -> None:
    data = {
        "models": [
            model("chat", deployment("c1")).model_dump(),
            model("emb", deployment("e1"), kind="embeddings").model_dump(),
        ],
        "rollouts": [
            {
                "model": "chat",
                "versions": [
                    {"name": "a", "percent": 50, "deployments": ["c1"]},
                    {"name": "b", "percent": 50, "model": "emb"},
                ],
            }
        ],
    }
    with pytest.raises(ValidationError, match="embeddings model"):
        RoutingConfig.model_validate(data)


def test_duplicate_deployment_ids_across_models_are_refused() -> None:
    with pytest.raises(ValidationError, match="'d1' is used twice"):
        RoutingConfig(models=[model("a", deployment("d1")), model("b", deployment("d1"))])


def test_classification_locations_must_cover_every_level() -> None:
    with pytest.raises(ValidationError, match="no entry for secret"):
        RoutingConfig.model_validate(
            {
                "classification_locations": {
                    "public": ["public_cloud"],
                    "internal": ["public_cloud"],
                    "confidential": ["on_prem"],
                }
            }
        )


def test_catalog_round_trips_through_its_serialised_form() -> None:
    catalog = RoutingConfig.model_validate(yaml.safe_load(YAML)).catalog()
    data = catalog.to_data()
    assert data[0]["deployments"][1]["max_classification"] == "confidential"
    assert data[0]["deployments"][1]["certifications"] == ["hds", "secnumcloud"]
    again = Catalog.from_data(data)
    assert again.to_data() == data
    assert again.deployment("scaleway") == catalog.deployment("scaleway")


def test_invalid_serialised_catalog_raises_value_error() -> None:
    with pytest.raises(ValueError, match="location"):
        Catalog.from_data(
            [
                {
                    "name": "m",
                    "deployments": [
                        {
                            "id": "x",
                            "endpoint": {"provider": "simulator", "upstream_model": "sim-small"},
                            "location": "moon",
                        }
                    ],
                }
            ]
        )


def test_more_sensitive_levels_may_not_go_further_than_less_sensitive_ones() -> None:
    with pytest.raises(ValidationError, match="secret allows public_cloud which confidential"):
        RoutingConfig.model_validate(
            {
                "classification_locations": {
                    "public": ["on_prem", "public_cloud"],
                    "internal": ["on_prem", "public_cloud"],
                    "confidential": ["on_prem"],
                    "secret": ["on_prem", "public_cloud"],
                }
            }
        )
