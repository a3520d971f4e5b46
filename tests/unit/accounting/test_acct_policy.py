"""Project defaults and caps applied to request bodies."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from socle.accounting.policy import ProjectPolicy, apply_policy
from socle.pipeline.errors import InvalidRequest

SETTINGS = {
    "defaults": {"temperature": 0.2, "max_tokens": 1024},
    "caps": {"max_tokens": 4096, "temperature": [0, 1.2], "top_p": [0.1, 1]},
}


def chat(**params: object) -> dict[str, object]:
    return {"model": "m", "messages": [], **params}


def test_defaults_fill_what_the_request_left_out_and_are_recorded() -> None:
    body = chat()
    applied = apply_policy(body, SETTINGS, "chat.completions")
    assert body["temperature"] == 0.2 and body["max_tokens"] == 1024
    assert applied == {
        "temperature": {"value": 0.2, "reason": "default"},
        "max_tokens": {"value": 1024, "reason": "default"},
    }


def test_explicit_values_win_over_defaults() -> None:
    body = chat(temperature=0.7, max_completion_tokens=50)
    applied = apply_policy(body, SETTINGS, "chat.completions")
    assert body["temperature"] == 0.7 and "max_tokens" not in body
    assert applied == {}


def test_caps_clamp_out_of_range_values() -> None:
    body = chat(temperature=1.9, max_tokens=10_000, top_p=0.01)
    applied = apply_policy(body, SETTINGS, "chat.completions")
    assert (body["temperature"], body["max_tokens"], body["top_p"]) == (1.2, 4096, 0.1)
    assert applied["temperature"] == {"value": 1.2, "reason": "cap", "from": 1.9}
    assert applied["max_tokens"] == {"value": 4096, "reason": "cap", "from": 10_000}


def test_a_max_tokens_cap_is_set_when_the_request_has_no_limit() -> None:
    body = chat()
    apply_policy(body, {"caps": {"max_tokens": 256}}, "chat.completions")
    assert body["max_tokens"] == 256


def test_reject_mode_refuses_instead_of_clamping() -> None:
    settings = {"caps": {"temperature": [0, 1], "on_violation": "reject"}}
    with pytest.raises(InvalidRequest, match=r"temperature=1.5 is outside the range \[0, 1\]"):
        apply_policy(chat(temperature=1.5), settings, "chat.completions")


def test_parameters_outside_the_allow_list_are_refused() -> None:
    settings = {"caps": {"allowed_params": ["temperature", "max_tokens"]}}
    apply_policy(chat(temperature=0.1), settings, "chat.completions")
    with pytest.raises(InvalidRequest) as info:
        apply_policy(chat(logit_bias={"1": 5}), settings, "chat.completions")
    assert info.value.param == "logit_bias"
    with pytest.raises(InvalidRequest):
        apply_policy({"model": "e", "input": "x", "dimensions": 8}, settings, "embeddings")


def test_embeddings_get_no_sampling_defaults() -> None:
    body = {"model": "e", "input": "x"}
    assert apply_policy(body, SETTINGS, "embeddings") == {}
    assert body == {"model": "e", "input": "x"}


def test_the_admin_model_validates_settings() -> None:
    ProjectPolicy.model_validate(SETTINGS)
    with pytest.raises(ValidationError, match="range"):
        ProjectPolicy.model_validate({"caps": {"temperature": [2, 1]}})
