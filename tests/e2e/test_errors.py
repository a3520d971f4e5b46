"""Bad and hostile input: each gets the right status and an OpenAI error, and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import openai
import pytest

from tests.support.openai_schema import validate
from tests.support.server import SocleServer

pytestmark = pytest.mark.e2e

CHAT = {"model": "chat-default", "messages": [{"role": "user", "content": "hi"}]}


def post(server: SocleServer, key: str | None, body: Any = None, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    headers.update(kwargs.pop("headers", {}))
    return httpx.post(
        f"{server.base_url}/v1/chat/completions",
        headers=headers,
        json=body if "content" not in kwargs else None,
        timeout=30,
        **kwargs,
    )


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    validate(body, "ErrorResponse")
    assert set(body["error"]) == {"message", "type", "param", "code"}
    if code is not None:
        assert body["error"]["code"] == code
    assert "Traceback" not in response.text
    return body


def test_missing_invalid_revoked_and_expired_keys(server: SocleServer) -> None:
    assert_error(post(server, None, CHAT), 401, "missing_api_key")
    assert_error(
        post(server, "sk-socle-not-a-real-key-000000000000000", CHAT), 401, "invalid_api_key"
    )

    created = server.create_key()
    assert post(server, created["key"], CHAT).status_code == 200
    revoked = server.admin("POST", f"/keys/{created['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert_error(post(server, created["key"], CHAT), 401, "api_key_revoked")

    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    expiring = server.create_key(expires_at=soon)
    import time

    time.sleep(1.2)
    assert_error(post(server, expiring["key"], CHAT), 401, "api_key_expired")


def test_model_access(server: SocleServer) -> None:
    limited = server.create_key(allowed_models=["sim-small"])
    body = assert_error(post(server, limited["key"], CHAT), 403, "model_not_allowed")
    assert body["error"]["param"] == "model"
    assert_error(
        post(server, limited["key"], {**CHAT, "model": "no-such-model"}), 404, "model_not_found"
    )
    assert post(server, limited["key"], {**CHAT, "model": "sim-small"}).status_code == 200


def test_ip_allow_list(server: SocleServer) -> None:
    elsewhere = server.create_key(ip_allowlist=["10.1.2.0/24"])
    assert_error(post(server, elsewhere["key"], CHAT), 403, "ip_not_allowed")
    local = server.create_key(ip_allowlist=["127.0.0.0/8"])
    assert post(server, local["key"], CHAT).status_code == 200


def test_invalid_bodies_name_the_field(server: SocleServer, member_key: dict[str, Any]) -> None:
    key = member_key["key"]
    cases = [
        ({"model": "chat-default"}, "messages"),
        ({**CHAT, "temperature": "hot"}, "temperature"),
        ({**CHAT, "temperature": 3}, "temperature"),
        ({**CHAT, "n": 0}, "n"),
        ({**CHAT, "messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
        ({**CHAT, "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({**CHAT, "stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({**CHAT, "max_tokens": -1}, "max_tokens"),
        (
            {**CHAT, "tools": [{"type": "function", "function": {"name": "bad name!"}}]},
            "tools[0].function.name",
        ),
    ]
    for body, field in cases:
        error = assert_error(post(server, key, body), 400)
        assert error["error"]["param"] == field, (body, error)
        assert field in error["error"]["message"]


def test_malformed_json_invalid_utf8_and_non_objects(
    server: SocleServer, member_key: dict[str, Any]
) -> None:
    key = member_key["key"]
    headers = {"Content-Type": "application/json"}
    for content in (
        b"{not json",
        b'{"model": "x",',
        b"",
        b"[1,2]",
        b'"text"',
        b'{"model":"\xff\xfe"}',
    ):
        assert_error(post(server, key, content=content, headers=headers), 400)
    invalid = post(server, key, content=b'{"model":"\xc3\x28"}', headers=headers)
    assert "UTF-8" in assert_error(invalid, 400)["error"]["message"]


def test_huge_bodies_are_refused_before_reading(
    server: SocleServer, member_key: dict[str, Any]
) -> None:
    huge = (
        b'{"model":"chat-default","messages":[{"role":"user","content":"'
        + b"a" * (9 * 1024 * 1024)
        + b'"}]}'
    )
    response = post(
        server, member_key["key"], content=huge, headers={"Content-Type": "application/json"}
    )
    assert_error(response, 413, "payload_too_large")

    def chunks():  # no Content-Length: the limit applies while reading
        yield b'{"model":"chat-default","messages":[{"role":"user","content":"'
        for _ in range(10):
            yield b"a" * (1024 * 1024)
        yield b'"}]}'

    streamed = post(
        server, member_key["key"], content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_error(streamed, 413, "payload_too_large")


def test_unknown_routes_and_methods(server: SocleServer, member_key: dict[str, Any]) -> None:
    response = httpx.get(f"{server.base_url}/v1/nothing-here", timeout=10)
    assert_error(response, 404)
    response = httpx.get(
        f"{server.base_url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {member_key['key']}"},
        timeout=10,
    )
    assert_error(response, 405)


def test_sdk_maps_errors(server: SocleServer) -> None:
    bad = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="sk-socle-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="chat-default", messages=CHAT["messages"])


def test_hostile_input_changes_nothing(server: SocleServer, member_key: dict[str, Any]) -> None:
    before = server.admin("GET", "/keys").json()
    key = member_key["key"]
    post(server, key, content=b"\x00\x01\x02", headers={"Content-Type": "application/json"})
    post(server, key, {**CHAT, "model": "../../etc/passwd"})
    member_admin = httpx.post(
        f"{server.base_url}/admin/v1/keys",
        headers={"Authorization": f"Bearer {key}"},
        json={"name": "escalate", "project": "default", "role": "admin"},
        timeout=10,
    )
    assert_error(member_admin, 403)
    assert server.admin("GET", "/keys").json() == before


def test_admin_api_is_deny_by_default(server: SocleServer, member_key: dict[str, Any]) -> None:
    for method, path in (("GET", "/orgs"), ("GET", "/projects"), ("POST", "/orgs")):
        response = httpx.request(
            method,
            f"{server.base_url}/admin/v1{path}",
            headers={"Authorization": f"Bearer {member_key['key']}"},
            json={"name": "x"},
            timeout=10,
        )
        assert_error(response, 403)
    assert_error(httpx.get(f"{server.base_url}/admin/v1/orgs", timeout=10), 401)
