"""``socle orgs|teams|projects|keys`` commands."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich.table import Table

from socle.cli.common import (
    EXIT_USAGE,
    ConfigOption,
    FormatOption,
    console,
    fail,
    identity_service,
    run,
    settings_or_exit,
)
from socle.identity.service import IdentityService

T = TypeVar("T")

orgs = typer.Typer(help="Organisations.", no_args_is_help=True)
teams = typer.Typer(help="Teams.", no_args_is_help=True)
projects = typer.Typer(help="Projects.", no_args_is_help=True)
keys = typer.Typer(help="API keys.", no_args_is_help=True)


def render(rows: Sequence[dict[str, Any]], columns: list[str], fmt: str, title: str) -> None:
    """Print rows as a rich table, JSON or CSV."""
    if fmt == "json":
        console.print_json(orjson.dumps(list(rows), default=str).decode())
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        console.print(buffer.getvalue(), end="", highlight=False, markup=False)
    elif fmt == "table":
        table = Table(title=title)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
        console.print(table)
    else:
        raise fail(f"unknown format {fmt!r} (expected table, json or csv)", EXIT_USAGE)


def with_identity(config: Path | None, action: Callable[[IdentityService], Awaitable[T]]) -> T:
    """Run one identity operation on the configured database and return its result."""
    settings = settings_or_exit(config)

    async def go() -> T:
        async with identity_service(settings) as identity:
            return await action(identity)

    return run(go())


def parse_expiry(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise fail(f"--expires {text!r} is not an ISO 8601 date or time", EXIT_USAGE) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _fields(row: Any, names: list[str]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}


@orgs.command("create")
def orgs_create(name: str, config: ConfigOption = None) -> None:
    """Create an organisation."""
    row = with_identity(config, lambda identity: identity.create_org(name))
    console.print(f"created organisation [bold]{row.name}[/] ({row.id})")


@orgs.command("list")
def orgs_list(config: ConfigOption = None, fmt: FormatOption = "table") -> None:
    """List organisations."""
    rows = with_identity(config, lambda identity: identity.list_orgs())
    columns = ["id", "name", "created_at"]
    render([_fields(r, columns) for r in rows], columns, fmt, "Organisations")


@teams.command("create")
def teams_create(
    name: str,
    org: Annotated[str, typer.Option(help="Organisation id or name.")] = "default",
    config: ConfigOption = None,
) -> None:
    """Create a team in an organisation."""
    row = with_identity(config, lambda identity: identity.create_team(org, name))
    console.print(f"created team [bold]{row.name}[/] ({row.id})")


@teams.command("list")
def teams_list(
    org: Annotated[str | None, typer.Option(help="Organisation id or name.")] = None,
    config: ConfigOption = None,
    fmt: FormatOption = "table",
) -> None:
    """List teams."""
    rows = with_identity(config, lambda identity: identity.list_teams(org))
    columns = ["id", "org_id", "name", "created_at"]
    render([_fields(r, columns) for r in rows], columns, fmt, "Teams")


@projects.command("create")
def projects_create(
    name: str,
    org: Annotated[str, typer.Option(help="Organisation id or name.")] = "default",
    team: Annotated[str | None, typer.Option(help="Team id or name.")] = None,
    settings_json: Annotated[
        str | None, typer.Option("--settings", help="Project settings as a JSON object.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Create a project (keys are scoped to a project)."""
    project_settings: dict[str, Any] = {}
    if settings_json:
        try:
            project_settings = orjson.loads(settings_json)
        except orjson.JSONDecodeError as exc:
            raise fail(f"--settings is not valid JSON: {exc}", EXIT_USAGE) from None
        if not isinstance(project_settings, dict):
            raise fail("--settings must be a JSON object", EXIT_USAGE)

    row = with_identity(
        config,
        lambda identity: identity.create_project(org, name, team=team, settings=project_settings),
    )
    console.print(f"created project [bold]{row.name}[/] ({row.id})")


@projects.command("list")
def projects_list(
    org: Annotated[str | None, typer.Option(help="Organisation id or name.")] = None,
    config: ConfigOption = None,
    fmt: FormatOption = "table",
) -> None:
    """List projects."""
    rows = with_identity(config, lambda identity: identity.list_projects(org))
    columns = ["id", "org_id", "team_id", "name", "created_at"]
    render([_fields(r, columns) for r in rows], columns, fmt, "Projects")


@keys.command("create")
def keys_create(
    name: str,
    project: Annotated[str, typer.Option(help="Project id or name.")] = "default",
    role: Annotated[str, typer.Option(help="admin, auditor, owner or member.")] = "member",
    model: Annotated[
        list[str] | None, typer.Option("--model", "-m", help="Allowed model (repeatable).")
    ] = None,
    expires: Annotated[
        str | None,
        typer.Option(
            help="Expiry, ISO 8601 (e.g. 2027-01-31 or 2027-01-31T12:00:00+01:00; UTC if no zone)."
        ),
    ] = None,
    ip: Annotated[
        list[str] | None, typer.Option("--ip", help="Allowed client network (repeatable).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Create an API key; the key is printed once and cannot be shown again."""
    expires_at = parse_expiry(expires) if expires else None
    created = with_identity(
        config,
        lambda identity: identity.create_key(
            project,
            name,
            role=role,
            allowed_models=model or None,
            expires_at=expires_at,
            ip_allowlist=ip or None,
            created_by="cli",
        ),
    )
    console.print(f"created key [bold]{created.row.id}[/] ({created.row.prefix}…)", highlight=False)
    console.print("Store this key now; it will not be shown again:", style="yellow")
    print(created.plaintext)


@keys.command("list")
def keys_list(
    project: Annotated[str | None, typer.Option(help="Project id or name.")] = None,
    config: ConfigOption = None,
    fmt: FormatOption = "table",
) -> None:
    """List keys (prefixes only, never the secrets)."""
    rows = with_identity(config, lambda identity: identity.list_keys(project))
    columns = [
        "id",
        "name",
        "project_id",
        "role",
        "prefix",
        "allowed_models",
        "expires_at",
        "revoked_at",
    ]
    render([_fields(r, columns) for r in rows], columns, fmt, "API keys")


@keys.command("revoke")
def keys_revoke(key_id: str, config: ConfigOption = None) -> None:
    """Revoke a key; every replica refuses it within two seconds."""
    row = with_identity(config, lambda identity: identity.revoke_key(key_id))
    console.print(f"revoked key [bold]{row.id}[/] ({row.prefix}…)", highlight=False)
