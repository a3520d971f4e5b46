"""The energy and emissions model against a hand computation of the documented formula."""

from __future__ import annotations

import math

import pytest

from socle.accounting import carbon
from socle.accounting.carbon import CarbonModel
from socle.accounting.config import CarbonConfig
from tests.unit.accounting.acct_support import deployment


def expected_footprint(
    active: float, total: float, out: int, inp: int, pue: float, intensity: float
) -> tuple[float, float]:
    """docs/carbon.md, step by step, with the default hardware profile."""
    batch, bits, memory, installed = 64, 16, 80.0, 8
    gpus = math.ceil(1.2 * total * bits / 8 / memory)
    per_token = 6.47e-6 * math.exp(-2.60e-3 * batch) * active + 1.04e-5
    decode = out * per_token * gpus
    prefill = inp * (2 * active * 1e9 / (989e12 * 0.4)) * 700 / 3600
    duration = out * (6.78e-4 * active + 3.12e-4 * batch + 1.94e-2)
    server = duration / 3600 * 1000 * gpus / installed / batch
    kwh = pue * (decode + prefill + server) / 1000
    lifetime = 3 * 365.25 * 86400
    embodied = duration / (batch * lifetime) * (gpus / installed * 5700 + gpus * 164) * 1000
    return kwh, kwh * intensity + embodied


def test_matches_the_documented_formula() -> None:
    model = CarbonModel(CarbonConfig())
    dep = deployment("llama", location="on_prem", jurisdiction="FR", active_params_b=70.6)
    found = model.estimate(dep, prompt_tokens=1000, completion_tokens=500)
    assert found is not None
    kwh, grams = expected_footprint(70.6, 70.6, 500, 1000, 1.58, model.zones["FR"])
    assert found.energy_kwh == pytest.approx(kwh, rel=1e-9)
    assert found.co2e_g == pytest.approx(grams, rel=1e-9)
    assert found.gpus == 3 and found.zone == "FR"


def test_mixture_of_experts_uses_active_for_energy_and_total_for_gpus() -> None:
    model = CarbonModel(CarbonConfig())
    dep = deployment("mx", upstream_model="mixtral-8x22b-instruct", active_params_b=None)
    found = model.estimate(dep, 0, 100)
    assert found is not None and found.gpus == math.ceil(1.2 * 141 * 2 / 80)


def test_cached_prompt_tokens_cost_no_prefill_energy() -> None:
    model = CarbonModel(CarbonConfig())
    dep = deployment()
    fresh = model.estimate(dep, 1000, 10)
    cached = model.estimate(dep, 1000, 10, cached_tokens=1000)
    assert fresh is not None and cached is not None
    assert cached.energy_kwh < fresh.energy_kwh


def test_measured_latency_bounds_the_server_share() -> None:
    model = CarbonModel(CarbonConfig(include_embodied=False))
    dep = deployment()
    slow = model.estimate(dep, 0, 1000)
    fast = model.estimate(dep, 0, 1000, latency_s=0.5)
    assert slow is not None and fast is not None
    assert fast.energy_kwh < slow.energy_kwh and fast.embodied_g == 0.0


def test_zone_pue_and_profile_come_from_config_and_unknown_zones_fall_back() -> None:
    config = CarbonConfig.model_validate(
        {
            "zones": {"xx-lab": 10},
            "profiles": {"small": {"gpu_memory_gb": 24, "batch_size": 8}},
            "deployments": {"dep-a": {"zone": "XX-LAB", "profile": "small", "pue": 1.1}},
        }
    )
    model = CarbonModel(config)
    found = model.estimate(deployment(), 100, 100)
    assert found is not None and found.zone == "XX-LAB" and found.intensity == 10
    assert found.gpus == math.ceil(1.2 * 24 * 2 / 24)
    unknown = model.estimate(deployment("other", jurisdiction="ZZ"), 100, 100)
    assert unknown is not None and unknown.zone == "WORLD"


def test_unknown_model_size_gives_no_estimate_rather_than_a_made_up_one() -> None:
    model = CarbonModel(CarbonConfig())
    assert model.estimate(deployment(upstream_model="gpt-4o", active_params_b=None), 10, 10) is None
    assert CarbonModel(CarbonConfig(enabled=False)).estimate(deployment(), 10, 10) is None


def test_constants_are_the_published_ecologits_fit() -> None:
    assert (carbon.ALPHA, carbon.BETA, carbon.GAMMA) == (6.47e-6, -2.60e-3, 1.04e-5)
