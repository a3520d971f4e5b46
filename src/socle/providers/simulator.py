"""A deterministic, offline model provider: try the whole platform with no model and no network.

Answers are derived from the request (the last user message, the tools, the response format),
so the same request always gets the same content. Behaviour depends on the upstream model name:

- ``sim-small`` (default for unknown names): short answers (24–71 tokens);
- ``sim-large``: long answers (160–399 tokens);
- ``sim-flaky``: like sim-small, but about 20 % of calls fail with a retryable 503;
- ``sim-slow``: like sim-small, with 250 ms to first token and 25 ms between chunks;
- ``sim-embed`` (and any name containing ``embed``): embeddings only.

Knobs per endpoint, as headers (they are never sent anywhere): ``x-sim-latency-ms``,
``x-sim-chunk-delay-ms``, ``x-sim-failure-rate``. Latency is simulated with ``asyncio.sleep``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from hashlib import blake2b
from typing import Any

import orjson

from socle.providers import simulator_text as text
from socle.providers.base import Json, ProviderError
from socle.providers.endpoint import Endpoint
from socle.providers.shapes import choice_chunk, chunk_head, usage, usage_chunk
from socle.providers.simulator_embed import embed_features, text_features, token_features
from socle.providers.simulator_schema import sample

DEFAULT_DIMENSIONS = 384
MAX_DIMENSIONS = 8192
WORDS_PER_CHUNK = 3
ARGUMENT_CHARS_PER_CHUNK = 16


@dataclass(frozen=True, slots=True)
class Profile:
    """How one simulated model behaves."""

    min_tokens: int = 24
    spread_tokens: int = 48
    latency_ms: float = 0.0
    chunk_delay_ms: float = 0.0
    failure_rate: float = 0.0
    embeddings_only: bool = False


PROFILES: dict[str, Profile] = {
    "sim-small": Profile(),
    "sim-large": Profile(min_tokens=160, spread_tokens=240),
    "sim-flaky": Profile(failure_rate=0.2),
    "sim-slow": Profile(latency_ms=250.0, chunk_delay_ms=25.0),
    "sim-embed": Profile(embeddings_only=True),
}


def profile_for(endpoint: Endpoint) -> Profile:
    """The model's profile with the endpoint's ``x-sim-*`` knobs applied."""
    name = endpoint.upstream_model
    profile = PROFILES.get(name) or (PROFILES["sim-embed"] if "embed" in name else Profile())
    if not endpoint.headers:
        return profile
    return replace(
        profile,
        latency_ms=_knob(endpoint, "x-sim-latency-ms", profile.latency_ms, None),
        chunk_delay_ms=_knob(endpoint, "x-sim-chunk-delay-ms", profile.chunk_delay_ms, None),
        failure_rate=_knob(endpoint, "x-sim-failure-rate", profile.failure_rate, 1.0),
    )


def _knob(endpoint: Endpoint, header: str, default: float, maximum: float | None) -> float:
    raw = endpoint.headers.get(header)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ProviderError(f"simulator knob {header} must be a number, not {raw!r}") from None
    if value < 0 or (maximum is not None and value > maximum):
        raise ProviderError(f"simulator knob {header} is out of range: {raw}")
    return value


@dataclass(slots=True)
class _Choice:
    content: str | None
    tool_calls: list[Json]
    finish_reason: str


class SimulatorProvider:
    """The built-in simulated upstream. Deterministic for a given ``seed``."""

    def __init__(self, seed: int = 0, *, embedding_dimensions: int = DEFAULT_DIMENSIONS) -> None:
        """``embedding_dimensions`` is used when a request does not ask for ``dimensions``."""
        self._seed = seed
        self._key = blake2b(str(seed).encode(), digest_size=16).digest()
        self._dimensions = embedding_dimensions
        self._calls: dict[str, int] = {}  # per upstream model: drives the flaky failures

    async def chat(self, endpoint: Endpoint, body: Json) -> Json:
        """A whole ``chat.completion`` derived from the request."""
        profile, call = self._begin(endpoint, chat=True)
        choices, prompt = self._answer(body, profile)
        pieces = sum(len(_pieces(c)) for c in choices)
        await _sleep(profile.latency_ms + profile.chunk_delay_ms * pieces)
        return {
            "id": self._id(call),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", endpoint.upstream_model),
            "choices": [
                {
                    "index": i,
                    "message": _message(c),
                    "finish_reason": c.finish_reason,
                    "logprobs": None,
                }
                for i, c in enumerate(choices)
            ],
            "usage": usage(prompt, _completion_tokens(choices)),
        }

    async def chat_stream(self, endpoint: Endpoint, body: Json) -> AsyncIterator[Json]:
        """The same answer as :meth:`chat`, as ``chat.completion.chunk`` dicts, a few words each."""
        profile, call = self._begin(endpoint, chat=True)
        choices, prompt = self._answer(body, profile)
        head = chunk_head(
            self._id(call), int(time.time()), body.get("model", endpoint.upstream_model)
        )
        await _sleep(profile.latency_ms)
        streams = [_choice_chunks(head, i, c) for i, c in enumerate(choices)]
        first = True
        while streams:
            for stream in list(streams):  # choices interleave, as in OpenAI streams with n > 1
                chunk = next(stream, None)
                if chunk is None:
                    streams.remove(stream)
                    continue
                if not first:
                    await _sleep(profile.chunk_delay_ms)
                first = False
                yield chunk
        options = body.get("stream_options") or {}
        if options.get("include_usage"):
            yield usage_chunk(head, usage(prompt, _completion_tokens(choices)))

    async def embeddings(self, endpoint: Endpoint, body: Json) -> Json:
        """Deterministic unit vectors: equal inputs, equal vectors; shared words, close vectors."""
        profile, _ = self._begin(endpoint, chat=False)
        dimensions = body.get("dimensions", self._dimensions)
        if not isinstance(dimensions, int) or not 1 <= dimensions <= MAX_DIMENSIONS:
            raise ProviderError(
                f"dimensions must be an integer from 1 to {MAX_DIMENSIONS}", status=400
            )
        inputs = _embedding_inputs(body.get("input"))
        data: list[Json] = []
        tokens = 0
        for index, item in enumerate(inputs):
            if isinstance(item, str):
                features = text_features(item)
                tokens += text.estimate_tokens(item)
            else:
                features = token_features(item)
                tokens += len(item)
            vector = embed_features(features, dimensions, self._key)
            data.append({"object": "embedding", "index": index, "embedding": vector})
        await _sleep(profile.latency_ms)
        return {
            "object": "list",
            "data": data,
            "model": body.get("model", endpoint.upstream_model),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    async def close(self) -> None:
        """Nothing to release: the simulator holds no connections."""

    def _begin(self, endpoint: Endpoint, *, chat: bool) -> tuple[Profile, int]:
        """Count the call, and fail it when the model's failure rate says so."""
        profile = profile_for(endpoint)
        name = endpoint.upstream_model
        if chat and profile.embeddings_only:
            raise ProviderError(
                f"model {name} is an embeddings model; it cannot serve chat completions",
                status=400,
            )
        call = self._calls.get(name, 0) + 1
        self._calls[name] = call
        if profile.failure_rate > 0 and self._draw(f"fail:{name}:{call}") < profile.failure_rate:
            raise ProviderError(
                f"simulated upstream failure (HTTP 503) on call {call} of {name}",
                status=503,
                retryable=True,
                body={
                    "error": {
                        "message": "The simulated server is overloaded; try again.",
                        "type": "server_error",
                        "param": None,
                        "code": "simulated_failure",
                    }
                },
            )
        return profile, call

    def _draw(self, label: str) -> float:
        """A number in [0, 1) that depends only on the seed and ``label``."""
        digest = blake2b(label.encode(), digest_size=8, key=self._key).digest()
        return int.from_bytes(digest, "big") / 2**64

    def _id(self, call: int) -> str:
        digest = blake2b(f"id:{call}".encode(), digest_size=12, key=self._key).hexdigest()
        return f"chatcmpl-sim{digest}"

    def _answer(self, body: Json, profile: Profile) -> tuple[list[_Choice], int]:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ProviderError("messages must be a non-empty list", status=400)
        n = body.get("n") or 1
        if not isinstance(n, int) or not 1 <= n <= 128:
            raise ProviderError("n must be an integer from 1 to 128", status=400)
        tools = body.get("tools") or None
        prompt = text.prompt_tokens(messages, tools)
        fingerprint = orjson.dumps([body.get("model"), messages, body.get("seed")])
        choices = [self._choice(body, profile, messages, tools, fingerprint, i) for i in range(n)]
        return choices, prompt

    def _choice(
        self,
        body: Json,
        profile: Profile,
        messages: list[Json],
        tools: Any,
        fingerprint: bytes,
        index: int,
    ) -> _Choice:
        digest = blake2b(fingerprint + b"|%d" % index, digest_size=16, key=self._key).digest()
        rng = random.Random(digest)  # noqa: S311 - reproducible filler, not a secret
        last = messages[-1]
        question = _last_user_text(messages)
        french = text.is_french(question)
        if tools and body.get("tool_choice", "auto") != "none" and last.get("role") != "tool":
            return _Choice(
                None, [_tool_call(tools, body.get("tool_choice"), question, digest)], "tool_calls"
            )
        if last.get("role") == "tool":
            opening = text.tool_result_opening(
                _tool_name(messages, last.get("tool_call_id")),
                text.content_text(last.get("content")),
                french=french,
            )
        else:
            opening = text.opening_sentence(question, french=french)
        target = profile.min_tokens + digest[0] * profile.spread_tokens // 256
        answer = text.write_answer(opening, french=french, target_tokens=target, rng=rng)
        answer = _formatted(answer, body.get("response_format"), question)
        stop = body.get("stop") or []
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        content, reason = text.cut(
            answer, [stop] if isinstance(stop, str) else stop, int(limit) if limit else None
        )
        return _Choice(content, [], reason)


