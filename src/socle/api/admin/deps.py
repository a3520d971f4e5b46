"""Authentication and role checks for the admin API. Deny by default."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request

from socle.identity.roles import Permission, allowed
from socle.pipeline.context import Principal
from socle.pipeline.errors import PermissionDenied

if TYPE_CHECKING:
    from socle.runtime import Gateway


def gateway(request: Request) -> Gateway:
    gw: Gateway = request.app.state.gateway
    return gw


def require(*permissions: Permission) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency admitting keys whose role holds any of ``permissions``."""

    async def dependency(request: Request) -> Principal:
        principal = await gateway(request).authenticate(request)
        if not any(allowed(principal.role, p) for p in permissions):
            raise PermissionDenied(
                f"Role {principal.role!r} may not {request.method} {request.url.path}."
            )
        return principal

    return dependency
