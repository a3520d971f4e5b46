"""Upstream failures mapped to ProviderError: statuses, Retry-After, messages, credentials."""

from __future__ import annotations

import email.utils
import time

import aiohttp
import orjson
import pytest

from socle.providers.base import ProviderTimeout
from socle.providers.failures import (
    is_retryable,
    parse_retry_after,
    payload_error,
    status_error,
    transport_error,
    upstream_message,
)


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (408, True),
        (409, True),
        (422, False),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (529, True),
    ],
)
def test_retryable_statuses(status: int, retryable: bool) -> None:
    assert is_retryable(status) is retryable


def test_retry_after_forms() -> None:
    assert parse_retry_after({"Retry-After": "7"}) == 7.0
    assert parse_retry_after({"Retry-After": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "250", "Retry-After": "9"}) == 0.25
    assert parse_retry_after({}) is None
    assert parse_retry_after({"Retry-After": "soon"}) is None
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 27 <= (parse_retry_after({"Retry-After": date}) or 0) <= 30
    past = email.utils.formatdate(time.time() - 30, usegmt=True)
    assert parse_retry_after({"Retry-After": past}) == 0.0


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"error": {"message": "Rate limit reached", "type": "requests"}}, "Rate limit reached"),
        (
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            "Overloaded",
        ),
        ({"error": "model 'x' not found"}, "model 'x' not found"),
        ({"detail": "Not Found"}, "Not Found"),
        ({"detail": [{"loc": ["body"], "msg": "bad"}]}, '[{"loc":["body"],"msg":"bad"}]'),
        ({"object": "error", "message": "vLLM says no"}, "vLLM says no"),
        ([1, 2], None),
    ],
)
def test_upstream_message_dialects(payload: object, message: str | None) -> None:
    assert upstream_message(payload) == message


def test_status_error_carries_status_body_and_retry_after() -> None:
    body = {"error": {"message": "Too many requests", "type": "rate_limit_exceeded"}}
    error = status_error(429, orjson.dumps(body), {"Retry-After": "3"}, host="up:8000", secret="k")
    assert error.status == 429 and error.retryable and error.retry_after == 3.0
    assert error.body == body
    assert error.message == "upstream up:8000 returned HTTP 429: Too many requests"


def test_status_error_with_html_body() -> None:
    error = status_error(502, b"<html>Bad Gateway</html>", {}, host="h", secret=None)
    assert error.status == 502 and error.retryable and error.body is None
    assert "Bad Gateway" in error.message


def test_echoed_credential_is_scrubbed_from_message_and_body() -> None:
    secret = "sk-live-1234567890abcdef"
    raw = orjson.dumps({"error": {"message": f"Incorrect API key provided: {secret}."}})
    error = status_error(401, raw, {}, host="h", secret=secret)
    assert secret not in error.message and secret not in orjson.dumps(error.body).decode()
    assert "***" in error.message
    assert not error.retryable


def test_payload_error_status_from_type_or_code() -> None:
    overloaded = payload_error(
        {"type": "error", "error": {"type": "overloaded_error", "message": "o"}},
        host="h",
        secret=None,
    )
    assert overloaded.status == 529 and overloaded.retryable
    coded = payload_error({"error": {"message": "bad", "code": 400}}, host="h", secret=None)
    assert coded.status == 400 and not coded.retryable
    unknown = payload_error({"error": {"message": "?"}}, host="h", secret=None)
    assert unknown.status == 502 and unknown.retryable


def test_transport_errors() -> None:
    timeout = transport_error(aiohttp.SocketTimeoutError("read"), host="h", phase="stream")
    assert isinstance(timeout, ProviderTimeout) and timeout.retryable
    assert "stream" in timeout.message
    lost = transport_error(aiohttp.ServerDisconnectedError(), host="h", phase="request")
    assert not isinstance(lost, ProviderTimeout)
    assert lost.retryable and lost.status is None
