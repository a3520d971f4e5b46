"""The SSE decoder against the WHATWG rules and the ways upstreams fragment their streams."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from socle.providers.sse import SSEDecoder, SSEError, SSEEvent


def decode(*chunks: bytes) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events = [e for chunk in chunks for e in decoder.feed(chunk)]
    return events + decoder.finish()


def test_basic_events_and_done() -> None:
    stream = b'data: {"a":1}\n\ndata: {"a":2}\n\ndata: [DONE]\n\n'
    assert decode(stream) == [
        SSEEvent("message", b'{"a":1}'),
        SSEEvent("message", b'{"a":2}'),
        SSEEvent("message", b"[DONE]"),
    ]


def test_data_without_space_and_with_two_spaces() -> None:
    # Only the one space after the colon is syntax; a second one is part of the value.
    assert decode(b"data:x\n\ndata:  y\n\n") == [
        SSEEvent("message", b"x"),
        SSEEvent("message", b" y"),
    ]


def test_multi_line_data_is_joined_with_newline() -> None:
    assert decode(b"data: line one\ndata: line two\n\n") == [
        SSEEvent("message", b"line one\nline two")
    ]


def test_comments_id_retry_and_unknown_fields_are_ignored() -> None:
    stream = b": keep-alive\nid: 7\nretry: 1000\nfoo: bar\ndata: x\n\n: ping\n\n"
    assert decode(stream) == [SSEEvent("message", b"x")]


def test_event_field_names_the_event_and_resets_after_dispatch() -> None:
    stream = b"event: message_start\ndata: {}\n\ndata: plain\n\n"
    assert decode(stream) == [SSEEvent("message_start", b"{}"), SSEEvent("message", b"plain")]


def test_event_without_data_is_not_dispatched_and_its_type_does_not_leak() -> None:
    assert decode(b"event: ping\n\ndata: x\n\n") == [SSEEvent("message", b"x")]


@pytest.mark.parametrize("ending", [b"\r\n", b"\r", b"\n"])
def test_line_endings(ending: bytes) -> None:
    stream = b"event: e" + ending + b"data: 1" + ending + ending + b"data: 2" + ending + ending
    assert decode(stream) == [SSEEvent("e", b"1"), SSEEvent("message", b"2")]


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    assert decode(b"data: 1\r", b"\n\r", b"\ndata: 2\r\n\r\n") == [
        SSEEvent("message", b"1"),
        SSEEvent("message", b"2"),
    ]


def test_line_split_inside_a_multibyte_character() -> None:
    payload = 'data: {"t":"été ✓"}\n\n'.encode()
    cut = payload.index("✓".encode()) + 1
    assert decode(payload[:cut], payload[cut:]) == [SSEEvent("message", '{"t":"été ✓"}'.encode())]


def test_final_event_without_blank_line_is_kept_at_end_of_stream() -> None:
    assert decode(b"data: a\n\ndata: [DONE]") == [
        SSEEvent("message", b"a"),
        SSEEvent("message", b"[DONE]"),
    ]


def test_feed_returns_only_completed_events() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: par") == []
    assert decoder.feed(b"tial\n") == []
    assert decoder.feed(b"\n") == [SSEEvent("message", b"partial")]


def test_unterminated_huge_line_is_refused() -> None:
    decoder = SSEDecoder()
    block = b"x" * (1024 * 1024)
    with pytest.raises(SSEError):
        for _ in range(17):
            decoder.feed(block)


def test_endless_event_is_refused() -> None:
    decoder = SSEDecoder()
    line = b"data: " + b"x" * (1024 * 1024) + b"\n"
    with pytest.raises(SSEError):
        for _ in range(17):
            decoder.feed(line)


EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["", "message_start", "error"]),
        st.lists(
            st.text(
                st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                max_size=20,
            ),
            min_size=1,
            max_size=3,
        ),
    ),
    max_size=8,
)


@given(
    EVENTS,
    st.lists(st.integers(min_value=1, max_value=7), max_size=50),
    st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_any_fragmentation_gives_the_same_events(
    events: list[tuple[str, list[str]]], cuts: list[int], ending: str
) -> None:
    text = ""
    for name, lines in events:
        if name:
            text += f"event: {name}{ending}"
        text += "".join(f"data: {line}{ending}" for line in lines) + ending
    raw = text.encode()
    expected = [SSEEvent(name or "message", "\n".join(lines).encode()) for name, lines in events]
    pieces, position = [], 0
    for size in cuts:
        pieces.append(raw[position : position + size])
        position += size
    pieces.append(raw[position:])
    assert decode(*pieces) == expected
