"""Server-sent events as OpenAI sends them: ``data: {json}\\n\\n`` and a final ``data: [DONE]``."""

from __future__ import annotations

from typing import Any

import orjson

from socle.pipeline.errors import GatewayError

DONE = b"data: [DONE]\n\n"


def encode_event(chunk: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


def encode_error(error: GatewayError) -> bytes:
    """An error after the stream began: OpenAI sends an ``error`` object as a data event."""
    return b"data: " + orjson.dumps(error.body()) + b"\n\n"
