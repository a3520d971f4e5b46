"""Usage, budgets and the audit trail under /admin/v1 (auditors read, admins act)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request

from socle.accounting.report import GroupBy
from socle.api.admin.deps import gateway, require
from socle.audit.query import AuditQuery
from socle.identity.roles import Permission, Role
from socle.pipeline.context import Principal
from socle.pipeline.errors import InvalidRequest, NotFound

router = APIRouter()

UsageReader = Annotated[Principal, Depends(require(Permission.READ_USAGE))]
AuditReader = Annotated[Principal, Depends(require(Permission.READ_AUDIT))]
AuditWriter = Annotated[Principal, Depends(require(Permission.WRITE_AUDIT))]


@router.get("/usage", summary="Requests, tokens, cost, energy and carbon by a dimension")
async def usage(
    request: Request,
    who: UsageReader,
    by: GroupBy = "project",
    period: Annotated[
        str | None, Query(description="YYYY-MM, YYYY-MM-DD or FROM..TO; this month if unset")
    ] = None,
    org_id: str | None = None,
    team_id: str | None = None,
    project_id: str | None = None,
    key_id: str | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    if who.role == Role.OWNER:
        project_id = who.project_id  # owners see their own project only
    window = period or datetime.now(UTC).strftime("%Y-%m")
    try:
        rows = await gateway(request).accounting.usage_report(
            by,
            window,
            org_id=org_id,
            team_id=team_id,
            project_id=project_id,
            key_id=key_id,
            model=model,
        )
    except ValueError as exc:
        raise InvalidRequest(str(exc), param="period") from None
    return {"object": "list", "by": by, "period": window, "data": rows}


@router.get("/budgets", summary="Budgets: limit, spend, percent used and reset time")
async def budgets(request: Request, who: UsageReader) -> dict[str, Any]:
    rows = await gateway(request).accounting.budget_status()
    if who.role == Role.OWNER:
        rows = [r for r in rows if r.get("scope") == "project" and r.get("id") == who.project_id]
    return {"object": "list", "data": rows}


@router.get("/audit", summary="Audit records, newest first (content stays encrypted)")
async def audit_records(
    request: Request,
    _: AuditReader,
    since: datetime | None = None,
    until: datetime | None = None,
    project_id: str | None = None,
    key_id: str | None = None,
    model: str | None = None,
    status: int | None = None,
    request_id: str | None = None,
    kind: str | None = None,
    chain: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    try:
        query = AuditQuery(
            since=since,
            until=until,
            project_id=project_id,
            key_id=key_id,
            model=model,
            status=status,
            request_id=request_id,
            kind=kind,
            chain=chain,
            limit=limit,
            offset=offset,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InvalidRequest(f"Invalid value for '{field}': {first['msg']}.", param=field) from None
    rows = await gateway(request).audit.query(query)
    return {"object": "list", "data": rows}


@router.get("/audit/public-key", summary="The checkpoint signing public key (PEM)")
async def audit_public_key(request: Request, _: AuditReader) -> dict[str, Any]:
    pem = gateway(request).audit.public_key_pem()
    if pem is None:
        raise NotFound("audit signing is off (audit.mode: off)")
    return {"public_key_pem": pem}


@router.get("/audit/verify", summary="Verify every chain and checkpoint signature")
async def audit_verify(request: Request, _: AuditReader) -> dict[str, Any]:
    report = await gateway(request).audit.verify()
    return {
        "ok": report.ok,
        "records": report.records,
        "chains": [c.as_dict() for c in report.chains],
    }


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=256, description="The `user` or project id.")


@router.post("/audit/erasures", summary="GDPR erasure: destroy a subject's content key")
async def audit_erase(body: ErasureIn, request: Request, who: AuditWriter) -> dict[str, Any]:
    erased = await gateway(request).audit.erase_subject(body.subject, who.key_id)
    return {"subject": body.subject, "keys_destroyed": erased}