def _formatted(answer: str, response_format: Any, question: str) -> str:
    """The answer as JSON when the request asked for JSON mode or a JSON schema."""
    if not isinstance(response_format, dict):
        return answer
    kind = response_format.get("type")
    if kind == "json_object":
        return orjson.dumps({"answer": answer, "question": text.excerpt(question)}).decode()
    if kind == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema") or {}
        return orjson.dumps(sample(schema, hint=text.excerpt(question))).decode()
    return answer


def _tool_call(tools: list[Json], tool_choice: Any, question: str, digest: bytes) -> Json:
    """Call the named tool, else the one whose name and description share most words."""
    functions = [t["function"] for t in tools if t.get("type") == "function" and "function" in t]
    if not functions:
        raise ProviderError("tools must contain at least one function tool", status=400)
    chosen = functions[0]
    if isinstance(tool_choice, dict):
        wanted = (tool_choice.get("function") or {}).get("name")
        named = [f for f in functions if f.get("name") == wanted]
        if not named:
            raise ProviderError(f"tool_choice names an unknown function {wanted!r}", status=400)
        chosen = named[0]
    else:
        words = set(text_features(question))
        chosen = max(
            functions,
            key=lambda f: len(
                words
                & set(
                    text_features(
                        f"{f.get('name', '')} {f.get('description', '')}".replace("_", " ")
                    )
                )
            ),
        )
    arguments = sample(chosen.get("parameters") or {"type": "object"}, hint=text.excerpt(question))
    return {
        "id": f"call_{digest[:12].hex()}",
        "type": "function",
        "function": {"name": chosen["name"], "arguments": orjson.dumps(arguments).decode()},
    }


