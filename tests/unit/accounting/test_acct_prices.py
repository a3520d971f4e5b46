"""Prices: per-token and amortised pricing, the shipped table, overrides and conversion."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from socle.accounting.config import AccountingConfig
from socle.accounting.pricebook import PriceBook
from socle.accounting.prices import NANO, Pricing, TokenRates
from socle.pipeline.context import Usage
from tests.unit.accounting.acct_support import deployment


def test_cost_prices_fresh_cached_and_output_tokens_separately() -> None:
    pricing = Pricing(input_per_mtok=2.0, output_per_mtok=8.0, cached_input_per_mtok=0.5)
    rates = TokenRates.of(pricing, 1.0)
    usage = Usage(prompt_tokens=1_000, completion_tokens=500, cached_tokens=400)
    expected = (600 * 2.0 + 400 * 0.5 + 500 * 8.0) / 1_000_000 * NANO
    assert rates.cost(usage) == round(expected)
    assert rates.max_cost(1_000, 500) == round((1_000 * 2.0 + 500 * 8.0) * 1000)


def test_amortised_hourly_price_becomes_a_price_per_token() -> None:
    # 3.60 EUR/hour at 1000 output tokens/s: 1 EUR per million output tokens.
    pricing = Pricing(per_hour=3.6, tokens_per_second=1000, input_weight=0.1)
    assert pricing.per_mtok() == pytest.approx((0.1, 1.0, 0.1))
    with pytest.raises(ValidationError, match="tokens_per_second"):
        Pricing(per_hour=3.6)
    with pytest.raises(ValidationError, match="not both"):
        Pricing(per_hour=3.6, tokens_per_second=10, output_per_mtok=1.0)


def test_cloud_deployment_without_price_takes_the_shipped_table_in_euros() -> None:
    book = PriceBook(AccountingConfig())
    dep = deployment(
        "oai", location="public_cloud", upstream_model="gpt-4o-mini-2024-07-18", pricing={}
    )
    rates = book.rates(dep)
    usd = book.table.get("gpt-4o-mini")
    assert usd is not None and usd.currency == "USD"
    fx = AccountingConfig().fx_rates["USD"]
    assert rates.input == pytest.approx(usd.input_per_mtok * fx * 1000)
    assert rates.output == pytest.approx(usd.output_per_mtok * fx * 1000)
    assert book.as_of  # the shipped table is dated


def test_longest_prefix_wins_and_separators_matter() -> None:
    book = PriceBook(AccountingConfig())
    mini = book.table.get("gpt-4o-mini-2024-07-18")
    full = book.table.get("gpt-4o-2024-08-06")
    assert mini is not None and full is not None and mini != full
    assert book.table.get("gpt-4") is None
    assert book.table.get("mistralai/Mistral-Small-latest") == book.table.get("mistral-small")


def test_local_deployment_never_takes_a_public_price() -> None:
    book = PriceBook(AccountingConfig())
    dep = deployment("local", location="on_prem", upstream_model="mistral-small", pricing={})
    assert book.rates(dep).output == 0.0


def test_config_prices_and_price_file_override_the_shipped_table(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(
        "models:\n  gpt-4o: {currency: EUR, input_per_mtok: 9, output_per_mtok: 9}\n"
        "  house-model: {input_per_mtok: 1, output_per_mtok: 1}\n"
    )
    config = AccountingConfig(
        prices_file=path, prices={"house-model": Pricing(input_per_mtok=3, output_per_mtok=4)}
    )
    book = PriceBook(config)
    assert book.table.get("gpt-4o") == Pricing(currency="EUR", input_per_mtok=9, output_per_mtok=9)
    assert book.table.get("house-model") == Pricing(input_per_mtok=3, output_per_mtok=4)


def test_a_bad_price_file_names_the_file_and_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text("models:\n  m1: {input_per_mtok: -1}\n")
    with pytest.raises(ValueError, match=r"prices.yaml: models.m1"):
        PriceBook(AccountingConfig(prices_file=path))
