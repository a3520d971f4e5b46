"""OpenAICompatProvider over real HTTP against the mock OpenAI-compatible upstream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from socle.providers.base import ProviderError, ProviderTimeout
from socle.providers.endpoint import Endpoint, Timeouts
from socle.providers.openai_compat import OpenAICompatProvider
from tests.support.mock_upstreams import OpenAIMockUpstream, Reply, ToolCall
from tests.support.openai_schema import validate

KEY_ENV = "SOCLE_TEST_UPSTREAM_KEY"
SECRET = "sk-test-0123456789abcdef"


@pytest.fixture
async def upstream() -> AsyncIterator[OpenAIMockUpstream]:
    async with OpenAIMockUpstream(api_key=SECRET) as up:
        yield up


@pytest.fixture
async def provider() -> AsyncIterator[OpenAICompatProvider]:
    instance = OpenAICompatProvider()
    yield instance
    await instance.close()


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)


def endpoint(up: OpenAIMockUpstream, *, read: float = 5.0, **extra: object) -> Endpoint:
    return Endpoint(
        provider="openai_compat",
        upstream_model="mock-model",
        base_url=up.base_url,
        api_key_env=KEY_ENV,
        timeouts=Timeouts(connect=2.0, read=read, total=30.0),
        **extra,  # type: ignore[arg-type]
    )


def chat_body(**extra: object) -> dict:
    return {"model": "mock-model", "messages": [{"role": "user", "content": "Hi"}], **extra}


async def collect(provider: OpenAICompatProvider, ep: Endpoint, body: dict) -> list[dict]:
    return [chunk async for chunk in provider.chat_stream(ep, body)]


async def test_chat_passes_the_body_through_and_sends_credentials(
    upstream: OpenAIMockUpstream, provider: OpenAICompatProvider
) -> None:
    ep = endpoint(upstream, headers={"X-Tenant": "acme"})
    body = chat_body(
        temperature=0.2,
        vendor_extension={"top_k": 5},
        stream=False,
        stream_options={"include_usage": True},
    )
    result = await provider.chat(ep, body)
    validate(result, "CreateChatCompletionResponse")
    assert result["choices"][0]["message"]["content"] == "Hello from the mock upstream."
    sent = upstream.last
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {SECRET}"
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["x-tenant"] == "acme"
    assert sent.body == {
        "model": "mock-model",
        "messages": body["messages"],
        "temperature": 0.2,
        "vendor_extension": {"top_k": 5},
    }
    assert "stream" in body  # the caller's dict is not modified


async def test_connections_are_pooled_and_bounded(
    upstream: OpenAIMockUpstream, provider: OpenAICompatProvider
) -> None:
    ep = endpoint(upstream, max_connections=4)
    upstream.default = Reply(delay=0.01)
    results = await asyncio.gather(*(provider.chat(ep, chat_body()) for _ in range(40)))
    assert len(results) == 40
    ports = {r.peer[1] for r in upstream.requests if r.peer}
    assert 1 <= len(ports) <= 4  # 40 requests over at most 4 kept-alive connections
    await provider.chat(ep, chat_body())
    assert upstream.last.peer is not None and upstream.last.peer[1] in ports


async def test_azure_style_deployment_url_and_api_key_header(
    upstream: OpenAIMockUpstream, provider: OpenAICompatProvider
) -> None:
    ep = Endpoint(
        provider="openai_compat",
        upstream_model="gpt-4o",
        base_url=f"{upstream.origin}/openai/deployments/gpt-4o-prod",
        api_key_env=KEY_ENV,
        api_version="2024-10-21",
    )
    await provider.chat(ep, chat_body(model="gpt-4o"))
    await provider.embeddings(ep, {"model": "gpt-4o", "input": "x"})
    chat, embed = upstream.requests
    assert chat.path == "/openai/deployments/gpt-4o-prod/chat/completions"
    assert embed.path == "/openai/deployments/gpt-4o-prod/embeddings"
    assert chat.query == {"api-version": "2024-10-21"} == embed.query
    assert chat.headers["api-key"] == SECRET and "authorization" not in chat.headers


async def test_stream_yields_valid_chunks_and_usage(
    upstream: OpenAIMockUpstream, provider: OpenAICompatProvider
) -> None:
    chunks = await collect(
        provider, endpoint(upstream), chat_body(stream=True, stream_options={"include_usage": True})
    )
    for chunk in chunks:
        validate(chunk, "CreateChatCompletionStreamResponse")
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "Hello from the mock upstream."
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
    assert upstream.last.body["stream"] is True
    assert upstream.last.headers["accept"] == "text/event-stream"


@pytest.mark.parametrize(
    "reply",
    [
        Reply(split_bytes=3),
        Reply(line_ending="\r\n", comments=True, no_space=True),
        Reply(line_ending="\r", split_bytes=7),
        Reply(omit_done=True),
    ],
    ids=["fragmented", "crlf-comments-nospace", "cr-fragmented", "no-done"],
)
async def test_stream_survives_wire_variations(
    upstream: OpenAIMockUpstream, provider: OpenAICompatProvider, reply: Reply
) -> None:
    upstream.enqueue(reply)
    chunks = await collect(provider, endpoint(upstream), chat_body(stream=True))
    assert (
        "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
        == "Hello from the mock upstream."
    )
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_stream_tool_calls(
    upstream: OpenAIMockUpstream, provider: OpenAICompatProvider
) -> None:
    upstream.enqueue(Reply(tool_calls=(ToolCall("weather", {"city": "Paris"}),)))
    chunks = await collect(provider, endpoint(upstream), chat_body(stream=True))
    calls = [call for c in chunks for call in c["choices"][0]["delta"].get("tool_calls", [])]
    assert calls[0]["function"]["name"] == "weather"
    assert "".join(c["function"]["arguments"] for c in calls) == '{"city":"Paris"}'
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_429_with_retry_after_is_raised_before_the_first_chunk(
    upstream: OpenAIMockUpstream, provider: OpenAICompatProvider
) -> None:
    upstream.enqueue(Reply(status=429, headers={"Retry-After": "2"}))
    stream = provider.chat_stream(endpoint(upstream), chat_body(stream=True))
    with pytest.raises(ProviderError) as info:
        await stream.__anext__()
    error = info.value
    assert error.status == 429 and error.retryable and error.retry_after == 2.0
    assert error.body is not None and error.body["error"]["type"] == "rate_limit_exceeded"
    assert "HTTP 429" in error.message and "mock upstream error 429" in error.message


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, True), (503, True), (400, False), (404, False)]
)
async def test_status_errors_on_chat(
    upstream: OpenAIMockUpstream, provider: OpenAICompatProvider, status: int, retryable: bool
) -> None:
    upstream.enqueue(Reply(status=status))
    with pytest.raises(ProviderError) as info:
        await provider.chat(endpoint(upstream), chat_body())
    assert info.value.status == status and info.value.retryable is retryable
    assert not isinstance(info.value, ProviderTimeout)


async def test_slow_headers_time_out(
    upstream: OpenAIMockUpstream, provider: OpenAICompatProvider
) -> None:
    upstream.enqueue(Reply(delay=2.0))
    started = time.perf_counter()
    with pytest.raises(ProviderTimeout) as info:
        await provider.chat(endpoint(upstream, read=0.2), chat_body())
    assert info.value.retryable
    assert time.perf_counter() - started < 1.5


async def test_stall_mid_stream_times_out_after_the_chunks_already_sent(
    upstream: OpenAIMockUpstream, provider: OpenAICompatProvider
) -> None:
    upstream.enqueue(Reply(stall_after=3, stall_for=5.0))
    received: list[dict] = []
    started = time.perf_counter()
    with pytest.raises(ProviderTimeout):
        async for chunk in provider.chat_stream(
            endpoint(upstream, read=0.25), chat_body(stream=True)
        ):
            received.append(chunk)
    assert len(received) == 3
    assert time.perf_counter() - started < 2.0


async def test_error_event_mid_stream(
    upstream: OpenAIMockUpstream, provider: OpenAICompatProvider
) -> None:
    upstream.enqueue(Reply(error_after=2))
    received: list[dict] = []
    with pytest.raises(ProviderError) as info:
        async for chunk in provider.chat_stream(endpoint(upstream), chat_body(stream=True)):
            received.append(chunk)
    assert len(received) == 2
    assert info.value.status == 500 and "failed mid-stream" in info.value.message


async def test_malformed_event_and_dropped_connection(
    upstream: OpenAIMockUpstream, provider: OpenAICompatProvider
) -> None:
    upstream.enqueue(Reply(malformed_after=1), Reply(disconnect_after=2))
    with pytest.raises(ProviderError) as info:
        await collect(provider, endpoint(upstream), chat_body(stream=True))
    assert "malformed" in info.value.message
    with pytest.raises(ProviderError) as info:
        await collect(provider, endpoint(upstream), chat_body(stream=True))
    assert info.value.retryable


async def test_json_answer_to_a_stream_request_is_replayed_as_chunks(
    upstream: OpenAIMockUpstream, provider: OpenAICompatProvider
) -> None:
    upstream.enqueue(Reply(json_for_stream=True))
    chunks = await collect(provider, endpoint(upstream), chat_body(stream=True))
    for chunk in chunks:
        validate(chunk, "CreateChatCompletionStreamResponse")
    assert chunks[0]["choices"][0]["delta"]["content"] == "Hello from the mock upstream."
    assert chunks[1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"]["total_tokens"] > 0


async def test_unreachable_upstream_is_retryable(provider: OpenAICompatProvider) -> None:
    async with OpenAIMockUpstream() as up:
        ep = endpoint(up)
    with pytest.raises(ProviderError) as info:
        await provider.chat(ep, chat_body())
    assert info.value.retryable and info.value.status is None
    assert not isinstance(info.value, ProviderTimeout)


async def test_embeddings_always_ask_for_floats(
    upstream: OpenAIMockUpstream, provider: OpenAICompatProvider
) -> None:
    result = await provider.embeddings(
        endpoint(upstream),
        {"model": "e", "input": ["a", "bb"], "encoding_format": "base64", "dimensions": 4},
    )
    validate(result, "CreateEmbeddingResponse")
    assert "encoding_format" not in upstream.last.body and upstream.last.body["dimensions"] == 4
    assert [len(d["embedding"]) for d in result["data"]] == [4, 4]
    assert all(isinstance(x, float) for x in result["data"][0]["embedding"])


async def test_rejected_key_is_scrubbed_and_reread(
    upstream: OpenAIMockUpstream, provider: OpenAICompatProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "sk-wrong-key-abcdef123456"
    monkeypatch.setenv(KEY_ENV, wrong)
    ep = endpoint(upstream)
    with pytest.raises(ProviderError) as info:
        await provider.chat(ep, chat_body())
    assert info.value.status == 401 and not info.value.retryable
    assert wrong not in info.value.message and wrong not in str(info.value.body)
    monkeypatch.setenv(KEY_ENV, SECRET)  # rotated: the next call reads it again
    await provider.chat(ep, chat_body())
    assert upstream.last.headers["authorization"] == f"Bearer {SECRET}"


async def test_key_file_and_missing_key(
    upstream: OpenAIMockUpstream, provider: OpenAICompatProvider, tmp_path: Path
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(SECRET + "\n")
    ep = Endpoint(
        provider="openai_compat",
        upstream_model="m",
        base_url=upstream.base_url,
        api_key_file=key_file,
    )
    await provider.chat(ep, chat_body())
    assert upstream.last.headers["authorization"] == f"Bearer {SECRET}"
    missing = Endpoint(
        provider="openai_compat",
        upstream_model="m",
        base_url=upstream.base_url,
        api_key_env="SOCLE_NO_SUCH_VAR",
    )
    with pytest.raises(ProviderError) as info:
        await provider.chat(missing, chat_body())
    assert not info.value.retryable and "SOCLE_NO_SUCH_VAR" in info.value.message


async def test_close_releases_sessions(upstream: OpenAIMockUpstream) -> None:
    provider = OpenAICompatProvider()
    ep = endpoint(upstream)
    await provider.chat(ep, chat_body())
    await provider.close()
    await provider.chat(ep, chat_body())  # usable again: a new session is made lazily
    await provider.close()
