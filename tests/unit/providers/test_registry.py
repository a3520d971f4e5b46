"""The provider set: one instance per kind, chosen by the endpoint."""

from __future__ import annotations

from socle.providers.anthropic import AnthropicProvider
from socle.providers.endpoint import Endpoint
from socle.providers.openai_compat import OpenAICompatProvider
from socle.providers.registry import Providers
from socle.providers.simulator import SimulatorProvider


async def test_each_kind_has_one_shared_provider() -> None:
    providers = Providers(simulator_seed=3, simulator_dimensions=12)
    sim = Endpoint(provider="simulator", upstream_model="sim-embed")
    http = Endpoint(provider="openai_compat", upstream_model="m", base_url="http://h:1/v1")
    claude = Endpoint(provider="anthropic", upstream_model="c", base_url="https://a/v1")
    assert isinstance(providers.for_endpoint(sim), SimulatorProvider)
    assert isinstance(providers.for_endpoint(http), OpenAICompatProvider)
    assert isinstance(providers.for_endpoint(claude), AnthropicProvider)
    assert providers.for_endpoint(http) is providers.get("openai_compat")
    result = await providers.for_endpoint(sim).embeddings(sim, {"input": "x"})
    assert len(result["data"][0]["embedding"]) == 12
    await providers.close()
