"""Wiring: builds every component of one gateway process from the settings, starts and stops them.

This is the only place that knows all capabilities; stages get their policies here and never read
configuration themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from socle.config import Settings
from socle.identity.cache import KeyCache
from socle.identity.service import IdentityService
from socle.identity.stage import AuthenticateStage, KeyAuthenticator
from socle.observability.metrics import GatewayMetrics, MetricsStage
from socle.pipeline.context import Principal, RequestContext
from socle.pipeline.runner import Pipeline
from socle.providers.base import Provider
from socle.store import migrate
from socle.store.database import Database
from socle.store.documents import DocumentStore

log = logging.getLogger(__name__)

ROUTING_DOCUMENT = "routing"
DOCUMENT_POLL_SECONDS = 2.0
_REQUEST_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")


@dataclass(slots=True)
class Bootstrap:
    """What the first start created; the admin key is shown once by the CLI, never logged."""

    admin_key: str | None


async def prepare(settings: Settings) -> Bootstrap:
    """Run once before workers start: migrate the schema, create defaults and the first key."""
    settings.home.mkdir(parents=True, exist_ok=True)
    database = Database(settings.effective_database_url)
    try:
        await migrate.upgrade(database)
        identity = IdentityService(database, settings.instance_secret())
        await identity.ensure_defaults()
        wanted = settings.bootstrap_admin_key
        key = await identity.bootstrap_admin_key(wanted.get_secret_value() if wanted else None)
        return Bootstrap(admin_key=key)
    finally:
        await database.dispose()


def build_providers() -> dict[str, Provider]:
    from socle.providers.anthropic import AnthropicProvider
    from socle.providers.openai_compat import OpenAICompatProvider
    from socle.providers.simulator import SimulatorProvider

    return {
        "openai_compat": OpenAICompatProvider(),
        "anthropic": AnthropicProvider(),
        "simulator": SimulatorProvider(),
    }


class Gateway:
    """One process's gateway: database, caches, capabilities and the pipeline."""

    def __init__(self, settings: Settings) -> None:
        from socle.accounting.stage import build_accounting
        from socle.audit.log import build_audit
        from socle.guards.stage import GuardsStage
        from socle.routing.router import build_routing

        self.settings = settings
        self.started_at = time.time()
        self.secret = settings.instance_secret()
        self.database = Database(settings.effective_database_url)
        self.identity = IdentityService(self.database, self.secret)
        self.keys = KeyCache(self.identity, poll_interval=settings.identity.revocation_poll_seconds)
        self.providers = build_providers()
        self.routing = build_routing(settings.routing, self.providers)
        self.accounting = build_accounting(settings.accounting, self.database, settings.redis_url)
        self.audit = build_audit(settings.audit, self.database, settings.home)
        self.authenticator = KeyAuthenticator(self.keys, self.secret)
        self.authenticate_stage = AuthenticateStage(
            self.authenticator, lambda name: self.routing.catalog().get(name) is not None
        )
        self.metrics = GatewayMetrics()
        self.routing.register_metrics(self.metrics.registry)
        stages = [
            self.audit.refusal_stage,  # records requests refused before the audit stage
            self.authenticate_stage,
            self.routing.classify_stage,
            GuardsStage(settings.guards, self.secret),
            self.routing.route_stage,
            self.accounting.stage,
            MetricsStage(self.metrics, lambda: self.routing.catalog().models),
            self.audit.stage,
        ]
        self.pipeline = Pipeline(stages, self.routing.dispatcher)
        self.documents = DocumentStore(self.database)
        self._routing_revision = 0
        self._watcher: asyncio.Task[None] | None = None
        self._trusted = tuple(
            ipaddress.ip_network(n, strict=False) for n in settings.server.trusted_proxies
        )

    async def start(self) -> None:
        await self.keys.start()
        await self.sync_routing()
        await self.accounting.start()
        await self.audit.start()
        self._watcher = asyncio.create_task(self._watch_documents(), name="socle-documents")

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await self.audit.stop()
        await self.accounting.stop()
        await self.keys.stop()
        for provider in self.providers.values():
            await provider.close()
        await self.database.dispose()

    # -- routing edits, shared by every replica through the database ------------------------

    async def sync_routing(self) -> None:
        """Apply the routing document saved by an admin edit, if it changed."""
        revision = await self.documents.revision(ROUTING_DOCUMENT)
        if revision == self._routing_revision:
            return
        stored = await self.documents.get(ROUTING_DOCUMENT)
        if stored is None:
            return
        try:
            self.routing.router.load(stored[1])
        except ValueError:
            log.error(
                "the saved routing document (revision %s) is invalid; kept the current one",
                stored[0],
                exc_info=True,
            )
        self._routing_revision = stored[0]

    async def publish_routing(self, who: Principal, action: str) -> dict[str, Any]:
        """Save the router's current catalog and rollouts for restarts and other replicas."""
        data = self.routing.router.export()
        self._routing_revision = await self.documents.put(ROUTING_DOCUMENT, data, who.key_id)
        await self.record_admin(who, action, ROUTING_DOCUMENT, {"revision": self._routing_revision})
        return data

    async def _watch_documents(self) -> None:
        while True:
            await asyncio.sleep(DOCUMENT_POLL_SECONDS)
            try:
                await self.sync_routing()
            except Exception:
                log.warning("routing document poll failed", exc_info=True)

    # -- used by the API layer -------------------------------------------------------------

    def router_catalog(self) -> Any:
        return self.routing.catalog()

    def new_context(
        self, headers: dict[str, str], peer: str | None, endpoint: str, body: dict[str, Any]
    ) -> RequestContext:
        return RequestContext(
            request_id=_request_id(headers.get("x-request-id")),
            endpoint=endpoint,
            body=body,
            headers=headers,
            client_ip=self.client_ip(peer, headers),
        )

    def client_ip(self, peer: str | None, headers: dict[str, str]) -> str | None:
        """The peer address, or X-Forwarded-For's first hop when the peer is a trusted proxy."""
        forwarded = headers.get("x-forwarded-for")
        if not forwarded or peer is None or not self._trusted:
            return peer
        try:
            trusted = any(ipaddress.ip_address(peer) in net for net in self._trusted)
        except ValueError:
            return peer
        return forwarded.split(",")[0].strip() if trusted else peer

    async def authenticate(self, request: Request) -> Principal:
        """Authenticate a request outside the pipeline (``/v1/models``, admin API)."""
        headers = dict(request.headers)
        request.state.request_id = _request_id(headers.get("x-request-id"))
        peer = request.client.host if request.client else None
        principal, _ = await self.authenticator.authenticate(headers, self.client_ip(peer, headers))
        return principal

    async def record_admin(
        self, principal: Principal, action: str, target: str, details: dict[str, Any]
    ) -> None:
        """Audit an admin action (who changed what) before it is acknowledged."""
        await self.audit.record_admin(principal.key_id, action, target, details)

    async def readiness(self) -> dict[str, bool]:
        return {"database": await self.database.ping(), "config": True}


def _request_id(candidate: str | None) -> str:
    """The client's X-Request-Id when it is short and plain, else a new one."""
    if candidate and len(candidate) <= 128 and set(candidate) <= _REQUEST_ID_CHARS:
        return candidate
    return new_request_id()


def new_request_id() -> str:
    """``req_`` + 24 hex digits: the time in milliseconds (48 bits), then 48 random bits.

    Time first, as in UUIDv7: ids made one after the other sort one after the other, so the
    audit trail's request-id index grows at its end (one page written per commit) instead of
    taking each record at a random place (one page per record). The random half comes from the
    process's PRNG (reseeded in every forked worker): an identifier, not a secret, so no
    os.urandom system call (secrets.token_hex) on every request; 48 bits per millisecond keep
    collisions out of reach (2^24 ids in the same millisecond for even odds).
    """
    millis = time.time_ns() // 1_000_000
    return f"req_{millis & 0xFFFF_FFFF_FFFF:012x}{random.getrandbits(48):012x}"
