"""Mock upstreams for the routing tests: one behaviour per server, over real HTTP.

A thin layer over :class:`tests.support.mock_upstreams.OpenAIMockUpstream` that names the
behaviours the routing tests need (one deployment each):

- ``ok``: answers chat (JSON or SSE) and embeddings;
- ``fail``: 503 with an OpenAI error body;
- ``rate_limited``: 429 with ``Retry-After``;
- ``slow``: waits ``delay`` seconds before answering;
- ``stall``: streams its first chunks, then stays silent for ``delay`` seconds;
- ``reject``: 400 (the request itself is wrong).

``fail_first`` makes the first N requests fail with 503 whatever the behaviour. ``requests`` is
the list of received request bodies.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Literal

from tests.support.mock_upstreams import OpenAIMockUpstream, Reply

Behaviour = Literal["ok", "fail", "rate_limited", "slow", "stall", "reject"]


class MockUpstream:
    """One mock upstream server; use as ``async with MockUpstream("ok") as up: up.base_url``."""

    def __init__(
        self,
        behaviour: Behaviour = "ok",
        *,
        delay: float = 5.0,
        fail_first: int = 0,
        retry_after: str = "0",
        reply: str = "Bonjour",
    ) -> None:
        self._server = OpenAIMockUpstream(reply_text=reply, embedding_dimensions=3)
        self._server.default = {
            "ok": Reply(),
            "fail": Reply(status=503),
            "rate_limited": Reply(status=429, headers={"Retry-After": retry_after}),
            "slow": Reply(delay=delay),
            "stall": Reply(stall_after=1, stall_for=delay),
            "reject": Reply(
                status=400,
                error={
                    "error": {
                        "message": "maximum context length exceeded",
                        "type": "invalid_request_error",
                        "param": "messages",
                        "code": "context_length_exceeded",
                    }
                },
            ),
        }[behaviour]
        self._fail_first = fail_first

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def requests(self) -> list[Any]:
        return [r.body for r in self._server.requests]

    async def __aenter__(self) -> MockUpstream:
        await self._server.start()
        self._server.enqueue(*(Reply(status=503) for _ in range(self._fail_first)))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._server.close()
