"""Translate OpenAI Chat Completions requests to Anthropic Messages requests, and answers back.

Pure functions on dicts, no I/O: the provider (:mod:`socle.providers.anthropic`) sends what
:func:`to_messages_request` builds and returns what :func:`to_chat_completion` makes of the answer.
Whatever Anthropic cannot express is refused with a 400 ProviderError that says why, rather than
silently changing the meaning of the request.
"""

from __future__ import annotations

import re
import time
from typing import Any

import orjson

from socle.providers.base import Json, ProviderError

ANTHROPIC_VERSION = "2023-06-01"

# stop_reason → finish_reason. pause_turn (a server tool paused) ends this turn like "stop".
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

JSON_OBJECT_INSTRUCTION = (
    "Respond with one valid JSON object and nothing else: no prose, no Markdown code fence."
)
_DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+)(?:;[^,;]*)*;base64,", re.ASCII)


def invalid(message: str) -> ProviderError:
    """A request Anthropic cannot serve as asked; not worth retrying elsewhere with this body."""
    return ProviderError(message, status=400, retryable=False)


def to_messages_request(body: Json, *, default_max_tokens: int, stream: bool) -> Json:
    """The Anthropic ``/v1/messages`` body for an OpenAI chat completion body."""
    n = body.get("n")
    if n is not None and n != 1:
        raise invalid("Anthropic models return one choice per request: n must be 1")
    system: list[str] = []
    messages: list[Json] = []
    for message in body.get("messages") or ():
        role = message.get("role")
        if role in ("system", "developer"):
            text = _plain_text(message.get("content"))
            if text:
                system.append(text)
        elif role == "user":
            _append(messages, "user", _user_blocks(message.get("content")))
        elif role == "assistant":
            _append(messages, "assistant", _assistant_blocks(message))
        elif role == "tool":
            _append(messages, "user", [_tool_result(message)])
        else:
            raise invalid(f"message role {role!r} cannot be sent to an Anthropic model")
    instruction = _format_instruction(body.get("response_format"))
    if instruction:
        system.append(instruction)

    out: Json = {
        "model": body["model"],
        "messages": messages,
        "max_tokens": _max_tokens(body, default_max_tokens),
    }
    if system:
        out["system"] = "\n\n".join(system)
    if stream:
        out["stream"] = True
    temperature = body.get("temperature")
    if temperature is not None:
        out["temperature"] = min(float(temperature), 1.0)  # OpenAI allows 0..2, Anthropic 0..1
    for key in ("top_p", "top_k"):
        if body.get(key) is not None:
            out[key] = body[key]
    stop = body.get("stop")
    if stop:
        out["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    user = body.get("user") or body.get("safety_identifier")
    if isinstance(user, str) and user:
        out["metadata"] = {"user_id": user}
    tools = body.get("tools")
    if tools:
        out["tools"] = [_tool(t) for t in tools]
        choice = _tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"))
        if choice is not None:
            out["tool_choice"] = choice
    return out


def to_chat_completion(answer: Json, *, created: int | None = None) -> Json:
    """The OpenAI ``chat.completion`` for an Anthropic ``message``."""
    texts: list[str] = []
    tool_calls: list[Json] = []
    for block in answer.get("content") or ():
        kind = block.get("type")
        if kind == "text":
            texts.append(block.get("text", ""))
        elif kind == "tool_use":
            tool_calls.append(
                {
                    "id": block["id"],
                    "type": "function",
                    "function": {
                        "name": block["name"],
                        "arguments": orjson.dumps(block.get("input") or {}).decode(),
                    },
                }
            )
        # thinking / redacted_thinking blocks have no Chat Completions equivalent: dropped.
    message: Json = {
        "role": "assistant",
        "content": "".join(texts) if texts or not tool_calls else None,
        "refusal": None,
    }
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": chat_id(answer.get("id")),
        "object": "chat.completion",
        "created": created if created is not None else int(time.time()),
        "model": answer.get("model", ""),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": finish_reason(answer.get("stop_reason")),
                "logprobs": None,
            }
        ],
        "usage": to_usage(answer.get("usage") or {}),
    }


def chat_id(message_id: Any) -> str:
    """An OpenAI-looking id that keeps Anthropic's message id for tracing."""
    return f"chatcmpl-{message_id}" if message_id else f"chatcmpl-{time.time_ns():x}"


def finish_reason(stop_reason: Any) -> str:
    """OpenAI's finish_reason for an Anthropic stop_reason (unknown ones count as stop)."""
    return FINISH_REASONS.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


