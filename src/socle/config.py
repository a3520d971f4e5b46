"""Configuration: ``socle.yaml`` plus ``SOCLE_*`` environment variables, validated once at start.

Precedence, highest first: explicit overrides (CLI options), environment variables
(``SOCLE_DATABASE_URL``, nested sections with ``__``: ``SOCLE_AUDIT__MODE=async``), the YAML file,
then defaults. Every key is documented in docs/configuration.md.
"""

from __future__ import annotations

import os
import secrets
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from socle.accounting.config import AccountingConfig
from socle.audit.config import AuditConfig
from socle.guards.config import GuardsConfig
from socle.routing.config import RoutingConfig

DEFAULT_CONFIG_NAME = "socle.yaml"
_yaml_data: ContextVar[dict[str, Any]] = ContextVar("socle_yaml_data", default={})  # noqa: B039


class ConfigError(Exception):
    """The configuration is invalid; the message names every bad key and why."""


class ServerConfig(BaseModel):
    """The HTTP server of the gateway."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="Address to listen on (0.0.0.0 for all).")
    port: int = Field(8080, ge=1, le=65535, description="TCP port.")
    workers: int = Field(1, ge=1, le=64, description="Worker processes.")
    max_body_bytes: int = Field(
        8 * 1024 * 1024, ge=1024, description="Largest accepted request body (413 above)."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Proxies whose X-Forwarded-For is trusted for the client IP.",
    )


class IdentityConfig(BaseModel):
    """API key caching."""

    model_config = ConfigDict(extra="forbid")

    revocation_poll_seconds: float = Field(
        1.0, gt=0, le=2.0, description="How often replicas check for revoked or changed keys."
    )


class Settings(BaseSettings):
    """The whole configuration of one Socle instance."""

    model_config = SettingsConfigDict(
        env_prefix="SOCLE_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    home: Path = Field(Path(".socle"), description="Data directory (SQLite, keys).")
    database_url: str | None = Field(
        None, description="SQLAlchemy async URL; SQLite in the data directory when unset."
    )
    redis_url: str | None = Field(None, description="Redis for shared counters across replicas.")
    secret_key: SecretStr | None = Field(
        None, description="Instance secret for key hashing; generated into the home when unset."
    )
    bootstrap_admin_key: SecretStr | None = Field(
        None, description="Use this value as the first admin key instead of a random one."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Least severe log level written."
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="text for people, json (one object per line) for collectors."
    )
    server: ServerConfig = Field(default_factory=ServerConfig, description="HTTP server.")
    identity: IdentityConfig = Field(default_factory=IdentityConfig, description="API keys.")
    routing: RoutingConfig = Field(
        default_factory=RoutingConfig, description="Catalog, classification, routing (routing.md)."
    )
    guards: GuardsConfig = Field(
        default_factory=GuardsConfig, description="PII, secrets, injection (guards.md)."
    )
    accounting: AccountingConfig = Field(
        default_factory=AccountingConfig, description="Prices, budgets, rate limits, carbon."
    )
    audit: AuditConfig = Field(default_factory=AuditConfig, description="Audit trail (audit.md).")

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        allowed = ("sqlite+aiosqlite://", "postgresql+asyncpg://")
        if not value.startswith(allowed):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// "
                "(an async driver is required)"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_source = InitSettingsSource(settings_cls, init_kwargs=_yaml_data.get())
        return (init_settings, env_settings, yaml_source)

    # -- derived values ------------------------------------------------------------------

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.home / 'socle.db').resolve()}"

    def instance_secret(self) -> bytes:
        """The secret for keyed hashes; read from config or from ``<home>/secret.key``."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.home / "secret.key"
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        return path.read_text().strip().encode()


def find_config_file(explicit: Path | None = None) -> Path | None:
    """``--config``, else ``SOCLE_CONFIG``, else ``./socle.yaml`` if present."""
    if explicit is not None:
        return explicit
    env = os.environ.get("SOCLE_CONFIG")
    if env:
        return Path(env)
    local = Path(DEFAULT_CONFIG_NAME)
    return local if local.exists() else None


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    return data


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Load and validate the configuration, or raise :class:`ConfigError` naming each bad key."""
    path = find_config_file(config_file)
    data = read_yaml(path) if path is not None else {}
    token = _yaml_data.set(data)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(format_errors(exc, path)) from None
    finally:
        _yaml_data.reset(token)


def format_errors(exc: ValidationError, path: Path | None) -> str:
    source = f" in {path}" if path else ""
    lines = [f"invalid configuration{source}:"]
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"  {key}: {message}")
    return "\n".join(lines)
