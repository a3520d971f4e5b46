"""Bodies and responses of the admin API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RoleName = Literal["admin", "auditor", "owner", "member"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class OrgIn(_In):
    name: str = Field(min_length=1, max_length=200)


class OrgOut(_Out):
    id: str
    name: str
    created_at: datetime


class TeamIn(_In):
    name: str = Field(min_length=1, max_length=200)
    org: str = Field("default", description="Organisation id or name.")


class TeamOut(_Out):
    id: str
    org_id: str
    name: str
    created_at: datetime


class ProjectIn(_In):
    name: str = Field(min_length=1, max_length=200)
    org: str = Field("default", description="Organisation id or name.")
    team: str | None = Field(None, description="Team id or name.")
    settings: dict[str, Any] = Field(default_factory=dict)


class ProjectOut(_Out):
    id: str
    org_id: str
    team_id: str | None
    name: str
    settings: dict[str, Any]
    created_at: datetime


class ProjectSettingsIn(_In):
    settings: dict[str, Any]


class KeyIn(_In):
    name: str = Field(min_length=1, max_length=200)
    project: str = Field(description="Project id or name.")
    user: str | None = Field(None, description="The user (id or email) the key belongs to.")
    role: RoleName = "member"
    allowed_models: list[str] | None = None
    expires_at: datetime | None = None
    ip_allowlist: list[str] | None = None


class KeyOut(_Out):
    id: str
    project_id: str
    user_id: str | None
    name: str
    role: str
    prefix: str
    allowed_models: list[str] | None
    ip_allowlist: list[str] | None
    expires_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


class CreatedKeyOut(KeyOut):
    key: str = Field(description="The secret key. Shown once; store it now.")


class UserIn(_In):
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str = Field("", max_length=200)
    role: RoleName = "member"
    org: str = Field("default", description="Organisation id or name.")


class UserOut(_Out):
    id: str
    org_id: str
    email: str
    name: str
    role: str
    created_at: datetime
