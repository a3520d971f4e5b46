"""The simulator: deterministic, realistic, honours the request, and its profiles and knobs."""

from __future__ import annotations

import math
import time

import orjson
import pytest
from jsonschema import Draft202012Validator

from socle.providers.base import ProviderError
from socle.providers.endpoint import Endpoint
from socle.providers.simulator import SimulatorProvider
from socle.providers.simulator_text import estimate_tokens
from tests.support.openai_schema import validate


def endpoint(model: str = "sim-small", **headers: str) -> Endpoint:
    return Endpoint(provider="simulator", upstream_model=model, headers=headers)


def body(text: str = "How do I rotate an API key safely?", **extra: object) -> dict:
    return {"model": "sim-small", "messages": [{"role": "user", "content": text}], **extra}


async def collect(provider: SimulatorProvider, ep: Endpoint, request: dict) -> list[dict]:
    return [chunk async for chunk in provider.chat_stream(ep, request)]


async def test_same_request_same_answer_and_valid_shape() -> None:
    first = await SimulatorProvider().chat(endpoint(), body())
    second = await SimulatorProvider().chat(endpoint(), body())
    validate(first, "CreateChatCompletionResponse", strict=True)
    assert first["choices"] == second["choices"]
    assert first["usage"] == second["usage"]
    content = first["choices"][0]["message"]["content"]
    assert "How do I rotate an API key safely?" in content
    assert first["choices"][0]["finish_reason"] == "stop"


async def test_seed_and_prompt_change_the_answer() -> None:
    base = await SimulatorProvider(seed=1).chat(endpoint(), body())
    other_seed = await SimulatorProvider(seed=2).chat(endpoint(), body())
    other_prompt = await SimulatorProvider(seed=1).chat(endpoint(), body("Something else entirely"))
    text = base["choices"][0]["message"]["content"]
    assert other_seed["choices"][0]["message"]["content"] != text
    assert other_prompt["choices"][0]["message"]["content"] != text


async def test_token_counts_follow_one_rule() -> None:
    result = await SimulatorProvider().chat(endpoint(), body("abcd" * 10))
    content = result["choices"][0]["message"]["content"]
    usage = result["usage"]
    assert usage["completion_tokens"] == estimate_tokens(content) == math.ceil(len(content) / 4)
    assert usage["prompt_tokens"] == 3 + 4 + 10  # priming + message overhead + 40 chars
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_large_model_answers_longer() -> None:
    provider = SimulatorProvider()
    small = await provider.chat(endpoint("sim-small"), body())
    large = await provider.chat(endpoint("sim-large"), {**body(), "model": "sim-large"})
    assert 24 <= small["usage"]["completion_tokens"] < 100
    assert large["usage"]["completion_tokens"] >= 160
    assert large["usage"]["completion_tokens"] > 2 * small["usage"]["completion_tokens"]


@pytest.mark.parametrize("key", ["max_tokens", "max_completion_tokens"])
async def test_max_tokens_cuts_with_length(key: str) -> None:
    result = await SimulatorProvider().chat(endpoint(), body(**{key: 5}))
    choice = result["choices"][0]
    assert choice["finish_reason"] == "length"
    assert result["usage"]["completion_tokens"] == 5
    assert len(choice["message"]["content"]) == 20


async def test_stop_sequence_cuts_before_it() -> None:
    full = await SimulatorProvider().chat(endpoint(), body())
    text = full["choices"][0]["message"]["content"]
    result = await SimulatorProvider().chat(endpoint(), body(stop=["nothing-like-this", "safely"]))
    cut = result["choices"][0]["message"]["content"]
    assert result["choices"][0]["finish_reason"] == "stop"
    assert cut == text[: text.index("safely")]


async def test_n_choices_differ_and_are_deterministic() -> None:
    result = await SimulatorProvider().chat(endpoint(), body(n=3))
    again = await SimulatorProvider().chat(endpoint(), body(n=3))
    texts = [c["message"]["content"] for c in result["choices"]]
    assert [c["index"] for c in result["choices"]] == [0, 1, 2]
    assert len(set(texts)) == 3
    assert texts == [c["message"]["content"] for c in again["choices"]]
    assert result["usage"]["completion_tokens"] == sum(estimate_tokens(t) for t in texts)


async def test_french_prompt_gets_french_answer() -> None:
    result = await SimulatorProvider().chat(
        endpoint(), body("Bonjour, comment créer une clé pour mon équipe ?")
    )
    assert result["choices"][0]["message"]["content"].startswith("Vous avez demandé")


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["city"],
        },
    },
}
SEARCH = {
    "type": "function",
    "function": {
        "name": "search_documents",
        "description": "Search the knowledge base",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}},
            "required": ["query"],
        },
    },
}


