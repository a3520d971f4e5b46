"""The audit configuration and what a request record contains (never raw values)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from socle.audit.config import AuditConfig
from socle.audit.records import KIND_STREAM_END, KIND_STREAM_START, request_record
from socle.pipeline.context import Attempt, Classification, Principal, RequestContext, Usage
from socle.pipeline.errors import RateLimited


def test_defaults() -> None:
    config = AuditConfig()
    assert (config.mode, config.replica_name, config.store_content) == ("sync", None, False)
    assert config.checkpoint_every == 1000 and config.commit_interval_ms == 0.0


def test_validation_names_the_key() -> None:
    with pytest.raises(ValidationError, match="replica_name"):
        AuditConfig(replica_name="bad name/with slash")
    with pytest.raises(ValidationError, match="mode"):
        AuditConfig(mode="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="Extra inputs"):
        AuditConfig(unknown=1)  # type: ignore[call-arg]


class Route:
    def to_audit(self) -> dict[str, object]:
        return {"strategy": "cost", "chosen": "mistral-onprem", "rejected": ["gpt-cloud"]}


def context() -> RequestContext:
    ctx = RequestContext(
        request_id="req_1",
        endpoint="chat.completions",
        body={"model": "chat", "user": "alice", "messages": [{"role": "user", "content": "hi"}]},
        headers={},
        model="chat",
    )
    ctx.principal = Principal(key_id="k1", org_id="o1", project_id="p1", team_id="t1")
    ctx.raise_classification(Classification.CONFIDENTIAL, "pii:iban")
    ctx.findings = [
        {"type": "iban", "action": "mask", "hash": "ab12", "span": [3, 30], "value": "FR76…"}
    ]
    ctx.route = Route()
    ctx.deployment, ctx.location = "mistral-onprem", "on_prem"
    ctx.attempts = [Attempt("mistral-onprem", "ok", 200, 12.5)]
    ctx.usage = Usage(prompt_tokens=10, completion_tokens=20)
    ctx.cost, ctx.energy_kwh, ctx.co2e_g = 0.0042, 0.0001, 0.005
    ctx.finish_reason = "stop"
    return ctx


def test_request_record() -> None:
    record = request_record(context(), "request")
    assert record["user"] == "alice" and record["project_id"] == "p1" and record["team_id"] == "t1"
    assert record["classification"] == "confidential"
    assert record["classification_reasons"] == ["pii:iban"]
    assert record["findings"] == [
        {"type": "iban", "action": "mask", "hash": "ab12", "span": [3, 30]}
    ]
    assert record["route"]["chosen"] == "mistral-onprem"
    assert record["attempts"][0]["latency_ms"] == 12.5
    assert record["usage"]["completion_tokens"] == 20 and record["cost"] == 0.0042
    assert record["status"] == 200 and record["error_code"] is None
    assert "messages" not in record and "hi" not in str(record)


def test_stream_records() -> None:
    ctx = context()
    start = request_record(ctx, KIND_STREAM_START)
    assert "usage" not in start and start["deployment"] == "mistral-onprem"
    ctx.finish_reason = None
    end = request_record(ctx, KIND_STREAM_END, RateLimited("slow down"))
    assert end["status"] == 429 and end["end_reason"] == end["error_code"]
