"""Resolve what a deployment costs per token, in nano-units of the reporting currency.

Order: the deployment's own ``pricing`` when set; for a cloud deployment without a price, the
``accounting.prices`` overrides, then ``accounting.prices_file``, then the shipped table
(``data/default_prices.yaml``), all by upstream model name. A local deployment (on_prem, edge)
never takes a public API price: without its own pricing it is free at the margin.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from socle.accounting.config import AccountingConfig
from socle.accounting.prices import FREE, Pricing, TokenRates
from socle.accounting.tables import PrefixTable, load_data, load_file
from socle.routing.catalog import Deployment

log = logging.getLogger(__name__)

LOCAL_LOCATIONS = frozenset({"on_prem", "edge"})
_CACHE_LIMIT = 10_000


def parse_price_table(data: dict[str, Any], where: str) -> dict[str, Pricing]:
    """The ``models`` mapping of a price file as :class:`Pricing` objects."""
    models = data.get("models", {})
    if not isinstance(models, dict):
        raise ValueError(f"{where}: 'models' must be a mapping of model name to prices")
    table: dict[str, Pricing] = {}
    for name, entry in models.items():
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: models.{name} must be a mapping")
        fields = {k: v for k, v in entry.items() if k != "source"}
        try:
            table[str(name)] = Pricing(**fields)
        except ValidationError as exc:
            raise ValueError(f"{where}: models.{name}: {exc.errors()[0]['msg']}") from None
    return table


class PriceBook:
    """Token rates per deployment, cached; built once at start from the configuration."""

    def __init__(self, config: AccountingConfig) -> None:
        self.currency = config.currency
        self.fx = dict(config.fx_rates)
        shipped = load_data("default_prices.yaml")
        self.as_of = str(shipped.get("as_of", ""))
        merged = parse_price_table(shipped, "default_prices.yaml")
        if config.prices_file is not None:
            merged.update(parse_price_table(load_file(config.prices_file), str(config.prices_file)))
        merged.update(config.prices)
        for name, pricing in merged.items():
            if pricing.currency.upper() not in self.fx:
                raise ValueError(
                    f"price of {name}: no accounting.fx_rates entry for {pricing.currency}"
                )
        self.table: PrefixTable[Pricing] = PrefixTable(merged)
        # By object identity: deployments are immutable snapshots, replaced whole when the
        # catalog changes; holding the object keeps its id from being reused.
        self._rates: dict[int, tuple[Deployment, TokenRates]] = {}

    def convert(self, pricing: Pricing) -> TokenRates:
        """Rates of a pricing in the reporting currency."""
        return TokenRates.of(pricing, self.fx[pricing.currency.upper()])

    def pricing_for(self, deployment: Deployment) -> Pricing | None:
        """The pricing that applies to a deployment, or None when it is unpriced."""
        if not deployment.pricing.is_unset or deployment.location in LOCAL_LOCATIONS:
            return deployment.pricing
        return self.table.get(deployment.endpoint.upstream_model)

    def rates(self, deployment: Deployment) -> TokenRates:
        """Nano-units per token for this deployment (free when nothing prices it)."""
        cached = self._rates.get(id(deployment))
        if cached is not None and cached[0] is deployment:
            return cached[1]
        pricing = self.pricing_for(deployment)
        if pricing is None:
            log.warning(
                "deployment %s (%s) has no price: counted as free",
                deployment.id,
                deployment.endpoint.upstream_model,
            )
            found = FREE
        else:
            found = self.convert(pricing)
        if len(self._rates) >= _CACHE_LIMIT:
            self._rates.clear()
        self._rates[id(deployment)] = (deployment, found)
        return found
