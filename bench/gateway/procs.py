"""Start, watch and stop the processes of a benchmark run.

Every service runs in its own session (so its own process group): a signal to the group reaches
the server and every worker it forked, and Ctrl-C in the terminal reaches only the harness, which
then stops the groups itself in a known order.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from bench.gateway.cpu import live_group_members


class ServiceError(RuntimeError):
    """A service could not start or did not become ready; the message ends with its log tail."""


def free_port() -> int:
    """Ask the kernel for a free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def log_tail(path: Path, lines: int = 25) -> str:
    """The last lines of a log file, for error messages."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class Service:
    """One started process group and where its output goes."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        """Pid of the group leader (the server's root process)."""
        return self.proc.pid

    def alive(self) -> bool:
        """Whether the root process still runs."""
        return self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the whole group, then SIGKILL what is left after ``timeout`` seconds."""
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            if _wait_group_gone(self.proc, wait):
                return

    def wait_http(self, url: str, timeout: float, expect: int = 200) -> None:
        """Poll ``url`` until it answers ``expect``; fail early if the process dies."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if not self.alive():
                raise ServiceError(
                    f"{self.name} exited with code {self.proc.returncode} before it was ready; "
                    f"log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            status, _ = http_get(url, timeout=2.0)
            if status == expect:
                return
            last = f"HTTP {status}" if status else "connection refused"
            time.sleep(0.2)
        raise ServiceError(
            f"{self.name} not ready at {url} after {timeout:.0f} s ({last}); "
            f"log {self.log_path}:\n{log_tail(self.log_path)}"
        )


def _wait_group_gone(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait until no running process of the group is left (the leader is reaped on the way).

    Zombies are ignored: an orphaned worker's zombie stays until some init reaps it, which a
    container's pid 1 may never do, yet it no longer runs nor holds a port.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc.poll()
        if not live_group_members(proc.pid):
            return True
        time.sleep(0.05)
    return False


def merged_env(overrides: Mapping[str, str | None]) -> dict[str, str]:
    """The harness's environment with ``overrides`` laid over it; None removes a variable."""
    env = dict(os.environ)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """GET ``url``; returns (status, body), status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


def http_post(
    url: str, body: bytes, headers: Mapping[str, str], timeout: float = 30.0
) -> tuple[int, bytes]:
    """POST ``body`` to ``url``; returns (status, body), status 0 when nothing answered."""
    req = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        return 0, str(exc).encode()


@dataclass
class ServiceGroup:
    """Owns every service of a run and stops them all, last started first, on exit."""

    log_dir: Path
    services: list[Service] = field(default_factory=list)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str | None] | None = None,
        cwd: Path | None = None,
    ) -> Service:
        """Start ``argv`` in a new session, output to ``<log_dir>/<name>.log``.

        ``env`` is laid over the harness's environment; a None value removes the variable.
        """
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        full_env = merged_env(env or {})
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=full_env,
                cwd=cwd,
                start_new_session=True,
            )
        service = Service(name=name, proc=proc, log_path=log_path)
        self.services.append(service)
        return service

    def stop(self, service: Service) -> None:
        """Stop one service now (between phases) and forget it."""
        service.stop()
        if service in self.services:
            self.services.remove(service)

    def stop_all(self) -> None:
        """Stop every service still owned, newest first."""
        while self.services:
            self.services.pop().stop()

    def __enter__(self) -> ServiceGroup:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Ctrl-C while stopping must not leave half the groups running.
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            self.stop_all()
        finally:
            signal.signal(signal.SIGINT, old)


class RunLocked(RuntimeError):
    """Another benchmark run holds the machine; the message says which."""


@contextlib.contextmanager
def exclusive_run(lock_path: Path, wait_s: float, what: str) -> Iterator[None]:
    """Hold the machine-wide benchmark lock for the duration of a run.

    Two runs at once would wipe each other's data directories and databases and share the
    cores, so the second waits up to ``wait_s`` seconds, then gives up with the holder's name.
    """
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        give_up = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 500, 0).decode(errors="replace").strip() or "unknown"
                if time.monotonic() >= give_up:
                    raise RunLocked(
                        f"another benchmark run holds {lock_path}: {holder} "
                        "(wait for it, or pass --wait-lock SECONDS)"
                    ) from None
                time.sleep(2.0)
        os.ftruncate(fd, 0)
        started = dt.datetime.now().isoformat(timespec="seconds")
        os.pwrite(fd, f"pid {os.getpid()} since {started}: {what}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
