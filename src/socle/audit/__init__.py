"""Tamper-evident audit trail: hash chains, group commit, signed checkpoints, verify, erasure.

See docs/audit.md. The gateway builds one :class:`AuditLog` per process with
:func:`build_audit` and puts an :class:`AuditStage` last in the pipeline.
"""

from socle.audit.config import AuditConfig
from socle.audit.errors import AuditUnavailable, ContentErased
from socle.audit.log import AuditLog, build_audit
from socle.audit.query import AuditQuery
from socle.audit.stage import AuditStage
from socle.audit.verify import Tamper, VerifyReport

__all__ = [
    "AuditConfig",
    "AuditLog",
    "AuditQuery",
    "AuditStage",
    "AuditUnavailable",
    "ContentErased",
    "Tamper",
    "VerifyReport",
    "build_audit",
]
