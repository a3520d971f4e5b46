"""Imports every table module so that ``Base.metadata`` knows the whole schema."""

from socle.store.models import accounting, audit, documents, identity

__all__ = ["accounting", "audit", "documents", "identity"]
