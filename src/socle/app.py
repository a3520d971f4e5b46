"""Builds the ASGI application from the settings; no logic lives here."""

from __future__ import annotations

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


def create_app() -> OpenAIFastPath:
    """Factory for uvicorn workers: reads the configuration from the environment."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    app = build_app(settings)
    return OpenAIFastPath(app, lambda: app.state.gateway)
