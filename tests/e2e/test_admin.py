"""The admin API on a running server: projects, settings, routing edits without restart."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.support.server import SocleServer

pytestmark = pytest.mark.e2e


def test_project_and_key_lifecycle(server: SocleServer) -> None:
    team = server.admin("POST", "/teams", json={"name": "finance"})
    assert team.status_code == 201, team.text
    project = server.admin(
        "POST",
        "/projects",
        json={"name": "ledger-bot", "team": "finance", "settings": {"guard_policy": "strict"}},
    )
    assert project.status_code == 201, project.text
    assert project.json()["team_id"] == team.json()["id"]
    assert server.admin("POST", "/projects", json={"name": "ledger-bot"}).status_code == 409
    unknown = server.admin("POST", "/projects", json={"name": "x", "team": "nope"})
    assert unknown.status_code == 404
    extra = server.admin("POST", "/projects", json={"name": "y", "colour": "red"})
    assert extra.status_code == 400 and extra.json()["error"]["param"] == "colour"

    owner = server.create_key(project="ledger-bot", role="owner")
    owner_headers = {"Authorization": f"Bearer {owner['key']}"}
    mine = httpx.post(
        f"{server.base_url}/admin/v1/keys",
        headers=owner_headers,
        json={"name": "app", "project": "ledger-bot"},
        timeout=10,
    )
    assert mine.status_code == 201, mine.text
    elsewhere = httpx.post(
        f"{server.base_url}/admin/v1/keys",
        headers=owner_headers,
        json={"name": "app", "project": "default"},
        timeout=10,
    )
    assert elsewhere.status_code == 403
    listed = httpx.get(f"{server.base_url}/admin/v1/keys", headers=owner_headers, timeout=10)
    assert {k["project_id"] for k in listed.json()} == {project.json()["id"]}
    assert all("key" not in k for k in listed.json())

    settings = server.admin(
        "PUT", "/projects/ledger-bot/settings", json={"settings": {"guard_policy": "audit_only"}}
    )
    assert settings.status_code == 200
    assert settings.json()["settings"] == {"guard_policy": "audit_only"}


def test_deployments_show_breaker_state(server: SocleServer) -> None:
    response = server.admin("GET", "/deployments")
    assert response.status_code == 200
    by_id = {d["id"]: d for d in response.json()}
    assert by_id["chat-default-sim"]["breaker"]["state"] == "closed"
    assert by_id["chat-default-sim"]["location"] == "on_prem"


def test_routing_edits_apply_without_restart_and_survive_one(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    home = tmp_path_factory.mktemp("routing-edit")
    with SocleServer(home) as server:
        key = server.create_key()["key"]
        client = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=key, max_retries=0)
        routing: dict[str, Any] = server.admin("GET", "/routing").json()
        before = {m["name"] for m in routing["models"]}
        assert "team-model" not in before

        template = next(m for m in routing["models"] if m["name"] == "sim-small")
        added = {
            **template,
            "name": "team-model",
            "deployments": [{**template["deployments"][0], "id": "team-model-sim"}],
        }
        invalid = {
            "models": [*routing["models"], {**added, "deployments": []}],
            "rollouts": routing["rollouts"],
        }
        refused = server.admin("PUT", "/routing", json=invalid)
        assert refused.status_code == 400
        assert server.admin("GET", "/routing").json() == routing  # nothing changed

        accepted = server.admin(
            "PUT", "/routing", json={"models": [*routing["models"], added], "rollouts": []}
        )
        assert accepted.status_code == 200, accepted.text
        answer = client.chat.completions.create(
            model="team-model", messages=[{"role": "user", "content": "hi"}]
        )
        assert answer.model == "team-model"

    with SocleServer(home) as restarted:
        names = {m["name"] for m in restarted.admin("GET", "/routing").json()["models"]}
        assert "team-model" in names


def test_usage_audit_and_metrics(server: SocleServer, client: openai.OpenAI) -> None:
    client.chat.completions.create(
        model="chat-default", messages=[{"role": "user", "content": "usage please"}], user="u-42"
    )
    usage = server.admin("GET", "/usage", params={"by": "model"})
    assert usage.status_code == 200, usage.text
    rows = {r["model"]: r for r in usage.json()["data"]}
    assert rows["chat-default"]["requests"] >= 1
    assert rows["chat-default"]["cost"] > 0
    bad_period = server.admin("GET", "/usage", params={"period": "last-year"})
    assert bad_period.status_code == 400

    auditor = server.create_key(role="auditor")
    auditor_headers = {"Authorization": f"Bearer {auditor['key']}"}
    records = httpx.get(
        f"{server.base_url}/admin/v1/audit",
        headers=auditor_headers,
        params={"limit": 200},
        timeout=10,
    )
    assert records.status_code == 200, records.text
    kinds = {r.get("kind") for r in records.json()["data"]}
    assert {"request", "admin"} <= kinds
    verified = httpx.get(f"{server.base_url}/admin/v1/audit/verify", headers=auditor_headers)
    assert verified.status_code == 200 and verified.json()["ok"] is True
    erase = httpx.post(
        f"{server.base_url}/admin/v1/audit/erasures",
        headers=auditor_headers,
        json={"subject": "u-42"},
        timeout=10,
    )
    assert erase.status_code == 403  # auditors read, they do not act
    calling = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=auditor["key"])
    with pytest.raises(openai.PermissionDeniedError):
        calling.chat.completions.create(
            model="chat-default", messages=[{"role": "user", "content": "x"}]
        )

    metrics = httpx.get(f"{server.base_url}/metrics", timeout=10)
    assert metrics.status_code == 200
    assert (
        'socle_requests_total{endpoint="chat.completions",model="chat-default",status="200"}'
        in (metrics.text)
    )


def test_refused_requests_are_audited(server: SocleServer, member_key: dict[str, Any]) -> None:
    response = httpx.post(
        f"{server.base_url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {member_key['key']}"},
        json={"model": "no-such-model", "messages": [{"role": "user", "content": "x"}]},
        timeout=10,
    )
    assert response.status_code == 404
    request_id = response.headers["x-request-id"]
    records = server.admin("GET", "/audit", params={"request_id": request_id}).json()["data"]
    assert len(records) == 1
    assert records[0]["status"] == 404
    assert records[0]["error_code"] == "model_not_found"
