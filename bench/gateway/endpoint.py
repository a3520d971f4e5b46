"""A started system as the load sees it: where to send each scenario, and how to check it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from bench.gateway import payloads
from bench.gateway.procs import Service, http_post
from bench.gateway.wrk import lua_script


@dataclass
class Endpoint:
    """A started system as wrk sees it."""

    system: str
    workers: int
    service: Service
    origin: str
    api_key: str | None = None
    stream_path: str = "/v1/chat/completions"
    pg_database: str | None = None  # whose PostgreSQL backends' CPU is counted

    def url(self, scenario: str) -> str:
        """Where the scenario's requests go (nginx and the passthrough stream on a path)."""
        path = self.stream_path if scenario == "stream" else "/v1/chat/completions"
        return self.origin + path

    def headers(self) -> dict[str, str]:
        """Request headers of a single check request."""
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def check(self, scenario: str) -> str | None:
        """One request before the load: None if the answer is right, else what is wrong."""
        status, body = http_post(
            self.url(scenario), payloads.request_bytes(scenario), self.headers()
        )
        if status != 200:
            return f"check request answered {status}: {body[:300].decode(errors='replace')}"
        if scenario == "stream":
            return None if body.rstrip().endswith(b"[DONE]") else "stream without [DONE]"
        try:
            choices = orjson.loads(body).get("choices")
        except orjson.JSONDecodeError:
            return f"answer is not JSON: {body[:200]!r}"
        return None if choices else f"answer without choices: {body[:200]!r}"

    def write_script(self, directory: Path, scenario: str) -> Path:
        """The wrk script of a scenario for this system, written into ``directory``."""
        path = directory / f"{self.system}-w{self.workers}-{scenario}.lua"
        path.parent.mkdir(parents=True, exist_ok=True)
        template = payloads.request_template(scenario)
        path.write_text(lua_script(template, self.api_key, serial=payloads.SERIAL))
        return path
