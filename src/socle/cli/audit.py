"""``socle audit`` commands: verify, export, purge, erase and keys.

Exit codes: 0 success (``verify``: every chain and checkpoint is sound), 1 tampering found or the
operation failed, 2 bad usage or configuration.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import DBAPIError

from socle.audit.config import AuditConfig
from socle.audit.errors import AuditKeyError
from socle.audit.keys import (
    Signer,
    TrustedKeys,
    key_id,
    load_public_key,
    load_signer,
    load_trusted_keys,
    parse_private_key,
    private_pem,
    public_pem,
)
from socle.audit.log import AuditLog, build_audit
from socle.audit.sources import ExportFileSource
from socle.audit.verify import VerifyReport, verify_source
from socle.audit.writer import default_chain_base
from socle.store.database import Database

T = TypeVar("T")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

app = typer.Typer(
    name="audit",
    help="The tamper-evident audit trail: verify, export, purge, erase, keys.",
    no_args_is_help=True,
)
keys_app = typer.Typer(help="The checkpoint signing key.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

out = Console()
err = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Path to socle.yaml (default: $SOCLE_CONFIG or ./socle.yaml)."
    ),
]
PublicKeyOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--public-key",
        "-k",
        help="Trust only this public key (PEM); repeat for several. Default: the configured keys.",
    ),
]


@dataclass(frozen=True, slots=True)
class AuditContext:
    """What the commands need from the Socle configuration."""

    config: AuditConfig
    database_url: str
    home: Path


def load_context(config_path: Path | None) -> AuditContext:
    """Read the Socle configuration (file and SOCLE_* variables)."""
    from socle.config import ConfigError, load_settings

    try:
        settings = load_settings(config_path)
    except ConfigError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    return AuditContext(settings.audit, settings.effective_database_url, settings.home)


def _fail(message: str, code: int = EXIT_FAILURE) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coro)
    except AuditKeyError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    except DBAPIError as exc:
        raise _fail(
            f"database error: {exc.orig} (is the schema up to date? `socle db upgrade`)",
            EXIT_FAILURE,
        ) from None


def _time(value: str | None, option: str) -> float | None:
    """An ISO 8601 date or date-time (UTC unless it says otherwise) as epoch seconds."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"{option}: not an ISO 8601 date or time: {value!r}", EXIT_USAGE) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _trusted(ctx: AuditContext, pinned: list[Path] | None) -> TrustedKeys:
    if pinned:
        return TrustedKeys([load_public_key(p.read_bytes()) for p in pinned])
    signer = load_signer(ctx.config, ctx.home, create=False)
    return load_trusted_keys(ctx.config, signer)


def _print_report(report: VerifyReport) -> None:
    table = Table(title="Audit chains")
    for column in ("chain", "records", "seq", "checkpoints", "unsigned tail", "result"):
        table.add_column(column)
    for chain in report.chains:
        span = f"{chain.first_seq}..{chain.last_seq}" if chain.records else "-"
        if chain.anchored_at:
            span += f" (from checkpoint {chain.anchored_at})"
        problem = chain.problem
        result = "[green]ok[/]" if problem is None else f"[red]{problem.kind.value}[/]"
        table.add_row(
            chain.name,
            str(chain.records),
            span,
            str(chain.checkpoints),
            str(chain.unsigned_tail),
            result,
        )
    out.print(table)
    for chain in report.chains:
        problem = chain.problem
        if problem is not None:
            where = f" (request {problem.request_id})" if problem.request_id else ""
            err.print(
                f"[bold red]TAMPERED[/] chain {problem.chain} at seq {problem.seq}: "
                f"[bold]{problem.kind.value}[/] — {problem.message}{where}",
                highlight=False,
            )


@app.command()
def verify(
    chain: Annotated[
        list[str] | None, typer.Option("--chain", help="Only this chain; repeat for several.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--from", help="Start at the last checkpoint at or before this ISO time."),
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Verify an export file instead of the database.")
    ] = None,
    public_key: PublicKeyOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    config: ConfigOption = None,
) -> None:
    """Check every chain and checkpoint signature; exit 1 naming the first bad record."""
    start = _time(since, "--from")

    async def go() -> VerifyReport:
        if file is not None:
            source = ExportFileSource(file)
            if public_key:
                trusted = TrustedKeys([load_public_key(p.read_bytes()) for p in public_key])
            else:
                err.print(
                    "[yellow]warning:[/] trusting the public keys inside the export; pass "
                    "--public-key to pin the key you received separately"
                )
                trusted = TrustedKeys([load_public_key(p) for p in source.header["public_keys"]])
            return await verify_source(source, trusted, chains=chain, since=start)
        ctx = load_context(config)
        database = Database(ctx.database_url)
        try:
            audit = AuditLog(ctx.config, database, None, _trusted(ctx, public_key), None)
            return await audit.verify(chains=chain, since=start)
        finally:
            await database.dispose()

    try:
        report = _run(go())
    except (OSError, ValueError) as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    if as_json:
        body = {"ok": report.ok, "chains": [c.as_dict() for c in report.chains]}
        sys.stdout.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(EXIT_FAILURE)
    if not as_json:
        out.print(f"[green]verified[/] {report.records} records in {len(report.chains)} chains")


