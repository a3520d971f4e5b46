"""Policies resolved once at start-up into lookup tables the hot path reads.

A :class:`ResolvedPolicy` answers "what do I do with a finding of this type at this
classification" with two dict lookups; :class:`ClassificationRules` answers "which level does
this finding raise the request to".
"""

from __future__ import annotations

from dataclasses import dataclass

from socle.guards.config import Action, ClassificationRule, PolicyConfig
from socle.guards.findings import ENTITY_TYPES, Finding
from socle.pipeline.context import Classification


@dataclass(frozen=True, slots=True)
class ResolvedPolicy:
    """One policy as lookup tables: input and output actions per classification and type."""

    name: str
    input_actions: dict[Classification, dict[str, Action]]
    output_actions: dict[Classification, dict[str, Action]]
    scanned_types: frozenset[str]
    min_confidence: float
    injection_threshold: float
    injection_block: bool
    injection_roles: frozenset[str]
    output_enabled: bool
    system_prompt_leak: str
    echo_ngram: int
    echo_min_matches: int
    deep_ner: bool

    @classmethod
    def build(cls, name: str, config: PolicyConfig, rule_types: frozenset[str]) -> ResolvedPolicy:
        """Resolve ``config``; ``rule_types`` are the types the classification rules need
        scanned even where the policy allows them."""
        input_actions: dict[Classification, dict[str, Action]] = {}
        output_actions: dict[Classification, dict[str, Action]] = {}
        for level in Classification:
            table = dict.fromkeys(ENTITY_TYPES, config.default_action)
            table.update(config.actions)
            table.update(config.by_classification.get(level.label, {}))  # type: ignore[call-overload]
            input_actions[level] = table
            out = dict.fromkeys(ENTITY_TYPES, config.output.default_action)
            out.update(config.output.actions)
            output_actions[level] = out
        needed = {
            t
            for table in (*input_actions.values(), *output_actions.values())
            for t, action in table.items()
            if action is not Action.ALLOW
        }
        if not config.output.enabled:
            needed = {
                t
                for table in input_actions.values()
                for t, a in table.items()
                if a is not Action.ALLOW
            }
        return cls(
            name=name,
            input_actions=input_actions,
            output_actions=output_actions,
            scanned_types=frozenset(needed | rule_types),
            min_confidence=config.min_confidence,
            injection_threshold=config.injection.threshold,
            injection_block=config.injection.action == "block",
            injection_roles=frozenset(config.injection.roles),
            output_enabled=config.output.enabled,
            system_prompt_leak=config.output.system_prompt_leak,
            echo_ngram=config.output.echo_ngram,
            echo_min_matches=config.output.echo_min_matches,
            deep_ner=config.deep_ner,
        )


class ClassificationRules:
    """Finding type / rule id → the classification a finding raises the request to."""

    __slots__ = ("_by_key", "types")

    def __init__(self, rules: list[ClassificationRule]) -> None:
        by_key: dict[str, Classification] = {}
        for rule in rules:
            level = Classification.parse(rule.level)
            by_key[rule.match] = max(level, by_key.get(rule.match, Classification.PUBLIC))
        self._by_key = by_key
        types = {k for k in by_key if k in ENTITY_TYPES}
        for k in by_key:
            kind = None if k in ENTITY_TYPES else _type_of_rule(k)
            if kind is not None:
                types.add(kind)
        self.types = frozenset(types)

    def level(self, finding: Finding) -> Classification | None:
        """The highest level a rule gives ``finding`` (by type, rule id or rule-id prefix)."""
        best: Classification | None = self._by_key.get(finding.type)
        rule = finding.rule
        while rule:
            level = self._by_key.get(rule)
            if level is not None and (best is None or level > best):
                best = level
            cut = rule.rfind(".")
            rule = rule[:cut] if cut > 0 else ""
        return best


def _type_of_rule(rule: str) -> str | None:
    parts = rule.split(".")
    prefix = parts[0]
    if prefix == "pii" and len(parts) > 1:
        return "ip_address" if parts[1] == "ip" else parts[1]
    return {
        "marker": "confidentiality_marker",
        "health": "health",
        "secret": "secret",
    }.get(prefix)