async def test_tool_call_picks_the_matching_tool_with_valid_arguments() -> None:
    result = await SimulatorProvider().chat(
        endpoint(), body("What is the weather in Paris?", tools=[SEARCH, WEATHER])
    )
    validate(result, "CreateChatCompletionResponse", strict=True)
    choice = result["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["function"]["name"] == "get_weather"
    arguments = orjson.loads(call["function"]["arguments"])
    Draft202012Validator(WEATHER["function"]["parameters"]).validate(arguments)
    assert arguments["city"] == "Paris"


async def test_tool_choice_none_and_named() -> None:
    provider = SimulatorProvider()
    plain = await provider.chat(endpoint(), body("weather?", tools=[WEATHER], tool_choice="none"))
    assert plain["choices"][0]["finish_reason"] == "stop"
    named = await provider.chat(
        endpoint(),
        body(
            "weather?",
            tools=[WEATHER, SEARCH],
            tool_choice={"type": "function", "function": {"name": "search_documents"}},
        ),
    )
    assert named["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "search_documents"
    with pytest.raises(ProviderError) as info:
        await provider.chat(
            endpoint(),
            body(tools=[WEATHER], tool_choice={"type": "function", "function": {"name": "nope"}}),
        )
    assert info.value.status == 400


async def test_turn_after_tool_result_answers_with_the_result() -> None:
    first = await SimulatorProvider().chat(endpoint(), body("Weather in Paris?", tools=[WEATHER]))
    call = first["choices"][0]["message"]["tool_calls"][0]
    follow_up = {
        "model": "sim-small",
        "tools": [WEATHER],
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call["id"], "content": "sunny, 21 degrees"},
        ],
    }
    result = await SimulatorProvider().chat(endpoint(), follow_up)
    choice = result["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert "get_weather" in choice["message"]["content"]
    assert "sunny, 21 degrees" in choice["message"]["content"]


async def test_json_object_mode_returns_a_json_object() -> None:
    result = await SimulatorProvider().chat(
        endpoint(), body(response_format={"type": "json_object"})
    )
    value = orjson.loads(result["choices"][0]["message"]["content"])
    assert isinstance(value, dict) and value["answer"]


async def test_json_schema_mode_conforms() -> None:
    schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string", "minLength": 3, "maxLength": 40},
            "score": {"type": "number", "minimum": 0, "maximum": 1},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "status": {"type": "string", "enum": ["draft", "final"]},
            "owner": {"$ref": "#/$defs/person"},
            "due": {"type": ["string", "null"], "format": "date"},
            "approved": {"type": "boolean"},
        },
        "required": ["title", "score", "tags", "status", "owner", "due", "approved"],
        "additionalProperties": False,
        "$defs": {
            "person": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "age": {"type": "integer", "exclusiveMinimum": 17},
                },
                "required": ["name", "age"],
            }
        },
    }
    request = body(
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "report", "schema": schema, "strict": True},
        }
    )
    result = await SimulatorProvider().chat(endpoint(), request)
    value = orjson.loads(result["choices"][0]["message"]["content"])
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(value)


async def test_stream_matches_the_whole_answer() -> None:
    provider = SimulatorProvider()
    request = body(stream=True, stream_options={"include_usage": True})
    whole = await provider.chat(endpoint(), body())
    chunks = await collect(provider, endpoint(), request)
    for chunk in chunks:
        validate(chunk, "CreateChatCompletionStreamResponse", strict=True)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert content == whole["choices"][0]["message"]["content"]
    pieces = [c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]
    assert len(pieces) > 5  # several words per chunk, not the whole text at once
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == whole["usage"]


async def test_stream_without_usage_and_with_tool_call() -> None:
    chunks = await collect(
        SimulatorProvider(), endpoint(), body("Weather in Paris?", tools=[WEATHER], stream=True)
    )
    assert all("usage" not in c for c in chunks)
    arguments = "".join(
        call["function"].get("arguments", "")
        for c in chunks
        for call in c["choices"][0]["delta"].get("tool_calls", [])
    )
    assert orjson.loads(arguments)["city"] == "Paris"
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_stream_with_n_interleaves_choices() -> None:
    chunks = await collect(SimulatorProvider(), endpoint(), body(n=2, stream=True))
    indexes = [c["choices"][0]["index"] for c in chunks]
    assert indexes[:4] == [0, 1, 0, 1]
    finishes = [c["choices"][0] for c in chunks if c["choices"][0]["finish_reason"]]
    assert sorted(f["index"] for f in finishes) == [0, 1]


