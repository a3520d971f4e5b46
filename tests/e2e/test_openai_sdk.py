"""The official OpenAI SDK against a running Socle on the simulator; raw bodies checked against
OpenAI's published OpenAPI schemas (the SDK alone forgives missing fields)."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

import httpx
import openai
import pytest

from tests.support.openai_schema import validate
from tests.support.server import SocleServer

pytestmark = pytest.mark.e2e

MESSAGES: list[Any] = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Résume la politique de télétravail en trois points."},
]

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def test_chat_completion(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="chat-default", messages=MESSAGES, temperature=0.2, user="alice"
    )
    body = raw.http_response.json()
    validate(body, "CreateChatCompletionResponse")
    completion = raw.parse()
    assert completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "chat-default"
    assert completion.usage is not None and completion.usage.prompt_tokens > 0
    assert raw.headers["x-socle-deployment"]
    assert raw.headers["x-request-id"]


def test_chat_is_deterministic(client: openai.OpenAI) -> None:
    first = client.chat.completions.create(model="chat-default", messages=MESSAGES)
    second = client.chat.completions.create(model="chat-default", messages=MESSAGES)
    assert first.choices[0].message.content == second.choices[0].message.content


def test_streaming_with_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="chat-default",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert chunks[-1].choices == []


def test_streaming_raw_sse_matches_the_schema(
    server: SocleServer, member_key: dict[str, Any]
) -> None:
    with httpx.stream(
        "POST",
        f"{server.base_url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {member_key['key']}"},
        json={
            "model": "chat-default",
            "messages": MESSAGES,
            "stream": True,
            "stream_options": {"include_usage": True},
        },
        timeout=30,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    for line in lines[:-1]:
        assert line.startswith("data: ")
        validate(json.loads(line[6:]), "CreateChatCompletionStreamResponse")


def test_tool_calls(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="chat-default",
        messages=[{"role": "user", "content": "What is the weather in Lyon?"}],
        tools=[WEATHER_TOOL],
    )
    validate(raw.http_response.json(), "CreateChatCompletionResponse")
    choice = raw.parse().choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert isinstance(json.loads(call.function.arguments), dict)

    follow_up = client.chat.completions.create(
        model="chat-default",
        messages=[
            {"role": "user", "content": "What is the weather in Lyon?"},
            {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
            {"role": "tool", "tool_call_id": call.id, "content": '{"temp_c": 12}'},
        ],
        tools=[WEATHER_TOOL],
    )
    assert follow_up.choices[0].finish_reason == "stop"
    assert follow_up.choices[0].message.content


def test_streamed_tool_calls(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="chat-default",
        messages=[{"role": "user", "content": "Weather in Brest?"}],
        tools=[WEATHER_TOOL],
        stream=True,
    )
    arguments = ""
    names = set()
    finish = None
    for chunk in stream:
        for choice in chunk.choices:
            for call in choice.delta.tool_calls or []:
                if call.function and call.function.name:
                    names.add(call.function.name)
                if call.function and call.function.arguments:
                    arguments += call.function.arguments
            finish = choice.finish_reason or finish
    assert names == {"get_weather"}
    assert isinstance(json.loads(arguments), dict)
    assert finish == "tool_calls"


def test_json_mode_n_stop_and_max_tokens(client: openai.OpenAI) -> None:
    as_json = client.chat.completions.create(
        model="chat-default",
        messages=[{"role": "user", "content": "Give me a JSON object about Paris."}],
        response_format={"type": "json_object"},
    )
    assert isinstance(json.loads(as_json.choices[0].message.content or ""), dict)

    several = client.chat.completions.create(model="chat-default", messages=MESSAGES, n=3)
    assert [c.index for c in several.choices] == [0, 1, 2]

    short = client.chat.completions.create(model="chat-default", messages=MESSAGES, max_tokens=3)
    assert short.choices[0].finish_reason == "length"
    assert short.usage is not None and short.usage.completion_tokens <= 3

    newer = client.chat.completions.create(
        model="chat-default", messages=MESSAGES, max_completion_tokens=2
    )
    assert newer.choices[0].finish_reason == "length"


def test_embeddings_float_base64_and_dimensions(
    server: SocleServer, member_key: dict[str, Any], client: openai.OpenAI
) -> None:
    raw = httpx.post(
        f"{server.base_url}/v1/embeddings",
        headers={"Authorization": f"Bearer {member_key['key']}"},
        json={"model": "text-embedding-sim", "input": ["bonjour", "hello"], "dimensions": 64},
        timeout=30,
    )
    assert raw.status_code == 200, raw.text
    floats = raw.json()
    validate(floats, "CreateEmbeddingResponse")
    assert [d["index"] for d in floats["data"]] == [0, 1]
    assert all(len(d["embedding"]) == 64 for d in floats["data"])

    # The SDK asks for base64 by default and decodes it: both paths must agree.
    result = client.embeddings.create(
        model="text-embedding-sim", input=["bonjour", "hello"], dimensions=64
    )
    assert result.data[0].embedding == pytest.approx(floats["data"][0]["embedding"], rel=1e-6)

    packed = client.embeddings.with_raw_response.create(
        model="text-embedding-sim", input="bonjour", dimensions=64, encoding_format="base64"
    ).http_response.json()
    assert packed["object"] == "list" and packed["usage"]["prompt_tokens"] > 0
    decoded = struct.unpack("<64f", base64.b64decode(packed["data"][0]["embedding"]))
    assert decoded == pytest.approx(floats["data"][0]["embedding"], rel=1e-6)


def test_models_lists_what_the_key_may_use(server: SocleServer, client: openai.OpenAI) -> None:
    every = {m.id for m in client.models.list()}
    assert {"chat-default", "text-embedding-sim"} <= every
    limited = server.create_key(allowed_models=["chat-default"])
    narrow = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=limited["key"])
    assert [m.id for m in narrow.models.list()] == ["chat-default"]
    assert narrow.models.retrieve("chat-default").id == "chat-default"
    with pytest.raises(openai.NotFoundError):
        narrow.models.retrieve("text-embedding-sim")


async def test_async_client(aclient: openai.AsyncOpenAI) -> None:
    completion = await aclient.chat.completions.create(model="chat-default", messages=MESSAGES)
    assert completion.choices[0].message.content
    stream = await aclient.chat.completions.create(
        model="chat-default", messages=MESSAGES, stream=True
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == completion.choices[0].message.content
    vectors = await aclient.embeddings.create(model="text-embedding-sim", input="x")
    assert vectors.data[0].embedding
