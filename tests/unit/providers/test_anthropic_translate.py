"""OpenAI ⇄ Anthropic translation: requests out, messages and stream events back."""

from __future__ import annotations

import orjson
import pytest

from socle.providers.anthropic_stream import StreamTranslator
from socle.providers.anthropic_translate import (
    JSON_OBJECT_INSTRUCTION,
    to_chat_completion,
    to_messages_request,
)
from socle.providers.base import ProviderError
from tests.support.openai_schema import validate


def request(body: dict, *, stream: bool = False) -> dict:
    return to_messages_request(
        {"model": "claude-x", **body}, default_max_tokens=4096, stream=stream
    )


def test_system_and_developer_messages_become_top_level_system() -> None:
    out = request(
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
                {"role": "user", "content": "Hi"},
            ]
        }
    )
    assert out["system"] == "Be brief.\n\nAnswer in French."
    assert out["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]
    assert out["model"] == "claude-x"
    assert out["max_tokens"] == 4096
    assert "stream" not in out


def test_max_tokens_prefers_max_completion_tokens() -> None:
    msgs = [{"role": "user", "content": "x"}]
    assert request({"messages": msgs, "max_tokens": 50})["max_tokens"] == 50
    assert (
        request({"messages": msgs, "max_tokens": 50, "max_completion_tokens": 70})["max_tokens"]
        == 70
    )


def test_sampling_stop_user_and_stream() -> None:
    out = request(
        {
            "messages": [{"role": "user", "content": "x"}],
            "temperature": 1.6,
            "top_p": 0.9,
            "stop": "END",
            "user": "u-42",
            "seed": 7,
            "presence_penalty": 0.5,
        },
        stream=True,
    )
    assert out["temperature"] == 1.0  # clamped to Anthropic's range
    assert out["top_p"] == 0.9
    assert out["stop_sequences"] == ["END"]
    assert out["metadata"] == {"user_id": "u-42"}
    assert out["stream"] is True
    assert "seed" not in out and "presence_penalty" not in out
    assert request({"messages": [{"role": "user", "content": "x"}], "stop": ["a", "b"]})[
        "stop_sequences"
    ] == ["a", "b"]


def test_images_data_url_and_http_url() -> None:
    out = request(
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is this?"},
                        {
                            "type": "image_url",
                            "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="},
                        },
                        {
                            "type": "image_url",
                            "image_url": {"url": "https://example.org/cat.jpg", "detail": "low"},
                        },
                    ],
                }
            ]
        }
    )
    assert out["messages"][0]["content"] == [
        {"type": "text", "text": "What is this?"},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
        },
        {"type": "image", "source": {"type": "url", "url": "https://example.org/cat.jpg"}},
    ]


def test_pdf_file_part_becomes_document() -> None:
    out = request(
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "file",
                            "file": {
                                "file_data": "data:application/pdf;base64,JVBERi0=",
                                "filename": "a.pdf",
                            },
                        }
                    ],
                }
            ]
        }
    )
    assert out["messages"][0]["content"] == [
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
        }
    ]


def test_unsupported_parts_and_bad_image_urls_are_refused() -> None:
    with pytest.raises(ProviderError) as info:
        request(
            {
                "messages": [
                    {"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}
                ]
            }
        )
    assert info.value.status == 400 and not info.value.retryable
    with pytest.raises(ProviderError):
        request(
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}
                        ],
                    }
                ]
            }
        )


