"""The state of one request as it moves through the pipeline.

A :class:`RequestContext` is created by the API layer, filled in stage by stage and read by the
audit stage at the end. Fields are grouped by the stage that owns them; a stage reads fields set by
earlier stages and writes only its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Classification(IntEnum):
    """Data classification levels, ordered: a higher value is more sensitive."""

    PUBLIC = 0
    INTERNAL = 1
    CONFIDENTIAL = 2
    SECRET = 3

    @classmethod
    def parse(cls, value: str) -> Classification:
        try:
            return cls[value.strip().upper()]
        except KeyError:
            names = ", ".join(c.name.lower() for c in cls)
            raise ValueError(
                f"unknown classification {value!r} (expected one of {names})"
            ) from None

    @property
    def label(self) -> str:
        return _LABELS[self]  # read on every request (audit record, route): made once


_LABELS = {level: level.name.lower() for level in Classification}


@dataclass(slots=True)
class Principal:
    """Who is calling: the API key and the organisation, team and project it belongs to."""

    key_id: str
    org_id: str
    project_id: str
    team_id: str | None = None
    user_id: str | None = None
    role: str = "member"
    allowed_models: frozenset[str] | None = None  # None: every model the project may use
    key_prefix: str = ""

    def may_use(self, model: str) -> bool:
        return self.allowed_models is None or model in self.allowed_models


@dataclass(slots=True)
class Usage:
    """Token usage of one call, from the upstream's report or estimated."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(slots=True)
class Attempt:
    """One try of one deployment by the call stage."""

    deployment: str
    outcome: str  # "ok", "error", "timeout", "rate_limited", "breaker_open"
    status: int | None = None
    latency_ms: float = 0.0
    detail: str = ""


@dataclass(slots=True)
class RequestContext:
    """Everything known about one request; see docs/pipeline.md for who writes what."""

    # Set by the API layer.
    request_id: str
    endpoint: str  # "chat.completions" | "embeddings" | "models"
    body: dict[str, Any]
    headers: dict[str, str]
    client_ip: str | None = None
    started: float = field(default_factory=time.perf_counter)
    started_at: float = field(default_factory=time.time)
    model: str = ""
    stream: bool = False

    # authenticate: the key's principal and its project's policy settings, a dict whose keys are
    # owned by the capabilities (see docs/pipeline.md): "guard_policy", "default_classification",
    # "classification_floor", "routing", "defaults", "caps", "audit", "rollout_wave", ...
    principal: Principal | None = None
    project_settings: dict[str, Any] = field(default_factory=dict)

    # classify (raised later by guard findings through raise_classification)
    classification: Classification = Classification.INTERNAL
    classification_floor: Classification = Classification.PUBLIC
    classification_reasons: list[str] = field(default_factory=list)

    # guard input / guard output: findings are plain dicts (type, rule, span, action, hash…)
    findings: list[dict[str, Any]] = field(default_factory=list)
    guard_state: Any = None  # owned by the guards stage (pseudonym map, stream scanner…)

    # route / call
    route: Any = None  # owned by the routing stage: the candidates and the decision
    deployment: str | None = None
    location: str | None = None
    upstream_model: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    first_byte_sent: bool = False

    # reserve / settle
    reservation: Any = None  # owned by the accounting stage
    usage: Usage = field(default_factory=Usage)
    cost: float | None = None
    currency: str = "EUR"
    energy_kwh: float | None = None
    co2e_g: float | None = None
    applied_defaults: dict[str, Any] = field(default_factory=dict)

    # outcome
    status: int = 200
    error_code: str | None = None
    finish_reason: str | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000.0

    @property
    def user(self) -> str | None:
        value = self.body.get("user")
        return value if isinstance(value, str) else None

    def raise_classification(self, level: Classification, reason: str) -> None:
        """Raise (never lower) the request's classification, remembering why."""
        if level > self.classification:
            self.classification = level
            self.classification_reasons.append(reason)
