from __future__ import annotations

import pytest
from pydantic import ValidationError

from socle.guards.config import Action, GuardsConfig, PolicyConfig
from socle.guards.findings import Finding
from socle.guards.policy import ClassificationRules, ResolvedPolicy
from socle.pipeline.context import Classification


def test_defaults_build_with_builtin_policies() -> None:
    config = GuardsConfig()
    assert {"default", "strict", "audit_only"} <= set(config.policies)
    assert config.policies["default"].actions["email"] is Action.PSEUDONYMISE
    assert config.policies["default"].actions["credit_card"] is Action.BLOCK


def test_user_policies_add_to_and_replace_builtins() -> None:
    config = GuardsConfig.model_validate(
        {"policies": {"hr": {"actions": {"nir": "block"}}, "default": {"default_action": "log"}}}
    )
    assert config.policies["hr"].actions == {"nir": Action.BLOCK}
    assert config.policies["default"].actions == {}
    assert "strict" in config.policies


@pytest.mark.parametrize(
    "data,needle",
    [
        ({"policies": {"p": {"actions": {"emial": "mask"}}}}, "emial"),
        ({"policies": {"p": {"actions": {"email": "delete"}}}}, "delete"),
        ({"policies": {"p": {"by_classification": {"top": {}}}}}, "top"),
        ({"policies": {"p": {"injection": {"threshold": 1.5}}}}, "threshold"),
        ({"policies": {"p": {"output": {"actions": {"email": "pseudonymise"}}}}}, "pseudonymise"),
        ({"classification_rules": [{"match": "nope", "level": "secret"}]}, "nope"),
        ({"stream_holdback_chars": 2}, "stream_holdback_chars"),
        ({"unknown_key": 1}, "unknown_key"),
        ({"policies": {"bad name!": {}}}, "bad name"),
    ],
)
def test_bad_values_have_clear_messages(data: dict[str, object], needle: str) -> None:
    with pytest.raises(ValidationError) as info:
        GuardsConfig.model_validate(data)
    assert needle in str(info.value)


def test_per_classification_overrides_resolve() -> None:
    config = PolicyConfig(
        actions={"email": Action.PSEUDONYMISE},
        by_classification={"secret": {"email": Action.BLOCK}},
    )
    policy = ResolvedPolicy.build("p", config, frozenset())
    assert policy.input_actions[Classification.INTERNAL]["email"] is Action.PSEUDONYMISE
    assert policy.input_actions[Classification.SECRET]["email"] is Action.BLOCK
    assert policy.input_actions[Classification.SECRET]["phone"] is Action.LOG  # default_action


def test_allowed_types_are_not_scanned_unless_rules_need_them() -> None:
    config = PolicyConfig(default_action=Action.ALLOW, actions={"email": Action.MASK})
    config.output.enabled = False
    policy = ResolvedPolicy.build("p", config, frozenset({"health"}))
    assert policy.scanned_types == {"email", "health"}


def test_classification_rules_by_type_rule_and_prefix() -> None:
    rules = ClassificationRules(GuardsConfig().classification_rules)
    nir = Finding("nir", 0, 15, "pii.nir", 0.98, "x")
    secret_marker = Finding("confidentiality_marker", 0, 6, "marker.secret", 0.9, "x")
    email = Finding("email", 0, 6, "pii.email", 0.9, "x")
    assert rules.level(nir) is Classification.CONFIDENTIAL
    assert rules.level(secret_marker) is Classification.SECRET
    assert rules.level(email) is None
    assert {"nir", "health", "confidentiality_marker", "secret"} <= rules.types


def test_deep_ner_missing_model_is_a_clear_start_up_error() -> None:
    from socle.guards.deep import DeepNerUnavailable
    from socle.guards.stage import GuardsStage

    config = GuardsConfig.model_validate(
        {"policies": {"hr": {"deep_ner": True}}, "deep_ner": {"model": "no_such_spacy_model"}}
    )
    with pytest.raises(DeepNerUnavailable) as info:
        GuardsStage(config, b"k" * 32)
    assert "no_such_spacy_model" in str(info.value)
    assert "presidio-analyzer==" in str(info.value)


def test_hash_key_must_be_long_enough() -> None:
    from socle.guards.stage import GuardsStage

    with pytest.raises(ValueError, match="16 bytes"):
        GuardsStage(GuardsConfig(), b"short")


@pytest.mark.parametrize(
    "span,ok",
    [
        ("Marie Dupont", True),
        ("Charles de Gaulle", True),
        ("Jean", True),
        ("He was born", False),
        ("Madame", False),
        ("Phone", False),
        ("emma@example.fr", False),
        ("IT82 Z589", False),
    ],
)
def test_deep_person_spans_are_filtered_to_plausible_names(span: str, ok: bool) -> None:
    from socle.guards.deep import plausible_name

    assert plausible_name(span) is ok
