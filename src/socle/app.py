"""Builds the ASGI application from the settings; no logic lives here."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from socle import __version__
from socle.api import errors, health, metrics
from socle.api.admin import router as admin_router
from socle.api.openai.fastpath import OpenAIFastPath
from socle.api.openai.routes import router as openai_router
from socle.config import Settings, load_settings
from socle.observability.logs import configure_logging
from socle.runtime import Gateway


def build_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gateway = Gateway(settings)
        await gateway.start()
        app.state.gateway = gateway
        freeze_startup_heap()
        try:
            yield
        finally:
            await gateway.stop()

    app = FastAPI(
        title="Socle",
        version=__version__,
        description="Sovereign, hybrid AI gateway: an OpenAI-compatible governed API.",
        lifespan=lifespan,
    )
    errors.install(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(openai_router)
    app.include_router(admin_router)
    return app


def freeze_startup_heap() -> None:
    """Take the objects built at startup out of the garbage collector's full passes.

    Modules, schemas, compiled patterns and catalogs live as long as the process, yet every
    full (generation 2) collection walked them all: 100–120 ms pauses of the event loop under
    load, which made the gateway's p99 latency (bench/README.md). Frozen, they are never walked
    again; full collections then only visit what requests left behind.
    """
    gc.collect()
    gc.freeze()


def create_app() -> OpenAIFastPath:
    """Factory for uvicorn workers: reads the configuration from the environment."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    app = build_app(settings)
    return OpenAIFastPath(app, lambda: app.state.gateway)
