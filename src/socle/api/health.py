"""Liveness and readiness probes (no authentication, no logging)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from socle.api.http import json_response

router = APIRouter(tags=["Health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> Response:
    return json_response({"status": "ok"})


@router.get("/readyz", summary="The database answers and the configuration is loaded")
async def readyz(request: Request) -> Response:
    gateway = getattr(request.app.state, "gateway", None)
    if gateway is None:
        return json_response({"status": "starting"}, status=503)
    checks = await gateway.readiness()
    ready = all(checks.values())
    return json_response(
        {"status": "ready" if ready else "not_ready", "checks": checks},
        status=200 if ready else 503,
    )
