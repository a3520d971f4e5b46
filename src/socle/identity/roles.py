"""Roles and what each may do. Deny by default: an action not listed for a role is refused."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # everything in the organisation
    AUDITOR = "auditor"  # read-only: audit trail, usage, register; cannot call models
    OWNER = "owner"  # manages the keys and settings of its own project, calls models
    MEMBER = "member"  # calls models with its key, nothing else


class Permission(StrEnum):
    CALL_MODELS = "models:call"
    READ_ORG = "org:read"
    WRITE_ORG = "org:write"
    MANAGE_OWN_PROJECT = "project:manage"
    READ_AUDIT = "audit:read"
    WRITE_AUDIT = "audit:write"
    READ_USAGE = "usage:read"
    MANAGE_CATALOG = "catalog:write"


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.AUDITOR: frozenset({Permission.READ_AUDIT, Permission.READ_USAGE, Permission.READ_ORG}),
    Role.OWNER: frozenset(
        {Permission.CALL_MODELS, Permission.MANAGE_OWN_PROJECT, Permission.READ_USAGE}
    ),
    Role.MEMBER: frozenset({Permission.CALL_MODELS}),
}


def allowed(role: str, permission: Permission) -> bool:
    try:
        return permission in GRANTS[Role(role)]
    except ValueError:
        return False
