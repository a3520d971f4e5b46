"""``python -m bench.gateway``: the gateway load benchmark, in one command.

Exit status: 0 when every measured run succeeded (parts that cannot run here, such as Socle
before it is installed, are skipped and listed), 1 when a run failed or answered errors,
2 when a required tool is missing, the arguments are wrong or another run holds the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

from bench.gateway import report
from bench.gateway.paths import LOCK, RESULTS, WORK
from bench.gateway.procs import RunLocked, ServiceGroup, exclusive_run
from bench.gateway.profiling import FORMATS
from bench.gateway.runner import Runner
from bench.gateway.settings import SYSTEMS, BenchSettings, parse_ints, parse_systems

APT_TOOLS = ("nginx", "wrk")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.gateway",
        description="Load-test Socle against a bare passthrough and LiteLLM on a mock upstream "
        "(loopback only, every process stopped at the end).",
    )
    parser.add_argument(
        "--only",
        default="all",
        help=f"comma-separated systems: {', '.join(SYSTEMS)}; 'socle' = both backends "
        "(default: all)",
    )
    parser.add_argument(
        "--duration", type=float, default=12.0, help="measured seconds per measurement (12)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="slices each measurement is cut into, run in rotating order across systems (3)",
    )
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="warm-up seconds before the first slice (2)"
    )
    parser.add_argument("--concurrency", default="8,32", help="wrk connections (8,32)")
    parser.add_argument("--socle-workers", default="1,2", help="Socle worker counts (1,2)")
    parser.add_argument("--passthrough-workers", default="1,2", help="passthrough workers (1,2)")
    parser.add_argument("--no-pii", action="store_true", help="skip the 'with PII' scenario")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 3 s runs, 1 s warm-up, few streams"
    )
    parser.add_argument("--max-minutes", type=float, default=10.0, help="time budget (10)")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait up to SECONDS for other programs to leave the CPU idle before starting",
    )
    parser.add_argument(
        "--profile",
        nargs="?",
        const="socle-sqlite",
        choices=["socle-sqlite", "socle-pg", "passthrough", "litellm"],
        help="add one run of SYSTEM (its fewest workers) under py-spy (default socle-sqlite); "
        "output in bench/.work/profile-*",
    )
    parser.add_argument("--profile-format", choices=sorted(FORMATS), default="flamegraph")
    parser.add_argument(
        "--socle-config-extra", type=Path, help="YAML deep-merged over the generated socle.yaml"
    )
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="never create the LiteLLM virtualenv (skip LiteLLM when it is absent)",
    )
    parser.add_argument(
        "--install-tools",
        action="store_true",
        help="as root, apt-get install nginx and wrk when missing",
    )
    parser.add_argument(
        "--wait-lock",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait up to SECONDS for another run of the harness on this machine to finish",
    )
    parser.add_argument("--output", help="results file stem in bench/results (default: date)")
    return parser


def _check_tools(install: bool) -> bool:
    """Make sure wrk is there (and nginx, preferably). Returns whether nginx is available."""
    missing = [tool for tool in APT_TOOLS if shutil.which(tool) is None]
    if missing and install:
        if os.geteuid() != 0:
            sys.exit(
                f"--install-tools needs root; run: sudo apt-get install -y {' '.join(missing)}"
            )
        print(f"installing {' '.join(missing)} with apt-get…", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True)
        missing = [tool for tool in APT_TOOLS if shutil.which(tool) is None]
    if "wrk" in missing:
        print(
            "wrk is required: apt-get install -y wrk (or rerun with --install-tools as root)",
            file=sys.stderr,
        )
        sys.exit(2)
    if "nginx" in missing:
        print(
            "nginx not found (apt-get install -y nginx): falling back to the slower Python mock "
            "upstream; the results say so.",
            file=sys.stderr,
        )
    return "nginx" not in missing


def _settings(args: argparse.Namespace, nginx: bool) -> BenchSettings:
    try:
        systems = parse_systems(args.only)
        settings = BenchSettings(
            systems=systems,
            duration_s=args.duration,
            warmup_s=args.warmup,
            rounds=max(1, args.rounds),
            concurrency=parse_ints(args.concurrency),
            socle_workers=parse_ints(args.socle_workers),
            passthrough_workers=parse_ints(args.passthrough_workers),
            pii=not args.no_pii,
            max_minutes=args.max_minutes,
            wait_quiet_s=args.wait_quiet,
            profile=args.profile,
            profile_format=args.profile_format,
            install=not args.no_install,
            nginx=nginx,
            socle_config_extra=args.socle_config_extra,
            output_dir=RESULTS,
            command=shlex.join(["python", "-m", "bench.gateway", *sys.argv[1:]]),
        )
    except ValueError as exc:
        _parser().error(str(exc))
    if args.quick:
        settings.duration_s, settings.warmup_s, settings.rounds = 3.0, 1.0, 1
        settings.stream_rounds = 2
    today = dt.date.today().isoformat()
    full = systems == set(SYSTEMS) and not args.quick
    settings.stem = args.output or (
        today if full else f"{today}-{'quick' if args.quick else 'partial'}"
    )
    return settings


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> int:
    """Parse, check tools, run, write the results; returns the exit status."""
    args = _parser().parse_args()
    nginx = _check_tools(args.install_tools)
    settings = _settings(args, nginx)
    # A plain `kill` of the harness must stop the servers too, as Ctrl-C does.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    print(f"systems: {', '.join(sorted(settings.systems))}; logs in {WORK / 'logs'}", flush=True)
    try:
        with (
            exclusive_run(LOCK, args.wait_lock, settings.command),
            ServiceGroup(WORK / "logs") as group,
        ):
            runner = Runner(settings, WORK, group)
            document = runner.run()
    except RunLocked as exc:
        print(exc, file=sys.stderr)
        return 2
    stem = RESULTS / settings.stem
    report.write_json(stem.with_suffix(".json"), document)
    report.write_markdown(
        stem.with_suffix(".md"), document, runner.records, runner.analysis, runner.streams
    )
    plotted = report.write_plot(stem.with_suffix(".png"), runner.records)
    print(f"\nresults: {stem}.json, {stem}.md" + (f", {stem}.png" if plotted else ""))
    for target in runner.analysis.targets:
        if target.passed is not None:
            verdict = "met" if target.passed else "NOT met"
            print(f"  {target.name}: {target.value:.2f} (goal {target.goal}) {verdict}")
    failed = [r for r in runner.records if not r.ok]
    for record in failed:
        detail = record.note or report.describe_errors(record)
        if record.result is not None and record.result.first_error_body:
            detail += f"; first error answer: {record.result.first_error_body[:200]}"
        print(f"  FAILED {record.label} {record.scenario} c{record.concurrency}: {detail}")
    for failure in runner.failures:
        print(f"  HARNESS ERROR {failure}")
    return 1 if failed or runner.failures or runner.interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
