"""Any server that speaks OpenAI's Chat Completions and Embeddings API.

vLLM, Ollama, llama.cpp, TGI, Mistral, OpenAI itself and Azure OpenAI. Bodies pass through as
they are (unknown fields included); only what the protocol needs is touched: ``stream`` on the
streaming call, and ``encoding_format`` on embeddings (floats are always asked for, the gateway
encodes base64 itself).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import aclosing

import aiohttp
import orjson
from yarl import URL

from socle.providers.base import Json, ProviderError
from socle.providers.endpoint import Endpoint
from socle.providers.failures import (
    bad_payload,
    cut_short,
    payload_error,
    status_error,
    stream_failures,
    transport_error,
)
from socle.providers.shapes import completion_as_chunks
from socle.providers.sse import DONE, read_events
from socle.providers.upstream import Target, UpstreamPool

_NON_STREAM_DROP = frozenset({"stream", "stream_options"})


def _auth_headers(endpoint: Endpoint, secret: str | None) -> dict[str, str]:
    if secret is None:
        return {}
    if endpoint.api_version:  # Azure OpenAI
        return {"api-key": secret}
    return {"Authorization": f"Bearer {secret}"}


def _routes(endpoint: Endpoint) -> dict[str, URL]:
    base = (endpoint.base_url or "").rstrip("/")
    query = f"?api-version={endpoint.api_version}" if endpoint.api_version else ""
    return {
        "chat": URL(f"{base}/chat/completions{query}"),
        "embeddings": URL(f"{base}/embeddings{query}"),
    }


class OpenAICompatProvider:
    """Client for OpenAI-compatible upstreams; one instance serves every such endpoint."""

    def __init__(self, *, trust_env: bool = False) -> None:
        """``trust_env``: honour HTTP(S)_PROXY / NO_PROXY for upstream calls."""
        self._pool = UpstreamPool(auth_headers=_auth_headers, routes=_routes, trust_env=trust_env)

    async def chat(self, endpoint: Endpoint, body: Json) -> Json:
        """POST /chat/completions and return the upstream's ``chat.completion``."""
        if not _NON_STREAM_DROP.isdisjoint(body):
            # OpenAI rejects stream_options without stream=true.
            body = {k: v for k, v in body.items() if k not in _NON_STREAM_DROP}
        target = await self._pool.target(endpoint)
        result = await self._post_json(target, "chat", body)
        return _complete_chat(result, target.host)

    async def chat_stream(self, endpoint: Endpoint, body: Json) -> AsyncIterator[Json]:
        """POST /chat/completions with ``stream: true``; yield each ``chat.completion.chunk``.

        Raises ProviderError before the first chunk when the upstream refuses the request, and
        ProviderTimeout when it stays silent longer than ``timeouts.read`` at any point.
        """
        if body.get("stream") is not True:
            body = {**body, "stream": True}
        target = await self._pool.target(endpoint)
        data = orjson.dumps(body)
        host = target.host
        with stream_failures(host):
            async with target.session.post(
                target.urls["chat"], data=data, headers=target.stream_headers
            ) as resp:
                if resp.status >= 300:
                    raise self._status_error(target, resp, await resp.read())
                if resp.content_type == "application/json":
                    # An error, or a server that ignored stream=true: replay it as chunks.
                    for chunk in completion_as_chunks(
                        _complete_chat(_loads(await resp.read(), target), host)
                    ):
                        yield chunk
                    return
                last: Json | None = None
                async with aclosing(read_events(resp.content.iter_any())) as events:
                    async for event in events:
                        if event.data == DONE:
                            return
                        last = _chunk(event.event, event.data, target)
                        yield last
                if not _looks_finished(last):
                    raise cut_short(host, "it was complete")

    async def embeddings(self, endpoint: Endpoint, body: Json) -> Json:
        """POST /embeddings, always asking for float vectors; return the upstream's list."""
        if "encoding_format" in body:
            body = {k: v for k, v in body.items() if k != "encoding_format"}
        target = await self._pool.target(endpoint)
        result = await self._post_json(target, "embeddings", body)
        if not isinstance(result.get("data"), list):
            raise bad_payload(target.host, "an embeddings answer without data")
        result.setdefault("object", "list")
        result.setdefault("model", body.get("model", endpoint.upstream_model))
        return result

    async def close(self) -> None:
        """Close every pooled connection."""
        await self._pool.close()

    async def _post_json(self, target: Target, route: str, body: Json) -> Json:
        try:
            async with target.session.post(
                target.urls[route], data=orjson.dumps(body), headers=target.headers
            ) as resp:
                raw = await resp.read()
                if resp.status >= 300:
                    raise self._status_error(target, resp, raw)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise transport_error(exc, host=target.host, phase="request") from exc
        return _loads(raw, target)

    def _status_error(
        self, target: Target, resp: aiohttp.ClientResponse, raw: bytes
    ) -> ProviderError:
        if resp.status == 401:
            self._pool.forget_credential(target.endpoint)  # the key may have been rotated
        return status_error(resp.status, raw, resp.headers, host=target.host, secret=target.secret)


def _loads(raw: bytes, target: Target) -> Json:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad_payload(target.host, "a body that is not JSON") from None
    if not isinstance(value, dict):
        raise bad_payload(target.host, "JSON that is not an object")
    if "error" in value and "choices" not in value and "data" not in value:
        # Some servers answer 200 with an error object.
        raise payload_error(value, host=target.host, secret=target.secret)
    return value


def _chunk(event: str, data: bytes, target: Target) -> Json:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise bad_payload(target.host, "malformed JSON in its event stream") from None
    if not isinstance(value, dict):
        raise bad_payload(target.host, "an event that is not a JSON object")
    if event == "error" or ("error" in value and "choices" not in value):
        raise payload_error(value, host=target.host, secret=target.secret)
    return value


def _looks_finished(last: Json | None) -> bool:
    """A stream that ended without [DONE] is whole if its last chunk closed it."""
    if last is None:
        return False
    if last.get("usage"):
        return True
    choices = last.get("choices") or ()
    return any(isinstance(c, dict) and c.get("finish_reason") for c in choices)


def _complete_chat(result: Json, host: str) -> Json:
    """Fill the fields OpenAI always sends and lenient servers sometimes omit."""
    choices = result.get("choices")
    if not isinstance(choices, list):
        raise bad_payload(host, "a chat completion without choices")
    result.setdefault("object", "chat.completion")
    result.setdefault("created", int(time.time()))
    if not result.get("id"):
        result["id"] = f"chatcmpl-{time.time_ns():x}"
    for index, choice in enumerate(choices):
        choice.setdefault("index", index)
        choice.setdefault("logprobs", None)
        choice.setdefault("finish_reason", "stop")
        message = choice.setdefault("message", {})
        message.setdefault("role", "assistant")
        message.setdefault("content", None)
        message.setdefault("refusal", None)
    return result