def to_usage(usage: Json) -> Json:
    """OpenAI usage for Anthropic usage.

    Anthropic's input_tokens excludes cache reads and cache writes; OpenAI's prompt_tokens counts
    every prompt token, with the cached ones repeated in prompt_tokens_details.cached_tokens.
    """
    cache_read = int(usage.get("cache_read_input_tokens") or 0)
    cache_write = int(usage.get("cache_creation_input_tokens") or 0)
    prompt = int(usage.get("input_tokens") or 0) + cache_read + cache_write
    completion = int(usage.get("output_tokens") or 0)
    details: Json = {"cached_tokens": cache_read}
    if cache_write:
        details["cache_write_tokens"] = cache_write
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": details,
    }


def _max_tokens(body: Json, default: int) -> int:
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if value is not None:
            return int(value)
    return default


def _append(messages: list[Json], role: str, blocks: list[Json]) -> None:
    """Add blocks, merging with the previous message of the same role (Anthropic alternates)."""
    if not blocks:
        return
    if messages and messages[-1]["role"] == role:
        messages[-1]["content"].extend(blocks)
    else:
        messages.append({"role": role, "content": blocks})


def _plain_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content if p.get("type") == "text")


def _user_blocks(content: Any) -> list[Json]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[Json] = []
    for part in content:
        kind = part.get("type")
        if kind == "text":
            if part.get("text"):
                blocks.append({"type": "text", "text": part["text"]})
        elif kind == "image_url":
            url = part.get("image_url", {}).get("url", "")
            blocks.append({"type": "image", "source": _source(url, "image")})
        elif kind == "file":
            blocks.append({"type": "document", "source": _file_source(part.get("file") or {})})
        else:
            raise invalid(f"content part {kind!r} cannot be sent to an Anthropic model")
    return blocks


def _source(url: str, what: str) -> Json:
    match = _DATA_URL.match(url)
    if match:
        return {"type": "base64", "media_type": match.group(1), "data": url[match.end() :]}
    if url.startswith(("http://", "https://")):
        return {"type": "url", "url": url}
    raise invalid(f"{what} must be a data: URL with base64 content or an http(s) URL")


def _file_source(file: Json) -> Json:
    data = file.get("file_data")
    if not isinstance(data, str):
        raise invalid("file parts need file_data (uploaded file ids are not supported)")
    if not data.startswith("data:"):
        return {"type": "base64", "media_type": "application/pdf", "data": data}
    return _source(data, "file_data")


def _assistant_blocks(message: Json) -> list[Json]:
    blocks: list[Json] = []
    content = message.get("content")
    if isinstance(content, str):
        if content:
            blocks.append({"type": "text", "text": content})
    elif content:
        for part in content:
            text = part.get("text") or part.get("refusal")
            if text:
                blocks.append({"type": "text", "text": text})
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        arguments = function.get("arguments") or "{}"
        try:
            parsed = orjson.loads(arguments)
        except orjson.JSONDecodeError:
            raise invalid(f"tool call {call.get('id')} has arguments that are not JSON") from None
        if not isinstance(parsed, dict):
            raise invalid(f"tool call {call.get('id')} arguments must be a JSON object")
        blocks.append(
            {"type": "tool_use", "id": call["id"], "name": function["name"], "input": parsed}
        )
    return blocks


def _tool_result(message: Json) -> Json:
    content = message.get("content")
    result: Json = {"type": "tool_result", "tool_use_id": message.get("tool_call_id", "")}
    if isinstance(content, str):
        result["content"] = content
    elif content:
        result["content"] = _user_blocks(content)
    return result


def _tool(tool: Json) -> Json:
    if tool.get("type") != "function":
        raise invalid(f"tool type {tool.get('type')!r} cannot be sent to an Anthropic model")
    function = tool["function"]
    out: Json = {
        "name": function["name"],
        "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
    }
    if function.get("description"):
        out["description"] = function["description"]
    return out


def _tool_choice(choice: Any, parallel: Any) -> Json | None:
    if choice is None or choice == "auto":
        mapped: Json | None = {"type": "auto"} if parallel is False else None
    elif choice == "none":
        return {"type": "none"}
    elif choice == "required":
        mapped = {"type": "any"}
    elif isinstance(choice, dict) and choice.get("type") == "function":
        mapped = {"type": "tool", "name": choice["function"]["name"]}
    else:
        raise invalid(f"tool_choice {choice!r} cannot be sent to an Anthropic model")
    if mapped is not None and parallel is False:
        mapped["disable_parallel_tool_use"] = True
    return mapped


def _format_instruction(response_format: Any) -> str | None:
    """JSON mode has no Messages API switch: it becomes an instruction in the system prompt."""
    if not isinstance(response_format, dict):
        return None
    kind = response_format.get("type")
    if kind == "json_object":
        return JSON_OBJECT_INSTRUCTION
    if kind == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema") or {}
        return (
            "Respond with one valid JSON value that conforms to this JSON Schema, and nothing "
            f"else (no prose, no Markdown code fence):\n{orjson.dumps(schema).decode()}"
        )
    return None