def _last_user_text(messages: list[Json]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return text.content_text(message.get("content"))
    return ""


def _tool_name(messages: list[Json], call_id: Any) -> str:
    for message in reversed(messages):
        for call in message.get("tool_calls") or ():
            if call.get("id") == call_id:
                return str((call.get("function") or {}).get("name", "tool"))
    return "tool"


def _message(choice: _Choice) -> Json:
    message: Json = {"role": "assistant", "content": choice.content, "refusal": None}
    if choice.tool_calls:
        message["tool_calls"] = choice.tool_calls
    return message


def _completion_tokens(choices: list[_Choice]) -> int:
    total = 0
    for choice in choices:
        total += text.estimate_tokens(choice.content or "")
        for call in choice.tool_calls:
            total += text.estimate_tokens(call["function"]["name"] + call["function"]["arguments"])
    return total


def _pieces(choice: _Choice) -> list[str]:
    if choice.tool_calls:
        arguments = choice.tool_calls[0]["function"]["arguments"]
        return text.split_fixed(arguments, ARGUMENT_CHARS_PER_CHUNK)
    return text.split_words(choice.content or "", WORDS_PER_CHUNK)


def _choice_chunks(head: Json, index: int, choice: _Choice) -> Iterator[Json]:
    yield choice_chunk(
        head, index, {"role": "assistant", "content": "" if choice.content is not None else None}
    )
    if choice.tool_calls:
        for position, call in enumerate(choice.tool_calls):
            function = call["function"]
            yield choice_chunk(
                head,
                index,
                {
                    "tool_calls": [
                        {
                            "index": position,
                            "id": call["id"],
                            "type": "function",
                            "function": {"name": function["name"], "arguments": ""},
                        }
                    ]
                },
            )
            for piece in text.split_fixed(function["arguments"], ARGUMENT_CHARS_PER_CHUNK):
                yield choice_chunk(
                    head,
                    index,
                    {"tool_calls": [{"index": position, "function": {"arguments": piece}}]},
                )
    else:
        for piece in _pieces(choice):
            yield choice_chunk(head, index, {"content": piece})
    yield choice_chunk(head, index, {}, choice.finish_reason)


def _embedding_inputs(value: Any) -> list[str | list[int]]:
    """Accept a string, a list of strings, a token array or a list of token arrays."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value:
        if all(isinstance(v, int) for v in value):
            return [value]
        if all(isinstance(v, str) for v in value):
            return list(value)
        if all(isinstance(v, list) and v and all(isinstance(t, int) for t in v) for v in value):
            return list(value)
    raise ProviderError(
        "input must be a string, a list of strings, a token array or a list of token arrays",
        status=400,
    )


async def _sleep(milliseconds: float) -> None:
    if milliseconds > 0:
        await asyncio.sleep(milliseconds / 1000.0)
