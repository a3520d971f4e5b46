"""Project defaults and caps on request parameters, applied before the call and recorded.

A project's settings carry ``defaults`` (values set when the request has none, e.g.
``{"temperature": 0.2, "max_tokens": 1024}``) and ``caps``: ``max_tokens`` (an upper bound, also
set when the request has none), ranges ``[low, high]`` for numeric parameters (values outside are
clamped, or refused with ``on_violation: reject``) and ``allowed_params`` (any other parameter is
refused). What was changed is returned as ``{param: {"value", "reason", "from"?}}`` for the audit
trail and the usage reports.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from socle.pipeline.errors import InvalidRequest

# Parameters every request may carry whatever the project allows.
ALWAYS_ALLOWED = frozenset({"model", "messages", "input", "stream", "stream_options", "user"})
_LIMIT_KEYS = ("max_completion_tokens", "max_tokens")
_CAP_KEYWORDS = frozenset({"max_tokens", "allowed_params", "on_violation"})


class ProjectCaps(BaseModel):
    """The ``caps`` of a project, for validating settings in the admin API."""

    model_config = ConfigDict(extra="allow")

    max_tokens: int | None = Field(None, ge=1)
    allowed_params: list[str] | None = None
    on_violation: Literal["clamp", "reject"] = "clamp"

    @model_validator(mode="after")
    def _ranges(self) -> ProjectCaps:
        for name, value in (self.model_extra or {}).items():
            if not (
                isinstance(value, list | tuple)
                and len(value) == 2
                and all(isinstance(v, int | float) for v in value)
                and value[0] <= value[1]
            ):
                raise ValueError(f"caps.{name}: expected a range [low, high]")
        return self


class ProjectPolicy(BaseModel):
    """``defaults`` and ``caps`` of a project's settings, validated."""

    model_config = ConfigDict(extra="forbid")

    defaults: dict[str, Any] = Field(default_factory=dict)
    caps: ProjectCaps = Field(default_factory=ProjectCaps)


def request_limit(body: dict[str, Any]) -> int | None:
    """The request's output-token limit (``max_completion_tokens`` first), if it set one."""
    for key in _LIMIT_KEYS:
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def apply_policy(
    body: dict[str, Any], settings: dict[str, Any], endpoint: str
) -> dict[str, dict[str, Any]]:
    """Apply the project's defaults and caps to ``body`` in place; return what changed.

    Raises :class:`InvalidRequest` for a parameter the project does not allow, or out of range
    when the project rejects violations. Only chat requests get sampling defaults and caps.
    """
    applied: dict[str, dict[str, Any]] = {}
    caps = settings.get("caps")
    caps = caps if isinstance(caps, dict) else {}
    allowed = caps.get("allowed_params")
    if isinstance(allowed, list):
        permitted = ALWAYS_ALLOWED.union(str(p) for p in allowed)
        for name in body:
            if name not in permitted:
                raise InvalidRequest(
                    f"parameter {name!r} is not allowed for this project", param=name
                )
    if endpoint != "chat.completions":
        return applied
    defaults = settings.get("defaults")
    if isinstance(defaults, dict):
        for name, value in defaults.items():
            if name in body or (name in _LIMIT_KEYS and request_limit(body) is not None):
                continue
            body[name] = value
            applied[name] = {"value": value, "reason": "default"}
    reject = caps.get("on_violation") == "reject"
    cap = caps.get("max_tokens")
    if isinstance(cap, int) and not isinstance(cap, bool):
        _cap_limit(body, cap, reject, applied)
    for name, bounds in caps.items():
        if name in _CAP_KEYWORDS or not _is_range(bounds):
            continue
        value = body.get(name)
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        low, high = bounds
        if low <= value <= high:
            continue
        if reject:
            raise InvalidRequest(
                f"{name}={value} is outside the range [{low}, {high}] allowed for this project",
                param=name,
            )
        clamped = min(max(value, low), high)
        body[name] = clamped
        applied[name] = {"value": clamped, "reason": "cap", "from": value}
    return applied


def _cap_limit(
    body: dict[str, Any], cap: int, reject: bool, applied: dict[str, dict[str, Any]]
) -> None:
    present = [k for k in _LIMIT_KEYS if k in body]
    if not present:
        body["max_tokens"] = cap
        applied["max_tokens"] = {"value": cap, "reason": "cap"}
        return
    for key in present:
        value = body[key]
        if isinstance(value, int) and not isinstance(value, bool) and value > cap:
            if reject:
                raise InvalidRequest(
                    f"{key}={value} is above the {cap} allowed for this project", param=key
                )
            body[key] = cap
            previous = applied.get(key, {})
            applied[key] = {"value": cap, "reason": "cap", "from": previous.get("value", value)}


def _is_range(value: object) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    )
