"""Configuration validation: defaults work, bad keys are named."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from socle.accounting.config import AccountingConfig, BudgetRule


def test_defaults_are_in_process_without_budgets() -> None:
    config = AccountingConfig()
    assert config.backend == "memory"
    assert config.failure_mode == "closed"
    assert config.budgets == []
    assert config.fx_rates["EUR"] == 1.0


def test_budget_names_are_derived_and_thresholds_sorted() -> None:
    rule = BudgetRule(scope="project", id="p1", limit=10, thresholds=[100, 50, 80, 80])
    assert rule.name == "project:p1:month"
    assert rule.thresholds == [50, 80, 100]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"backend": "mongo"}, "backend"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"redis_url": "http://x"}, "redis://"),
        ({"unknown": 1}, "unknown"),
        ({"budgets": [{"scope": "project", "limit": -1}]}, "limit"),
        ({"budgets": [{"scope": "project", "id": "a b", "limit": 1}]}, "id of letters"),
        (
            {"budgets": [{"scope": "key", "limit": 1}, {"scope": "key", "limit": 2}]},
            "duplicate name",
        ),
        ({"fx_rates": {"EUR": 2.0}}, "must be 1"),
        ({"prices": {"m": {"currency": "JPY", "input_per_mtok": 1}}}, "no fx_rates entry for JPY"),
        ({"carbon": {"deployments": {"d": {"profile": "tpu"}}}}, "unknown profile"),
        ({"carbon": {"pue": {"on_prem": 0.5}}}, "PUE"),
        ({"alerts": {"webhooks": [{"url": "ftp://x"}]}}, "http"),
    ],
)
def test_bad_values_are_refused_with_a_clear_message(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        AccountingConfig.model_validate(data)
    assert message in str(info.value)
