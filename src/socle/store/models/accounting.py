"""FinOps tables: daily usage roll-ups, budget spend, the Redis epoch marker and sent alerts.

Money is stored as integer nano-units of the reporting currency (1 EUR = 10^9) so that sums are
exact on every database; energy and emissions are estimates and stored as floats.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from socle.store.base import Base

# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid alias).
_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")

USAGE_DIMENSIONS = ("day", "org_id", "team_id", "project_id", "key_id", "model", "deployment")


class UsageDaily(Base):
    """Usage of one day by one key on one deployment; the unit of every usage report.

    Missing dimensions are stored as "" (not NULL) so that the unique constraint, which the
    batched upsert relies on, also holds for them on PostgreSQL.
    """

    __tablename__ = "acct_usage_daily"
    __table_args__ = (
        UniqueConstraint(*USAGE_DIMENSIONS, name="uq_acct_usage_daily_dims"),
        Index("ix_acct_usage_daily_day_project", "day", "project_id"),
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date)
    org_id: Mapped[str] = mapped_column(String(64), default="")
    team_id: Mapped[str] = mapped_column(String(64), default="")
    project_id: Mapped[str] = mapped_column(String(64), default="")
    key_id: Mapped[str] = mapped_column(String(64), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    deployment: Mapped[str] = mapped_column(String(200), default="")
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    errors: Mapped[int] = mapped_column(BigInteger, default=0)
    refused: Mapped[int] = mapped_column(BigInteger, default=0)
    estimated: Mapped[int] = mapped_column(BigInteger, default=0)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    completion_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cached_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_nano: Mapped[int] = mapped_column(BigInteger, default=0)
    energy_kwh: Mapped[float] = mapped_column(Float, default=0.0)
    co2e_g: Mapped[float] = mapped_column(Float, default=0.0)
    temperature_sum: Mapped[float] = mapped_column(Float, default=0.0)
    temperature_count: Mapped[int] = mapped_column(BigInteger, default=0)
    defaults_applied: Mapped[int] = mapped_column(BigInteger, default=0)


class BudgetSpend(Base):
    """Settled spend of one budget counter (scope, id, period); flushed additively in batches."""

    __tablename__ = "acct_budget_spend"

    counter: Mapped[str] = mapped_column(String(300), primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    scope_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(8))
    period_key: Mapped[str] = mapped_column(String(16))
    spent_nano: Mapped[int] = mapped_column(BigInteger, default=0)
    period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccountingMeta(Base):
    """One row: the Redis epoch the database has seen, serialising flushes with Redis rebuilds."""

    __tablename__ = "acct_meta"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[str] = mapped_column(String(64), default="")
    flushes: Mapped[int] = mapped_column(BigInteger, default=0)


class AlertRecord(Base):
    """An alert raised once per dedupe key (threshold × period, storm × hour, drift × day)."""

    __tablename__ = "acct_alerts"

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")


ACCOUNTING_TABLES = (UsageDaily, BudgetSpend, AccountingMeta, AlertRecord)
