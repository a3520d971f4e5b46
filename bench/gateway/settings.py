"""The settings of one benchmark run, as parsed from the command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SYSTEMS = ("nginx", "passthrough", "socle-sqlite", "socle-pg", "litellm", "streaming")
"""What ``--only`` selects from (``socle`` stands for both Socle backends)."""
ALIASES = {"socle": ("socle-sqlite", "socle-pg"), "all": SYSTEMS}


def parse_systems(text: str) -> set[str]:
    """``passthrough,socle`` → the set of system names; raise ValueError on an unknown one."""
    chosen: set[str] = set()
    for raw in text.split(","):
        name = raw.strip()
        if not name:
            continue
        if name in ALIASES:
            chosen.update(ALIASES[name])
        elif name in SYSTEMS:
            chosen.add(name)
        else:
            known = ", ".join((*SYSTEMS, *ALIASES))
            raise ValueError(f"unknown system {name!r} (known: {known})")
    return chosen


def parse_ints(text: str) -> tuple[int, ...]:
    """``8,32`` → (8, 32), sorted, positive."""
    values = sorted({int(v) for v in text.split(",") if v.strip()})
    if not values or values[0] < 1:
        raise ValueError(f"expected positive integers, got {text!r}")
    return tuple(values)


@dataclass
class BenchSettings:
    """Everything a run needs to know; defaults are the full run (≈ 7 min on 2 cores)."""

    systems: set[str] = field(default_factory=lambda: set(SYSTEMS))
    duration_s: float = 12.0
    warmup_s: float = 2.0
    rounds: int = 3
    concurrency: tuple[int, ...] = (8, 32)
    socle_workers: tuple[int, ...] = (1, 2)
    passthrough_workers: tuple[int, ...] = (1, 2)
    pii: bool = True
    max_minutes: float = 10.0
    wait_quiet_s: float = 0.0
    profile: str | None = None
    profile_format: str = "flamegraph"
    install: bool = True
    nginx: bool = True
    socle_config_extra: Path | None = None
    stream_chunks: int = 40
    stream_interval_ms: float = 10.0
    stream_first_ms: float = 10.0
    stream_rounds: int = 8
    stream_concurrency: int = 4
    wrk_threads: int = 1
    output_dir: Path = Path("bench/results")
    stem: str = ""
    command: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if isinstance(value, set):
                value = sorted(value)
            elif isinstance(value, Path):
                value = str(value)
            out[key] = value
        return out
