"""Organisations, teams, projects, users and keys under /admin/v1.

Identity errors (not found, conflict, invalid value) become OpenAI-style errors in
:mod:`socle.api.errors`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request

from socle.api.admin.deps import gateway, require
from socle.api.admin.schemas import (
    CreatedKeyOut,
    KeyIn,
    KeyOut,
    OrgIn,
    OrgOut,
    ProjectIn,
    ProjectOut,
    ProjectSettingsIn,
    TeamIn,
    TeamOut,
    UserIn,
    UserOut,
)
from socle.identity.roles import Permission, Role
from socle.pipeline.context import Principal
from socle.pipeline.errors import PermissionDenied

router = APIRouter()

Reader = Annotated[Principal, Depends(require(Permission.READ_ORG))]
Writer = Annotated[Principal, Depends(require(Permission.WRITE_ORG))]
KeyManager = Annotated[
    Principal, Depends(require(Permission.WRITE_ORG, Permission.MANAGE_OWN_PROJECT))
]


@router.get("/orgs", response_model=list[OrgOut], summary="List organisations")
async def list_orgs(request: Request, _: Reader) -> list[OrgOut]:
    rows = await gateway(request).identity.list_orgs()
    return [OrgOut.model_validate(r) for r in rows]


@router.post("/orgs", response_model=OrgOut, status_code=201, summary="Create an organisation")
async def create_org(body: OrgIn, request: Request, who: Writer) -> OrgOut:
    gw = gateway(request)
    row = await gw.identity.create_org(body.name)
    await gw.record_admin(who, "org.create", row.id, {"name": row.name})
    return OrgOut.model_validate(row)


@router.get("/teams", response_model=list[TeamOut], summary="List teams")
async def list_teams(request: Request, _: Reader, org: str | None = None) -> list[TeamOut]:
    rows = await gateway(request).identity.list_teams(org)
    return [TeamOut.model_validate(r) for r in rows]


@router.post("/teams", response_model=TeamOut, status_code=201, summary="Create a team")
async def create_team(body: TeamIn, request: Request, who: Writer) -> TeamOut:
    gw = gateway(request)
    row = await gw.identity.create_team(body.org, body.name)
    await gw.record_admin(who, "team.create", row.id, {"name": row.name, "org_id": row.org_id})
    return TeamOut.model_validate(row)


@router.get("/projects", response_model=list[ProjectOut], summary="List projects")
async def list_projects(request: Request, _: Reader, org: str | None = None) -> list[ProjectOut]:
    rows = await gateway(request).identity.list_projects(org)
    return [ProjectOut.model_validate(r) for r in rows]


@router.post("/projects", response_model=ProjectOut, status_code=201, summary="Create a project")
async def create_project(body: ProjectIn, request: Request, who: Writer) -> ProjectOut:
    gw = gateway(request)
    row = await gw.identity.create_project(
        body.org, body.name, team=body.team, settings=body.settings
    )
    await gw.record_admin(
        who, "project.create", row.id, {"name": row.name, "settings": row.settings}
    )
    return ProjectOut.model_validate(row)


@router.get("/projects/{project}", response_model=ProjectOut, summary="Show a project")
async def get_project(project: str, request: Request, who: KeyManager) -> ProjectOut:
    row = await gateway(request).identity.get_project(project)
    _check_scope(who, row.id)
    return ProjectOut.model_validate(row)


@router.put(
    "/projects/{project}/settings", response_model=ProjectOut, summary="Replace project settings"
)
async def put_project_settings(
    project: str, body: ProjectSettingsIn, request: Request, who: KeyManager
) -> ProjectOut:
    gw = gateway(request)
    current = await gw.identity.get_project(project)
    _check_scope(who, current.id)
    row = await gw.identity.update_project_settings(current.id, body.settings)
    await gw.record_admin(who, "project.settings", row.id, {"settings": body.settings})
    return ProjectOut.model_validate(row)


@router.get("/users", response_model=list[UserOut], summary="List users")
async def list_users(request: Request, _: Reader, org: str | None = None) -> list[UserOut]:
    rows = await gateway(request).identity.list_users(org)
    return [UserOut.model_validate(r) for r in rows]


@router.post("/users", response_model=UserOut, status_code=201, summary="Create a user")
async def create_user(body: UserIn, request: Request, who: Writer) -> UserOut:
    gw = gateway(request)
    row = await gw.identity.create_user(body.org, body.email, name=body.name, role=body.role)
    await gw.record_admin(who, "user.create", row.id, {"org_id": row.org_id, "role": row.role})
    return UserOut.model_validate(row)


@router.get("/keys", response_model=list[KeyOut], summary="List API keys (never the secrets)")
async def list_keys(request: Request, who: KeyManager, project: str | None = None) -> list[KeyOut]:
    if who.role != Role.ADMIN:
        project = who.project_id
    rows = await gateway(request).identity.list_keys(project)
    return [KeyOut.model_validate(r) for r in rows]


@router.post("/keys", response_model=CreatedKeyOut, status_code=201, summary="Create an API key")
async def create_key(body: KeyIn, request: Request, who: KeyManager) -> CreatedKeyOut:
    gw = gateway(request)
    if who.role != Role.ADMIN:
        project = await gw.identity.get_project(body.project)
        _check_scope(who, project.id)
        if body.role not in (Role.OWNER, Role.MEMBER):
            raise PermissionDenied("Project owners can create owner and member keys only.")
    created = await gw.identity.create_key(
        body.project,
        body.name,
        role=body.role,
        allowed_models=body.allowed_models,
        expires_at=body.expires_at,
        ip_allowlist=body.ip_allowlist,
        created_by=who.key_id,
        user=body.user,
    )
    row = created.row
    await gw.record_admin(
        who,
        "key.create",
        row.id,
        {"project_id": row.project_id, "role": row.role, "allowed_models": row.allowed_models},
    )
    return CreatedKeyOut(**KeyOut.model_validate(row).model_dump(), key=created.plaintext)


@router.post("/keys/{key_id}/revoke", response_model=KeyOut, summary="Revoke an API key")
async def revoke_key(key_id: str, request: Request, who: KeyManager) -> KeyOut:
    gw = gateway(request)
    current = await gw.identity.get_key(key_id)
    _check_scope(who, current.project_id)
    row = await gw.identity.revoke_key(key_id)
    gw.keys.clear()  # this replica at once; the others within the poll interval
    await gw.record_admin(who, "key.revoke", row.id, {"project_id": row.project_id})
    return KeyOut.model_validate(row)


def _check_scope(who: Principal, project_id: str) -> None:
    if who.role != Role.ADMIN and who.project_id != project_id:
        raise PermissionDenied("This key may only manage its own project.")
