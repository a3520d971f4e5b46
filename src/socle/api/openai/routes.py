"""``/v1/models``, and the OpenAPI description of the hot endpoints served by the fast path.

``POST /v1/chat/completions`` and ``POST /v1/embeddings`` are served by
:mod:`socle.api.openai.fastpath` before FastAPI sees them; they are declared here only so that
the OpenAPI schema documents them (the declarations below are never called).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from socle.api.http import json_response, schema_of
from socle.api.openai.schemas import ChatCompletionRequest, EmbeddingRequest
from socle.identity.stage import model_not_found

if TYPE_CHECKING:
    from socle.runtime import Gateway

router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])


def gateway(request: Request) -> Gateway:
    gw: Gateway = request.app.state.gateway
    return gw


def _served_by_fast_path() -> Response:  # pragma: no cover - documentation only
    raise RuntimeError("served by socle.api.openai.fastpath")


router.add_api_route(
    "/chat/completions",
    _served_by_fast_path,
    methods=["POST"],
    summary="Create a chat completion (SSE streaming with stream=true)",
    openapi_extra=schema_of(ChatCompletionRequest),
)
router.add_api_route(
    "/embeddings",
    _served_by_fast_path,
    methods=["POST"],
    summary="Create embeddings",
    openapi_extra=schema_of(EmbeddingRequest),
)


@router.get("/models", summary="List the models this key may use")
async def list_models(request: Request) -> Response:
    gw = gateway(request)
    principal = await gw.authenticate(request)
    created = int(gw.started_at)
    data = [
        {"id": name, "object": "model", "created": created, "owned_by": model.owned_by}
        for name, model in sorted(gw.router_catalog().models.items())
        if principal.may_use(name)
    ]
    return json_response({"object": "list", "data": data})


@router.get("/models/{model_id:path}", summary="Describe one model")
async def get_model(model_id: str, request: Request) -> Response:
    gw = gateway(request)
    principal = await gw.authenticate(request)
    model = gw.router_catalog().get(model_id)
    if model is None or not principal.may_use(model_id):
        raise model_not_found(model_id)
    return json_response(
        {
            "id": model_id,
            "object": "model",
            "created": int(gw.started_at),
            "owned_by": model.owned_by,
        }
    )
