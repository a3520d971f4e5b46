"""Incremental Server-Sent Events decoder (the ``text/event-stream`` format, WHATWG rules).

Upstreams stream over TCP, so an event can arrive split anywhere: inside a line, between ``\\r``
and ``\\n``, inside a multi-byte UTF-8 character. The decoder works on bytes, keeps the incomplete
tail between :meth:`SSEDecoder.feed` calls, and hands back each event's data as bytes so the
caller can give them to ``orjson.loads`` without decoding first.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from typing import NamedTuple

DONE = b"[DONE]"
_MAX_PENDING = 16 * 1024 * 1024  # a line this long without an end is not a sane upstream


class SSEEvent(NamedTuple):
    """One dispatched event: its type (``message`` unless an ``event:`` field said otherwise)."""

    event: str
    data: bytes


class SSEError(ValueError):
    """The byte stream cannot be an event stream (a line or an event beyond the size limit)."""


class SSEDecoder:
    """Turns chunks of bytes into :class:`SSEEvent` values, in order.

    Handles LF, CRLF and lone CR line ends (also when a CRLF pair is split across two chunks),
    ``data:`` with or without the space after the colon, multi-line data (joined with ``\\n``),
    comment lines (``:``), ``event:`` fields, and ignores ``id:`` / ``retry:`` and unknown fields.
    """

    __slots__ = ("_data", "_event", "_pending", "_size", "_skip_lf")

    def __init__(self) -> None:
        self._pending = b""  # bytes after the last complete line
        self._data: list[bytes] = []  # data lines of the event being built
        self._size = 0  # bytes in _data: an event that never ends must not exhaust memory
        self._event = ""
        self._skip_lf = False  # the previous chunk ended with CR: a leading LF belongs to it

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Add bytes read from the stream; return the events they complete."""
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\r" in chunk:
            self._skip_lf = chunk.endswith(b"\r")
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if b"\n" not in chunk:
            self._pending += chunk
            if len(self._pending) > _MAX_PENDING:
                raise SSEError("event stream line exceeds 16 MiB")
            return []
        lines = (self._pending + chunk).split(b"\n") if self._pending else chunk.split(b"\n")
        self._pending = lines.pop()
        events: list[SSEEvent] = []
        for line in lines:
            if not line:
                if self._data:
                    events.append(self._dispatch())
                else:
                    self._event = ""
            else:
                self._field(line)
        return events

    def finish(self) -> list[SSEEvent]:
        """End of stream: return the last event even if its closing blank line never came.

        The standard drops such an event; upstreams that close the connection right after their
        last ``data:`` line are common enough that keeping it is the more useful choice.
        """
        if self._pending:
            self._field(self._pending)
            self._pending = b""
        return [self._dispatch()] if self._data else []

    def _field(self, line: bytes) -> None:
        if line[0] == 0x3A:  # ":" starts a comment (keep-alives)
            return
        name, sep, value = line.partition(b":")
        if sep and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
            self._size += len(value)
            if self._size > _MAX_PENDING:
                raise SSEError("event stream event exceeds 16 MiB")
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")

    def _dispatch(self) -> SSEEvent:
        data = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
        event = SSEEvent(self._event or "message", data)
        self._data = []
        self._size = 0
        self._event = ""
        return event


async def read_events(stream: AsyncIterable[bytes]) -> AsyncGenerator[SSEEvent, None]:
    """The events of a byte stream as they complete, then whatever the end completes."""
    decoder = SSEDecoder()
    async for raw in stream:
        for event in decoder.feed(raw):
            yield event
    for event in decoder.finish():
        yield event
