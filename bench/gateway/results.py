"""What a benchmark run measured, and the ratios and targets derived from it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bench.gateway.wrk import WrkResult

SOCLE_SYSTEMS = ("socle-sqlite", "socle-pg")


@dataclass
class RunRecord:
    """One wrk run of one system (or why it did not run)."""

    system: str  # nginx, passthrough, socle-sqlite, socle-pg, litellm
    workers: int
    scenario: str  # chat, pii, stream
    concurrency: int
    result: WrkResult | None = None
    cpu_s: float | None = None
    upstream_cpu_s: float | None = None
    wrk_cpu_s: float | None = None
    db_cpu_s: float | None = None  # PostgreSQL backends serving this system (socle-pg only)
    machine_cpu_s: float | None = None
    profiled: bool = False
    note: str = ""
    slices: list[dict[str, float]] = field(default_factory=list)  # per-slice rps, p50, p99

    @property
    def ok(self) -> bool:
        """Measured, with requests and without a single error."""
        return self.result is not None and self.result.requests > 0 and not self.result.errors

    @property
    def label(self) -> str:
        """``system ×workers`` as the tables and the plot show it."""
        return f"{self.system} ×{self.workers}"

    @property
    def cpu_s_per_req(self) -> float | None:
        """CPU seconds of the server process tree per request."""
        if self.result is None or not self.result.requests or self.cpu_s is None:
            return None
        return self.cpu_s / self.result.requests

    @property
    def cpu_cores(self) -> float | None:
        """Average number of cores the server kept busy during the run."""
        if self.result is None or not self.result.duration_s or self.cpu_s is None:
            return None
        return self.cpu_s / self.result.duration_s

    @property
    def background_cores(self) -> float | None:
        """Cores used during the run by anything but the server, the upstream and wrk."""
        parts = (self.machine_cpu_s, self.cpu_s, self.upstream_cpu_s, self.wrk_cpu_s)
        if self.result is None or not self.result.duration_s or None in parts:
            return None
        machine, server, upstream, load = (p or 0.0 for p in parts)
        mine = server + upstream + load + (self.db_cpu_s or 0.0)
        return max(0.0, machine - mine) / self.result.duration_s

    @property
    def db_cpu_s_per_req(self) -> float | None:
        """CPU seconds of this system's PostgreSQL backends per request."""
        if self.result is None or not self.result.requests or self.db_cpu_s is None:
            return None
        return self.db_cpu_s / self.result.requests

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form with the derived figures."""
        return {
            "system": self.system,
            "workers": self.workers,
            "scenario": self.scenario,
            "concurrency": self.concurrency,
            "ok": self.ok,
            "profiled": self.profiled,
            "note": self.note,
            **(self.result.as_dict() if self.result else {}),
            "cpu_s": self.cpu_s,
            "cpu_s_per_req": self.cpu_s_per_req,
            "cpu_cores": self.cpu_cores,
            "upstream_cpu_s": self.upstream_cpu_s,
            "wrk_cpu_s": self.wrk_cpu_s,
            "db_cpu_s": self.db_cpu_s,
            "db_cpu_s_per_req": self.db_cpu_s_per_req,
            "machine_cpu_s": self.machine_cpu_s,
            "background_cores": self.background_cores,
            "slices": self.slices,
        }


@dataclass
class Target:
    """One goal of the issue, checked against this run."""

    name: str
    value: float | None
    goal: str
    passed: bool | None  # None: not measurable in this run

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)


@dataclass
class Analysis:
    """Ratios between systems and the targets they meet."""

    ratios: dict[str, float] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)


def find(
    records: Iterable[RunRecord], system: str, workers: int, scenario: str, concurrency: int
) -> RunRecord | None:
    """The good, unprofiled run matching the key, if any."""
    for record in records:
        if (
            record.ok
            and not record.profiled
            and (record.system, record.workers, record.scenario, record.concurrency)
            == (system, workers, scenario, concurrency)
        ):
            return record
    return None


def _rps(record: RunRecord | None) -> float | None:
    return record.result.rps if record and record.result else None


def _div(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def analyse(records: list[RunRecord], concurrencies: Iterable[int]) -> Analysis:
    """Socle against the passthrough, LiteLLM and itself with two workers."""
    out = Analysis()
    levels = list(concurrencies)

    def put(name: str, value: float | None) -> None:
        if value is not None:
            out.ratios[name] = round(value, 4)

    for c in levels:
        floor = find(records, "passthrough", 1, "chat", c)
        litellm = find(records, "litellm", 1, "chat", c)
        put(
            f"passthrough/nginx rps c{c}",
            _div(_rps(floor), _rps(find(records, "nginx", 1, "chat", c))),
        )
        put(
            f"passthrough x2/x1 rps c{c}",
            _div(_rps(find(records, "passthrough", 2, "chat", c)), _rps(floor)),
        )
        for system in SOCLE_SYSTEMS:
            one = find(records, system, 1, "chat", c)
            two = find(records, system, 2, "chat", c)
            put(f"{system}/passthrough rps c{c}", _div(_rps(one), _rps(floor)))
            put(f"{system}/litellm rps c{c}", _div(_rps(one), _rps(litellm)))
            put(f"{system} x2/x1 rps c{c}", _div(_rps(two), _rps(one)))
            if one and floor and one.result and floor.result:
                put(f"{system} p50 added ms c{c}", one.result.p50_ms - floor.result.p50_ms)
                put(f"{system} p99 added ms c{c}", one.result.p99_ms - floor.result.p99_ms)
            put(
                f"{system}/passthrough cpu per req c{c}",
                _div(one.cpu_s_per_req if one else None, floor.cpu_s_per_req if floor else None),
            )
    low = min(levels)
    pii = find(records, "socle-sqlite", 1, "pii", low)
    put(
        f"socle-sqlite pii/chat rps c{low}",
        _div(_rps(pii), _rps(find(records, "socle-sqlite", 1, "chat", low))),
    )
    for system in SOCLE_SYSTEMS:
        out.targets.extend(_targets(out.ratios, system, levels))
    return out


def _check(name: str, value: float | None, goal: str, ok: bool) -> Target:
    return Target(name, value, goal, None if value is None else ok)


def _targets(ratios: dict[str, float], system: str, levels: list[int]) -> list[Target]:
    targets = []
    rps = ratios.get(f"{system}/passthrough rps c8")
    targets.append(_check(f"{system} ×1 c8 RPS / passthrough", rps, "≥ 0.5", (rps or 0) >= 0.5))
    p99 = ratios.get(f"{system} p99 added ms c8")
    targets.append(_check(f"{system} ×1 c8 p99 added (ms)", p99, "≤ 5", (p99 or 0) <= 5))
    for c in levels:
        vs = ratios.get(f"{system}/litellm rps c{c}")
        targets.append(_check(f"{system} ×1 c{c} RPS / LiteLLM", vs, "≥ 20", (vs or 0) >= 20))
    top = max(levels)
    scale = ratios.get(f"{system} x2/x1 rps c{top}")
    targets.append(_check(f"{system} ×2 / ×1 RPS (c{top})", scale, "≥ 1.7", (scale or 0) >= 1.7))
    return targets
