"""Persistence: SQLAlchemy 2 models, async sessions and Alembic migrations."""
