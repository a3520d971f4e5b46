"""Audit trail tables: hash-chained records, chain heads, signed checkpoints, content keys.

The record ``body`` holds the canonical bytes that are hashed (see docs/audit.md); the other
columns of :class:`AuditRecord` are projections of the body kept for filtering, and ``verify``
checks that they still agree with it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Double,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from socle.store.base import Base

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
_BigId = BigInteger().with_variant(Integer, "sqlite")


class AuditRecord(Base):
    """One audited event (request, stream start/end, admin action) in one writer's chain."""

    __tablename__ = "audit_records"
    __table_args__ = (
        UniqueConstraint("chain", "seq"),
        Index("ix_audit_records_project_ts", "project_id", "ts"),
        Index("ix_audit_records_key_ts", "key_id", "ts"),
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    chain: Mapped[str] = mapped_column(String(128))
    seq: Mapped[int] = mapped_column(BigInteger)
    ts: Mapped[float] = mapped_column(Double, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    request_id: Mapped[str | None] = mapped_column(String(128), index=True)
    project_id: Mapped[str | None] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class AuditChain(Base):
    """The head of one writer's chain, and the lease that keeps two writers off one chain."""

    __tablename__ = "audit_chains"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    head_seq: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(200))
    lease_until: Mapped[float] = mapped_column(Double)
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)


class AuditCheckpoint(Base):
    """A signed statement of a chain's head at one sequence number."""

    __tablename__ = "audit_checkpoints"
    __table_args__ = (UniqueConstraint("chain", "seq"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    chain: Mapped[str] = mapped_column(String(128))
    seq: Mapped[int] = mapped_column(BigInteger)
    ts: Mapped[float] = mapped_column(Double, index=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(128))
    key_id: Mapped[str] = mapped_column(String(64))


class AuditContentKey(Base):
    """A subject's content key, wrapped by the key-encryption key; erased by nulling ``wrapped``."""

    __tablename__ = "audit_content_keys"
    __table_args__ = (
        # One live key per subject and key-encryption key; erased keys stay as tombstones.
        Index(
            "uq_audit_content_keys_live",
            "subject_hash",
            "kek_id",
            unique=True,
            sqlite_where=text("erased_at IS NULL"),
            postgresql_where=text("erased_at IS NULL"),
        ),
    )

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject_hash: Mapped[str] = mapped_column(String(64), index=True)
    kek_id: Mapped[str] = mapped_column(String(32))
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[float] = mapped_column(Double)
    erased_at: Mapped[float | None] = mapped_column(Double, nullable=True)


AUDIT_TABLES: tuple[Table, ...] = tuple(
    Base.metadata.tables[model.__tablename__]
    for model in (AuditRecord, AuditChain, AuditCheckpoint, AuditContentKey)
)
