"""Data-protection guardrails: PII, secrets, confidentiality markers, health terms, prompt
injection; policies that log, mask, pseudonymise or block; output checks. See docs/guards.md."""

from socle.guards.config import Action, GuardsConfig, PolicyConfig
from socle.guards.findings import Finding, ValueHasher
from socle.guards.injection import InjectionDetector, Verdict
from socle.guards.pseudonym import PseudonymMap, StreamRestorer
from socle.guards.scanner import EntityScanner
from socle.guards.stage import GuardsStage

__all__ = [
    "Action",
    "EntityScanner",
    "Finding",
    "GuardsConfig",
    "GuardsStage",
    "InjectionDetector",
    "PolicyConfig",
    "PseudonymMap",
    "StreamRestorer",
    "ValueHasher",
    "Verdict",
]