def test_tool_round_trip_messages() -> None:
    out = request(
        {
            "messages": [
                {"role": "user", "content": "Weather in Paris and Lyon?"},
                {
                    "role": "assistant",
                    "content": "Let me check.",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
                        },
                        {
                            "id": "call_2",
                            "type": "function",
                            "function": {"name": "weather", "arguments": '{"city":"Lyon"}'},
                        },
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "18°C"},
                {
                    "role": "tool",
                    "tool_call_id": "call_2",
                    "content": [{"type": "text", "text": "21°C"}],
                },
                {"role": "user", "content": "Thanks, and tomorrow?"},
            ]
        }
    )
    messages = out["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "call_1", "name": "weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "call_2", "name": "weather", "input": {"city": "Lyon"}},
    ]
    # Consecutive tool results and the next user turn merge into one user message, results first.
    assert messages[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "call_1", "content": "18°C"},
        {
            "type": "tool_result",
            "tool_use_id": "call_2",
            "content": [{"type": "text", "text": "21°C"}],
        },
        {"type": "text", "text": "Thanks, and tomorrow?"},
    ]


def test_assistant_tool_arguments_must_be_a_json_object() -> None:
    bad = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{not json"}}
    with pytest.raises(ProviderError) as info:
        request(
            {
                "messages": [
                    {"role": "user", "content": "x"},
                    {"role": "assistant", "tool_calls": [bad]},
                ]
            }
        )
    assert info.value.status == 400


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "weather",
            "description": "Current weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    },
    {"type": "function", "function": {"name": "now"}},
]


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        (None, None, None),
        ("auto", None, None),
        ("auto", False, {"type": "auto", "disable_parallel_tool_use": True}),
        ("none", None, {"type": "none"}),
        ("required", None, {"type": "any"}),
        (
            {"type": "function", "function": {"name": "weather"}},
            None,
            {"type": "tool", "name": "weather"},
        ),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
    ],
)
def test_tools_and_tool_choice(choice: object, parallel: object, expected: dict | None) -> None:
    body: dict = {"messages": [{"role": "user", "content": "x"}], "tools": TOOLS}
    if choice is not None:
        body["tool_choice"] = choice
    if parallel is not None:
        body["parallel_tool_calls"] = parallel
    out = request(body)
    assert out["tools"] == [
        {
            "name": "weather",
            "description": "Current weather",
            "input_schema": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
        {"name": "now", "input_schema": {"type": "object", "properties": {}}},
    ]
    assert out.get("tool_choice") == expected


def test_json_modes_become_system_instructions() -> None:
    msgs = [{"role": "system", "content": "S"}, {"role": "user", "content": "x"}]
    out = request({"messages": msgs, "response_format": {"type": "json_object"}})
    assert out["system"] == "S\n\n" + JSON_OBJECT_INSTRUCTION
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    out = request(
        {
            "messages": msgs,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "n", "schema": schema},
            },
        }
    )
    assert orjson.dumps(schema).decode() in out["system"]
    assert "system" not in request(
        {"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "text"}}
    )


def test_n_greater_than_one_is_refused() -> None:
    with pytest.raises(ProviderError) as info:
        request({"messages": [{"role": "user", "content": "x"}], "n": 2})
    assert info.value.status == 400 and not info.value.retryable
    assert "n must be 1" in info.value.message


def answer(content: list[dict], stop_reason: str, usage: dict | None = None) -> dict:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-x-2025",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage or {"input_tokens": 10, "output_tokens": 5},
    }


@pytest.mark.parametrize(
    ("stop", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("something_new", "stop"),
    ],
)
def test_stop_reason_mapping(stop: str, finish: str) -> None:
    out = to_chat_completion(answer([{"type": "text", "text": "hi"}], stop))
    assert out["choices"][0]["finish_reason"] == finish
    validate(out, "CreateChatCompletionResponse", strict=True)


def test_text_and_tool_use_response() -> None:
    out = to_chat_completion(
        answer(
            [
                {"type": "thinking", "thinking": "hmm", "signature": "s"},
                {"type": "text", "text": "Checking "},
                {"type": "text", "text": "now."},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "weather",
                    "input": {"city": "Paris", "days": 2},
                },
            ],
            "tool_use",
        ),
        created=1700000000,
    )
    validate(out, "CreateChatCompletionResponse", strict=True)
    assert out["id"] == "chatcmpl-msg_01"
    assert out["created"] == 1700000000
    assert out["model"] == "claude-x-2025"
    message = out["choices"][0]["message"]
    assert message["content"] == "Checking now."
    assert message["tool_calls"] == [
        {
            "id": "toolu_1",
            "type": "function",
            "function": {"name": "weather", "arguments": '{"city":"Paris","days":2}'},
        }
    ]


