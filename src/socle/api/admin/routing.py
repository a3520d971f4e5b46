"""The catalog, rollouts and live deployment state under /admin/v1 (no restart needed)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from starlette.requests import Request

from socle.api.admin.deps import gateway, require
from socle.identity.roles import Permission
from socle.pipeline.context import Principal
from socle.pipeline.errors import InvalidRequest, NotFound
from socle.routing.rollout import Rollout

router = APIRouter()

Reader = Annotated[Principal, Depends(require(Permission.READ_ORG))]
Editor = Annotated[Principal, Depends(require(Permission.MANAGE_CATALOG))]


@router.get("/deployments", summary="Deployments with their circuit breaker and latency")
async def deployments(request: Request, _: Reader) -> list[dict[str, Any]]:
    return gateway(request).routing.router.deployments_status()


@router.get("/routing", summary="The catalog and rollouts in force")
async def get_routing(request: Request, _: Reader) -> dict[str, Any]:
    return gateway(request).routing.router.export()


@router.put("/routing", summary="Replace the catalog and rollouts (validated; all replicas)")
async def put_routing(body: dict[str, Any], request: Request, who: Editor) -> dict[str, Any]:
    gw = gateway(request)
    _apply(lambda: gw.routing.router.load(body))
    return await gw.publish_routing(who, "routing.replace")


@router.put("/rollouts/{model}", summary="Create or change the rollout of a model")
async def put_rollout(
    model: str, body: dict[str, Any], request: Request, who: Editor
) -> dict[str, Any]:
    gw = gateway(request)
    try:
        rollout = Rollout.model_validate({**body, "model": model})
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidRequest(f"Invalid value for '{location}': {first['msg']}.") from None
    _apply(lambda: gw.routing.router.set_rollout(rollout))
    return await gw.publish_routing(who, "rollout.set")


@router.delete("/rollouts/{model}", summary="Remove the rollout of a model")
async def delete_rollout(model: str, request: Request, who: Editor) -> dict[str, Any]:
    gw = gateway(request)
    if not gw.routing.router.remove_rollout(model):
        raise NotFound(f"model {model!r} has no rollout")
    return await gw.publish_routing(who, "rollout.remove")


def _apply(change: Any) -> None:
    """Run a router change; invalid input becomes a 400 and leaves the router as it was."""
    try:
        change()
    except (ValueError, ValidationError) as exc:
        raise InvalidRequest(f"Invalid routing: {exc}") from None
