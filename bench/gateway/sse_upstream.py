"""A paced mock OpenAI upstream: SSE chunks spaced by a fixed delay, with emit timestamps.

``python -m bench.gateway.sse_upstream --port P --chunks 40 --interval-ms 10``. A streaming
request (``stream: true`` or the ``/stream/v1`` path) gets the role chunk, then the first content
chunk after ``--first-ms`` and the next ones every ``--interval-ms``. When the request text
carries a marker ``[bench-stream-<n>]``, the emit time of each content chunk (CLOCK_MONOTONIC,
shared by every process of the machine) is kept and served once at ``GET /timings/<n>``: the
stream client subtracts it from the arrival time to get the exact per-chunk transit through a
gateway. Non-streaming requests get the fixed JSON answer; ``--chunks`` also serves as fallback
for nginx when nginx is not installed (then use ``--interval-ms 0``).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time

import orjson
import uvloop
from aiohttp import web

from bench.gateway import payloads

MARKER = re.compile(rb"bench-stream-(\d+)")
_TIMINGS: web.AppKey[dict[str, list[int]]] = web.AppKey("timings", dict)
_SETTINGS: web.AppKey[argparse.Namespace] = web.AppKey("settings", argparse.Namespace)


async def _chat(request: web.Request) -> web.StreamResponse:
    raw = await request.read()
    streamed = request.path.startswith("/stream/") or bool(orjson.loads(raw).get("stream"))
    if not streamed:
        return web.Response(body=payloads.completion_bytes(), content_type="application/json")
    settings = request.app[_SETTINGS]
    head, events, tail = payloads.stream_events(settings.chunks)
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await resp.prepare(request)
    await resp.write(head)
    emitted: list[int] = []
    delay = settings.first_ms / 1000
    for event in events:
        if delay > 0:
            await asyncio.sleep(delay)
        # Stamped before the write: the write may return after the client already read it.
        emitted.append(time.monotonic_ns())
        await resp.write(event)
        delay = settings.interval_ms / 1000
    # Kept before the closing events go out, so a client that has read [DONE] finds them.
    found = MARKER.search(raw)
    if found:
        request.app[_TIMINGS][found.group(1).decode()] = emitted
    await resp.write(tail)
    await resp.write_eof()
    return resp


async def _timings(request: web.Request) -> web.Response:
    emitted = request.app[_TIMINGS].pop(request.match_info["marker"], None)
    if emitted is None:
        raise web.HTTPNotFound()
    return web.Response(body=orjson.dumps(emitted), content_type="application/json")


async def _health(_: web.Request) -> web.Response:
    return web.Response(text="ok")


def build_app(settings: argparse.Namespace) -> web.Application:
    """The aiohttp application (exposed for reuse in tests of the harness)."""
    app = web.Application()
    app[_SETTINGS] = settings
    app[_TIMINGS] = {}
    app.router.add_post("/v1/chat/completions", _chat)
    app.router.add_post("/stream/v1/chat/completions", _chat)
    app.router.add_get("/timings/{marker}", _timings)
    app.router.add_get("/healthz", _health)
    return app


def main() -> None:
    """Parse the flags and serve on 127.0.0.1 until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--chunks", type=int, default=40)
    parser.add_argument("--interval-ms", type=float, default=10.0)
    parser.add_argument("--first-ms", type=float, default=10.0)
    settings = parser.parse_args()
    uvloop.install()
    web.run_app(
        build_app(settings), host="127.0.0.1", port=settings.port, access_log=None, print=None
    )


if __name__ == "__main__":
    main()
