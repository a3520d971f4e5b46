"""Configuration of the accounting capability (the ``accounting:`` section of socle.yaml).

Every field is documented in docs/finops.md and docs/carbon.md. ``AccountingConfig()`` with no
argument is a working default: in-process counters, no budget, no rate limit, carbon estimates on.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from socle.accounting.prices import Pricing

Scope = Literal["key", "project", "team", "org"]
AlertEvent = Literal["budget", "rate_limit_storm", "drift"]
ALERT_EVENTS: tuple[AlertEvent, ...] = ("budget", "rate_limit_storm", "drift")
Period = Literal["day", "month", "total"]
SCOPES: tuple[Scope, ...] = ("key", "project", "team", "org")

_ID = re.compile(r"^(\*|[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63})$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BudgetRule(_Strict):
    """A spending limit for one principal (or each principal: ``id: "*"``) over a period."""

    name: str = Field("", description="Label used in alerts and reports; derived when empty.")
    scope: Scope
    id: str = Field("*", description="Key, project, team or organisation id; '*' = each one.")
    period: Period = "month"
    limit: float = Field(ge=0, description="In the reporting currency.")
    mode: Literal["hard", "soft"] = Field(
        "hard", description="hard: refuse requests once reached; soft: alert only."
    )
    thresholds: list[float] = Field(
        default_factory=lambda: [50.0, 80.0, 100.0],
        description="Alert when settled spend reaches these percentages of the limit.",
    )

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be '*' or an id of letters, digits and _.:@- (max 64)")
        return value

    @field_validator("thresholds")
    @classmethod
    def _check_thresholds(cls, value: list[float]) -> list[float]:
        if any(t <= 0 or t > 1000 for t in value):
            raise ValueError("thresholds are percentages in (0, 1000]")
        return sorted(set(value))

    @model_validator(mode="after")
    def _default_name(self) -> BudgetRule:
        if not self.name:
            self.name = f"{self.scope}:{self.id}:{self.period}"
        return self


class RateLimit(_Strict):
    """Requests and tokens per minute; bursts default to one minute's worth."""

    rpm: int | None = Field(None, ge=1, description="Requests per minute.")
    tpm: int | None = Field(None, ge=1, description="Tokens (prompt + max output) per minute.")
    burst_requests: int | None = Field(None, ge=1, description="Largest burst (default: rpm).")
    burst_tokens: int | None = Field(None, ge=1, description="Largest burst (default: tpm).")


class RateLimits(_Strict):
    """Defaults for every key and every project, with overrides by id."""

    key: RateLimit = Field(default_factory=RateLimit)
    project: RateLimit = Field(default_factory=RateLimit)
    keys: dict[str, RateLimit] = Field(default_factory=dict, description="Overrides by key id.")
    projects: dict[str, RateLimit] = Field(
        default_factory=dict, description="Overrides by project id."
    )


class HardwareProfile(_Strict):
    """The serving hardware assumed by the energy model (defaults: EcoLogits' H100 server)."""

    gpu_memory_gb: float = Field(80.0, gt=0)
    gpus_per_server: int = Field(8, ge=1)
    server_power_kw: float = Field(1.0, ge=0, description="Server power without its GPUs.")
    gpu_power_w: float = Field(700.0, gt=0, description="GPU board power during prefill.")
    gpu_peak_tflops: float = Field(989.0, gt=0, description="Dense BF16 peak (H100 SXM).")
    prefill_mfu: float = Field(0.4, gt=0, le=1, description="Fraction of peak used in prefill.")
    batch_size: int = Field(64, ge=1, description="Concurrent requests sharing the server.")
    quantization_bits: int = Field(16, ge=2, le=32, description="Bits per weight in memory.")
    server_embodied_kgco2e: float = Field(5700.0, ge=0, description="Server without GPUs.")
    gpu_embodied_kgco2e: float = Field(164.0, ge=0, description="Per GPU.")
    lifetime_years: float = Field(3.0, gt=0)


class DeploymentCarbon(_Strict):
    """Carbon settings for one deployment (by id), overriding what is derived."""

    zone: str | None = Field(None, description="Grid zone; the deployment's jurisdiction if unset.")
    profile: str = Field("default", description="Name of a hardware profile.")
    pue: float | None = Field(None, ge=1.0, le=3.0)
    active_params_b: float | None = Field(None, gt=0)
    total_params_b: float | None = Field(None, gt=0)


class CarbonConfig(_Strict):
    """Energy and emissions estimates (see docs/carbon.md for the method)."""

    enabled: bool = True
    include_embodied: bool = Field(True, description="Add the hardware manufacturing share.")
    zones: dict[str, float] = Field(
        default_factory=dict, description="gCO2e/kWh by zone, merged over the shipped table."
    )
    zone_sources: dict[str, str] = Field(
        default_factory=dict, description="Where each configured zone figure comes from (dated)."
    )
    pue: dict[str, float] = Field(
        default_factory=lambda: {
            "on_prem": 1.58,
            "edge": 1.58,
            "sovereign_cloud": 1.3,
            "public_cloud": 1.2,
        },
        description="Power usage effectiveness by deployment location.",
    )
    profiles: dict[str, HardwareProfile] = Field(
        default_factory=lambda: {"default": HardwareProfile()}
    )
    deployments: dict[str, DeploymentCarbon] = Field(default_factory=dict)

    @field_validator("zones")
    @classmethod
    def _check_zones(cls, value: dict[str, float]) -> dict[str, float]:
        if any(v < 0 or v > 2000 for v in value.values()):
            raise ValueError("intensities are gCO2e/kWh in [0, 2000]")
        return {k.upper(): v for k, v in value.items()}

    @field_validator("pue")
    @classmethod
    def _check_pue(cls, value: dict[str, float]) -> dict[str, float]:
        if any(v < 1.0 or v > 3.0 for v in value.values()):
            raise ValueError("a PUE is between 1.0 and 3.0")
        return value

    @model_validator(mode="after")
    def _check_profiles(self) -> CarbonConfig:
        self.profiles.setdefault("default", HardwareProfile())
        for dep_id, dep in self.deployments.items():
            if dep.profile not in self.profiles:
                raise ValueError(f"deployments.{dep_id}.profile: unknown profile {dep.profile!r}")
        return self


