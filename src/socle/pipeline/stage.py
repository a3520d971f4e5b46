"""The contract every pipeline stage implements.

A stage has one job and up to four hooks; the defaults do nothing, so a stage overrides only the
hooks it needs. The runner (:mod:`socle.pipeline.runner`) calls, in stage order:

1. ``before_call(ctx)`` for every stage, before the provider is called. Raising a
   :class:`~socle.pipeline.errors.GatewayError` stops the request with that error: no upstream
   call is made.
2. The provider call (the ``call`` stage, driven by the route chosen in ``ctx.route``).
3. Non-streaming: ``on_response(ctx, response)`` for every stage, each returning the (possibly
   rewritten) OpenAI response dict. Streaming: ``wrap_stream(ctx, chunks)`` for every stage, each
   wrapping the async iterator of OpenAI chunk dicts (to inspect, hold back or rewrite chunks).
4. ``finish(ctx, error)`` for every stage whose ``before_call`` started, in stage order, always — on
   success, on error and on client disconnect — so that reservations are released and the audit
   record is written. ``error`` is the error that ended the request, if any.

Stages never read configuration files: they get their policies when they are built.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from socle.pipeline.context import RequestContext
from socle.pipeline.errors import GatewayError

Chunk = dict[str, Any]


class Stage:
    """Base class with do-nothing hooks."""

    name: str = "stage"

    async def before_call(self, ctx: RequestContext) -> None:
        return None

    async def on_response(self, ctx: RequestContext, response: dict[str, Any]) -> dict[str, Any]:
        return response

    def wrap_stream(
        self, ctx: RequestContext, chunks: AsyncIterator[Chunk]
    ) -> AsyncIterator[Chunk]:
        return chunks

    async def finish(self, ctx: RequestContext, error: GatewayError | None) -> None:
        return None
