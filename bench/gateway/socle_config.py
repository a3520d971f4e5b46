"""The socle.yaml the benchmark runs Socle with: every stage on, nothing ever refused.

This is the one place to adjust when Socle's configuration changes. ``routing`` and ``audit``
follow the merged config models (src/socle/routing/config.py, src/socle/audit/config.py);
``guards`` and ``accounting`` are ASSUMED shapes written while those models were being written:
``socle config check`` runs before each start and names any key they reject. A YAML file given
with ``--socle-config-extra`` is deep-merged over the result (a ``null`` value deletes a key),
to adjust without editing code.
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


def socle_config(*, chat_base: str, stream_base: str, paced_base: str | None) -> dict[str, Any]:
    """The configuration mapping; base URLs end in ``/v1`` (OpenAI-compatible)."""
    models = [
        _model(payloads.CHAT_MODEL, "nginx-chat", chat_base),
        _model(payloads.STREAM_MODEL, "nginx-stream", stream_base),
    ]
    if paced_base is not None:
        models.append(_model(payloads.PACED_MODEL, "paced-sse", paced_base))
    return {
        "log_level": "warning",
        "routing": {"models": models},
        # Durable audit: a request is acknowledged only once its record is committed.
        "audit": {"mode": "sync"},
        # ASSUMED: input scan on the fast path — PII pseudonymised, secrets and injection checked.
        "guards": {
            "pii": {"enabled": True, "action": "pseudonymize"},
            "secrets": {"enabled": True, "action": "block"},
            "injection": {"enabled": True, "action": "flag"},
        },
        # ASSUMED: one budget and one rate limit that every request reserves against and settles.
        "accounting": {
            "budgets": [{"scope": "org", "period": "month", "limit": _HUGE_BUDGET_EUR}],
            "rate_limits": [
                {
                    "scope": "key",
                    "requests_per_minute": _HUGE_RATE,
                    "tokens_per_minute": _HUGE_RATE,
                }
            ],
        },
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
    chat_base: str,
    stream_base: str,
    paced_base: str | None,
    extra_file: Path | None = None,
) -> Path:
    """Write the YAML file (with the optional overrides merged in) and return its path."""
    config = socle_config(chat_base=chat_base, stream_base=stream_base, paced_base=paced_base)
    if extra_file is not None:
        extra = yaml.safe_load(extra_file.read_text(encoding="utf-8")) or {}
        if not isinstance(extra, dict):
            raise ValueError(f"{extra_file}: the top level must be a mapping")
        config = deep_merge(config, extra)
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
