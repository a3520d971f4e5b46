"""Runtime documents: configuration edited through the admin API (e.g. the routing catalog)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from socle.store.base import Base


class RuntimeDocument(Base):
    """One named JSON document with a revision that replicas poll to pick up changes."""

    __tablename__ = "runtime_documents"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(80))
