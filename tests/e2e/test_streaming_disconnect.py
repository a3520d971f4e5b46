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