async def test_embeddings_dimensions_determinism_and_similarity() -> None:
    provider = SimulatorProvider()
    ep = endpoint("sim-embed")
    texts = [
        "the cat sat on the mat",
        "the cat sat on a mat",
        "quarterly budget report for finance",
    ]
    result = await provider.embeddings(ep, {"model": "sim-embed", "input": texts})
    validate(result, "CreateEmbeddingResponse", strict=True)
    vectors = [d["embedding"] for d in result["data"]]
    assert [len(v) for v in vectors] == [384, 384, 384]
    assert all(abs(sum(x * x for x in v) - 1.0) < 1e-9 for v in vectors)

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(vectors[0], vectors[1]) > 0.6 > cosine(vectors[0], vectors[2])
    again = await SimulatorProvider().embeddings(ep, {"model": "sim-embed", "input": texts[0]})
    assert again["data"][0]["embedding"] == vectors[0]
    assert result["usage"]["prompt_tokens"] == sum(estimate_tokens(t) for t in texts)


async def test_embeddings_dimensions_and_token_inputs() -> None:
    provider = SimulatorProvider(embedding_dimensions=64)
    ep = endpoint("sim-embed")
    assert len((await provider.embeddings(ep, {"input": "x"}))["data"][0]["embedding"]) == 64
    result = await provider.embeddings(ep, {"input": [[1, 2, 3], [4, 5]], "dimensions": 16})
    assert [len(d["embedding"]) for d in result["data"]] == [16, 16]
    assert result["usage"]["prompt_tokens"] == 5
    single = await provider.embeddings(ep, {"input": [1, 2, 3], "dimensions": 16})
    assert single["data"][0]["embedding"] == result["data"][0]["embedding"]
    for bad in (
        {"input": []},
        {"input": [1, "a"]},
        {"input": "x", "dimensions": 0},
        {"input": None},
    ):
        with pytest.raises(ProviderError) as info:
            await provider.embeddings(ep, bad)
        assert info.value.status == 400


async def test_embed_model_refuses_chat() -> None:
    with pytest.raises(ProviderError) as info:
        await SimulatorProvider().chat(endpoint("sim-embed"), body())
    assert info.value.status == 400 and not info.value.retryable


async def test_flaky_fails_about_one_call_in_five_deterministically() -> None:
    async def outcomes(seed: int) -> list[bool]:
        provider = SimulatorProvider(seed=seed)
        result = []
        for _ in range(1000):
            try:
                await provider.chat(endpoint("sim-flaky"), body(max_tokens=1))
                result.append(True)
            except ProviderError as exc:
                assert exc.status == 503 and exc.retryable and exc.body is not None
                result.append(False)
        return result

    first = await outcomes(0)
    assert 150 <= first.count(False) <= 250
    assert first == await outcomes(0)
    assert first != await outcomes(1)


async def test_failure_rate_knob_and_stream_fails_before_first_chunk() -> None:
    provider = SimulatorProvider()
    always = endpoint("sim-small", **{"x-sim-failure-rate": "1"})
    with pytest.raises(ProviderError):
        await provider.chat(always, body())
    stream = provider.chat_stream(always, body(stream=True))
    with pytest.raises(ProviderError) as info:
        await stream.__anext__()
    assert info.value.status == 503
    with pytest.raises(ProviderError):
        await provider.chat(endpoint("sim-small", **{"x-sim-failure-rate": "2"}), body())
    with pytest.raises(ProviderError):
        await provider.chat(endpoint("sim-small", **{"x-sim-latency-ms": "soon"}), body())


async def test_latency_knobs_and_slow_profile() -> None:
    provider = SimulatorProvider()
    started = time.perf_counter()
    await provider.chat(endpoint("sim-small"), body())
    fast = time.perf_counter() - started

    started = time.perf_counter()
    await provider.chat(endpoint("sim-small", **{"x-sim-latency-ms": "60"}), body())
    assert time.perf_counter() - started >= 0.06

    ep = endpoint("sim-slow", **{"x-sim-latency-ms": "30", "x-sim-chunk-delay-ms": "5"})
    started = time.perf_counter()
    chunks = await collect(provider, ep, {**body(stream=True), "model": "sim-slow"})
    assert time.perf_counter() - started >= 0.03 + 0.005 * (len(chunks) - 2)
    assert fast < 0.02


async def test_rejects_requests_without_messages() -> None:
    with pytest.raises(ProviderError) as info:
        await SimulatorProvider().chat(endpoint(), {"model": "sim-small", "messages": []})
    assert info.value.status == 400