@app.command()
def export(
    since: Annotated[str | None, typer.Option("--from", help="ISO date or time.")] = None,
    until: Annotated[str | None, typer.Option("--to", help="ISO date or time.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="Only jsonl.")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="File to write (default: stdout).")
    ] = None,
    chain: Annotated[list[str] | None, typer.Option("--chain", help="Only this chain.")] = None,
    config: ConfigOption = None,
) -> None:
    """Export records, checkpoints and public keys for an offline `verify --file`."""
    if fmt != "jsonl":
        raise _fail(f"unknown format {fmt!r} (only jsonl)", EXIT_USAGE)
    start, end = _time(since, "--from"), _time(until, "--to")
    ctx = load_context(config)

    async def go() -> Any:
        database = Database(ctx.database_url)
        try:
            audit = AuditLog(ctx.config, database, None, _trusted(ctx, None), None)
            target: AbstractContextManager[IO[bytes]] = (
                output.open("wb") if output is not None else nullcontext(sys.stdout.buffer)
            )
            with target as handle:
                return await audit.export(handle, since=start, until=end, chains=chain)
        finally:
            await database.dispose()

    summary = _run(go())
    err.print(
        f"exported {summary.records} records and {summary.checkpoints} checkpoints "
        f"from {summary.chains} chains",
        highlight=False,
    )


async def _with_writer(ctx: AuditContext, work: Any) -> Any:
    """Run ``work(audit)`` with a started audit log (its own chain, so the action is audited)."""
    database = Database(ctx.database_url)
    audit = build_audit(ctx.config, database, ctx.home, chain_base=f"cli-{default_chain_base()}")
    try:
        await audit.start()
        try:
            return await work(audit)
        finally:
            await audit.stop()
    finally:
        await database.dispose()


def _actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


@app.command()
def purge(
    older_than_days: Annotated[
        int | None,
        typer.Option(help="Retention in days (default: audit.retention_days).", min=1),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Only show what would be deleted.")] = False,
    config: ConfigOption = None,
) -> None:
    """Delete whole segments older than the retention period (checkpoint anchors are kept)."""
    ctx = load_context(config)
    days = older_than_days or ctx.config.retention_days
    if days is None:
        raise _fail("no retention: pass --older-than-days or set audit.retention_days", EXIT_USAGE)
    before = datetime.now(UTC).timestamp() - days * 86400.0

    async def go(audit: AuditLog) -> Any:
        if dry_run:
            return await audit.plan_purge(before)
        return await audit.purge(_actor(), before)

    plan = _run(_with_writer(ctx, go))
    verb = "would delete" if dry_run else "deleted"
    for name, through in sorted(plan.through.items()):
        out.print(f"{name}: {verb} {plan.records[name]} records (through seq {through})")
    out.print(f"{verb} {plan.total} records signed before {days} days ago", highlight=False)


@app.command()
def erase(
    subject: Annotated[str, typer.Argument(help="The `user` value (or project id) to erase.")],
    config: ConfigOption = None,
) -> None:
    """GDPR erasure: destroy a subject's content key; the chain still verifies."""
    ctx = load_context(config)

    async def go(audit: AuditLog) -> int:
        return await audit.erase_subject(subject, _actor())

    destroyed = _run(_with_writer(ctx, go))
    out.print(f"destroyed {destroyed} content key(s); the erasure is recorded in the audit trail")


@keys_app.command("show")
def keys_show(
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write the public key to this file.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Print the public key (PEM) that auditors use with `verify --public-key`."""
    ctx = load_context(config)
    try:
        signer = load_signer(ctx.config, ctx.home, create=False)
    except AuditKeyError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    pem = public_pem(signer.public_key)
    if output is not None:
        output.write_text(pem, encoding="ascii")
    sys.stdout.write(pem)
    err.print(f"key id {signer.key_id}", highlight=False)


@keys_app.command("generate")
def keys_generate(
    output: Annotated[Path, typer.Option("--out", "-o", help="Private key file to create.")],
) -> None:
    """Create a new Ed25519 signing key file (0600); set audit.signing_key_file to use it."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if output.exists():
        raise _fail(f"{output} already exists", EXIT_USAGE)
    key = Ed25519PrivateKey.generate()
    output.touch(mode=0o600)
    output.write_bytes(private_pem(key))
    signer = Signer.from_key(parse_private_key(output.read_bytes(), str(output)))
    sys.stdout.write(public_pem(signer.public_key))
    err.print(
        f"wrote {output} (key id {key_id(key.public_key())}); keep the old public key in "
        "audit.trusted_public_keys so older checkpoints still verify",
        highlight=False,
    )
