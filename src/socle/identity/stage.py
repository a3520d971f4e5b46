"""The ``authenticate`` stage: API key, expiry, revocation, IP allow-list, model access."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from typing import Any

from socle.identity.cache import KeyCache
from socle.identity.keys import hash_key
from socle.identity.roles import Permission, allowed
from socle.pipeline.context import Principal, RequestContext
from socle.pipeline.errors import (
    AuthenticationFailed,
    GatewayError,
    ModelNotFound,
    PermissionDenied,
)
from socle.pipeline.stage import Stage


def bearer_token(headers: dict[str, str]) -> str | None:
    """The API key from ``Authorization: Bearer``, or the ``api-key`` header Azure clients send."""
    value = headers.get("authorization")
    if value:
        scheme, _, token = value.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        return None
    return headers.get("api-key") or None


def model_not_found(model: str) -> GatewayError:
    return ModelNotFound(
        f"The model `{model}` does not exist or you do not have access to it.", param="model"
    )


class KeyAuthenticator:
    """Turns request headers into a principal: key, expiry, revocation, IP allow-list."""

    def __init__(self, cache: KeyCache, secret: bytes) -> None:
        self.cache = cache
        self.secret = secret

    async def authenticate(
        self, headers: dict[str, str], client_ip: str | None
    ) -> tuple[Principal, dict[str, Any]]:
        """The caller's principal and its project's settings, or a 401/403 error."""
        token = bearer_token(headers)
        if token is None:
            raise AuthenticationFailed(
                "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
                code="missing_api_key",
            )
        record = await self.cache.resolve(hash_key(self.secret, token))
        if record is None:
            raise AuthenticationFailed(f"Incorrect API key provided: {_redact(token)}.")
        if record.revoked_at is not None:
            raise AuthenticationFailed("This API key has been revoked.", code="api_key_revoked")
        expires = record.expires_ts
        if expires is not None and expires <= time.time():
            raise AuthenticationFailed("This API key has expired.", code="api_key_expired")
        if record.ip_allowlist is not None and not _ip_allowed(client_ip, record.ip_allowlist):
            raise PermissionDenied(
                "Requests from this IP address are not allowed for this key.",
                code="ip_not_allowed",
            )
        # The principal is built once per cached key; stages must treat it as read-only.
        return record.principal, record.project_settings


class AuthenticateStage(Stage):
    """The first stage: who calls, and may they call this model at all."""

    name = "authenticate"

    def __init__(
        self, authenticator: KeyAuthenticator, model_exists: Callable[[str], bool]
    ) -> None:
        self.authenticator = authenticator
        self.model_exists = model_exists

    async def before_call(self, ctx: RequestContext) -> None:
        principal, settings = await self.authenticator.authenticate(ctx.headers, ctx.client_ip)
        if not allowed(principal.role, Permission.CALL_MODELS):
            raise PermissionDenied(f"Keys with role {principal.role!r} cannot call models.")
        ctx.principal = principal
        ctx.project_settings = settings
        if ctx.model and not principal.may_use(ctx.model):
            if not self.model_exists(ctx.model):
                raise model_not_found(ctx.model)
            raise PermissionDenied(
                f"This key is not allowed to use the model `{ctx.model}`.",
                param="model",
                code="model_not_allowed",
            )


def _redact(token: str) -> str:
    return (token[:12] + "***") if len(token) > 16 else "***"


def _ip_allowed(
    client_ip: str | None,
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...],
) -> bool:
    if client_ip is None:
        return False
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    return any(address in network for network in networks)
