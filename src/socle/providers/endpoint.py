"""How to reach one upstream: the provider-facing part of a deployment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ProviderKind = Literal["openai_compat", "anthropic", "simulator"]


class Timeouts(BaseModel):
    """Upstream timeouts in seconds."""

    model_config = ConfigDict(extra="forbid")

    connect: float = Field(5.0, gt=0)
    read: float = Field(60.0, gt=0, description="Longest wait for the next byte of the answer.")
    total: float = Field(300.0, gt=0, description="Longest duration of one upstream call.")


class Endpoint(BaseModel):
    """Connection settings of one upstream. Secrets are read from the environment or a file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: ProviderKind
    upstream_model: str = Field(min_length=1, description="Model name sent to the upstream.")
    base_url: str | None = Field(None, description="e.g. http://vllm:8000/v1 (not for simulator)")
    api_key_env: str | None = Field(None, description="Environment variable holding the API key.")
    api_key_file: Path | None = Field(None, description="File holding the API key.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra request headers.")
    api_version: str | None = Field(None, description="Azure OpenAI api-version query parameter.")
    timeouts: Timeouts = Field(default_factory=Timeouts)
    max_connections: int = Field(100, ge=1, le=10_000)

    @model_validator(mode="after")
    def _check(self) -> Endpoint:
        if self.provider != "simulator" and not self.base_url:
            raise ValueError(f"base_url is required for provider {self.provider}")
        if self.base_url and not self.base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        if self.api_key_env and self.api_key_file:
            raise ValueError("set api_key_env or api_key_file, not both")
        return self

    def api_key(self) -> str | None:
        """Read the API key now (never stored anywhere but in memory)."""
        if self.api_key_env:
            value = os.environ.get(self.api_key_env)
            if value is None:
                raise ValueError(f"environment variable {self.api_key_env} is not set")
            return value.strip()
        if self.api_key_file:
            return self.api_key_file.read_text(encoding="utf-8").strip()
        return None
