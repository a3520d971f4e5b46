"""Configuration of the guards: named policies, classification rules, streaming and deep NER.

``GuardsConfig()`` with no arguments is a working configuration: the built-in policies
``default``, ``strict`` and ``audit_only`` (see docs/guards.md for what each does) and the default
classification rules. Policies given in the configuration are added to the built-ins; one with
a built-in's name replaces it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from socle.guards.findings import ENTITY_TYPES

ClassificationLabel = Literal["public", "internal", "confidential", "secret"]
Role = Literal["system", "developer", "user", "assistant", "tool", "function"]
RULE_PREFIXES = ("pii.", "secret.", "marker.", "health.", "injection.", "deep.", "output.")


class Action(StrEnum):
    """What the guards do with a finding."""

    ALLOW = "allow"  # nothing, not even a record
    LOG = "log"  # record the finding (type, rule, span, keyed hash) and pass the text as is
    MASK = "mask"  # replace the value by [TYPE_MASKED], irreversibly
    PSEUDONYMISE = "pseudonymise"  # replace by [TYPE_n] and restore it in the answer
    BLOCK = "block"  # refuse the request (400 content_policy_violation)


def _check_types(actions: dict[str, Action], where: str) -> dict[str, Action]:
    unknown = sorted(set(actions) - set(ENTITY_TYPES))
    if unknown:
        raise ValueError(
            f"{where}: unknown finding type(s) {', '.join(unknown)} "
            f"(expected some of {', '.join(ENTITY_TYPES)})"
        )
    return actions


class InjectionPolicy(BaseModel):
    """Prompt-injection handling: messages of ``roles`` scoring at least ``threshold``."""

    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(0.5, ge=0.0, le=1.0)
    action: Literal["log", "block"] = "block"
    roles: list[Role] = Field(default_factory=lambda: list[Role](("user", "tool")))


class OutputPolicy(BaseModel):
    """Checks on the model's answer: entities not in the input, secrets, system-prompt echo."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    actions: dict[str, Action] = Field(
        default_factory=lambda: {
            "secret": Action.MASK,
            "credit_card": Action.MASK,
            "nir": Action.MASK,
            "iban": Action.MASK,
        }
    )
    default_action: Action = Action.LOG
    system_prompt_leak: Literal["allow", "log", "block"] = "block"
    echo_ngram: int = Field(8, ge=4, le=32, description="words per shingle of the echo check")
    echo_min_matches: int = Field(2, ge=1, le=100, description="shared shingles that make a leak")

    @field_validator("actions")
    @classmethod
    def _known_types(cls, v: dict[str, Action]) -> dict[str, Action]:
        if Action.PSEUDONYMISE in v.values():
            raise ValueError("output.actions: 'pseudonymise' is for input; use mask or block")
        return _check_types(v, "output.actions")

    @field_validator("default_action")
    @classmethod
    def _no_pseudonymise(cls, v: Action) -> Action:
        if v is Action.PSEUDONYMISE:
            raise ValueError(
                "output.default_action: 'pseudonymise' is for input; use mask or block"
            )
        return v


