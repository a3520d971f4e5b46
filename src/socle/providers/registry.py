"""One instance of each provider for the whole process, looked up by endpoint kind."""

from __future__ import annotations

from socle.providers.anthropic import DEFAULT_MAX_TOKENS, AnthropicProvider
from socle.providers.base import Provider
from socle.providers.endpoint import Endpoint, ProviderKind
from socle.providers.openai_compat import OpenAICompatProvider
from socle.providers.simulator import DEFAULT_DIMENSIONS, SimulatorProvider


class Providers:
    """The provider of each kind; build once at start-up, close at shutdown."""

    def __init__(
        self,
        *,
        simulator_seed: int = 0,
        simulator_dimensions: int = DEFAULT_DIMENSIONS,
        anthropic_max_tokens: int = DEFAULT_MAX_TOKENS,
        trust_env: bool = False,
    ) -> None:
        """``trust_env``: HTTP providers honour HTTP(S)_PROXY / NO_PROXY (egress proxies)."""
        self._by_kind: dict[ProviderKind, Provider] = {
            "openai_compat": OpenAICompatProvider(trust_env=trust_env),
            "anthropic": AnthropicProvider(
                default_max_tokens=anthropic_max_tokens, trust_env=trust_env
            ),
            "simulator": SimulatorProvider(
                simulator_seed, embedding_dimensions=simulator_dimensions
            ),
        }

    def get(self, kind: ProviderKind) -> Provider:
        """The provider of ``kind``."""
        return self._by_kind[kind]

    def for_endpoint(self, endpoint: Endpoint) -> Provider:
        """The provider that serves ``endpoint``."""
        return self._by_kind[endpoint.provider]

    async def close(self) -> None:
        """Close every provider's pooled connections."""
        for provider in self._by_kind.values():
            await provider.close()
