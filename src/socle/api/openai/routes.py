"""``/v1/chat/completions``, ``/v1/embeddings`` and ``/v1/models``.

Handlers parse the body once (orjson), validate it against the schema, build the request context
and hand it to the pipeline. They hold no governance logic.
"""

from __future__ import annotations

import base64
import sys
from array import array
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from pydantic import TypeAdapter
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from socle.api.http import json_response, parse_json_object, read_body, schema_of, validate
from socle.api.openai.schemas import ChatCompletionRequest, EmbeddingRequest
from socle.identity.stage import model_not_found
from socle.pipeline.context import RequestContext

if TYPE_CHECKING:
    from socle.runtime import Gateway

router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])

_chat = TypeAdapter(ChatCompletionRequest)
_embeddings = TypeAdapter(EmbeddingRequest)

SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def gateway(request: Request) -> Gateway:
    gw: Gateway = request.app.state.gateway
    return gw


async def _context(request: Request, endpoint: str, adapter: TypeAdapter[Any]) -> RequestContext:
    gw = gateway(request)
    body = parse_json_object(await read_body(request, gw.settings.server.max_body_bytes))
    validate(adapter, body)
    ctx = gw.new_context(request, endpoint, body)
    ctx.model = body["model"]
    ctx.stream = bool(body.get("stream"))
    return ctx


@router.post(
    "/chat/completions",
    summary="Create a chat completion (streaming with stream=true)",
    openapi_extra=schema_of(ChatCompletionRequest),
)
async def chat_completions(request: Request) -> Response:
    ctx = await _context(request, "chat.completions", _chat)
    pipeline = gateway(request).pipeline
    if ctx.stream:
        events = await pipeline.open_stream(ctx)
        headers = {**ctx.response_headers, **SSE_HEADERS, "x-request-id": ctx.request_id}
        return StreamingResponse(events, media_type="text/event-stream", headers=headers)
    response = await pipeline.run(ctx)
    ctx.response_headers["x-request-id"] = ctx.request_id
    return json_response(response, headers=ctx.response_headers)


@router.post(
    "/embeddings",
    summary="Create embeddings",
    openapi_extra=schema_of(EmbeddingRequest),
)
async def embeddings(request: Request) -> Response:
    ctx = await _context(request, "embeddings", _embeddings)
    wants_base64 = ctx.body.get("encoding_format") == "base64"
    if wants_base64:
        # Upstreams are always asked for floats; the gateway encodes, so every provider works.
        ctx.body.pop("encoding_format")
    response = await gateway(request).pipeline.run(ctx)
    if wants_base64:
        for item in response.get("data", ()):
            item["embedding"] = encode_base64(item["embedding"])
    ctx.response_headers["x-request-id"] = ctx.request_id
    return json_response(response, headers=ctx.response_headers)


def encode_base64(vector: list[float]) -> str:
    """Little-endian float32, base64: what OpenAI returns for encoding_format=base64."""
    packed = array("f", vector)
    if sys.byteorder != "little":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


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
