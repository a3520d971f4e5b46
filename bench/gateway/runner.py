"""One benchmark run: start every system, drive them in interleaved slices, write the report.

The mock upstreams start first; then every selected system (nginx alone as the ceiling, the
bare passthrough as the floor, Socle on SQLite and on PostgreSQL + Redis, LiteLLM), each with
its worker counts, all listening at once (an idle server costs well under 2 % of a core). Each
measurement (system, scenario, connections) is cut into ``rounds`` slices and the slices run in
rotating order, so a load that other programs put on the machine for a while hits every system
alike instead of spoiling one of them: the ratios between systems are what this run is for.
Last, the streaming latency phase (paced upstream, passthrough and Socle side by side). Every
process is stopped on any exit, Ctrl-C included.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from bench.gateway import hostinfo, report
from bench.gateway.cpu import (
    cpu_delta,
    machine_busy_seconds,
    postgres_backends_cpu_seconds,
    tree_cpu_seconds,
)
from bench.gateway.endpoint import Endpoint
from bench.gateway.litellm_peer import (
    LiteLLMUnavailable,
    LiteLLMVenv,
    ensure_venv,
    start_litellm,
)
from bench.gateway.passthrough import start_passthrough
from bench.gateway.procs import ServiceError, ServiceGroup
from bench.gateway.profiling import ProfilerUnavailable, finish_py_spy, start_py_spy
from bench.gateway.results import Analysis, RunRecord, analyse
from bench.gateway.settings import BenchSettings
from bench.gateway.socle_config import write_socle_config
from bench.gateway.socle_target import (
    SocleBackend,
    SocleUnavailable,
    check_config,
    socle_command,
    start_socle,
)
from bench.gateway.stream_client import StreamSummary, StreamTarget, run_measure
from bench.gateway.upstream import Upstream, start_nginx, start_python_upstream
from bench.gateway.wrk import WrkError, WrkResult, merge_slices, run_wrk

BUSY_MACHINE_CORES = 0.2
"""Background load above which a run is flagged as noisy."""
SLICE_WARMUP_S = 1.0
"""Warm-up before every slice after the first round (connections, upstream pool)."""


@dataclass
class Measurement:
    """One (system, scenario, connections) measurement and its slices so far."""

    endpoint: Endpoint
    record: RunRecord
    script: Path
    slices: list[WrkResult] = field(default_factory=list)
    stopped: bool = False  # a check or a slice failed: no more slices


class TimeBudgetExceeded(Exception):
    """Not enough time left for the next step."""


@dataclass
class Runner:
    """State of one run; :meth:`run` returns the results document."""

    settings: BenchSettings
    work: Path
    group: ServiceGroup
    records: list[RunRecord] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    streams: list[StreamSummary] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    socle_key: str = field(default_factory=lambda: "sk-socle-" + secrets.token_urlsafe(32))
    litellm_key: str = field(default_factory=lambda: "sk-bench-" + secrets.token_hex(16))
    deadline: float = 0.0
    upstream: Upstream | None = None
    paced: Upstream | None = None
    socle: str | None = None
    litellm_venv: LiteLLMVenv | None = None
    endpoints: list[Endpoint] = field(default_factory=list)
    analysis: Analysis = field(default_factory=Analysis)
    interrupted: bool = False

    # -- bookkeeping ------------------------------------------------------------------------

    def skip(self, what: str, why: str) -> None:
        """Record and print why a part of the run did not happen."""
        self.skipped.append({"what": what, "why": why})
        print(f"  SKIP {what}: {why}", flush=True)

    def remaining(self) -> float:
        """Seconds left in the time budget."""
        return self.deadline - time.monotonic()

    def need(self, seconds: float) -> None:
        """Raise :class:`TimeBudgetExceeded` when less than ``seconds`` remain."""
        if self.remaining() < seconds:
            raise TimeBudgetExceeded(f"time budget exhausted ({self.remaining():.0f} s left)")

    def attempt(self, what: str, step: Callable[[], None]) -> None:
        """Run one step; a system that cannot start is skipped and the run goes on."""
        try:
            step()
        except (ServiceError, SocleUnavailable, LiteLLMUnavailable, TimeBudgetExceeded) as exc:
            self.skip(what, str(exc))
        except Exception as exc:  # a harness bug must not leave the other systems unmeasured
            self.failures.append(f"{what}: {type(exc).__name__}: {exc}")
            self.skip(what, f"unexpected {type(exc).__name__}: {exc}")

    # -- the run ----------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Prepare, start, measure, analyse; returns the results document."""
        started_at = dt.datetime.now(dt.UTC)
        socle_reason = self._prepare()
        self._check_machine_quiet()
        self.deadline = time.monotonic() + self.settings.max_minutes * 60
        t0 = time.monotonic()
        try:
            self._measure_all(socle_reason)
        except KeyboardInterrupt:
            self.interrupted = True
            self.skip("the rest of the run", "interrupted (Ctrl-C)")
        except ServiceError as exc:  # the mock upstreams did not start: nothing to measure
            self.failures.append(str(exc))
            self.skip("the run", str(exc))
        finally:
            self.group.stop_all()
            self._finish_records()
        return self._document(started_at, time.monotonic() - t0)

    def _prepare(self) -> str | None:
        """Set-up outside the time budget: LiteLLM's venv, Socle's presence. Returns why Socle
        cannot run, None when it can."""
        s = self.settings
        if "litellm" in s.systems:
            try:
                self.litellm_venv = ensure_venv(self.work, install=s.install)
            except LiteLLMUnavailable as exc:
                self.skip("litellm", str(exc))
        if not s.systems & {"socle-sqlite", "socle-pg", "streaming"}:
            return None
        try:
            self.socle = socle_command()
        except SocleUnavailable as exc:
            return str(exc)
        return None

    def _check_machine_quiet(self) -> None:
        """Wait (up to ``--wait-quiet`` s) for other programs to calm down; warn if they don't."""
        give_up = time.monotonic() + self.settings.wait_quiet_s
        while True:
            before = machine_busy_seconds()
            time.sleep(1.0)
            busy = machine_busy_seconds() - before
            if busy <= BUSY_MACHINE_CORES or time.monotonic() >= give_up:
                break
            print(f"  waiting for a quiet machine (other programs use {busy:.2f} cores)…")
            time.sleep(4.0)
        if busy > BUSY_MACHINE_CORES:
            note = f"other programs used {busy:.2f} cores just before the run: expect noise"
            self.notes.append(note)
            print(f"WARNING: {note}", flush=True)

    def _measure_all(self, socle_reason: str | None) -> None:
        s = self.settings
        print("== mock upstreams", flush=True)
        self.upstream = self._start_upstream()
        self.paced = start_python_upstream(
            self.group,
            "paced-upstream",
            chunks=s.stream_chunks,
            interval_ms=s.stream_interval_ms,
            first_ms=s.stream_first_ms,
        )
        socle_problem = socle_reason or self._socle_config_problem()
        if socle_problem is not None:
            for system in ("socle-sqlite", "socle-pg"):
                if system in s.systems:
                    self.skip(system, socle_problem)
        print("\n== starting the systems", flush=True)
        self._start_systems(socle_problem is None)
        measurements = self._measurements()
        self._run_rounds(measurements)
        for endpoint in self.endpoints:
            self._maybe_profile(endpoint)
        if "streaming" in s.systems:
            print("\n== streaming latency (paced upstream)", flush=True)
            self.attempt("streaming", lambda: self._streaming_phase(socle_problem))

    def _start_upstream(self) -> Upstream:
        if self.settings.nginx:
            return start_nginx(self.group, self.work)
        self.notes.append("nginx missing: the mock upstream is the Python aiohttp server")
        return start_python_upstream(self.group, "upstream", chunks=40, interval_ms=0, first_ms=0)

    def _start_systems(self, socle_ok: bool) -> None:
        s = self.settings
        assert self.upstream is not None
        upstream = self.upstream
        if "nginx" in s.systems and upstream.kind == "nginx":
            self.endpoints.append(
                Endpoint(
                    "nginx",
                    1,
                    upstream.service,
                    upstream.origin,
                    stream_path="/stream/v1/chat/completions",
                )
            )
        if "passthrough" in s.systems:
            for workers in s.passthrough_workers:
                self.attempt(f"passthrough ×{workers}", partial(self._add_passthrough, workers))
        for system in ("socle-sqlite", "socle-pg"):
            if system in s.systems and socle_ok:
                for workers in s.socle_workers:
                    self.attempt(f"{system} ×{workers}", partial(self._add_socle, system, workers))
        if "litellm" in s.systems and self.litellm_venv is not None:
            self.attempt("litellm ×1", self._add_litellm)
        for endpoint in self.endpoints:
            print(f"  {endpoint.system} ×{endpoint.workers} at {endpoint.origin}", flush=True)

    def _add_passthrough(self, workers: int) -> None:
        assert self.upstream is not None
        service, origin = start_passthrough(
            self.group, f"passthrough-w{workers}", self.upstream.origin, workers=workers
        )
        self.endpoints.append(
            Endpoint(
                "passthrough", workers, service, origin, stream_path="/stream/v1/chat/completions"
            )
        )

    def _add_socle(self, system: str, workers: int) -> None:
        self.endpoints.append(self._start_socle(system, workers))

    def _add_litellm(self) -> None:
        assert self.upstream is not None and self.litellm_venv is not None
        service, origin = start_litellm(
            self.group, self.litellm_venv, self.work, self.upstream, self.litellm_key
        )
        self.endpoints.append(Endpoint("litellm", 1, service, origin, api_key=self.litellm_key))

    def _plan(self, system: str, workers: int) -> list[tuple[str, int]]:
        """(scenario, connections) of one system: chat at each level, extras on ×1."""
        levels = self.settings.concurrency
        plan = [("chat", c) for c in levels]
        if workers == 1 and system in ("passthrough", "socle-sqlite", "litellm"):
            plan.append(("stream", min(levels)))
        if workers == 1 and system == "socle-sqlite" and self.settings.pii:
            plan.append(("pii", min(levels)))
        return plan

    # -- Socle --------------------------------------------------------------------------------

    def _socle_config_path(self, backend: SocleBackend) -> Path:
        assert self.upstream is not None and self.paced is not None
        return write_socle_config(
            self.work / f"socle-{backend.name}.yaml",
            backend=backend.name,
            chat_base=self.upstream.chat_base,
            stream_base=self.upstream.stream_base,
            paced_base=self.paced.chat_base,
            extra_file=self.settings.socle_config_extra,
        )

    def _socle_config_problem(self) -> str | None:
        """Why Socle refuses a generated configuration, None when it accepts them."""
        if self.socle is None:
            return "Socle was not selected"
        try:
            for backend in (SocleBackend("sqlite"), SocleBackend("pg")):
                check_config(
                    self.socle,
                    backend,
                    self.work / "socle-check",
                    self._socle_config_path(backend),
                    self.socle_key,
                )
        except SocleUnavailable as exc:
            return str(exc)
        return None

    def _start_socle(self, system: str, workers: int) -> Endpoint:
        assert self.socle is not None
        self.need(60)
        backend = SocleBackend.for_system(system, workers)
        service, origin = start_socle(
            self.group,
            self.socle,
            name=f"{system}-w{workers}",
            backend=backend,
            workers=workers,
            home=self.work / f"{system}-w{workers}-home",
            config=self._socle_config_path(backend),
            admin_key=self.socle_key,
        )
        return Endpoint(
            system,
            workers,
            service,
            origin,
            api_key=self.socle_key,
            pg_database=backend.pg_database if backend.name == "pg" else None,
        )

    # -- driving ------------------------------------------------------------------------------

    def _measurements(self) -> list[Measurement]:
        """Every measurement of the run, each checked once with a single request first."""
        out = []
        for endpoint in self.endpoints:
            for scenario, connections in self._plan(endpoint.system, endpoint.workers):
                record = RunRecord(endpoint.system, endpoint.workers, scenario, connections)
                self.records.append(record)
                problem = endpoint.check(scenario)
                if problem:
                    record.note = problem
                    print(f"  {record.label} {scenario}: {problem}", flush=True)
                    continue
                script = endpoint.write_script(self.work / "wrk", scenario)
                out.append(Measurement(endpoint, record, script))
        return out

    def _run_rounds(self, measurements: list[Measurement]) -> None:
        s = self.settings
        slice_s = s.duration_s / s.rounds
        for index in range(s.rounds):
            warmup = s.warmup_s if index == 0 else min(s.warmup_s, SLICE_WARMUP_S)
            print(f"\n== round {index + 1}/{s.rounds} ({slice_s:.0f} s per slice)", flush=True)
            shift = index % max(1, len(measurements))
            for m in measurements[shift:] + measurements[:shift]:
                if m.stopped:
                    continue
                try:
                    self.need(warmup + slice_s + 10)
                except TimeBudgetExceeded as exc:
                    m.record.note = f"{exc}: {len(m.slices)} of {s.rounds} slices"
                    m.stopped = True
                    continue
                self._slice(m, warmup, slice_s)

    def _slice(self, m: Measurement, warmup: float, duration: float) -> None:
        """One wrk slice of a measurement, with the CPU of everything involved."""
        record, pid = m.record, m.endpoint.service.pid
        url = m.endpoint.url(record.scenario)
        upstream_pid = self.upstream.service.pid if self.upstream else None
        try:
            if warmup > 0:
                run_wrk(url, m.script, connections=record.concurrency, duration_s=warmup)
            database = m.endpoint.pg_database
            before = tree_cpu_seconds(pid)
            up_before = tree_cpu_seconds(upstream_pid) if upstream_pid else {}
            db_before = postgres_backends_cpu_seconds(database) if database else {}
            machine_before = machine_busy_seconds()
            result = run_wrk(url, m.script, connections=record.concurrency, duration_s=duration)
            machine = machine_busy_seconds() - machine_before
            server = cpu_delta(before, tree_cpu_seconds(pid))
            upstream = cpu_delta(up_before, tree_cpu_seconds(upstream_pid)) if upstream_pid else 0
            if database:
                db = cpu_delta(db_before, postgres_backends_cpu_seconds(database))
                record.db_cpu_s = (record.db_cpu_s or 0.0) + db
        except WrkError as exc:
            record.note, m.stopped = str(exc), True
            return
        m.slices.append(result)
        record.cpu_s = (record.cpu_s or 0.0) + server
        record.upstream_cpu_s = (record.upstream_cpu_s or 0.0) + upstream
        record.machine_cpu_s = (record.machine_cpu_s or 0.0) + machine
        record.wrk_cpu_s = (record.wrk_cpu_s or 0.0) + (result.cpu_s or 0.0)
        record.result = merge_slices(m.slices)
        record.slices = [
            {"rps": round(x.rps, 1), "p50_ms": x.p50_ms, "p99_ms": x.p99_ms} for x in m.slices
        ]
        if result.errors:
            m.stopped = True  # a failing system would only add noise to the others
        self._print(record, result)

    def _maybe_profile(self, endpoint: Endpoint) -> None:
        """One extra run under py-spy when ``--profile`` names this system.

        Only its first instance (the fewest workers) is profiled; ``--socle-workers 2`` picks
        the two-worker one.
        """
        s = self.settings
        first = next((e for e in self.endpoints if e.system == s.profile), None)
        if endpoint is not first:
            return
        record = RunRecord(
            endpoint.system, endpoint.workers, "chat", min(s.concurrency), profiled=True
        )
        self.records.append(record)
        print(f"\n== profiling {record.label} under py-spy", flush=True)
        try:
            self.need(s.duration_s + 30)
            script = endpoint.write_script(self.work / "wrk", "chat")
            url = endpoint.url("chat")
            stem = (
                self.work / f"profile-{endpoint.system}-w{endpoint.workers}-c{record.concurrency}"
            )
            spy = start_py_spy(endpoint.service.pid, stem, s.duration_s, s.profile_format)
            before = tree_cpu_seconds(endpoint.service.pid)
            record.result = run_wrk(
                url, script, connections=record.concurrency, duration_s=s.duration_s
            )
            record.cpu_s = cpu_delta(before, tree_cpu_seconds(endpoint.service.pid))
            record.note = finish_py_spy(*spy)
            self.notes.append(record.note)
        except (WrkError, ProfilerUnavailable, TimeBudgetExceeded) as exc:
            record.note = str(exc)
        self._print(record, record.result)

    @staticmethod
    def _print(record: RunRecord, result: WrkResult | None) -> None:
        if result is None:
            print(f"  {record.label} {record.scenario} c{record.concurrency}: {record.note}")
            return
        flag = "" if not result.errors else f"  ERRORS {report.describe_errors(record)}"
        print(
            f"  {record.label:<18} {record.scenario:<6} c{record.concurrency:<3} "
            f"{result.rps:>9,.0f} rps  p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms"
            f"{flag}",
            flush=True,
        )

    def _finish_records(self) -> None:
        """Note measurements that ended with fewer slices than planned."""
        for record in self.records:
            if record.result is None and not record.note:
                record.note = "not run"

    # -- streaming ----------------------------------------------------------------------------

    def _streaming_phase(self, socle_problem: str | None) -> None:
        s = self.settings
        assert self.paced is not None
        plain = {"Content-Type": "application/json"}
        _, origin = start_passthrough(self.group, "passthrough-paced", self.paced.origin)
        targets = [
            StreamTarget("upstream", f"{self.paced.chat_base}/chat/completions", plain),
            StreamTarget("passthrough", f"{origin}/v1/chat/completions", plain),
        ]
        socle = next(
            (e for e in self.endpoints if e.system == "socle-sqlite" and e.workers == 1), None
        )
        if socle is None and socle_problem is None:
            try:
                socle = self._start_socle("socle-sqlite", 1)
            except (ServiceError, TimeBudgetExceeded) as exc:
                socle_problem = str(exc)
        if socle is not None:
            url = f"{socle.origin}/v1/chat/completions"
            targets.append(StreamTarget("socle-sqlite", url, socle.headers()))
        else:
            self.skip("streaming (socle)", socle_problem or "Socle is not available")
        self.streams = run_measure(
            targets,
            f"{self.paced.origin}/timings",
            chunks=s.stream_chunks,
            rounds=s.stream_rounds,
            concurrency=s.stream_concurrency,
        )
        for summary in self.streams:
            print(
                f"  {summary.target:<14} TTFT p50 {summary.ttft_p50_ms or 0:7.2f} ms  "
                f"chunk transit p50 {summary.transit_p50_ms or 0:7.3f} ms  "
                f"p99 {summary.transit_p99_ms or 0:7.3f} ms  errors {summary.errors}",
                flush=True,
            )

    # -- results ------------------------------------------------------------------------------

    def _document(self, started_at: dt.datetime, elapsed: float) -> dict[str, Any]:
        s = self.settings
        analysis = self.analysis = analyse(self.records, s.concurrency)
        return {
            "schema": 1,
            "date": started_at.date().isoformat(),
            "started_at": started_at.isoformat(timespec="seconds"),
            "elapsed_s": round(elapsed, 1),
            "interrupted": self.interrupted,
            "command": s.command,
            "host": hostinfo.host_info(self.work),
            "upstream": self.upstream.kind if self.upstream else None,
            "settings": s.as_dict(),
            "runs": [r.as_dict() for r in self.records],
            "ratios": analysis.ratios,
            "targets": [t.as_dict() for t in analysis.targets],
            "streaming": {
                "chunks": s.stream_chunks,
                "interval_ms": s.stream_interval_ms,
                "first_ms": s.stream_first_ms,
                "summaries": [x.as_dict() for x in self.streams],
                "added_vs_passthrough": report.stream_added(self.streams),
            },
            "skipped": self.skipped,
            "notes": self.notes,
            "failures": self.failures,
        }
