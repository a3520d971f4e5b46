"""What the run ran on: machine, tool and library versions, repository commit."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from bench.gateway.litellm_peer import LiteLLMVenv, constraints_digest, installed_version


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _command_output(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return None
    text = (done.stdout + done.stderr).strip()
    return text.splitlines()[0] if text else None


def _package(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def host_info(work: Path) -> dict[str, Any]:
    """Machine and versions, for the results file."""
    repo = Path(__file__).resolve().parents[2]
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "commit": _command_output(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"]),
        "nginx": _command_output(["nginx", "-v"]),
        "wrk": _command_output(["wrk", "--version"]),
        "packages": {
            name: _package(name)
            for name in ("socle-ai", "uvicorn", "uvloop", "httptools", "aiohttp", "orjson")
        },
        "litellm": installed_version(LiteLLMVenv(work / "litellm-venv")),
        "litellm_constraints_sha256": constraints_digest()[:16],
    }
