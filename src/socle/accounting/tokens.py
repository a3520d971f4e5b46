"""Offline token estimates, for reservations and for upstreams that report no usage.

No tokenizer file is downloaded or shipped: the estimate is a linear model over character
classes counted at C speed (``bytes.translate``/``count``), calibrated against OpenAI's
``cl100k_base`` BPE on French prose, English prose, Python code and JSON. Measured error and the
calibration command are in docs/finops.md (``python bench/accounting_overhead.py tokens``).
Other tokenizers (Llama, Mistral) differ by roughly ±20 %, which the reservation margin covers.
"""

from __future__ import annotations

import math
import string
from collections.abc import Iterable
from typing import Any

import orjson

_PUNCT = string.punctuation.encode()
_DIGITS = string.digits.encode()
# One pass of ``bytes.translate`` classifies every byte: punctuation becomes 0x01, digits 0x02, and
# the bytes 0x01 and 0x02 themselves (control characters, counted as letters) become "a"; the two
# classes are then counted at C speed.
_P, _D = b"\x01", b"\x02"
_table = bytearray(range(256))
_table[1] = _table[2] = ord("a")
for _byte in _PUNCT:
    _table[_byte] = 1
for _byte in _DIGITS:
    _table[_byte] = 2
_CLASSES = bytes(_table)
del _table, _byte

# Tokens per character class, fitted by least squares (see the module docstring).
W_LETTER = 0.216
W_DIGIT = 0.515
W_PUNCT = 0.616
W_SPACE = 0.029
W_NEWLINE = 1.167
W_EXTRA_BYTE = 1.108  # per UTF-8 byte beyond the first of a non-ASCII character

# OpenAI chat framing: per message, per name, and the reply priming.
MESSAGE_OVERHEAD = 4
NAME_OVERHEAD = 1
REPLY_PRIMING = 3
IMAGE_TOKENS = 1105  # a high-detail 1024x1024 image, the common worst case


def estimate_text(text: str) -> int:
    """Estimated number of tokens of ``text`` (0 for the empty string)."""
    if not text:
        return 0
    raw = text.encode("utf-8", "surrogatepass")
    size = len(raw)
    classes = raw.translate(_CLASSES)
    punct = classes.count(_P)
    digits = classes.count(_D)
    spaces = raw.count(b" ")
    newlines = raw.count(b"\n")
    extra = size - len(text)
    letters = size - punct - digits - spaces - newlines - extra
    value = (
        W_LETTER * letters
        + W_DIGIT * digits
        + W_PUNCT * punct
        + W_SPACE * spaces
        + W_NEWLINE * newlines
        + W_EXTRA_BYTE * extra
    )
    tokens = math.ceil(value)
    return tokens if tokens > 1 else 1


def _content_tokens(content: Any) -> int:
    if isinstance(content, str):
        return estimate_text(content)
    if isinstance(content, list):
        total = 0
        for part in content:
            if not isinstance(part, dict):
                continue
            kind = part.get("type")
            if kind == "text":
                text = part.get("text")
                total += estimate_text(text) if isinstance(text, str) else 0
            elif kind in ("image_url", "input_image", "image"):
                total += IMAGE_TOKENS
            else:
                total += estimate_text(orjson.dumps(part).decode())
        return total
    if content is None:
        return 0
    return estimate_text(orjson.dumps(content).decode())


# Message texts come back request after request: the system prompt, and in a conversation every
# earlier turn. Their estimates are remembered, within bounds (at most _MEMO_ENTRIES texts of at
# most _MEMO_MAX_CHARS characters, so a few MB); past the count the memo starts over.
_MEMO_ENTRIES = 1024
_MEMO_MAX_CHARS = 8192
_memo: dict[str, int] = {}


def message_text_tokens(text: str) -> int:
    """``estimate_text`` of a message's text (a ``str``), remembered for texts seen again."""
    known = _memo.get(text)
    if known is not None:
        return known
    tokens = estimate_text(text)
    if len(text) <= _MEMO_MAX_CHARS:
        if len(_memo) >= _MEMO_ENTRIES:
            _memo.clear()
        _memo[text] = tokens
    return tokens


def estimate_messages(messages: Iterable[Any]) -> int:
    """Prompt tokens of chat ``messages`` including the chat framing."""
    total = REPLY_PRIMING
    for message in messages:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        total += MESSAGE_OVERHEAD + (
            message_text_tokens(content) if type(content) is str else _content_tokens(content)
        )
        if message.get("name"):
            total += NAME_OVERHEAD
        calls = message.get("tool_calls")
        if calls:
            total += estimate_text(orjson.dumps(calls).decode())
    return total


def estimate_prompt(endpoint: str, body: dict[str, Any]) -> int:
    """Prompt tokens of a request body (chat completions or embeddings)."""
    if endpoint == "embeddings":
        value = body.get("input")
        if isinstance(value, str):
            return estimate_text(value)
        if isinstance(value, list):
            total = 0
            for item in value:
                if isinstance(item, str):
                    total += estimate_text(item)
                elif isinstance(item, int):
                    total += 1  # already a token id
                elif isinstance(item, list):
                    total += len(item)  # a list of token ids
            return total
        return 0
    messages = body.get("messages")
    total = estimate_messages(messages) if isinstance(messages, list) else 0
    for key in ("tools", "functions", "response_format"):
        extra = body.get(key)
        if extra:
            total += estimate_text(orjson.dumps(extra).decode())
    return total


def estimate_completion(response: dict[str, Any]) -> int:
    """Completion tokens of a non-streaming chat response (text and tool calls)."""
    total = 0
    choices = response.get("choices")
    if not isinstance(choices, list):
        return 0
    for choice in choices:
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            total += estimate_text(content)
        calls = message.get("tool_calls")
        if calls:
            total += estimate_text(orjson.dumps(calls).decode())
    return total
