"""``GET /metrics`` in the Prometheus text format."""

from __future__ import annotations

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

router = APIRouter(tags=["Health"])


@router.get("/metrics", summary="Prometheus metrics of this process")
async def metrics(request: Request) -> Response:
    body = request.app.state.gateway.metrics.render()
    return Response(body, media_type=CONTENT_TYPE_LATEST)
