"""A real Socle server process for end-to-end tests (``python -m socle serve``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

ADMIN_KEY = "sk-socle-e2e-admin-" + "k" * 32


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class SocleServer:
    """Starts ``socle serve`` in its own data directory and stops it (SIGTERM, then SIGKILL)."""

    def __init__(
        self,
        home: Path,
        config: dict[str, Any] | None = None,
        *,
        env: dict[str, str] | None = None,
        workers: int = 1,
        port: int | None = None,
    ) -> None:
        self.home = home
        self.config = config or {}
        self.extra_env = env or {}
        self.workers = workers
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.admin_key = ADMIN_KEY
        self.log_path = home / "server.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> SocleServer:
        self.home.mkdir(parents=True, exist_ok=True)
        config_path = self.home / "socle.yaml"
        config_path.write_text(yaml.safe_dump(self.config), encoding="utf-8")
        env = (
            {k: v for k, v in os.environ.items() if not k.startswith("SOCLE_")}
            | {
                "SOCLE_HOME": str(self.home),
                "SOCLE_CONFIG": str(config_path),
                "SOCLE_BOOTSTRAP_ADMIN_KEY": self.admin_key,
            }
            | self.extra_env
        )
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "socle",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"socle exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"socle did not become ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL the whole process group (crash tests)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> SocleServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- admin helpers ---------------------------------------------------------------------

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.admin_key}"}
        return httpx.request(
            method, f"{self.base_url}/admin/v1{path}", headers=headers, timeout=30, **kwargs
        )

    def create_key(self, project: str = "default", **fields: Any) -> dict[str, Any]:
        response = self.admin("POST", "/keys", json={"name": "e2e", "project": project, **fields})
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data