def test_tool_only_response_has_null_content() -> None:
    out = to_chat_completion(
        answer([{"type": "tool_use", "id": "t", "name": "now", "input": {}}], "tool_use")
    )
    assert out["choices"][0]["message"]["content"] is None
    assert out["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == "{}"


def test_usage_counts_cached_tokens_in_prompt_tokens() -> None:
    usage = {
        "input_tokens": 100,
        "output_tokens": 20,
        "cache_read_input_tokens": 300,
        "cache_creation_input_tokens": 50,
    }
    out = to_chat_completion(answer([{"type": "text", "text": "x"}], "end_turn", usage))
    assert out["usage"] == {
        "prompt_tokens": 450,
        "completion_tokens": 20,
        "total_tokens": 470,
        "prompt_tokens_details": {"cached_tokens": 300, "cache_write_tokens": 50},
    }
    validate(out, "CreateChatCompletionResponse", strict=True)


def events_for_tool_stream() -> list[dict]:
    return [
        {
            "type": "message_start",
            "message": {
                "id": "msg_9",
                "type": "message",
                "role": "assistant",
                "content": [],
                "model": "claude-x-2025",
                "stop_reason": None,
                "usage": {"input_tokens": 30, "output_tokens": 1, "cache_read_input_tokens": 10},
            },
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": "Let me "},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": "check."},
        },
        {"type": "content_block_stop", "index": 0},
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "tool_use", "id": "toolu_A", "name": "weather", "input": {}},
        },
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": ""},
        },
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": '{"city": '},
        },
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": '"Paris"}'},
        },
        {"type": "content_block_stop", "index": 1},
        {
            "type": "content_block_start",
            "index": 2,
            "content_block": {"type": "tool_use", "id": "toolu_B", "name": "now", "input": {}},
        },
        {
            "type": "content_block_delta",
            "index": 2,
            "delta": {"type": "input_json_delta", "partial_json": "{}"},
        },
        {"type": "content_block_stop", "index": 2},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": None},
            "usage": {"output_tokens": 42},
        },
        {"type": "message_stop"},
    ]


def test_stream_translation_text_tools_finish_and_usage() -> None:
    translator = StreamTranslator(model="claude-x", include_usage=True)
    chunks = [c for e in events_for_tool_stream() for c in translator.translate(e)]
    assert translator.finished
    for chunk in chunks:
        validate(chunk, "CreateChatCompletionStreamResponse", strict=True)
        assert chunk["id"] == "chatcmpl-msg_9" and chunk["model"] == "claude-x-2025"
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert "".join(d.get("content") or "" for d in deltas) == "Let me check."
    calls = [call for d in deltas for call in d.get("tool_calls", [])]
    assert calls[0] == {
        "index": 0,
        "id": "toolu_A",
        "type": "function",
        "function": {"name": "weather", "arguments": ""},
    }
    args = {0: "", 1: ""}
    for call in calls:
        args[call["index"]] += call["function"]["arguments"]
    assert orjson.loads(args[0]) == {"city": "Paris"} and orjson.loads(args[1]) == {}
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "tool_calls"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {
        "prompt_tokens": 40,
        "completion_tokens": 42,
        "total_tokens": 82,
        "prompt_tokens_details": {"cached_tokens": 10},
    }


def test_stream_translation_without_usage_ends_with_finish_chunk() -> None:
    translator = StreamTranslator(model="claude-x", include_usage=False)
    chunks = [c for e in events_for_tool_stream() for c in translator.translate(e)]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert all("usage" not in c for c in chunks)
