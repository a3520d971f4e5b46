"""The one interface every provider implements, streaming first.

Requests and responses are plain dicts in OpenAI's wire format (parsed once with orjson): a provider
receives the OpenAI request body (with ``model`` already set to the upstream model name) and returns
an OpenAI ``chat.completion`` / ``embedding`` list dict, or yields ``chat.completion.chunk`` dicts.
Providers that speak another protocol (Anthropic) translate both ways.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from socle.providers.endpoint import Endpoint

Json = dict[str, Any]


class ProviderError(Exception):
    """The upstream failed. ``retryable`` tells the router whether another try may succeed."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        body: Json | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        self.body = body


class ProviderTimeout(ProviderError):
    """The upstream did not answer (or stopped streaming) within the endpoint's timeouts."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


class Provider(Protocol):
    """A client for one kind of upstream. One instance serves every endpoint of that kind."""

    async def chat(self, endpoint: Endpoint, body: Json) -> Json:
        """Non-streaming chat completion; returns an OpenAI ``chat.completion`` dict."""
        ...

    def chat_stream(self, endpoint: Endpoint, body: Json) -> AsyncIterator[Json]:
        """Streaming chat completion; yields OpenAI ``chat.completion.chunk`` dicts.

        The iterator raises :class:`ProviderError` before its first item if the upstream refuses
        the request, so the router can still fall back; after the first item an error ends the
        stream.
        """
        ...

    async def embeddings(self, endpoint: Endpoint, body: Json) -> Json:
        """Embeddings; returns an OpenAI ``list`` of ``embedding`` objects (float vectors)."""
        ...

    async def close(self) -> None:
        """Release pooled connections."""
        ...
