"""The schema helper itself: conversion of OpenAPI leftovers and the committed extract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import ValidationError

from tests.support import openai_schema
from tests.support.openai_schema import to_json_schema, validate

GOOD_CHUNK = {
    "id": "c",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": None, "logprobs": None}],
}


def test_nullable_becomes_any_of_null() -> None:
    converted = to_json_schema(
        {"type": "string", "enum": ["a"], "nullable": True, "x-stainless": 1}
    )
    assert converted == {"anyOf": [{"type": "string", "enum": ["a"]}, {"type": "null"}]}
    assert to_json_schema({"$ref": "#/components/schemas/X"}) == {"$ref": "#/$defs/X"}


def test_validate_accepts_good_and_rejects_bad() -> None:
    validate(GOOD_CHUNK, "CreateChatCompletionStreamResponse", strict=True)
    with pytest.raises(ValidationError):
        validate({**GOOD_CHUNK, "object": "chat.completion"}, "CreateChatCompletionStreamResponse")
    with pytest.raises(ValidationError):
        validate({**GOOD_CHUNK, "surprise": 1}, "CreateChatCompletionStreamResponse", strict=True)
    with pytest.raises(KeyError):
        validate({}, "NoSuchSchema")


def test_committed_extract_is_usable_without_the_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    extract = json.loads(openai_schema.EXTRACT.read_text(encoding="utf-8"))
    assert extract["source"]["repository"] == "openai/openai-openapi"
    assert extract["source"]["licence"] == "MIT"
    assert len(extract["source"]["commit"]) == 40
    monkeypatch.setattr(openai_schema, "MIRROR", Path("/nonexistent/mirror"))
    openai_schema.component_schemas.cache_clear()
    openai_schema.validator.cache_clear()
    try:
        validate(GOOD_CHUNK, "CreateChatCompletionStreamResponse", strict=True)
        with pytest.raises(ValidationError):
            validate(
                {**GOOD_CHUNK, "choices": [{"index": 0}]}, "CreateChatCompletionStreamResponse"
            )
    finally:
        openai_schema.component_schemas.cache_clear()
        openai_schema.validator.cache_clear()
