"""The socle.yaml the benchmark runs Socle with: every stage on, nothing ever refused.

This is the one place to adjust when Socle's configuration changes (the sections follow
src/socle/{routing,guards,accounting,audit}/config.py). ``socle config check`` runs on the file
before any start and names a rejected key. A YAML file given with ``--socle-config-extra`` is
deep-merged over the result (a ``null`` value deletes a key), to adjust without editing code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bench.gateway import payloads

# Prices make budget reserve/settle do real arithmetic (a zero price could be short-cut).
_PRICING = {"input_per_mtok": 0.15, "output_per_mtok": 0.60}
# Generous enough that a 10-minute run at 100k requests/s never reaches them.
_HUGE_BUDGET_EUR = 1_000_000_000
_HUGE_RATE = 1_000_000_000


def _model(name: str, deployment_id: str, base_url: str) -> dict[str, Any]:
    return {
        "name": name,
        "deployments": [
            {
                "id": deployment_id,
                "endpoint": {
                    "provider": "openai_compat",
                    "upstream_model": payloads.UPSTREAM_MODEL,
                    "base_url": base_url,
                },
                "location": "on_prem",
                "jurisdiction": "FR",
                "max_classification": "secret",
                "pricing": _PRICING,
            }
        ],
    }


def socle_config(
    *, backend: str, chat_base: str, stream_base: str, paced_base: str | None
) -> dict[str, Any]:
    """The configuration mapping; ``backend`` is ``sqlite`` or ``pg``, base URLs end in /v1."""
    models = [
        _model(payloads.CHAT_MODEL, "nginx-chat", chat_base),
        _model(payloads.STREAM_MODEL, "nginx-stream", stream_base),
    ]
    if paced_base is not None:
        models.append(_model(payloads.PACED_MODEL, "paced-sse", paced_base))
    return {
        "log_level": "warning",
        "routing": {"models": models},
        # The built-in "default" policy: PII pseudonymised, secrets masked, cards and prompt
        # injections blocked, output checked; the scan runs on every request.
        "guards": {"enabled": True},
        "accounting": {
            # With PostgreSQL the counters live in Redis, as replicas would share them.
            "backend": "redis" if backend == "pg" else "memory",
            "budgets": [
                {
                    "scope": "org",
                    "id": "*",
                    "period": "month",
                    "limit": _HUGE_BUDGET_EUR,
                    "mode": "hard",
                }
            ],
            "rate_limits": {
                "key": {"rpm": _HUGE_RATE, "tpm": _HUGE_RATE * 1000},
                "project": {"rpm": _HUGE_RATE, "tpm": _HUGE_RATE * 1000},
            },
        },
        # Durable audit: a request is acknowledged only once its record is committed.
        "audit": {"mode": "sync"},
    }


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` laid over ``base``: mappings merge, other values replace, None deletes."""
    merged = dict(base)
    for key, value in extra.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def write_socle_config(
    path: Path,
    *,
    backend: str,
    chat_base: str,
    stream_base: str,
    paced_base: str | None,
    extra_file: Path | None = None,
) -> Path:
    """Write the YAML file (with the optional overrides merged in) and return its path."""
    config = socle_config(
        backend=backend, chat_base=chat_base, stream_base=stream_base, paced_base=paced_base
    )
    if extra_file is not None:
        extra = yaml.safe_load(extra_file.read_text(encoding="utf-8")) or {}
        if not isinstance(extra, dict):
            raise ValueError(f"{extra_file}: the top level must be a mapping")
        config = deep_merge(config, extra)
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
