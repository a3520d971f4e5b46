"""The ``socle`` command: serve the gateway and operate it."""

from __future__ import annotations

import asyncio
import os
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel
from rich.table import Table

from socle import __version__
from socle.cli import audit, identity, usage
from socle.cli.common import (
    EXIT_USAGE,
    ConfigOption,
    console,
    errors,
    fail,
    settings_or_exit,
)
from socle.config import ConfigError, Settings, load_settings

app = typer.Typer(
    name="socle",
    help="Socle: the sovereign, hybrid AI gateway and control plane.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
config_app = typer.Typer(help="Configuration files.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
models_app = typer.Typer(help="The model catalog.", no_args_is_help=True)

app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(models_app, name="models")
app.add_typer(identity.orgs, name="orgs")
app.add_typer(identity.teams, name="teams")
app.add_typer(identity.projects, name="projects")
app.add_typer(identity.keys, name="keys")
app.add_typer(audit.app, name="audit")
app.add_typer(usage.app, name="usage")


def _version(value: bool) -> None:
    if value:
        console.print(f"socle {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Socle command line."""


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Listen address (server.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (server.port).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (server.workers).")] = None,
    home: Annotated[Path | None, typer.Option(help="Data directory (SOCLE_HOME).")] = None,
) -> None:
    """Start the gateway (SQLite and the simulator by default; no other service needed)."""
    import uvicorn

    from socle.runtime import prepare

    if home is not None:
        os.environ["SOCLE_HOME"] = str(home)
    if config is not None:
        os.environ["SOCLE_CONFIG"] = str(config.resolve())
    settings = settings_or_exit(config)
    server = settings.server.model_copy(
        update={k: v for k, v in {"host": host, "port": port, "workers": workers}.items() if v}
    )
    if server.workers > 1 and settings.accounting.backend == "memory":
        errors.print(
            "[yellow]warning:[/] accounting.backend is 'memory': with several workers each one "
            "keeps its own budget and rate-limit counters; use the redis backend to share them."
        )
    bootstrap = asyncio.run(prepare(settings))
    if bootstrap.admin_key is not None:
        _show_bootstrap_key(bootstrap.admin_key, settings)
    console.print(
        f"Socle {__version__} listening on http://{server.host}:{server.port} "
        f"(database: {settings.effective_database_url.split('://')[0]}, "
        f"workers: {server.workers})",
        highlight=False,
    )
    uvicorn.run(
        "socle.app:create_app",
        factory=True,
        host=server.host,
        port=server.port,
        workers=server.workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=10,
    )


def _show_bootstrap_key(key: str, settings: Settings) -> None:
    if settings.bootstrap_admin_key is not None:
        console.print("Created the bootstrap admin key from SOCLE_BOOTSTRAP_ADMIN_KEY.")
        return
    console.print(
        Panel(
            f"[bold]{key}[/]\n\nThis admin key is shown [bold]once[/]. Store it now: "
            "it is never printed or logged again.",
            title="Bootstrap admin key",
            border_style="yellow",
        ),
        highlight=False,
    )


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the file.")] = Path("socle.yaml"),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example socle.yaml."""
    if path.exists() and not force:
        raise fail(f"{path} already exists (use --force to overwrite)", EXIT_USAGE)
    text = resources.files("socle").joinpath("example.yaml").read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    console.print(f"wrote {path}; check it with: socle config check --config {path}")


@config_app.command("check")
def config_check(config: ConfigOption = None) -> None:
    """Validate the configuration without starting anything."""
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    catalog = settings.routing.catalog()
    console.print(
        f"[green]configuration is valid[/]: {len(catalog.models)} models, "
        f"{len(catalog.deployments())} deployments, database "
        f"{settings.effective_database_url.split('://')[0]}",
        highlight=False,
    )


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Apply pending schema migrations."""
    from socle.store import migrate
    from socle.store.database import Database

    settings = settings_or_exit(config)

    async def go() -> str | None:
        settings.home.mkdir(parents=True, exist_ok=True)
        database = Database(settings.effective_database_url)
        try:
            await migrate.upgrade(database)
            return await migrate.current_revision(database)
        finally:
            await database.dispose()

    console.print(f"schema at revision {asyncio.run(go())}")


@models_app.command("list")
def models_list(config: ConfigOption = None) -> None:
    """List the logical models and their deployments."""
    settings = settings_or_exit(config)
    table = Table(title="Models")
    for column in ("model", "kind", "deployment", "provider", "upstream", "location", "max class."):
        table.add_column(column)
    for model in settings.routing.catalog().models.values():
        for deployment in model.deployments:
            table.add_row(
                model.name,
                model.kind,
                deployment.id,
                deployment.endpoint.provider,
                deployment.endpoint.upstream_model,
                deployment.location,
                deployment.max_classification.label,
            )
    console.print(table)


def run() -> None:
    app()