class PolicyConfig(BaseModel):
    """One named guard policy: an action per finding type, per data classification."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    actions: dict[str, Action] = Field(default_factory=dict)
    default_action: Action = Action.LOG
    by_classification: dict[ClassificationLabel, dict[str, Action]] = Field(default_factory=dict)
    min_confidence: float = Field(0.5, ge=0.0, le=1.0)
    injection: InjectionPolicy = Field(default_factory=InjectionPolicy)
    output: OutputPolicy = Field(default_factory=OutputPolicy)
    deep_ner: bool = False

    @field_validator("actions")
    @classmethod
    def _known_types(cls, v: dict[str, Action]) -> dict[str, Action]:
        return _check_types(v, "actions")

    @field_validator("by_classification")
    @classmethod
    def _known_types_by_level(
        cls, v: dict[ClassificationLabel, dict[str, Action]]
    ) -> dict[ClassificationLabel, dict[str, Action]]:
        for level, actions in v.items():
            _check_types(actions, f"by_classification.{level}")
        return v


class ClassificationRule(BaseModel):
    """A finding type or rule id that raises the request to at least ``level``."""

    model_config = ConfigDict(extra="forbid")

    match: str
    level: ClassificationLabel

    @field_validator("match")
    @classmethod
    def _known(cls, v: str) -> str:
        if v in ENTITY_TYPES or v == "prompt_injection" or v.startswith(RULE_PREFIXES):
            return v
        raise ValueError(
            f"classification rule match {v!r} is neither a finding type "
            f"({', '.join(ENTITY_TYPES)}) nor a rule id ({', '.join(RULE_PREFIXES)}…)"
        )


class DeepNerConfig(BaseModel):
    """The optional Presidio + spaCy stage for person names (used by policies with deep_ner)."""

    model_config = ConfigDict(extra="forbid")

    model: str = "fr_core_news_md"
    min_score: float = Field(0.6, ge=0.0, le=1.0)
    max_chars: int = Field(20_000, ge=100, description="longer texts are cut for the deep stage")


_PII_PSEUDONYMISED = ("email", "phone", "person", "address", "date_of_birth", "iban", "nir")

BUILTIN_POLICIES: dict[str, PolicyConfig] = {
    "default": PolicyConfig(
        description="Pseudonymise personal data, mask secrets, block card numbers and injections.",
        actions={
            **dict.fromkeys(_PII_PSEUDONYMISED, Action.PSEUDONYMISE),
            "ip_address": Action.PSEUDONYMISE,
            "credit_card": Action.BLOCK,
            "siren": Action.LOG,
            "siret": Action.LOG,
            "secret": Action.MASK,
            "confidentiality_marker": Action.LOG,
            "health": Action.LOG,
        },
    ),
    "strict": PolicyConfig(
        description="As default, but identifiers and secrets block the request at confidential "
        "and above, and injections are blocked from a lower score.",
        actions={
            **dict.fromkeys(_PII_PSEUDONYMISED, Action.PSEUDONYMISE),
            "ip_address": Action.PSEUDONYMISE,
            "credit_card": Action.BLOCK,
            "siren": Action.LOG,
            "siret": Action.LOG,
            "secret": Action.BLOCK,
            "confidentiality_marker": Action.LOG,
            "health": Action.LOG,
        },
        by_classification={
            "confidential": {"nir": Action.BLOCK, "iban": Action.BLOCK},
            "secret": {"nir": Action.BLOCK, "iban": Action.BLOCK, "health": Action.PSEUDONYMISE},
        },
        injection=InjectionPolicy(threshold=0.4),
        output=OutputPolicy(default_action=Action.MASK),
    ),
    "audit_only": PolicyConfig(
        description="Record every finding, change nothing, block nothing.",
        default_action=Action.LOG,
        injection=InjectionPolicy(action="log"),
        output=OutputPolicy(actions={}, default_action=Action.LOG, system_prompt_leak="log"),
    ),
}

DEFAULT_CLASSIFICATION_RULES: tuple[tuple[str, ClassificationLabel], ...] = (
    ("nir", "confidential"),
    ("health", "confidential"),
    ("credit_card", "confidential"),
    ("secret", "confidential"),
    ("marker.internal", "internal"),
    ("marker.confidential", "confidential"),
    ("marker.secret", "secret"),
)

DEFAULT_REFUSAL = "[This answer was withheld by the gateway's content policy.]"


class GuardsConfig(BaseModel):
    """Everything the guards stage needs, validated once at start-up."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    policies: dict[str, PolicyConfig] = Field(default_factory=lambda: dict(BUILTIN_POLICIES))
    classification_rules: list[ClassificationRule] = Field(
        default_factory=lambda: [
            ClassificationRule(match=m, level=lvl) for m, lvl in DEFAULT_CLASSIFICATION_RULES
        ]
    )
    stream_holdback_chars: int = Field(
        64,
        ge=16,
        le=4096,
        description=(
            "Most answer characters held back per choice for output checks (streams release "
            "text as soon as it cannot be part of an entity; see guards.md)"
        ),
    )
    hash_key_env: str = Field(
        "SOCLE_GUARDS_HASH_KEY",
        description="environment variable the gateway reads the finding-hash HMAC key from",
    )
    deep_ner: DeepNerConfig = Field(default_factory=DeepNerConfig)
    refusal_message: str = Field(DEFAULT_REFUSAL, min_length=1)
    scan_cache_entries: int = Field(
        4096,
        ge=0,
        le=1_000_000,
        description="messages whose scan results are kept per process (0: no cache), so that "
        "a conversation's history is not scanned again on every turn",
    )
    scan_cache_chars: int = Field(
        8_000_000,
        ge=0,
        description="total characters of the messages kept in the scan cache",
    )

    @model_validator(mode="after")
    def _merge_builtins(self) -> GuardsConfig:
        merged = dict(BUILTIN_POLICIES)
        merged.update(self.policies)
        self.policies = merged
        if not self.policies:
            raise ValueError("policies: at least one policy is needed")
        return self

    @field_validator("policies")
    @classmethod
    def _names(cls, v: dict[str, PolicyConfig]) -> dict[str, PolicyConfig]:
        for name in v:
            if not name or not name.replace("-", "_").isidentifier():
                raise ValueError(f"policies: bad policy name {name!r} (letters, digits, _ and -)")
        return v