class WebhookTarget(_Strict):
    """One receiver of alerts."""

    url: str
    secret_env: str | None = Field(
        None,
        description="Environment variable holding the HMAC secret (alerts.secret_env if unset).",
    )
    events: list[AlertEvent] = Field(default_factory=lambda: list(ALERT_EVENTS))

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


class AlertsConfig(_Strict):
    """Webhook alerts on budget thresholds, rate-limit storms and usage drift."""

    webhooks: list[WebhookTarget] = Field(default_factory=list)
    secret_env: str | None = Field(None, description="Environment variable with the HMAC secret.")
    timeout_seconds: float = Field(5.0, gt=0, le=60)
    max_attempts: int = Field(6, ge=1, le=20)
    backoff_seconds: float = Field(0.5, gt=0, le=60, description="First retry delay (doubles).")
    storm_threshold: int = Field(
        100, ge=1, description="Rate-limit refusals per minute, for one key or project, that alert."
    )
    drift_enabled: bool = True
    drift_k: float = Field(3.0, gt=0, description="Band width in scaled MADs around the median.")
    drift_window_days: int = Field(28, ge=3, le=365)
    drift_min_days: int = Field(7, ge=3, description="Days of history needed before alerting.")
    drift_check_seconds: float = Field(600.0, ge=1.0)


class ReservationConfig(_Strict):
    """How the maximum cost of a request is bounded before the call."""

    default_max_output_tokens: int = Field(
        4096, ge=1, description="Assumed output when the request sets no max_tokens."
    )
    prompt_margin: float = Field(
        1.25, ge=1.0, le=4.0, description="Multiplier on the estimated prompt tokens."
    )
    enforce_output_limit: bool = Field(
        True,
        description="Under a hard budget, give a request without max_tokens the assumed limit.",
    )


class AccountingConfig(_Strict):
    """The whole ``accounting`` section."""

    backend: Literal["memory", "redis"] = Field(
        "memory", description="memory: one instance; redis: counters shared by every replica."
    )
    redis_url: str | None = Field(None, description="Defaults to the top-level redis_url.")
    redis_prefix: str = Field("socle:acct:", min_length=1, max_length=64)
    redis_timeout_ms: int = Field(
        1000, ge=10, le=10_000, description="Redis connect and command timeout."
    )
    redis_max_connections: int = Field(
        128, ge=2, le=10_000, description="Pool size per process (half at most for settles)."
    )
    failure_mode: Literal["closed", "open"] = Field(
        "closed", description="When Redis is unreachable: closed refuses (503), open admits."
    )
    currency: str = Field("EUR", min_length=3, max_length=3)
    fx_rates: dict[str, float] = Field(
        default_factory=lambda: {"EUR": 1.0, "USD": 0.87, "GBP": 1.17, "CHF": 1.07},
        description="Reporting-currency units per unit of each price currency.",
    )
    prices_file: Path | None = Field(
        None, description="YAML price table merged over the shipped one."
    )
    prices: dict[str, Pricing] = Field(
        default_factory=dict, description="Prices by upstream model name, over every file."
    )
    timezone: str = Field("UTC", description="Where days and months start, for budgets.")
    budgets: list[BudgetRule] = Field(default_factory=list)
    rate_limits: RateLimits = Field(default_factory=RateLimits)
    reservation: ReservationConfig = Field(default_factory=ReservationConfig)
    carbon: CarbonConfig = Field(default_factory=CarbonConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    flush_interval_seconds: float = Field(
        2.0, gt=0, le=300, description="How often spend and usage are written to the database."
    )
    stream_usage_extra: bool = Field(
        False, description="Add socle_cost/socle_co2e_g to the usage object of a stream's chunk."
    )

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("fx_rates")
    @classmethod
    def _check_fx(cls, value: dict[str, float]) -> dict[str, float]:
        if any(v <= 0 for v in value.values()):
            raise ValueError("exchange rates must be positive")
        return {k.upper(): v for k, v in value.items()}

    @field_validator("timezone")
    @classmethod
    def _check_tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. UTC, Europe/Paris)") from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @model_validator(mode="after")
    def _check(self) -> AccountingConfig:
        if self.currency not in self.fx_rates:
            self.fx_rates[self.currency] = 1.0
        elif self.fx_rates[self.currency] != 1.0:
            raise ValueError(f"fx_rates.{self.currency}: the reporting currency's rate must be 1")
        names = [b.name for b in self.budgets]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"budgets: duplicate name(s) {', '.join(duplicates)}")
        for name, pricing in self.prices.items():
            if pricing.currency.upper() not in self.fx_rates:
                raise ValueError(f"prices.{name}: no fx_rates entry for {pricing.currency}")
        return self
