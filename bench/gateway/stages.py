"""``python -m bench.gateway.stages``: what each governance stage costs, found by switching it off.

Starts the nginx mock, the passthrough and five Socle servers on SQLite — the full benchmark
pipeline, and the same without the guards, without the audit, without budgets and rate limits,
and without all three — then drives them with wrk in slices, every round in a rotated order (as
the main harness does), so that the machine's drift hits every variant alike. A stage's cost is
the full pipeline's CPU per request minus that of the variant without it; the variant without
all three shows what the rest of Socle (authentication, classification, routing, estimates,
metrics, headers) costs over the passthrough.

Writes ``bench/results/<date>-stages.{json,md}``. Exit status: 0 when every slice succeeded,
1 when a server answered an error, 2 when a tool is missing or another run holds the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import signal
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

from bench.gateway import report
from bench.gateway.cpu import cpu_delta, tree_cpu_seconds
from bench.gateway.endpoint import Endpoint
from bench.gateway.passthrough import start_passthrough
from bench.gateway.paths import LOCK, RESULTS, WORK
from bench.gateway.procs import RunLocked, ServiceGroup, exclusive_run
from bench.gateway.socle_config import deep_merge, socle_config
from bench.gateway.socle_target import SocleBackend, SocleUnavailable, socle_command, start_socle
from bench.gateway.upstream import start_nginx
from bench.gateway.wrk import run_wrk

ADMIN_KEY = "sk-bench-stages-0123456789abcdef"
_NO_GUARDS: dict[str, Any] = {"guards": {"enabled": False}}
_NO_AUDIT: dict[str, Any] = {"audit": {"mode": "off"}}
_NO_BUDGETS: dict[str, Any] = {"accounting": {"budgets": [], "rate_limits": None}}

# name, what is switched off (None: nothing), overrides laid over the benchmark configuration
VARIANTS: tuple[tuple[str, str | None, dict[str, Any]], ...] = (
    ("full", None, {}),
    ("no-guards", "guards", _NO_GUARDS),
    ("no-audit", "audit", _NO_AUDIT),
    ("no-budgets", "budgets and rate limits", _NO_BUDGETS),
    ("none", "all three", deep_merge(deep_merge(_NO_GUARDS, _NO_AUDIT), _NO_BUDGETS)),
)


@dataclass
class Totals:
    """What the slices of one server added up to."""

    name: str
    requests: int = 0
    seconds: float = 0.0
    cpu_s: float = 0.0
    p99_ms: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_us(self) -> float:
        return self.cpu_s / self.requests * 1e6 if self.requests else 0.0


def variant_config(overrides: dict[str, Any], chat_base: str, stream_base: str) -> dict[str, Any]:
    """The benchmark's Socle configuration with a variant's overrides merged in."""
    base = socle_config(
        backend="sqlite", chat_base=chat_base, stream_base=stream_base, paced_base=None
    )
    return deep_merge(base, overrides)


def summarise(totals: dict[str, Totals]) -> list[dict[str, Any]]:
    """One row per server: RPS, CPU per request, and the cost of what its variant switches off."""
    full = totals.get("full")
    passthrough = totals.get("passthrough")
    off = {name: what for name, what, _ in VARIANTS}
    rows = []
    for name, t in totals.items():
        row: dict[str, Any] = {
            "server": name,
            "off": off.get(name),
            "requests": t.requests,
            "rps": round(t.rps, 1),
            "cpu_us_per_request": round(t.cpu_us, 1),
            "p99_ms_median": round(statistics.median(t.p99_ms), 2) if t.p99_ms else None,
        }
        if full is not None and name not in ("full", "passthrough"):
            row["cost_us"] = round(full.cpu_us - t.cpu_us, 1)  # what switching it off saved
        if passthrough is not None and passthrough.cpu_us:
            row["cpu_x_passthrough"] = round(t.cpu_us / passthrough.cpu_us, 2)
        rows.append(row)
    return rows


def markdown(rows: list[dict[str, Any]], settings: dict[str, Any]) -> str:
    lines = [
        f"# Cost of each governance stage — {settings['date']}",
        "",
        f"wrk c={settings['concurrency']}, {settings['rounds']} slices of "
        f"{settings['slice_s']:.0f} s per server in rotated order; CPU: the server's process "
        "tree per request. *Cost* is the full pipeline's CPU per request minus the variant's.",
        "",
        "| server | switched off | RPS | CPU µs / request | × passthrough | cost µs | p99 ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        cost = r.get("cost_us")
        lines.append(
            f"| {r['server']} | {r['off'] or '–'} | {r['rps']:,.0f} | "
            f"{r['cpu_us_per_request']:,.0f} | {r.get('cpu_x_passthrough', '–')} | "
            f"{'–' if cost is None else f'{cost:,.0f}'} | {r['p99_ms_median'] or '–'} |"
        )
    lines += ["", f"Command: `{settings['command']}`", ""]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.gateway.stages",
        description="CPU per request of Socle with each governance stage switched off in turn, "
        "beside the passthrough (loopback only, every process stopped at the end).",
    )
    parser.add_argument("--concurrency", type=int, default=8, help="wrk connections (8)")
    parser.add_argument("--rounds", type=int, default=4, help="slices per server (4)")
    parser.add_argument("--slice", type=float, default=4.0, help="seconds per slice (4)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before each slice (1)")
    parser.add_argument("--output", help="results file stem in bench/results (<date>-stages)")
    parser.add_argument(
        "--wait-lock", type=float, default=0.0, metavar="SECONDS", help="wait for another run"
    )
    return parser


def _start(group: ServiceGroup, command: str) -> list[tuple[str, Endpoint]]:
    upstream = start_nginx(group, WORK / "stages-nginx")
    service, origin = start_passthrough(group, "stages-passthrough", upstream.origin)
    servers = [("passthrough", Endpoint("passthrough", 1, service, origin))]
    for name, _, overrides in VARIANTS:
        config = WORK / f"stages-{name}.yaml"
        document = variant_config(overrides, upstream.chat_base, upstream.stream_base)
        config.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        service, origin = start_socle(
            group,
            command,
            name=f"stages-{name}",
            backend=SocleBackend("sqlite"),
            workers=1,
            home=WORK / f"stages-{name}-home",
            config=config,
            admin_key=ADMIN_KEY,
        )
        servers.append((name, Endpoint("socle-sqlite", 1, service, origin, api_key=ADMIN_KEY)))
    return servers


def measure(servers: list[tuple[str, Endpoint]], args: argparse.Namespace) -> dict[str, Totals]:
    """Interleaved slices; raises RuntimeError when a server answers an error."""
    scripts = {}
    for name, endpoint in servers:
        problem = endpoint.check("chat")
        if problem:
            raise RuntimeError(f"{name}: {problem}")
        scripts[name] = endpoint.write_script(WORK / "wrk" / "stages", "chat")
    totals = {name: Totals(name) for name, _ in servers}
    for index in range(args.rounds):
        shift = index % len(servers)
        for name, endpoint in servers[shift:] + servers[:shift]:
            url, script = endpoint.url("chat"), scripts[name]
            run_wrk(url, script, connections=args.concurrency, duration_s=args.warmup)
            before = tree_cpu_seconds(endpoint.service.pid)
            result = run_wrk(url, script, connections=args.concurrency, duration_s=args.slice)
            cpu = cpu_delta(before, tree_cpu_seconds(endpoint.service.pid))
            if result.errors:
                raise RuntimeError(f"{name}: {result.errors} {result.first_error_body[:200]}")
            t = totals[name]
            t.requests += result.requests
            t.seconds += result.duration_s
            t.cpu_s += cpu
            t.p99_ms.append(result.p99_ms)
            print(
                f"  round {index + 1} {name:12} {result.rps:8,.0f} RPS "
                f"{cpu / result.requests * 1e6:7,.0f} µs/request",
                flush=True,
            )
    return totals


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    has_nginx = shutil.which("nginx") is not None or Path("/usr/sbin/nginx").exists()
    if shutil.which("wrk") is None or not has_nginx:
        print("needs wrk and nginx: apt-get install -y nginx wrk", file=sys.stderr)
        return 2
    try:
        command = socle_command()
    except SocleUnavailable as exc:
        print(exc, file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _raise_interrupt)
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    today = dt.date.today().isoformat()
    settings = {
        "date": today,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "slice_s": args.slice,
        "command": " ".join(
            ["python -m bench.gateway.stages", *(sys.argv[1:] if argv is None else argv)]
        ),
    }
    try:
        with (
            exclusive_run(LOCK, args.wait_lock, settings["command"]),
            ServiceGroup(WORK / "logs-stages") as group,
        ):
            totals = measure(_start(group, command), args)
    except RunLocked as exc:
        print(exc, file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"FAILED {exc}", file=sys.stderr)
        return 1
    rows = summarise(totals)
    stem = RESULTS / (args.output or f"{today}-stages")
    report.write_json(stem.with_suffix(".json"), {"settings": settings, "rows": rows})
    text = markdown(rows, settings)
    stem.with_suffix(".md").write_text(text, encoding="utf-8")
    print("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
