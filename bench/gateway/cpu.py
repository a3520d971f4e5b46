"""CPU time of a process tree, read from /proc (Linux only).

A server under test may fork workers (uvicorn --workers, LiteLLM, Socle): its cost is the user +
system time of the root process and of every live descendant. Sampled before and after a load
run, the difference divided by the number of requests gives CPU seconds per request.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PROC = Path("/proc")


@dataclass(frozen=True)
class ProcStat:
    """The fields of /proc/<pid>/stat the harness needs."""

    pid: int
    state: str
    ppid: int
    pgrp: int
    cpu_ticks: int  # utime + stime of the process (all its threads)


def _read_stat(pid: int) -> ProcStat | None:
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may itself hold spaces or parentheses.
    rest = raw[raw.rindex(")") + 2 :].split()
    return ProcStat(
        pid=pid,
        state=rest[0],
        ppid=int(rest[1]),
        pgrp=int(rest[2]),
        cpu_ticks=int(rest[11]) + int(rest[12]),
    )


def all_processes() -> list[ProcStat]:
    """Every process visible in /proc right now."""
    stats = (_read_stat(int(p.name)) for p in _PROC.iterdir() if p.name.isdigit())
    return [s for s in stats if s is not None]


def tree_pids(root: int, procs: list[ProcStat] | None = None) -> set[int]:
    """``root`` and all its live descendants."""
    procs = all_processes() if procs is None else procs
    children: dict[int, list[int]] = {}
    for st in procs:
        children.setdefault(st.ppid, []).append(st.pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in found:
            continue
        found.add(pid)
        todo.extend(children.get(pid, ()))
    return found


def tree_cpu_seconds(root: int) -> dict[int, float]:
    """CPU seconds used so far by each live process of the tree rooted at ``root``."""
    procs = all_processes()
    pids = tree_pids(root, procs)
    return {st.pid: st.cpu_ticks / _CLOCK_TICKS for st in procs if st.pid in pids}


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two samples; a process born in between counts from zero."""
    return sum(after[pid] - before.get(pid, 0.0) for pid in after)


def live_group_members(pgrp: int) -> list[int]:
    """Pids of the group that are not zombies (a zombie no longer runs nor holds ports)."""
    return [st.pid for st in all_processes() if st.pgrp == pgrp and st.state != "Z"]


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle since boot (from the first line of /proc/stat).

    Compared with what the server, the upstream and wrk used over a run, it reveals load from
    other programs on the machine, which makes a run's numbers noisy.
    """
    fields = [int(v) for v in (_PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    busy = sum(fields[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / _CLOCK_TICKS


def postgres_backends_cpu_seconds(database: str) -> dict[int, float]:
    """CPU seconds so far of the PostgreSQL backends connected to ``database``.

    A backend's process title is ``postgres: <user> <database> <client> <state>``, so the work
    the server under test makes PostgreSQL do can be told apart from other clients' (shared
    background processes such as the WAL writer are left out).
    """
    wanted = f" {database} ".encode()
    found: dict[int, float] = {}
    for st in all_processes():
        try:
            title = (_PROC / str(st.pid) / "cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(b"postgres: ") and wanted in title:
            found[st.pid] = st.cpu_ticks / _CLOCK_TICKS
    return found
