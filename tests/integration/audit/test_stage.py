"""The audit stage inside the real pipeline runner: durable before the response, streams twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from socle.audit.log import AuditLog
from socle.pipeline.context import Principal, RequestContext
from socle.pipeline.errors import ContentPolicyViolation, GatewayError, UpstreamError
from socle.pipeline.runner import Pipeline
from socle.pipeline.stage import Chunk, Stage
from socle.store.database import Database
from tests.integration.audit.support import rows, running_audit

ANSWER = "Bonjour, voici la réponse."


class Upstream:
    """A scripted upstream (the dispatcher the routing stage would provide)."""

    def __init__(self, db: Database, fail: GatewayError | None = None) -> None:
        self.db = db
        self.fail = fail
        self.records_seen_at_first_chunk: int | None = None

    async def chat(self, ctx: RequestContext) -> dict[str, Any]:
        if self.fail is not None:
            raise self.fail
        ctx.deployment, ctx.location = "sim-1", "on_prem"
        message = {"role": "assistant", "content": ANSWER}
        return {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}

    async def embeddings(self, ctx: RequestContext) -> dict[str, Any]:
        return {"data": []}

    async def chat_stream(self, ctx: RequestContext) -> AsyncIterator[Chunk]:
        ctx.deployment = "sim-1"
        for part in ANSWER.split(" "):
            yield {"choices": [{"index": 0, "delta": {"content": part + " "}}]}
        # As upstreams do: the finish reason comes in the last chunk, not in the context.
        yield {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}


def context(stream: bool = False, store: bool = False) -> RequestContext:
    ctx = RequestContext(
        request_id=f"req_{'s' if stream else 'n'}{'c' if store else ''}",
        endpoint="chat.completions",
        body={"model": "chat", "user": "alice", "messages": [{"role": "user", "content": "Salut"}]},
        headers={},
        model="chat",
        stream=stream,
    )
    ctx.principal = Principal(key_id="k1", org_id="o1", project_id="p1")
    ctx.project_settings = {"audit": {"store_content": store}}
    return ctx


async def bodies(db: Database) -> list[dict[str, Any]]:
    return [
        orjson.loads(r.body) for r in await rows(db, "SELECT body FROM audit_records ORDER BY seq")
    ]


@pytest.fixture
async def audit(db: Database, tmp_path: Path) -> AsyncIterator[AuditLog]:
    async with running_audit(db, tmp_path) as log:
        yield log


async def test_record_committed_before_the_response(audit: AuditLog, db: Database) -> None:
    pipeline = Pipeline([audit.stage], Upstream(db))
    response = await pipeline.run(context())
    # run() has returned, so the API could answer now: the record must already be in the table.
    (record,) = await bodies(db)
    assert response["choices"][0]["message"]["content"] == ANSWER
    assert record["kind"] == "request" and record["request_id"] == "req_n"
    assert record["deployment"] == "sim-1" and record["status"] == 200
    assert record["finish_reason"] == "stop"
    assert "content" not in record
    assert ANSWER not in str(record) and "Salut" not in str(record)


async def test_content_kept_encrypted_when_the_project_says_so(
    audit: AuditLog, db: Database
) -> None:
    await Pipeline([audit.stage], Upstream(db)).run(context(store=True))
    (row,) = await rows(db, "SELECT seq, content FROM audit_records")
    assert row.content is not None and b"Salut" not in bytes(row.content)
    content = await audit.read_content(audit.chain or "", row.seq)
    assert content == {
        "prompt": [{"role": "user", "content": "Salut"}],
        "answer": [{"role": "assistant", "content": ANSWER}],
    }


async def test_failed_request_is_recorded(audit: AuditLog, db: Database) -> None:
    pipeline = Pipeline([audit.stage], Upstream(db, fail=UpstreamError("boom")))
    with pytest.raises(UpstreamError):
        await pipeline.run(context())
    (record,) = await bodies(db)
    assert record["status"] == UpstreamError.status and record["error_code"] == UpstreamError.code


async def test_stream_start_is_durable_before_the_first_byte(audit: AuditLog, db: Database) -> None:
    pipeline = Pipeline([audit.stage], Upstream(db))
    events = await pipeline.open_stream(context(stream=True, store=True))
    # open_stream pulled the first chunk: the start record is committed before any byte is sent.
    (start,) = await bodies(db)
    assert start["kind"] == "stream_start" and start["deployment"] == "sim-1"
    sent = [event async for event in events]
    assert sent[-1] == b"data: [DONE]\n\n"
    _first, end = await bodies(db)
    assert end["kind"] == "stream_end" and end["end_reason"] == "stop"
    content = await audit.read_content(audit.chain or "", 2)
    assert content is not None
    assert content["answer"] == [{"role": "assistant", "content": ANSWER + " "}]


async def test_stream_cut_by_the_client(audit: AuditLog, db: Database) -> None:
    pipeline = Pipeline([audit.stage], Upstream(db))
    events = await pipeline.open_stream(context(stream=True))
    await anext(events)
    await events.aclose()  # type: ignore[attr-defined]
    _start, end = await bodies(db)
    assert end["kind"] == "stream_end"
    assert end["end_reason"] == "client_disconnected" and end["status"] == 499


class Refuse(Stage):
    name = "guard"

    async def before_call(self, ctx: RequestContext) -> None:
        ctx.findings.append({"type": "iban", "action": "block", "hash": "h1", "value": "FR76"})
        raise ContentPolicyViolation("blocked by policy")


async def test_refused_request_is_recorded_by_the_front_stage(
    audit: AuditLog, db: Database
) -> None:
    stages = [audit.refusal_stage, Refuse(), audit.stage]
    with pytest.raises(ContentPolicyViolation):
        await Pipeline(stages, Upstream(db)).run(context())
    (record,) = await bodies(db)
    assert record["status"] == 400 and record["error_code"] == "content_policy_violation"
    assert record["findings"] == [{"type": "iban", "action": "block", "hash": "h1"}]
    # A request that reaches the audit stage is recorded once, by the audit stage.
    await Pipeline(stages[:1] + stages[2:], Upstream(db)).run(context())
    assert len(await bodies(db)) == 2
