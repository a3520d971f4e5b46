"""Read token usage from an upstream's ``usage`` object (OpenAI shape, Anthropic names too)."""

from __future__ import annotations

from typing import Any

from socle.pipeline.context import Usage


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return int(value)


def read_usage(value: Any) -> Usage | None:
    """A :class:`Usage` from ``{"prompt_tokens", "completion_tokens", ...}``, or None if absent.

    Cached prompt tokens come from ``prompt_tokens_details.cached_tokens`` (OpenAI) or
    ``cache_read_input_tokens`` (Anthropic); a usage of zero tokens counts as absent.
    """
    if not isinstance(value, dict):
        return None
    prompt = value.get("prompt_tokens")
    completion = value.get("completion_tokens")
    if (
        type(prompt) is int  # the common OpenAI shape, checked in a few type tests
        and type(completion) is int
        and prompt >= 0
        and completion >= 0
        and prompt + completion
        and "prompt_tokens_details" not in value
        and "cache_read_input_tokens" not in value
    ):
        return Usage(prompt_tokens=prompt, completion_tokens=completion)
    prompt = _count(value.get("prompt_tokens", value.get("input_tokens", 0)))
    completion = _count(value.get("completion_tokens", value.get("output_tokens", 0)))
    if prompt is None or completion is None or prompt + completion == 0:
        return None
    details = value.get("prompt_tokens_details")
    cached = _count(details.get("cached_tokens", 0)) if isinstance(details, dict) else None
    if not cached:
        cached = _count(value.get("cache_read_input_tokens", 0))
    return Usage(prompt_tokens=prompt, completion_tokens=completion, cached_tokens=cached or 0)
