"""Runs the ordered stages around the provider call; see :mod:`socle.pipeline.stage`.

Stage order (docs/pipeline.md): authenticate, classify, guard input, route, reserve — then the
call — then guard output, settle, audit. ``finish`` runs in stage order for every stage whose
``before_call`` started, so the audit stage, last, sees the settled cost and every decision.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from socle.pipeline.context import RequestContext
from socle.pipeline.errors import GatewayError
from socle.pipeline.sse import DONE, encode_error, encode_event
from socle.pipeline.stage import Chunk, Stage

log = logging.getLogger(__name__)

# finish() tasks still running after their request was cancelled (kept alive until done).
_finishing: set[asyncio.Future[Any]] = set()


class Dispatcher(Protocol):
    """The ``call`` stage: sends the request to the chosen deployments (owned by routing)."""

    async def chat(self, ctx: RequestContext) -> dict[str, Any]: ...

    def chat_stream(self, ctx: RequestContext) -> AsyncIterator[Chunk]: ...

    async def embeddings(self, ctx: RequestContext) -> dict[str, Any]: ...


class ClientDisconnected(GatewayError):
    status = 499
    type = "client_closed_request"
    code = "client_disconnected"


class InternalError(GatewayError):
    """An unexpected exception, reported to the client without any detail."""


def _overrides(stage: Stage, hook: str) -> bool:
    return getattr(type(stage), hook) is not getattr(Stage, hook)


class Pipeline:
    def __init__(self, stages: Sequence[Stage], dispatcher: Dispatcher) -> None:
        self.stages = tuple(stages)
        self.dispatcher = dispatcher
        # Hooks a stage leaves to the do-nothing default are not awaited at all (about half of
        # them: a dozen coroutine round trips per request).
        self._before = tuple((s, _overrides(s, "before_call")) for s in self.stages)
        self._on_response = tuple(s for s in self.stages if _overrides(s, "on_response"))
        self._finishers = tuple((s, _overrides(s, "finish")) for s in self.stages)

    async def _finish(
        self, ctx: RequestContext, started: int, error: GatewayError | None
    ) -> GatewayError | None:
        """Run every started stage's ``finish``; returns the first error a hook raised.

        A hook raises a :class:`GatewayError` when the request must not be acknowledged (the
        audit record could not be made durable): a non-streaming request then fails with it.
        """
        if error is not None:
            ctx.status = error.status
            ctx.error_code = error.code
        # A client disconnect cancels the request task, but reservations must still be released
        # and the audit record written: the hooks run in their own task, which a cancellation of
        # this one does not stop.
        task = asyncio.ensure_future(self._run_finish(ctx, started, error))
        _finishing.add(task)
        task.add_done_callback(_finishing.discard)
        return await asyncio.shield(task)

    async def _run_finish(
        self, ctx: RequestContext, started: int, error: GatewayError | None
    ) -> GatewayError | None:
        failure: GatewayError | None = None
        for stage, finishes in self._finishers[:started]:
            if not finishes:
                continue
            try:
                await stage.finish(ctx, error)
            except GatewayError as exc:
                failure = failure or exc
            except Exception:
                log.exception("stage %s failed in finish", stage.name)
        return failure

    async def run(self, ctx: RequestContext) -> dict[str, Any]:
        """A non-streaming request (chat or embeddings): returns the response dict."""
        started = 0
        error: GatewayError | None = None
        try:
            for stage, calls in self._before:
                started += 1
                if calls:
                    await stage.before_call(ctx)
            if ctx.endpoint == "embeddings":
                response = await self.dispatcher.embeddings(ctx)
            else:
                response = await self.dispatcher.chat(ctx)
            for stage in self._on_response:
                response = await stage.on_response(ctx, response)
        except GatewayError as exc:
            error = exc
            raise
        except BaseException as exc:
            error = _unexpected(exc)
            if isinstance(exc, Exception):
                raise error from exc
            raise
        finally:
            failure = await self._finish(ctx, started, error)
        if failure is not None:
            raise failure  # e.g. the audit record is not durable: do not acknowledge
        return response

    async def open_stream(self, ctx: RequestContext) -> AsyncIterator[bytes]:
        """A streaming chat request.

        Runs the pre-call stages and waits for the first chunk *before* returning, so that any
        refusal or upstream failure up to that point is raised here and can be sent as a plain
        JSON error. The returned iterator yields SSE-encoded bytes and always runs ``finish``.
        """
        started = 0
        try:
            for stage, calls in self._before:
                started += 1
                if calls:
                    await stage.before_call(ctx)
            chunks = self.dispatcher.chat_stream(ctx)
            for stage in self.stages:
                chunks = stage.wrap_stream(ctx, chunks)
            iterator = aiter(chunks)
            first = await anext(iterator, None)
        except GatewayError as exc:
            await self._finish(ctx, started, exc)
            raise
        except BaseException as exc:
            error = _unexpected(exc)
            await self._finish(ctx, started, error)
            if isinstance(exc, Exception):
                raise error from exc
            raise
        return self._relay(ctx, started, first, iterator)

    async def _relay(
        self,
        ctx: RequestContext,
        started: int,
        first: Chunk | None,
        iterator: AsyncIterator[Chunk],
    ) -> AsyncIterator[bytes]:
        error: GatewayError | None = None
        options = ctx.body.get("stream_options")
        wants_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        try:
            if first is not None:
                ctx.first_byte_sent = True
                yield encode_event(first)
                async for chunk in iterator:
                    if not wants_usage and not chunk.get("choices") and "usage" in chunk:
                        continue  # asked of the upstream for accounting, not by the client
                    yield encode_event(chunk)
            yield DONE
        except GatewayError as exc:
            error = exc
            yield encode_error(exc)
        except (asyncio.CancelledError, GeneratorExit):
            error = ClientDisconnected("the client closed the connection")
            ctx.finish_reason = ctx.finish_reason or "client_disconnected"
            raise
        except Exception as exc:
            error = _unexpected(exc)
            yield encode_error(error)
        finally:
            closer = getattr(iterator, "aclose", None)
            if closer is not None:
                try:
                    await closer()
                except (Exception, asyncio.CancelledError):
                    log.debug("closing the upstream stream failed", exc_info=True)
            await self._finish(ctx, started, error)


def _unexpected(exc: BaseException) -> GatewayError:
    if isinstance(exc, Exception):
        log.error("unexpected error in the request pipeline", exc_info=exc)
        return InternalError("The server had an error while processing your request.")
    return ClientDisconnected("the client closed the connection")
