"""The audit pipeline stage: one durable record per request, two per stream (start and end).

Place it last in the stage list: its ``finish`` then runs after every other stage's, and sees the
settled cost and every decision; and place ``refusals()`` first, so that requests refused before
reaching it are recorded too. A non-streaming request's record is committed inside ``finish``,
which the runner awaits before the response is returned: that is what makes the record durable
before the client is acknowledged (in ``sync`` mode). A stream's start record is committed just
before its first chunk is released, when the route and deployment are known; its end record,
with the final usage or the reason it ended, is written by ``finish``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from socle.audit.records import (
    KIND_REQUEST,
    KIND_STREAM_END,
    KIND_STREAM_START,
    request_record,
)
from socle.pipeline.context import RequestContext
from socle.pipeline.errors import GatewayError
from socle.pipeline.stage import Chunk, Stage

if TYPE_CHECKING:
    from socle.audit.log import AuditLog

log = logging.getLogger(__name__)
_STATE = "audit"
AUDIT_FAILED = "audit_failed"  # ctx.extra flag: the record of this request was not committed


@dataclass(slots=True)
class _State:
    """Per request: whether the stream's start record is written, and the answer if kept."""

    store_content: bool
    stream_started: bool = False
    answer: list[Any] = field(default_factory=list)
    streamed: dict[int, list[str]] = field(default_factory=dict)
    finish_reason: str | None = None  # as the upstream reported it, when nobody set ctx's


class AuditStage(Stage):
    """Writes the audit records of every request."""

    name = "audit"

    def __init__(self, audit: AuditLog) -> None:
        """``audit`` is the process's :class:`~socle.audit.log.AuditLog` (also ``audit.stage``)."""
        self.audit = audit

    def _state(self, ctx: RequestContext) -> _State:
        state = ctx.extra.get(_STATE)
        if not isinstance(state, _State):
            policy = ctx.project_settings.get("audit") or {}
            store = policy.get("store_content", self.audit.config.store_content)
            state = _State(store_content=bool(store))
            ctx.extra[_STATE] = state
        return state

    async def before_call(self, ctx: RequestContext) -> None:
        self._state(ctx)

    async def on_response(self, ctx: RequestContext, response: dict[str, Any]) -> dict[str, Any]:
        state = self._state(ctx)
        choices = response.get("choices") or []
        if choices and isinstance(choices[0], dict):
            state.finish_reason = choices[0].get("finish_reason")
        if state.store_content:
            state.answer = [choice.get("message") for choice in choices if choice]
        return response

    def wrap_stream(
        self, ctx: RequestContext, chunks: AsyncIterator[Chunk]
    ) -> AsyncIterator[Chunk]:
        return self._relay(ctx, chunks)

    async def _relay(
        self, ctx: RequestContext, chunks: AsyncIterator[Chunk]
    ) -> AsyncIterator[Chunk]:
        state = self._state(ctx)
        async for chunk in chunks:
            if not state.stream_started:
                # Durable before the first byte leaves: a stream cut by a crash still has its start.
                if self.audit.enabled:
                    await self.audit.append(request_record(ctx, KIND_STREAM_START))
                state.stream_started = True
            for choice in chunk.get("choices") or []:
                if choice.get("finish_reason"):
                    state.finish_reason = choice["finish_reason"]
                if state.store_content:
                    text = (choice.get("delta") or {}).get("content")
                    if isinstance(text, str):
                        state.streamed.setdefault(int(choice.get("index", 0)), []).append(text)
            yield chunk

    async def finish(self, ctx: RequestContext, error: GatewayError | None) -> None:
        """Write the request's record (or the stream's end record)."""
        state = self._state(ctx)
        if not self.audit.enabled:
            return  # audit off: the record would be dropped unwritten, so it is not built
        kind = KIND_STREAM_END if state.stream_started else KIND_REQUEST
        record = request_record(ctx, kind, error, finish_reason=state.finish_reason)
        record["ts"] = time.time()  # set here, so that append need not copy the record to add it
        content = self._content(ctx, state) if state.store_content else None
        subject = ctx.user or (ctx.principal.project_id if ctx.principal else None)
        if kind == KIND_STREAM_END:
            try:
                await self.audit.append(record, content=content, subject=subject)
            except GatewayError:
                # The stream is already delivered; its start record is durable.
                log.error("audit end record of stream %s was not committed", ctx.request_id)
            return
        try:
            await self.audit.append(record, content=content, subject=subject)
        except GatewayError:
            # The response must not be acknowledged: the runner (or API) turns this into a 503.
            ctx.extra[AUDIT_FAILED] = True
            raise

    def refusals(self) -> Stage:
        """The companion stage to put *first* in the pipeline (see :class:`RefusalAudit`)."""
        return RefusalAudit(self)

    @staticmethod
    def _content(ctx: RequestContext, state: _State) -> dict[str, Any]:
        prompt = ctx.body.get("messages", ctx.body.get("input"))
        if state.streamed:
            answer: Any = [
                {"role": "assistant", "content": "".join(parts)}
                for _, parts in sorted(state.streamed.items())
            ]
        else:
            answer = state.answer
        return {"prompt": prompt, "answer": answer}


class RefusalAudit(Stage):
    """Records the requests refused before the audit stage was reached.

    The runner calls ``finish`` only for stages whose ``before_call`` started, so a request
    refused by authentication, a guard or a budget never reaches the audit stage (which is last,
    to see the settled cost). Put this stage first: its ``finish`` writes the record of exactly
    those requests (the audit stage writes all the others).
    """

    name = "audit_refusals"

    def __init__(self, main: AuditStage) -> None:
        self.main = main

    async def finish(self, ctx: RequestContext, error: GatewayError | None) -> None:
        if _STATE not in ctx.extra:
            await self.main.finish(ctx, error)
