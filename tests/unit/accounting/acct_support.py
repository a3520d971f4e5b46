"""Builders shared by the accounting tests: deployments, callers, contexts, a simulated call.

Imported as ``tests.unit.accounting.acct_support`` from both the unit and integration suites.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete

from socle.accounting.config import AccountingConfig
from socle.accounting.stage import AccountingStage
from socle.pipeline.context import Principal, RequestContext, Usage
from socle.pipeline.errors import GatewayError
from socle.routing.catalog import Deployment
from socle.store import migrate
from socle.store.base import Base
from socle.store.database import Database
from socle.store.models.accounting import ACCOUNTING_TABLES

PROMPT = "Résume ce contrat de prestation en trois points, sans données personnelles."


def deployment(
    deployment_id: str = "dep-a",
    *,
    input_per_mtok: float = 1.0,
    output_per_mtok: float = 2.0,
    location: str = "sovereign_cloud",
    jurisdiction: str = "FR",
    upstream_model: str | None = None,
    active_params_b: float | None = 24.0,
    pricing: dict[str, Any] | None = None,
) -> Deployment:
    """A simulator deployment with integer nano prices per token by default (1000 / 2000)."""
    return Deployment.model_validate(
        {
            "id": deployment_id,
            "endpoint": {
                "provider": "simulator",
                "upstream_model": upstream_model or deployment_id,
            },
            "location": location,
            "jurisdiction": jurisdiction,
            "pricing": pricing
            if pricing is not None
            else {"input_per_mtok": input_per_mtok, "output_per_mtok": output_per_mtok},
            "active_params_b": active_params_b,
        }
    )


def principal(
    key_id: str = "k1", project_id: str = "p1", team_id: str | None = "t1", org_id: str = "o1"
) -> Principal:
    return Principal(key_id=key_id, org_id=org_id, project_id=project_id, team_id=team_id)


@dataclass
class Route:
    """What the routing stage puts in ``ctx.route`` (only ``candidates`` is read)."""

    candidates: list[Deployment]


def context(
    *,
    who: Principal | None = None,
    candidates: list[Deployment] | None = None,
    body: dict[str, Any] | None = None,
    endpoint: str = "chat.completions",
    settings: dict[str, Any] | None = None,
    max_tokens: int | None = 100,
) -> RequestContext:
    if body is None:
        body = {"model": "chat", "messages": [{"role": "user", "content": PROMPT}]}
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
    ctx = RequestContext(
        request_id="req_test",
        endpoint=endpoint,
        body=body,
        headers={},
        model=str(body.get("model", "chat")),
    )
    ctx.principal = who or principal()
    ctx.project_settings = settings or {}
    ctx.route = Route(candidates if candidates is not None else [deployment()])
    return ctx


def chat_response(text: str, usage: dict[str, int] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}],
    }
    if usage is not None:
        response["usage"] = usage
    return response


@dataclass
class Outcome:
    status: str  # "ok", or the error code
    cost: float | None
    headers: dict[str, str]
    error: GatewayError | None = None


async def call(
    stage: AccountingStage,
    ctx: RequestContext,
    *,
    completion_tokens: int | None = None,
    upstream_delay: float = 0.0,
    fail: GatewayError | None = None,
) -> Outcome:
    """Run the stage hooks around a simulated upstream call, as the pipeline runner does."""
    error: GatewayError | None = None
    try:
        await stage.before_call(ctx)
        if upstream_delay:
            await asyncio.sleep(upstream_delay)
        if fail is not None:
            raise fail
        deployment_ = ctx.route.candidates[0]
        ctx.deployment = deployment_.id
        ctx.upstream_model = deployment_.endpoint.upstream_model
        ctx.location = deployment_.location
        if completion_tokens is not None:
            ctx.usage = Usage(
                prompt_tokens=stage_prompt_estimate(ctx), completion_tokens=completion_tokens
            )
        await stage.on_response(ctx, chat_response("D'accord."))
    except GatewayError as exc:
        error = exc
    finally:
        await stage.finish(ctx, error)
    if error is not None:
        return Outcome(str(error.code), ctx.cost, dict(error.headers), error)
    return Outcome("ok", ctx.cost, dict(ctx.response_headers))


def stage_prompt_estimate(ctx: RequestContext) -> int:
    ticket = ctx.reservation
    return int(getattr(ticket, "prompt_estimate", 0))


def config(**overrides: Any) -> AccountingConfig:
    """A configuration with no drift monitor and a quick flusher, plus ``overrides``."""
    data: dict[str, Any] = {
        "flush_interval_seconds": 0.2,
        "alerts": {"drift_enabled": False},
    }
    data.update(overrides)
    return AccountingConfig.model_validate(data)


async def create_tables(database: Database) -> None:
    """Migrate the schema (the migrations create the accounting tables), then empty them.

    ``create_all`` afterwards only adds accounting tables a migration does not have yet.
    """
    await migrate.upgrade(database)
    tables = [model.__table__ for model in ACCOUNTING_TABLES]
    async with database.engine.begin() as conn:
        await conn.run_sync(lambda sync: Base.metadata.create_all(sync, tables=tables))
    async with database.session() as session:
        for model in ACCOUNTING_TABLES:
            await session.execute(delete(model))


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'acct.db'}"
