"""Turn Anthropic Messages stream events into OpenAI ``chat.completion.chunk`` dicts.

Anthropic streams typed events (message_start, content_block_start/delta/stop, message_delta,
message_stop, ping, error). OpenAI streams one shape of chunk whose ``delta`` carries the role, a
piece of text or a piece of a tool call. :class:`StreamTranslator` keeps the little state needed
(message id, tool-call numbering, usage) and maps each event to zero or more chunks.
"""

from __future__ import annotations

import time

from socle.providers.anthropic_translate import chat_id, finish_reason, to_usage
from socle.providers.base import Json
from socle.providers.shapes import choice_chunk, chunk_head, usage_chunk


class StreamTranslator:
    """Stateful mapping of one Anthropic stream to OpenAI chunks."""

    __slots__ = ("_block_tool", "_head", "_include_usage", "_next_tool", "_usage", "finished")

    def __init__(self, *, model: str, include_usage: bool) -> None:
        self._include_usage = include_usage
        self._head = chunk_head(chat_id(None), int(time.time()), model)
        self._usage: Json = {}
        self._block_tool: dict[int, int] = {}  # content block index → OpenAI tool_calls index
        self._next_tool = 0
        self.finished = False  # message_stop seen: the stream is complete

    def translate(self, event: Json) -> list[Json]:
        """The chunks for one decoded event (``type`` field); an ``error`` event is the caller's."""
        kind = event.get("type")
        if kind == "content_block_delta":
            return self._delta(event)
        if kind == "content_block_start":
            return self._block_start(event)
        if kind == "message_start":
            message = event.get("message") or {}
            self._head["id"] = chat_id(message.get("id"))
            if message.get("model"):
                self._head["model"] = message["model"]
            self._usage.update(message.get("usage") or {})
            return [self._chunk({"role": "assistant", "content": ""})]
        if kind == "message_delta":
            self._usage.update(event.get("usage") or {})
            stop = (event.get("delta") or {}).get("stop_reason")
            if stop is None:
                return []
            return [self._chunk({}, finish_reason(stop))]
        if kind == "message_stop":
            self.finished = True
            if self._include_usage:
                return [usage_chunk(self._head, to_usage(self._usage))]
        # ping, content_block_stop and unknown event types carry nothing for OpenAI clients.
        return []

    def _block_start(self, event: Json) -> list[Json]:
        block = event.get("content_block") or {}
        kind = block.get("type")
        if kind == "text":
            text = block.get("text")
            return [self._chunk({"content": text})] if text else []
        if kind == "tool_use":
            position = self._next_tool
            self._next_tool += 1
            self._block_tool[int(event.get("index", 0))] = position
            call = {
                "index": position,
                "id": block.get("id", ""),
                "type": "function",
                "function": {"name": block.get("name", ""), "arguments": ""},
            }
            return [self._chunk({"tool_calls": [call]})]
        return []

    def _delta(self, event: Json) -> list[Json]:
        delta = event.get("delta") or {}
        kind = delta.get("type")
        if kind == "text_delta":
            return [self._chunk({"content": delta.get("text", "")})]
        if kind == "input_json_delta":
            partial = delta.get("partial_json", "")
            position = self._block_tool.get(int(event.get("index", 0)))
            if position is None or not partial:
                return []
            call = {"index": position, "function": {"arguments": partial}}
            return [self._chunk({"tool_calls": [call]})]
        # thinking_delta, signature_delta, citations_delta: no Chat Completions equivalent.
        return []

    def _chunk(self, delta: Json, finish: str | None = None) -> Json:
        return choice_chunk(self._head, 0, delta, finish)
