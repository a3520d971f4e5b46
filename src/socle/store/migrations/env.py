"""Alembic environment: runs on the connection handed over by :mod:`socle.store.migrate`."""

from __future__ import annotations

from alembic import context

import socle.store.models.all  # noqa: F401  (registers every table)
from socle.store.base import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `socle db upgrade` (socle.store.migrate)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
