"""Settings of the audit trail, validated once at start-up."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

AuditMode = Literal["sync", "async", "off"]

CHAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")


class AuditConfig(BaseModel):
    """The ``audit`` section of the Socle configuration (see docs/audit.md)."""

    model_config = ConfigDict(extra="forbid")

    mode: AuditMode = Field(
        "sync",
        description=(
            "sync: a request is acknowledged only once its record is committed. async: records are"
            " committed in the background (a crash loses up to one commit interval). off: nothing"
            " is recorded (benchmarks and development only)."
        ),
    )
    replica_name: str | None = Field(
        None,
        description=(
            "Name of this writer's chain. Set it to a stable per-replica name (e.g. the StatefulSet"
            " pod name) so a restarted replica continues its chain. Unset: the host name, with a"
            " -2, -3… suffix when another live process on the host holds it."
        ),
    )
    commit_interval_ms: float = Field(
        0.0,
        ge=0,
        le=1000,
        description=(
            "Longest a record waits for others to share its transaction. 0: commit at once; "
            "records that arrive during a commit share the next one (group commit)."
        ),
    )
    max_batch: int = Field(512, ge=1, le=100_000, description="Most records in one transaction.")
    max_pending: int = Field(
        50_000,
        ge=1,
        description="Queued records (async mode) beyond which append waits for the commit.",
    )
    checkpoint_every: int = Field(1000, ge=1, description="Sign a checkpoint every N records…")
    checkpoint_interval_s: float = Field(
        60.0, gt=0, description="…or every T seconds when records were added since the last one."
    )
    lease_s: float = Field(
        30.0, ge=1, description="A chain whose writer stopped renewing for this long is free."
    )
    signing_key_file: Path | None = Field(
        None,
        description=(
            "Ed25519 private key (PEM, PKCS#8). Unset and no env var:"
            " <data_dir>/audit/signing_key.pem, generated on first start."
        ),
    )
    signing_key_env: str = Field(
        "SOCLE_AUDIT_SIGNING_KEY",
        description="Environment variable holding the signing key (PEM or base64 32-byte seed).",
    )
    trusted_public_keys: list[Path] = Field(
        default_factory=list,
        description="More public keys (PEM) that verify trusts: older keys, other replicas' keys.",
    )
    content_key_file: Path | None = Field(
        None,
        description=(
            "Key-encryption key (32 random bytes, base64) wrapping the per-subject content keys."
            " Unset and no env var: <data_dir>/audit/content.key, generated on first start."
        ),
    )
    content_key_env: str = Field("SOCLE_AUDIT_CONTENT_KEY")
    store_content: bool = Field(
        False,
        description=(
            "Default for projects whose policy has no audit.store_content: keep the prompt and"
            " answer, encrypted with the subject's key."
        ),
    )
    retention_days: int | None = Field(
        None, ge=1, description="Records older than this are purged by `socle audit purge`."
    )
    key_cache_s: float = Field(
        30.0, ge=0, description="How long a content key stays cached in memory."
    )

    @field_validator("replica_name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        if value is not None and not CHAIN_NAME.match(value):
            raise ValueError(
                "replica_name: letters, digits and _ . : - only, at most 100 characters"
            )
        return value
