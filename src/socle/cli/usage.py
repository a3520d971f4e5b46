"""``socle usage`` commands: showback reports and budget status from the database.

Exit codes: 0 success, 1 the database could not be read, 2 bad usage or configuration.
"""

from __future__ import annotations

import asyncio
import csv
import sys
from collections.abc import Coroutine
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich.table import Table

from socle.accounting.report import GROUPS, budget_status, parse_period, usage_report
from socle.cli.common import EXIT_FAILURE, EXIT_USAGE, ConfigOption, console, fail, settings_or_exit
from socle.store.database import Database

T = TypeVar("T")

app = typer.Typer(
    name="usage",
    help="Usage, cost and carbon reports (showback / chargeback) and budget status.",
    no_args_is_help=True,
)

FORMATS = ("table", "csv", "json")
_REPORT_COLUMNS = (
    ("requests", "Requests"),
    ("errors", "Errors"),
    ("prompt_tokens", "Prompt tok."),
    ("completion_tokens", "Compl. tok."),
    ("cost", "Cost"),
    ("energy_kwh", "kWh"),
    ("co2e_g", "gCO2e"),
    ("mean_temperature", "Mean temp."),
)
_BUDGET_COLUMNS = (
    ("scope", "Scope"),
    ("scope_id", "Id"),
    ("period_key", "Period"),
    ("mode", "Mode"),
    ("limit", "Limit"),
    ("spent", "Spent"),
    ("percent", "%"),
    ("resets_at", "Resets at"),
)

ByOption = Annotated[
    str, typer.Option("--by", "-b", help=f"Group by: {', '.join(GROUPS)}.", show_default=True)
]
PeriodOption = Annotated[
    str,
    typer.Option(
        "--period",
        "-p",
        help="YYYY, YYYY-MM, YYYY-MM-DD, FROM..TO (inclusive), today or month.",
        show_default=True,
    ),
]
OutputOption = Annotated[
    str, typer.Option("--format", "-f", help="table, csv or json.", show_default=True)
]


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coro)
    except ValueError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    except Exception as exc:  # the database is unreachable or not migrated
        raise fail(f"cannot read usage from the database: {exc}", EXIT_FAILURE) from None


async def _with_database(url: str, work: Any) -> Any:
    database = Database(url)
    try:
        return await work(database)
    finally:
        await database.dispose()


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 1:
            return f"{value:,.2f}"
        return f"{value:.9f}".rstrip("0")
    return str(value)


def _emit(rows: list[dict[str, Any]], output: str, title: str, columns: Any, first: str) -> None:
    if output == "json":
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    if output == "csv":
        if rows:
            writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return
    table = Table(title=title)
    table.add_column(first.capitalize() if first else "", style="bold", overflow="fold")
    for _, label in columns:
        table.add_column(label, justify="right", overflow="fold")
    for row in rows:
        table.add_row(_cell(row.get(first)) or "(none)", *(_cell(row[k]) for k, _ in columns))
    console.print(table)


@app.command("report")
def report(
    by: ByOption = "project",
    period: PeriodOption = "month",
    output: OutputOption = "table",
    org: Annotated[str | None, typer.Option(help="Only this organisation id.")] = None,
    team: Annotated[str | None, typer.Option(help="Only this team id.")] = None,
    project: Annotated[str | None, typer.Option(help="Only this project id.")] = None,
    key: Annotated[str | None, typer.Option(help="Only this API key id.")] = None,
    model: Annotated[str | None, typer.Option(help="Only this model name.")] = None,
    config: ConfigOption = None,
) -> None:
    """Requests, tokens, cost, energy, emissions, errors and mean temperature per group."""
    if by not in GROUPS:
        raise fail(f"--by must be one of {', '.join(GROUPS)}", EXIT_USAGE)
    if output not in FORMATS:
        raise fail("--format must be table, csv or json", EXIT_USAGE)
    try:
        window = parse_period(period)
    except ValueError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    settings = settings_or_exit(config)
    currency = settings.accounting.currency

    async def work(database: Database) -> list[dict[str, Any]]:
        return await usage_report(
            database,
            by,
            window,
            org_id=org,
            team_id=team,
            project_id=project,
            key_id=key,
            model=model,
            currency=currency,
        )

    rows = _run(_with_database(settings.effective_database_url, work))
    title = f"Usage by {by}, {window.start} to {window.end} (cost in {currency})"
    _emit(rows, output, title, _REPORT_COLUMNS, by)


@app.command("budgets")
def budgets(output: OutputOption = "table", config: ConfigOption = None) -> None:
    """Every configured budget's current period: limit, settled spend, percent and reset."""
    if output not in FORMATS:
        raise fail("--format must be table, csv or json", EXIT_USAGE)
    settings = settings_or_exit(config)

    async def work(database: Database) -> list[dict[str, Any]]:
        return await budget_status(database, settings.accounting)

    rows = _run(_with_database(settings.effective_database_url, work))
    _emit(rows, output, f"Budgets (in {settings.accounting.currency})", _BUDGET_COLUMNS, "budget")
