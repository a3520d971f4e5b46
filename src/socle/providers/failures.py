"""Map what an upstream does wrong (HTTP statuses, network errors, timeouts) to ProviderError.

Shared by every HTTP provider so that the router sees one vocabulary: ``status`` is the upstream's
HTTP status (``None`` when no answer came), ``retryable`` says whether another try may succeed,
``retry_after`` comes from ``Retry-After`` (or OpenAI's ``retry-after-ms``), and ``body`` is the
upstream's error JSON. Messages name the upstream host and status, never a credential.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import aiohttp
import orjson

from socle.providers.base import Json, ProviderError, ProviderTimeout
from socle.providers.sse import SSEError

RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})
_MAX_MESSAGE = 500


def is_retryable(status: int) -> bool:
    """Whether another try (same or other upstream) may succeed after this HTTP status."""
    return status >= 500 or status in RETRYABLE_STATUSES


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (delta-seconds or HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def upstream_message(payload: Any) -> str | None:
    """The human message inside an upstream error body, whatever its dialect.

    OpenAI and vLLM: ``{"error": {"message"}}``; Anthropic: ``{"type": "error", "error":
    {"message"}}``; Ollama: ``{"error": "text"}``; FastAPI-based servers: ``{"detail": ...}``.
    """
    if not isinstance(payload, dict):
        return None
    error = payload.get("error")
    if isinstance(error, dict):
        message = error.get("message")
        return str(message) if message is not None else None
    if isinstance(error, str):
        return error
    for key in ("message", "detail"):
        if key in payload:
            value = payload[key]
            return value if isinstance(value, str) else orjson.dumps(value).decode()
    return None


def scrub(text: str, secret: str | None) -> str:
    """Remove a credential an upstream echoed back (OpenAI quotes the bad key in its 401)."""
    if secret and len(secret) >= 4 and secret in text:
        return text.replace(secret, "***")
    return text


def status_error(
    status: int,
    raw: bytes,
    headers: Mapping[str, str],
    *,
    host: str,
    secret: str | None,
) -> ProviderError:
    """A ProviderError for a non-2xx answer, carrying the upstream's error JSON when it sent one."""
    body: Json | None = None
    message: str | None = None
    try:
        parsed = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        parsed = None
        text = raw[:_MAX_MESSAGE].decode("utf-8", "replace").strip()
        message = text or None
    if isinstance(parsed, dict):
        if secret and secret.encode() in raw:
            parsed = orjson.loads(scrub(raw.decode("utf-8", "replace"), secret))
        body = parsed
        message = upstream_message(parsed)
    detail = f": {scrub(message, secret)[:_MAX_MESSAGE]}" if message else ""
    return ProviderError(
        f"upstream {host} returned HTTP {status}{detail}",
        status=status,
        retryable=is_retryable(status),
        retry_after=parse_retry_after(headers),
        body=body,
    )


def transport_error(exc: BaseException, *, host: str, phase: str) -> ProviderError:
    """A ProviderError for a timeout or a network failure (no HTTP answer, or a broken one).

    ``phase`` says where it happened (``request``, ``stream``) so logs tell a slow first byte
    from a stalled stream.
    """
    if isinstance(exc, TimeoutError):
        return ProviderTimeout(f"upstream {host} timed out during {phase}")
    if isinstance(exc, aiohttp.ClientResponseError):
        return ProviderError(
            f"upstream {host} sent an invalid HTTP answer during {phase} ({exc.status})",
            status=502,
            retryable=True,
        )
    reason = type(exc).__name__
    return ProviderError(
        f"upstream {host} unreachable or connection lost during {phase} ({reason})",
        retryable=True,
    )


def bad_payload(host: str, what: str) -> ProviderError:
    """The upstream answered 2xx with something that is not what the protocol promises."""
    return ProviderError(f"upstream {host} sent {what}", status=502, retryable=True)


def payload_error(payload: Json, *, host: str, secret: str | None) -> ProviderError:
    """An error object the upstream sent with a 2xx status, alone or inside an event stream."""
    error = payload.get("error")
    status: int | None = None
    kind = ""
    if isinstance(error, dict):
        code = error.get("code")
        if isinstance(code, int):
            status = code
        kind = str(error.get("type") or "")
    if status is None:
        status = _STATUS_BY_TYPE.get(kind, 502)
    message = scrub(upstream_message(payload) or "unknown error", secret)[:_MAX_MESSAGE]
    return ProviderError(
        f"upstream {host} reported an error: {message}",
        status=status,
        retryable=is_retryable(status),
        body=payload,
    )


# Anthropic (and some OpenAI-compatible servers) name the error kind instead of a status.
_STATUS_BY_TYPE = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "server_error": 500,
    "overloaded_error": 529,
}


@contextmanager
def stream_failures(host: str) -> Iterator[None]:
    """Map what can go wrong while reading an upstream stream to :class:`ProviderError`."""
    try:
        yield
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise transport_error(exc, host=host, phase="stream") from exc
    except SSEError as exc:
        raise bad_payload(host, f"an invalid event stream ({exc})") from exc


def cut_short(host: str, before: str) -> ProviderError:
    """The upstream closed its stream before it was finished (retryable: nothing was lost)."""
    return ProviderError(
        f"upstream {host} closed the stream before {before}", status=502, retryable=True
    )
