"""Reading requests and writing responses: body limits, JSON parsing, validation messages."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.responses import Response

from socle.pipeline.errors import GatewayError, InvalidRequest


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Parse a JSON object (orjson also rejects invalid UTF-8)."""
    if not raw:
        raise InvalidRequest("The request body is empty; a JSON object is expected.")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        reason = "invalid UTF-8" if "utf-8" in str(exc).lower() else str(exc)
        raise InvalidRequest(f"The request body is not valid JSON: {reason}.") from None
    if not isinstance(value, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return value


def validate(adapter: TypeAdapter[Any], body: dict[str, Any]) -> None:
    """Validate ``body`` against a request schema; the 400 names the first bad field."""
    try:
        adapter.validate_python(body)
    except ValidationError as exc:
        errors = exc.errors()
        # A union (e.g. content: string or list of parts) reports one error per branch: name the
        # deepest field, and every reason given for it.
        location = max((field_path(e["loc"]) for e in errors), key=len)
        reasons = list(dict.fromkeys(e["msg"] for e in errors if field_path(e["loc"]) == location))
        raise InvalidRequest(
            f"Invalid value for '{location}': {' or '.join(reasons)}.", param=location
        ) from None


_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "none", "dict", "list"})


def field_path(loc: tuple[int | str, ...]) -> str:
    """``('messages', 0, 'content')`` → ``messages[0].content``, without pydantic's type tags."""
    path = ""
    skip_discriminator = False
    for item in loc:
        if isinstance(item, int):
            path += f"[{item}]"
            continue
        if skip_discriminator:
            skip_discriminator = False
            continue
        if "[" in item or item in _TYPE_TAGS or item.startswith(("constrained-", "function-")):
            skip_discriminator = "tagged-union" in item
            continue
        path += f".{item}" if path else item
    return path or "body"


def json_response(
    content: dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(content), status_code=status, media_type="application/json", headers=headers
    )


def error_response(error: GatewayError, request_id: str | None = None) -> Response:
    headers = dict(error.headers)
    if request_id:
        headers["x-request-id"] = request_id
    return json_response(error.body(), status=error.status, headers=headers)


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """A request body for the OpenAPI schema of a route that reads the raw request."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }
