"""Shared helpers of the CLI: loading settings, running coroutines, exit codes, output."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from socle.config import ConfigError, Settings, load_settings
from socle.identity.errors import ConflictError, IdentityError, NotFoundError
from socle.identity.service import IdentityService
from socle.store import migrate
from socle.store.database import Database

T = TypeVar("T")

console = Console()
errors = Console(stderr=True)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_CONFLICT = 4

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Path to socle.yaml (default: $SOCLE_CONFIG or ./socle.yaml)."
    ),
]
FormatOption = Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")]


def fail(message: str, code: int = EXIT_FAILURE) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def settings_or_exit(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        raise fail(str(exc), EXIT_USAGE) from None


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine, turning identity errors into CLI messages and exit codes."""
    try:
        return asyncio.run(coro)
    except NotFoundError as exc:
        raise fail(str(exc), EXIT_NOT_FOUND) from None
    except ConflictError as exc:
        raise fail(str(exc), EXIT_CONFLICT) from None
    except IdentityError as exc:
        raise fail(str(exc), EXIT_USAGE) from None


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli:unknown"


@asynccontextmanager
async def identity_service(settings: Settings) -> AsyncIterator[IdentityService]:
    """The identity service on an up-to-date schema (the CLI may run before the first serve)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    database = Database(settings.effective_database_url)
    try:
        await migrate.upgrade(database)
        yield IdentityService(database, settings.instance_secret())
    finally:
        await database.dispose()
