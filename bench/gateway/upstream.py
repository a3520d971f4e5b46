"""The mock OpenAI upstreams: nginx with fixed answers, and the paced Python SSE server.

nginx answers ``POST /v1/chat/completions`` with a fixed ``chat.completion`` JSON and
``POST /stream/v1/chat/completions`` with a fixed SSE stream (nginx cannot branch on the body,
so streaming gets its own base URL). Its answers cost microseconds, so it never limits the
systems under test. The paced server (:mod:`bench.gateway.sse_upstream`) spaces chunks in time
so that time-to-first-token and per-chunk latency can be measured.
"""

from __future__ import annotations

import os
import pwd
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.gateway import payloads
from bench.gateway.procs import Service, ServiceError, ServiceGroup, free_port, http_post

NGINX_STREAM_CHUNKS = 40


@dataclass(frozen=True)
class Upstream:
    """A started mock upstream: base URLs as a client configures them (ending in /v1)."""

    kind: str  # "nginx" or "python"
    service: Service
    port: int

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def chat_base(self) -> str:
        """Base URL of the JSON answers."""
        return f"{self.origin}/v1"

    @property
    def stream_base(self) -> str:
        """Base URL of the fixed SSE answers."""
        return f"{self.origin}/stream/v1"


def nginx_quote(text: str) -> str:
    """``text`` as a single-quoted nginx string (nginx unescapes \\\\, \\' and \\n in quotes)."""
    if "$" in text:
        # nginx would expand it as a variable in ``return``; the payloads never need one.
        raise ValueError("nginx return text cannot hold '$'")
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    return f"'{escaped}'"


def nginx_config(work: Path, port: int) -> str:
    """A self-contained nginx.conf: one worker, loopback only, no logs, long keep-alive."""
    answer = payloads.completion_bytes().decode()
    temp = work / "nginx-temp"
    files = work / "nginx-files"
    # A root master would run its worker as nobody, which may not read files under a private
    # directory; the worker runs as the user that wrote them instead.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    return f"""
{user}
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    client_body_buffer_size 64k;
    server {{
        listen 127.0.0.1:{port} reuseport;
        location = /v1/chat/completions {{
            default_type application/json;
            return 200 {nginx_quote(answer)};
        }}
        # The SSE body is longer than an nginx string may be, so it is a file; static files
        # refuse POST, and error_page turns that refusal into a GET of the file.
        location = /stream/v1/chat/completions {{
            error_page 405 =200 /_files/stream.sse;
            return 405;
        }}
        location /_files/ {{
            internal;
            alias {files}/;
            types {{ }}
            default_type text/event-stream;
            add_header Cache-Control no-cache;
            open_file_cache max=16;
        }}
        location = /v1/models {{
            default_type application/json;
            return 200 '{{"object":"list","data":[]}}';
        }}
        location = /healthz {{ return 200 'ok'; }}
    }}
}}
"""


def start_nginx(group: ServiceGroup, work: Path) -> Upstream:
    """Write the config into ``work`` and start nginx in the foreground; check its answers."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    (work / "nginx-temp").mkdir(parents=True, exist_ok=True)
    files = work / "nginx-files"
    files.mkdir(parents=True, exist_ok=True)
    (files / "stream.sse").write_bytes(payloads.stream_bytes(NGINX_STREAM_CHUNKS))
    conf = work / "nginx.conf"
    conf.write_text(nginx_config(work, port), encoding="utf-8")
    service = group.start("nginx", [nginx, "-p", str(work), "-c", str(conf), "-e", "stderr"])
    service.wait_http(f"http://127.0.0.1:{port}/healthz", timeout=10)
    upstream = Upstream(kind="nginx", service=service, port=port)
    _check_answers(upstream)
    return upstream


def start_python_upstream(
    group: ServiceGroup, name: str, *, chunks: int, interval_ms: float, first_ms: float
) -> Upstream:
    """Start the paced aiohttp upstream (also serves the fixed JSON, and SSE unpaced at 0 ms)."""
    port = free_port()
    service = group.start(
        name,
        [
            sys.executable,
            "-m",
            "bench.gateway.sse_upstream",
            "--port",
            str(port),
            "--chunks",
            str(chunks),
            "--interval-ms",
            str(interval_ms),
            "--first-ms",
            str(first_ms),
        ],
        cwd=Path(__file__).resolve().parents[2],
    )
    service.wait_http(f"http://127.0.0.1:{port}/healthz", timeout=15)
    upstream = Upstream(kind="python", service=service, port=port)
    _check_answers(upstream)
    return upstream


def _check_answers(upstream: Upstream) -> None:
    """Fail fast if the mock does not serve byte-exact payloads (e.g. a quoting slip)."""
    headers = {"Content-Type": "application/json"}
    status, body = http_post(
        f"{upstream.chat_base}/chat/completions", payloads.request_bytes("chat"), headers
    )
    if status != 200 or body != payloads.completion_bytes():
        raise ServiceError(f"{upstream.kind} upstream answers {status} with unexpected body")
    status, body = http_post(
        f"{upstream.stream_base}/chat/completions", payloads.request_bytes("stream"), headers
    )
    if status != 200 or not body.endswith(payloads.SSE_DONE):
        raise ServiceError(f"{upstream.kind} upstream stream answers {status}: {body[:200]!r}")
