"""Prices of a deployment: per million tokens, or amortised per hour for local hardware."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Pricing(BaseModel):
    """What one deployment costs. Currency EUR unless stated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: str = Field("EUR", min_length=3, max_length=3)
    input_per_mtok: float = Field(0.0, ge=0, description="Price per million input tokens.")
    output_per_mtok: float = Field(0.0, ge=0, description="Price per million output tokens.")
    cached_input_per_mtok: float | None = Field(
        None, ge=0, description="Price per million cached input tokens (input price if unset)."
    )
