"""AnthropicProvider over real HTTP against the mock Anthropic Messages upstream."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import orjson
import pytest

from socle.providers.anthropic import AnthropicProvider
from socle.providers.base import ProviderError, ProviderTimeout
from socle.providers.endpoint import Endpoint, Timeouts
from tests.support.mock_upstreams import AnthropicMockUpstream, Reply, ToolCall
from tests.support.openai_schema import validate

KEY_ENV = "SOCLE_TEST_ANTHROPIC_KEY"
SECRET = "sk-ant-test-0123456789"


@pytest.fixture
async def upstream() -> AsyncIterator[AnthropicMockUpstream]:
    async with AnthropicMockUpstream(api_key=SECRET) as up:
        yield up


@pytest.fixture
async def provider() -> AsyncIterator[AnthropicProvider]:
    instance = AnthropicProvider(default_max_tokens=1024)
    yield instance
    await instance.close()


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)


def endpoint(up: AnthropicMockUpstream, *, read: float = 5.0) -> Endpoint:
    return Endpoint(
        provider="anthropic",
        upstream_model="claude-mock",
        base_url=up.base_url,
        api_key_env=KEY_ENV,
        timeouts=Timeouts(connect=2.0, read=read, total=30.0),
    )


def chat_body(**extra: object) -> dict:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    return {"model": "claude-mock", "messages": messages, **extra}


async def collect(provider: AnthropicProvider, ep: Endpoint, body: dict) -> list[dict]:
    return [chunk async for chunk in provider.chat_stream(ep, body)]


async def test_chat_translates_request_headers_and_answer(
    upstream: AnthropicMockUpstream, provider: AnthropicProvider
) -> None:
    result = await provider.chat(endpoint(upstream), chat_body(temperature=0.3))
    validate(result, "CreateChatCompletionResponse", strict=True)
    assert result["choices"][0]["message"]["content"] == "Hello from the mock Claude."
    assert result["choices"][0]["finish_reason"] == "stop"
    assert result["usage"]["prompt_tokens"] > 0
    sent = upstream.last
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == SECRET
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in sent.headers
    assert sent.body == {
        "model": "claude-mock",
        "system": "Be brief.",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        "max_tokens": 1024,
        "temperature": 0.3,
    }


async def test_tool_use_answer(
    upstream: AnthropicMockUpstream, provider: AnthropicProvider
) -> None:
    upstream.enqueue(
        Reply(text="", tool_calls=(ToolCall("weather", {"city": "Lyon"}, id="toolu_1"),))
    )
    result = await provider.chat(endpoint(upstream), chat_body())
    validate(result, "CreateChatCompletionResponse", strict=True)
    choice = result["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    assert choice["message"]["tool_calls"] == [
        {
            "id": "toolu_1",
            "type": "function",
            "function": {"name": "weather", "arguments": '{"city":"Lyon"}'},
        }
    ]


async def test_stream_text_tools_and_usage(
    upstream: AnthropicMockUpstream, provider: AnthropicProvider
) -> None:
    upstream.enqueue(
        Reply(
            text="Checking the weather now.",
            tool_calls=(ToolCall("weather", {"city": "Lyon", "days": 2}),),
            usage={"input_tokens": 12, "output_tokens": 30, "cache_read_input_tokens": 8},
            split_bytes=9,
        )
    )
    chunks = await collect(
        provider, endpoint(upstream), chat_body(stream=True, stream_options={"include_usage": True})
    )
    assert upstream.last.body["stream"] is True
    for chunk in chunks:
        validate(chunk, "CreateChatCompletionStreamResponse", strict=True)
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0]["role"] == "assistant"
    assert "".join(d.get("content") or "" for d in deltas) == "Checking the weather now."
    arguments = "".join(
        call["function"]["arguments"] for d in deltas for call in d.get("tool_calls", [])
    )
    assert orjson.loads(arguments) == {"city": "Lyon", "days": 2}
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "tool_calls"
    assert chunks[-1]["usage"] == {
        "prompt_tokens": 20,
        "completion_tokens": 30,
        "total_tokens": 50,
        "prompt_tokens_details": {"cached_tokens": 8},
    }


@pytest.mark.parametrize(("status", "retryable"), [(529, True), (500, True), (400, False)])
async def test_status_errors(
    upstream: AnthropicMockUpstream, provider: AnthropicProvider, status: int, retryable: bool
) -> None:
    upstream.enqueue(Reply(status=status))
    with pytest.raises(ProviderError) as info:
        await provider.chat(endpoint(upstream), chat_body())
    assert info.value.status == status and info.value.retryable is retryable
    assert info.value.body is not None and info.value.body["type"] == "error"


async def test_rate_limit_before_first_chunk(
    upstream: AnthropicMockUpstream, provider: AnthropicProvider
) -> None:
    upstream.enqueue(Reply(status=429, headers={"retry-after": "4"}))
    stream = provider.chat_stream(endpoint(upstream), chat_body(stream=True))
    with pytest.raises(ProviderError) as info:
        await stream.__anext__()
    assert info.value.status == 429 and info.value.retry_after == 4.0


async def test_overloaded_error_event_mid_stream(
    upstream: AnthropicMockUpstream, provider: AnthropicProvider
) -> None:
    upstream.enqueue(Reply(error_after=4))
    received: list[dict] = []
    with pytest.raises(ProviderError) as info:
        async for chunk in provider.chat_stream(endpoint(upstream), chat_body(stream=True)):
            received.append(chunk)
    assert received and received[0]["choices"][0]["delta"]["role"] == "assistant"
    assert info.value.status == 529 and info.value.retryable


async def test_stall_mid_stream_times_out(
    upstream: AnthropicMockUpstream, provider: AnthropicProvider
) -> None:
    upstream.enqueue(Reply(stall_after=4, stall_for=5.0))
    started = time.perf_counter()
    with pytest.raises(ProviderTimeout):
        await collect(provider, endpoint(upstream, read=0.25), chat_body(stream=True))
    assert time.perf_counter() - started < 2.0


async def test_stream_cut_before_message_stop(
    upstream: AnthropicMockUpstream, provider: AnthropicProvider
) -> None:
    upstream.enqueue(Reply(disconnect_after=5))
    with pytest.raises(ProviderError) as info:
        await collect(provider, endpoint(upstream), chat_body(stream=True))
    assert info.value.retryable


async def test_unsupported_requests_fail_without_calling_the_upstream(
    upstream: AnthropicMockUpstream, provider: AnthropicProvider
) -> None:
    with pytest.raises(ProviderError) as info:
        await provider.chat(endpoint(upstream), chat_body(n=2))
    assert info.value.status == 400
    with pytest.raises(ProviderError):
        await collect(provider, endpoint(upstream), chat_body(n=3, stream=True))
    with pytest.raises(ProviderError) as info:
        await provider.embeddings(endpoint(upstream), {"model": "claude-mock", "input": "x"})
    assert info.value.status == 400
    assert upstream.requests == []
