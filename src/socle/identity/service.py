"""Create, list and change organisations, teams, projects, users and API keys.

Every change that could make a cached key stale bumps the identity revision in the same
transaction, so that all replicas drop their caches within one poll interval.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from socle.identity.errors import ConflictError, InvalidValueError, NotFoundError
from socle.identity.ids import new_id
from socle.identity.keys import display_prefix, generate_key, hash_key
from socle.identity.roles import Role
from socle.pipeline.context import Principal
from socle.store.database import Database
from socle.store.models.identity import (
    ApiKey,
    IdentityRevision,
    Organisation,
    Project,
    Team,
    User,
)

DEFAULT_ORG = "default"
DEFAULT_PROJECT = "default"


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@dataclass(slots=True, frozen=True)
class KeyRecord:
    """Everything the gateway needs to authenticate a key, loaded in one query and cached."""

    key_id: str
    role: str
    prefix: str
    project_id: str
    project_name: str
    project_settings: dict[str, Any]
    team_id: str | None
    org_id: str
    user_id: str | None
    allowed_models: frozenset[str] | None
    ip_allowlist: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] | None
    expires_at: datetime | None
    revoked_at: datetime | None
    principal: Principal = field(compare=False)

    @property
    def expires_ts(self) -> float | None:
        return self.expires_at.timestamp() if self.expires_at is not None else None


@dataclass(slots=True, frozen=True)
class CreatedKey:
    """A new key: the stored row and the plaintext, which is shown once and never again."""

    row: ApiKey
    plaintext: str


def parse_networks(
    values: list[str] | None,
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] | None:
    if values is None:
        return None
    try:
        return tuple(ipaddress.ip_network(v, strict=False) for v in values)
    except ValueError as exc:
        raise InvalidValueError(f"invalid IP network in allow-list: {exc}") from None


class IdentityService:
    """Identity operations over the database. Safe to share; holds no per-request state."""

    def __init__(self, database: Database, secret: bytes) -> None:
        self.database = database
        self.secret = secret

    # -- revision -------------------------------------------------------------------------

    async def _bump(self, session: AsyncSession) -> None:
        result = await session.execute(
            update(IdentityRevision)
            .where(IdentityRevision.id == 1)
            .values(value=IdentityRevision.value + 1)
        )
        if getattr(result, "rowcount", 0) == 0:
            session.add(IdentityRevision(id=1, value=1))

    async def revision(self) -> int:
        async with self.database.session() as session:
            value = await session.scalar(
                select(IdentityRevision.value).where(IdentityRevision.id == 1)
            )
        return int(value or 0)

    # -- resolution by id or name ------------------------------------------------------------

    async def _org(self, session: AsyncSession, ref: str) -> Organisation:
        row = await session.scalar(
            select(Organisation).where((Organisation.id == ref) | (Organisation.name == ref))
        )
        if row is None:
            raise NotFoundError(f"organisation {ref!r} not found")
        return row

    async def _team(self, session: AsyncSession, org_id: str, ref: str) -> Team:
        row = await session.scalar(
            select(Team).where(Team.org_id == org_id, (Team.id == ref) | (Team.name == ref))
        )
        if row is None:
            raise NotFoundError(f"team {ref!r} not found")
        return row

    async def _project(self, session: AsyncSession, ref: str, org_id: str | None = None) -> Project:
        query = select(Project).where((Project.id == ref) | (Project.name == ref))
        if org_id is not None:
            query = query.where(Project.org_id == org_id)
        rows = list(await session.scalars(query))
        if not rows:
            raise NotFoundError(f"project {ref!r} not found")
        if len(rows) > 1:
            raise InvalidValueError(f"project name {ref!r} is ambiguous: give its id or --org")
        return rows[0]

    # -- organisations, teams, projects, users ---------------------------------------------

    async def create_org(self, name: str) -> Organisation:
        org = Organisation(id=new_id("org"), name=_name(name), created_at=utcnow())
        async with self._writing(f"organisation {name!r} already exists") as session:
            session.add(org)
        return org

    async def list_orgs(self) -> list[Organisation]:
        async with self.database.session() as session:
            return list(await session.scalars(select(Organisation).order_by(Organisation.name)))

    async def create_team(self, org: str, name: str) -> Team:
        async with self._writing(f"team {name!r} already exists") as session:
            org_row = await self._org(session, org)
            team = Team(id=new_id("team"), org_id=org_row.id, name=_name(name), created_at=utcnow())
            session.add(team)
        return team

    async def list_teams(self, org: str | None = None) -> list[Team]:
        async with self.database.session() as session:
            query = select(Team).order_by(Team.name)
            if org is not None:
                query = query.where(Team.org_id == (await self._org(session, org)).id)
            return list(await session.scalars(query))

    async def create_project(
        self,
        org: str,
        name: str,
        *,
        team: str | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Project:
        async with self._writing(f"project {name!r} already exists") as session:
            org_row = await self._org(session, org)
            team_id = (await self._team(session, org_row.id, team)).id if team else None
            project = Project(
                id=new_id("proj"),
                org_id=org_row.id,
                team_id=team_id,
                name=_name(name),
                settings=settings or {},
                created_at=utcnow(),
            )
            session.add(project)
        return project

    async def list_projects(self, org: str | None = None) -> list[Project]:
        async with self.database.session() as session:
            query = select(Project).order_by(Project.name)
            if org is not None:
                query = query.where(Project.org_id == (await self._org(session, org)).id)
            return list(await session.scalars(query))

    async def get_project(self, ref: str) -> Project:
        async with self.database.session() as session:
            return await self._project(session, ref)

    async def update_project_settings(self, ref: str, settings: dict[str, Any]) -> Project:
        async with self.database.session() as session:
            project = await self._project(session, ref)
            project.settings = settings
            await self._bump(session)
        return project

    async def create_user(
        self, org: str, email: str, *, name: str = "", role: str = "member"
    ) -> User:
        _role(role)
        async with self._writing(f"user {email!r} already exists") as session:
            org_row = await self._org(session, org)
            user = User(
                id=new_id("user"),
                org_id=org_row.id,
                email=email.strip().lower(),
                name=name,
                role=role,
                created_at=utcnow(),
            )
            session.add(user)
        return user

    async def list_users(self, org: str | None = None) -> list[User]:
        async with self.database.session() as session:
            query = select(User).order_by(User.email)
            if org is not None:
                query = query.where(User.org_id == (await self._org(session, org)).id)
            return list(await session.scalars(query))

    # -- keys -------------------------------------------------------------------------------

    async def create_key(
        self,
        project: str,
        name: str,
        *,
        role: str = "member",
        allowed_models: list[str] | None = None,
        expires_at: datetime | None = None,
        ip_allowlist: list[str] | None = None,
        created_by: str | None = None,
        plaintext: str | None = None,
        user: str | None = None,
    ) -> CreatedKey:
        """Create a key scoped to ``project``. ``plaintext`` lets operators bring their own key."""
        _role(role)
        parse_networks(ip_allowlist)
        if expires_at is not None and as_utc(expires_at) <= utcnow():  # type: ignore[operator]
            raise InvalidValueError("expiry must be in the future")
        key = plaintext or generate_key()
        async with self._writing("key already exists") as session:
            project_row = await self._project(session, project)
            user_id = None
            if user is not None:
                user_row = await session.scalar(
                    select(User).where(
                        User.org_id == project_row.org_id,
                        (User.id == user) | (User.email == user.strip().lower()),
                    )
                )
                if user_row is None:
                    raise NotFoundError(f"user {user!r} not found in the project's organisation")
                user_id = user_row.id
            row = ApiKey(
                id=new_id("key"),
                project_id=project_row.id,
                user_id=user_id,
                name=_name(name),
                role=role,
                prefix=display_prefix(key),
                key_hash=hash_key(self.secret, key),
                allowed_models=sorted(set(allowed_models)) if allowed_models else None,
                ip_allowlist=ip_allowlist,
                expires_at=expires_at,
                created_at=utcnow(),
                created_by=created_by,
            )
            session.add(row)
            await self._bump(session)
        return CreatedKey(row=row, plaintext=key)

    async def list_keys(self, project: str | None = None) -> list[ApiKey]:
        async with self.database.session() as session:
            query = select(ApiKey).order_by(ApiKey.created_at)
            if project is not None:
                query = query.where(ApiKey.project_id == (await self._project(session, project)).id)
            return list(await session.scalars(query))

    async def get_key(self, key_id: str) -> ApiKey:
        async with self.database.session() as session:
            row = await session.get(ApiKey, key_id)
            if row is None:
                raise NotFoundError(f"key {key_id!r} not found")
            return row

    async def revoke_key(self, key_id: str) -> ApiKey:
        async with self.database.session() as session:
            row = await session.get(ApiKey, key_id)
            if row is None:
                raise NotFoundError(f"key {key_id!r} not found")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                await self._bump(session)
        return row

    async def count_admin_keys(self) -> int:
        async with self.database.session() as session:
            rows = await session.scalars(
                select(ApiKey.id).where(ApiKey.role == Role.ADMIN, ApiKey.revoked_at.is_(None))
            )
            return len(list(rows))

    async def load_key(self, key_hash: str) -> KeyRecord | None:
        """One query: the key with its project. ``None`` when no key has that hash."""
        async with self.database.session() as session:
            row = (
                await session.execute(
                    select(ApiKey, Project)
                    .join(Project, Project.id == ApiKey.project_id)
                    .where(ApiKey.key_hash == key_hash)
                )
            ).first()
        if row is None:
            return None
        key, project = row
        allowed_models = frozenset(key.allowed_models) if key.allowed_models else None
        return KeyRecord(
            key_id=key.id,
            role=key.role,
            prefix=key.prefix,
            project_id=project.id,
            project_name=project.name,
            project_settings=dict(project.settings or {}),
            team_id=project.team_id,
            org_id=project.org_id,
            user_id=key.user_id,
            allowed_models=allowed_models,
            ip_allowlist=parse_networks(key.ip_allowlist),
            expires_at=as_utc(key.expires_at),
            revoked_at=as_utc(key.revoked_at),
            principal=Principal(
                key_id=key.id,
                org_id=project.org_id,
                project_id=project.id,
                team_id=project.team_id,
                user_id=key.user_id,
                role=key.role,
                allowed_models=allowed_models,
                key_prefix=key.prefix,
            ),
        )

    # -- first start ------------------------------------------------------------------------

    async def ensure_defaults(self) -> Project:
        """Create the default organisation and project if the database has none."""
        async with self.database.session() as session:
            org = await session.scalar(select(Organisation).where(Organisation.name == DEFAULT_ORG))
            if org is None:
                org = Organisation(id=new_id("org"), name=DEFAULT_ORG, created_at=utcnow())
                session.add(org)
                await session.flush()
            project = await session.scalar(
                select(Project).where(Project.org_id == org.id, Project.name == DEFAULT_PROJECT)
            )
            if project is None:
                project = Project(
                    id=new_id("proj"),
                    org_id=org.id,
                    name=DEFAULT_PROJECT,
                    settings={},
                    created_at=utcnow(),
                )
                session.add(project)
            return project

    async def bootstrap_admin_key(self, plaintext: str | None = None) -> str | None:
        """Create the first admin key if there is none; returns its plaintext, else ``None``."""
        if await self.count_admin_keys() > 0:
            return None
        project = await self.ensure_defaults()
        created = await self.create_key(
            project.id, "bootstrap-admin", role=Role.ADMIN, plaintext=plaintext
        )
        return created.plaintext

    # -- helpers ----------------------------------------------------------------------------

    def _writing(self, conflict_message: str) -> _Writing:
        return _Writing(self, conflict_message)


class _Writing:
    """A write transaction that turns unique-constraint violations into ConflictError."""

    def __init__(self, service: IdentityService, conflict_message: str) -> None:
        self.service = service
        self.message = conflict_message
        self._cm: Any = None

    async def __aenter__(self) -> AsyncSession:
        self._cm = self.service.database.session()
        session: AsyncSession = await self._cm.__aenter__()
        return session

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        try:
            await self._cm.__aexit__(exc_type, exc, tb)
        except IntegrityError:
            raise ConflictError(self.message) from None
        if isinstance(exc, IntegrityError):
            raise ConflictError(self.message) from None
        return False


def _name(value: str) -> str:
    value = value.strip()
    if not value or len(value) > 200 or any(ord(c) < 32 for c in value):
        raise InvalidValueError("names must be 1 to 200 printable characters")
    return value


def _role(value: str) -> None:
    try:
        Role(value)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise InvalidValueError(f"unknown role {value!r} (expected one of {roles})") from None
