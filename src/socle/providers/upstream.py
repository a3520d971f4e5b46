"""Pooled HTTP sessions and per-endpoint request parts, prepared once and reused.

Every HTTP provider owns one :class:`UpstreamPool`. The pool keeps one ``aiohttp.ClientSession``
(one connection pool) per upstream, keyed by base URL, credential source and timeouts, created
lazily inside the running event loop. For each :class:`Endpoint` object it also caches a
:class:`Target`: the URLs, the headers with the credential, and the session, so the hot path
does a dict look-up instead of re-reading keys and re-parsing URLs on every request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from yarl import URL

from socle.providers.base import ProviderError
from socle.providers.endpoint import Endpoint

AuthHeaders = Callable[[Endpoint, str | None], dict[str, str]]
Routes = Callable[[Endpoint], dict[str, URL]]

# Below the 5 s idle timeout of uvicorn-based servers (vLLM, TGI routers, Socle itself): reusing a
# connection the server is closing at that very moment fails the request, so drop it first.
KEEPALIVE_SECONDS = 4.0
DNS_CACHE_SECONDS = 300
_MAX_TARGETS = 4096


@dataclass(slots=True)
class Target:
    """What one request to one endpoint needs, prepared once."""

    endpoint: Endpoint
    session: aiohttp.ClientSession
    urls: dict[str, URL]
    headers: dict[str, str]  # JSON answers
    stream_headers: dict[str, str]  # event-stream answers
    host: str  # for error messages: host[:port], never credentials
    secret: str | None  # scrubbed from upstream error messages
    expires: float  # monotonic time after which the credential is read again


SessionKey = tuple[str, str | None, str | None, float, float, float, int]


class UpstreamPool:
    """Shared connection pools and cached request parts for one provider kind."""

    def __init__(
        self,
        *,
        auth_headers: AuthHeaders,
        routes: Routes,
        key_ttl: float = 60.0,
        trust_env: bool = False,
    ) -> None:
        self._auth_headers = auth_headers
        self._routes = routes
        self._key_ttl = key_ttl
        self._trust_env = trust_env
        self._sessions: dict[SessionKey, aiohttp.ClientSession] = {}
        self._targets: dict[int, Target] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    async def target(self, endpoint: Endpoint) -> Target:
        """The prepared target of ``endpoint``; reads its credential at most once per key_ttl.

        Cached by object identity: endpoints are immutable and live in the catalog; the target
        holds a reference, so the id cannot be reused by another object while it is cached.
        """
        target = self._targets.get(id(endpoint))
        if (
            target is not None
            and target.endpoint is endpoint
            and target.expires > time.monotonic()
            and not target.session.closed
        ):
            return target
        return await self._prepare(endpoint)

    def forget_credential(self, endpoint: Endpoint) -> None:
        """Read the credential again on the next request (after the upstream answered 401)."""
        self._targets.pop(id(endpoint), None)

    async def close(self) -> None:
        """Close every session (and so every pooled connection)."""
        sessions = list(self._sessions.values())
        self._sessions.clear()
        self._targets.clear()
        for session in sessions:
            await session.close()

    async def _prepare(self, endpoint: Endpoint) -> Target:
        if endpoint.base_url is None:
            raise ProviderError(f"endpoint for {endpoint.upstream_model} has no base_url")
        try:
            # A key file is read off the event loop; an environment variable is just a dict.
            if endpoint.api_key_file is not None:
                secret = await asyncio.to_thread(endpoint.api_key)
            else:
                secret = endpoint.api_key()
        except (OSError, ValueError) as exc:
            raise ProviderError(f"credential for upstream is unavailable: {exc}") from None
        base = {"Content-Type": "application/json", **self._auth_headers(endpoint, secret)}
        base.update(endpoint.headers)
        url = URL(endpoint.base_url)
        host = f"{url.host}:{url.port}" if url.port else str(url.host)
        target = Target(
            endpoint=endpoint,
            session=self._session(endpoint),
            urls=self._routes(endpoint),
            headers={**base, "Accept": "application/json"},
            stream_headers={**base, "Accept": "text/event-stream"},
            host=host,
            secret=secret,
            expires=time.monotonic() + self._key_ttl,
        )
        if len(self._targets) >= _MAX_TARGETS:  # catalog reloads leave old endpoints behind
            self._targets.clear()
        self._targets[id(endpoint)] = target
        return target

    def _session(self, endpoint: Endpoint) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # Sessions are bound to the loop that created them; a new loop needs new ones.
            self._sessions.clear()
            self._targets.clear()
            self._loop = loop
        t = endpoint.timeouts
        key: SessionKey = (
            endpoint.base_url or "",
            endpoint.api_key_env,
            str(endpoint.api_key_file) if endpoint.api_key_file else None,
            t.connect,
            t.read,
            t.total,
            endpoint.max_connections,
        )
        session = self._sessions.get(key)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                limit=endpoint.max_connections,
                ttl_dns_cache=DNS_CACHE_SECONDS,
                keepalive_timeout=KEEPALIVE_SECONDS,
            )
            # connect bounds the TCP/TLS handshake only (sock_connect), not the wait for a free
            # pooled connection: under load that wait is bounded by total, so a busy pool queues
            # instead of failing requests that would have been served a moment later.
            timeout = aiohttp.ClientTimeout(total=t.total, sock_connect=t.connect, sock_read=t.read)
            session = aiohttp.ClientSession(
                connector=connector,
                timeout=timeout,
                trust_env=self._trust_env,
                raise_for_status=False,
                # Never keep an upstream's cookies: they would be sent back on other tenants'
                # requests (and the jar costs a lookup per request).
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            self._sessions[key] = session
        return session
