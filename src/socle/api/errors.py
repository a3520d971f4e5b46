"""Exception handlers: every error leaves as an OpenAI-style body, never as a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from socle.api.http import error_response
from socle.identity.errors import ConflictError, IdentityError, NotFoundError
from socle.pipeline.errors import GatewayError, InvalidRequest, NotFound
from socle.pipeline.runner import InternalError

log = logging.getLogger(__name__)


class Conflict(GatewayError):
    status = 409
    type = "invalid_request_error"
    code = "conflict"


def identity_error(exc: IdentityError) -> GatewayError:
    """404 for an unknown name, 409 for a taken one, 400 for a bad value."""
    if isinstance(exc, NotFoundError):
        return NotFound(str(exc))
    if isinstance(exc, ConflictError):
        return Conflict(str(exc))
    return InvalidRequest(str(exc))


class MethodNotAllowed(GatewayError):
    status = 405
    type = "invalid_request_error"
    code = "method_not_allowed"


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


async def _gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    return error_response(exc, _request_id(request))


async def _identity_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdentityError)
    return error_response(identity_error(exc), _request_id(request))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error: GatewayError
    if exc.status_code == 404:
        error = NotFound(f"Unknown URL: {request.method} {request.url.path}.")
    elif exc.status_code == 405:
        error = MethodNotAllowed(f"Method {request.method} is not allowed on {request.url.path}.")
    else:
        error = InvalidRequest(str(exc.detail))
        error.status = exc.status_code
    return error_response(error, _request_id(request))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    location = ".".join(str(p) for p in first["loc"] if p != "body") or "body"
    return error_response(
        InvalidRequest(f"Invalid value for '{location}': {first['msg']}.", param=location),
        _request_id(request),
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(
        InternalError("The server had an error while processing your request."),
        _request_id(request),
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(IdentityError, _identity_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
