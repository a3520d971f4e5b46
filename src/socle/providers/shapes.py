"""Builders for OpenAI response shapes shared by the providers that produce them themselves."""

from __future__ import annotations

from typing import Any

from socle.providers.base import Json


def chunk_head(completion_id: str, created: int, model: str) -> Json:
    """The fields every ``chat.completion.chunk`` of one stream repeats."""
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
    }


def choice_chunk(head: Json, index: int, delta: Json, finish_reason: str | None = None) -> Json:
    """One chunk carrying one choice's delta."""
    return {
        **head,
        "choices": [
            {"index": index, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
        ],
    }


def usage_chunk(head: Json, usage: Json) -> Json:
    """The last chunk of a stream asked with ``stream_options.include_usage``."""
    return {**head, "choices": [], "usage": usage}


def usage(prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> Json:
    """An OpenAI ``CompletionUsage``."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": cached_tokens},
    }


def completion_as_chunks(result: Json) -> list[Json]:
    """Replay a whole ``chat.completion`` as the chunks a stream would have carried.

    For upstreams that answer a streaming request with one JSON body.
    """
    head = chunk_head(result["id"], result["created"], result.get("model", ""))
    chunks: list[Json] = []
    for choice in result["choices"]:
        message = choice["message"]
        delta: dict[str, Any] = {"role": "assistant", "content": message.get("content")}
        if message.get("tool_calls"):
            delta["tool_calls"] = [
                {"index": i, **call} for i, call in enumerate(message["tool_calls"])
            ]
        index = choice["index"]
        chunks.append(choice_chunk(head, index, delta))
        chunks.append(choice_chunk(head, index, {}, choice["finish_reason"]))
    if result.get("usage"):
        chunks.append(usage_chunk(head, result["usage"]))
    return chunks
