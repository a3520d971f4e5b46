"""Errors of the audit trail."""

from __future__ import annotations

from socle.pipeline.errors import GatewayError


class AuditUnavailable(GatewayError):
    """The record could not be committed, so the request must not be acknowledged."""

    status = 503
    type = "server_error"
    code = "audit_unavailable"


class ChainLost(RuntimeError):
    """Another writer took this process's chain (its lease expired or a replica name is shared)."""


class ContentErased(LookupError):
    """The content key of this record was destroyed (GDPR erasure): the content is unreadable."""


class AuditKeyError(ValueError):
    """A signing or content key could not be loaded."""
