"""Prices of a deployment: per million tokens, or amortised per hour for local hardware.

Money inside the accounting capability is an ``int`` of nano-units of the reporting currency
(10^9 per EUR): sums and budget comparisons are exact, in Python as in Redis and SQL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator

from socle.pipeline.context import Usage

NANO = 1_000_000_000


def to_nano(amount: float) -> int:
    """Currency units to nano-units, rounded to the nearest."""
    return round(amount * NANO)


def from_nano(amount: int) -> float:
    """Nano-units to currency units."""
    return amount / NANO


class Pricing(BaseModel):
    """What one deployment costs. Currency EUR unless stated.

    Either token prices (``input_per_mtok``, ``output_per_mtok``, ``cached_input_per_mtok``) or,
    for hardware you own, an amortised ``per_hour`` cost spread over the hardware's sustained
    output throughput (``tokens_per_second``); input tokens then cost ``input_weight`` times an
    output token, because the prompt is processed in parallel (prefill) and is much cheaper
    per token than generation.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: str = Field("EUR", min_length=3, max_length=3)
    input_per_mtok: float = Field(0.0, ge=0, description="Price per million input tokens.")
    output_per_mtok: float = Field(0.0, ge=0, description="Price per million output tokens.")
    cached_input_per_mtok: float | None = Field(
        None, ge=0, description="Price per million cached input tokens (input price if unset)."
    )
    per_hour: float | None = Field(
        None, ge=0, description="Amortised cost per hour of the hardware serving a local model."
    )
    tokens_per_second: float | None = Field(
        None, gt=0, description="Sustained output tokens per second of that hardware (all users)."
    )
    input_weight: float = Field(
        0.1, ge=0, le=1, description="Cost of an input token relative to an output token."
    )

    @model_validator(mode="after")
    def _check(self) -> Pricing:
        if self.per_hour is not None and self.tokens_per_second is None:
            raise ValueError("per_hour needs tokens_per_second to turn hours into tokens")
        if self.per_hour is not None and (self.input_per_mtok or self.output_per_mtok):
            raise ValueError("set either per-token prices or per_hour, not both")
        return self

    @property
    def is_unset(self) -> bool:
        """True when no price was given at all (the shipped price table may fill it in)."""
        return not (self.input_per_mtok or self.output_per_mtok or self.per_hour is not None)

    def per_mtok(self) -> tuple[float, float, float]:
        """(input, output, cached input) price per million tokens, in ``currency``."""
        if self.per_hour is not None and self.tokens_per_second is not None:
            output = self.per_hour / (self.tokens_per_second * 3600.0) * 1_000_000.0
            return output * self.input_weight, output, output * self.input_weight
        cached = self.cached_input_per_mtok
        return (
            self.input_per_mtok,
            self.output_per_mtok,
            (self.input_per_mtok if cached is None else cached),
        )


@dataclass(frozen=True, slots=True)
class TokenRates:
    """Prices per token in nano-units of the reporting currency: what the hot path multiplies."""

    input: float
    output: float
    cached: float

    @classmethod
    def of(cls, pricing: Pricing, rate_to_reporting: float) -> TokenRates:
        """Convert a pricing (per million tokens, its own currency) to nano per token."""
        factor = rate_to_reporting * NANO / 1_000_000.0
        inp, out, cached = pricing.per_mtok()
        return cls(inp * factor, out * factor, cached * factor)

    def max_cost(self, prompt_tokens: int, max_output_tokens: int) -> int:
        """Upper bound of a request's cost (rounded up): what a reservation holds."""
        return math.ceil(prompt_tokens * self.input + max_output_tokens * self.output)

    def cost(self, usage: Usage) -> int:
        """Cost of the tokens actually used, cached input at its own price."""
        cached = min(usage.cached_tokens, usage.prompt_tokens)
        fresh = usage.prompt_tokens - cached
        value = fresh * self.input + cached * self.cached + usage.completion_tokens * self.output
        return round(value)


FREE = TokenRates(0.0, 0.0, 0.0)
