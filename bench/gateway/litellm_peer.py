"""The LiteLLM proxy as a peer: its own virtualenv, a master key, no database.

``litellm[proxy]==1.100.5`` is installed into ``bench/.work/litellm-venv`` on first use (newer
releases do not install here), with every dependency pinned by ``litellm-constraints.txt``: an
unpinned install resolves whatever releases are newest that day, so two runs could compare Socle
with two different LiteLLMs. The proxy serves the same logical model names as Socle, pointing at
the same nginx mock, and runs one uvicorn worker.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.gateway import payloads
from bench.gateway.procs import Service, ServiceGroup, free_port
from bench.gateway.upstream import Upstream

LITELLM_REQUIREMENT = "litellm[proxy]==1.100.5"
LITELLM_VERSION = "1.100.5"
CONSTRAINTS = Path(__file__).with_name("litellm-constraints.txt")
# Written into the venv after an install with the constraints: their digest at that time.
_MARKER = "socle-bench-constraints.sha256"


@dataclass(frozen=True)
class LiteLLMVenv:
    """An installed virtualenv holding the proxy."""

    path: Path

    @property
    def litellm(self) -> Path:
        """The ``litellm`` console script."""
        return self.path / "bin" / "litellm"

    @property
    def python(self) -> Path:
        """The venv's interpreter."""
        return self.path / "bin" / "python"


class LiteLLMUnavailable(RuntimeError):
    """The proxy cannot be installed or started; the message says why."""


def installed_version(venv: LiteLLMVenv) -> str | None:
    """Version of litellm in the venv, None when absent."""
    if not venv.python.exists():
        return None
    done = subprocess.run(
        [str(venv.python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.stdout.strip() if done.returncode == 0 else None


def constraints_digest() -> str:
    """SHA-256 of the constraints file: a venv installed with other pins is made again."""
    return hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest()


def _up_to_date(venv: LiteLLMVenv) -> bool:
    marker = venv.path / _MARKER
    return (
        installed_version(venv) == LITELLM_VERSION
        and venv.litellm.exists()
        and marker.exists()
        and marker.read_text().strip() == constraints_digest()
    )


def ensure_venv(work: Path, *, install: bool) -> LiteLLMVenv:
    """The venv with the pinned proxy, (re)created when absent or installed with other pins."""
    venv = LiteLLMVenv(work / "litellm-venv")
    if _up_to_date(venv):
        return venv
    if not install:
        raise LiteLLMUnavailable(
            f"no {LITELLM_REQUIREMENT} with the pins of {CONSTRAINTS.name} in {venv.path}"
            " (run without --no-install to create it)"
        )
    log = work / "litellm-install.log"
    print(f"  creating {venv.path} with {LITELLM_REQUIREMENT} (one-time, ~2 min)…", flush=True)
    started = time.monotonic()
    with log.open("w") as out:
        steps = [
            [sys.executable, "-m", "venv", "--clear", str(venv.path)],
            [
                str(venv.python),
                *("-m", "pip", "install", "--quiet", "-c", str(CONSTRAINTS)),
                LITELLM_REQUIREMENT,
            ],
        ]
        for argv in steps:
            if subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, check=False).returncode:
                raise LiteLLMUnavailable(f"`{' '.join(argv)}` failed; see {log}")
    (venv.path / _MARKER).write_text(constraints_digest() + "\n")
    print(f"  installed in {time.monotonic() - started:.0f} s", flush=True)
    return venv


def litellm_config(upstream: Upstream, master_key: str) -> dict[str, object]:
    """Proxy config: the bench models as ``openai/`` models on the mock, master key, no DB."""

    def model(name: str, base: str) -> dict[str, object]:
        return {
            "model_name": name,
            "litellm_params": {
                "model": f"openai/{payloads.UPSTREAM_MODEL}",
                "api_base": base,
                "api_key": "sk-upstream-not-checked",
            },
        }

    return {
        "model_list": [
            model(payloads.CHAT_MODEL, upstream.chat_base),
            model(payloads.STREAM_MODEL, upstream.stream_base),
        ],
        "litellm_settings": {"telemetry": False, "set_verbose": False},
        "general_settings": {"master_key": master_key},
    }


def start_litellm(
    group: ServiceGroup, venv: LiteLLMVenv, work: Path, upstream: Upstream, master_key: str
) -> tuple[Service, str]:
    """Start the proxy (one worker) and wait for its liveliness probe; returns (service, origin)."""
    port = free_port()
    config = work / "litellm.yaml"
    config.write_text(yaml.safe_dump(litellm_config(upstream, master_key)), encoding="utf-8")
    service = group.start(
        "litellm",
        [
            str(venv.litellm),
            "--config",
            str(config),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--num_workers",
            "1",
            "--telemetry",
            "False",
        ],
        env={
            # No network here: use the bundled price map instead of fetching it.
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_LOG": "ERROR",
            "DATABASE_URL": None,  # no database: keys are the master key only
        },
        cwd=work,
    )
    origin = f"http://127.0.0.1:{port}"
    service.wait_http(f"{origin}/health/liveliness", timeout=90)
    return service, origin
