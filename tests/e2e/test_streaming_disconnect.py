"""A client that leaves mid-stream: the upstream is released and the audit end record says so."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.support.server import SocleServer

pytestmark = pytest.mark.e2e


def test_disconnect_mid_stream_is_audited(server: SocleServer, member_key: dict[str, str]) -> None:
    with (
        httpx.Client(timeout=30) as http,
        http.stream(
            "POST",
            f"{server.base_url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {member_key['key']}"},
            json={
                "model": "sim-slow",
                "stream": True,
                "max_tokens": 2000,
                "messages": [{"role": "user", "content": "Écris un long rapport détaillé."}],
            },
        ) as response,
    ):
        assert response.status_code == 200
        request_id = response.headers["x-request-id"]
        lines = response.iter_lines()
        assert next(lines).startswith("data: ")
        # leaving the block closes the connection mid-stream

    deadline = time.monotonic() + 10
    while True:
        records = server.admin(
            "GET", "/audit", params={"request_id": request_id, "kind": "stream_end"}
        ).json()["data"]
        if records or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert records, "no stream_end record after the client left"
    end = records[0]
    assert end["status"] == 499
    assert end["finish_reason"] == "client_disconnected"


def test_usage_is_measured_even_when_the_client_does_not_ask(
    server: SocleServer, member_key: dict[str, str]
) -> None:
    with httpx.stream(
        "POST",
        f"{server.base_url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {member_key['key']}"},
        json={
            "model": "chat-default",
            "stream": True,
            "messages": [{"role": "user", "content": "Bonjour"}],
        },
        timeout=30,
    ) as response:
        request_id = response.headers["x-request-id"]
        events = [line for line in response.iter_lines() if line.startswith("data: {")]
    assert events and all('"usage"' not in e for e in events)  # not asked: not sent

    records = server.admin(
        "GET", "/audit", params={"request_id": request_id, "kind": "stream_end"}
    ).json()["data"]
    assert records
    usage = records[0]["usage"]
    assert usage["completion_tokens"] > 0
    assert usage["estimated"] is False  # the upstream's own count, asked for by the gateway
