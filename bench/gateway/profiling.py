"""Sample a server's Python stacks with py-spy while wrk loads it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

FORMATS = {"flamegraph": "svg", "speedscope": "speedscope.json", "raw": "collapsed.txt"}
"""py-spy output formats and their file suffixes (raw: collapsed stacks, see profile_summary)."""


class ProfilerUnavailable(RuntimeError):
    """py-spy is not installed (``pip install py-spy==0.4.3``)."""


def start_py_spy(
    pid: int, out_stem: Path, duration_s: float, fmt: str
) -> tuple[subprocess.Popen[bytes], Path]:
    """Start ``py-spy record`` on ``pid`` and its workers; returns (process, output file).

    ``--nonblocking`` samples without pausing the target, so the profiled run's throughput
    stays close to an unprofiled one (it is still reported apart and never compared).
    """
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        raise ProfilerUnavailable("py-spy not found: pip install py-spy==0.4.3")
    out = out_stem.with_suffix("." + FORMATS[fmt])
    proc = subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--nonblocking",
            "--rate",
            "200",
            "--duration",
            str(max(1, round(duration_s))),
            "--format",
            fmt,
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return proc, out


def finish_py_spy(proc: subprocess.Popen[bytes], out: Path, timeout_s: float = 60.0) -> str:
    """Wait for py-spy to write its file; returns a note for the report."""
    try:
        _, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return "py-spy did not finish in time"
    if proc.returncode != 0 or not out.exists():
        return f"py-spy failed: {err.decode(errors='replace').strip()[-300:]}"
    return f"profile written to {out}"
