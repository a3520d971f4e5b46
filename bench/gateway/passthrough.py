"""The bare passthrough: the floor of what a Python proxy can do on this machine.

A raw ASGI app under uvicorn (uvloop + httptools, no access log) that forwards the request body
bytes, untouched, to the same path on one upstream with aiohttp (one shared ``ClientSession``
with a pooled ``TCPConnector``, as Socle's upstream client) and returns the answer bytes;
event streams are relayed chunk by chunk as they arrive. No parsing, no auth, no logic: any cost
Socle adds on top is the price of its pipeline.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import aiohttp

from bench.gateway.procs import Service, ServiceGroup, free_port

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

UPSTREAM_ENV = "BENCH_PASSTHROUGH_UPSTREAM"
MAX_CONNECTIONS = 100  # Socle's Endpoint.max_connections default


class Passthrough:
    """ASGI callable; the upstream origin (``http://host:port``) comes from the environment."""

    def __init__(self) -> None:
        self.origin = os.environ.get(UPSTREAM_ENV, "http://127.0.0.1:8081").rstrip("/")
        self.session: aiohttp.ClientSession | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, keepalive_timeout=60)
                self.session = aiohttp.ClientSession(connector=connector)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.session is not None:
                    await self.session.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "GET":
            await _respond(send, 200, b"text/plain", b"ok")  # readiness probe
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        assert self.session is not None, "lifespan startup did not run"
        async with self.session.post(
            self.origin + scope["path"],
            data=b"".join(chunks),
            headers={"Content-Type": "application/json"},
        ) as upstream:
            ctype = upstream.headers.get("Content-Type", "application/json").encode()
            if not ctype.startswith(b"text/event-stream"):
                await _respond(send, upstream.status, ctype, await upstream.read())
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": upstream.status,
                    "headers": [(b"content-type", ctype), (b"cache-control", b"no-cache")],
                }
            )
            async for piece in upstream.content.iter_any():
                await send({"type": "http.response.body", "body": piece, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _respond(send: Send, status: int, ctype: bytes, body: bytes) -> None:
    headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


app = Passthrough()


def uvicorn_argv(port: int, workers: int) -> list[str]:
    """The uvicorn command line shared by the passthrough (same server settings as Socle)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.gateway.passthrough:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def start_passthrough(
    group: ServiceGroup, name: str, upstream_origin: str, *, workers: int = 1
) -> tuple[Service, str]:
    """Start the passthrough in front of ``upstream_origin``; returns (service, its origin)."""
    port = free_port()
    service = group.start(
        name,
        uvicorn_argv(port, workers),
        env={UPSTREAM_ENV: upstream_origin},
        cwd=Path(__file__).resolve().parents[2],
    )
    origin = f"http://127.0.0.1:{port}"
    service.wait_http(f"{origin}/readyz", timeout=20)
    return service, origin
