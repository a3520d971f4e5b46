"""The classify stage: header, project default and floor."""

from __future__ import annotations

import pytest

from socle.pipeline.context import Classification
from socle.pipeline.errors import InvalidRequest
from socle.routing.policy import PolicyError
from socle.routing.stage import ClassifyStage
from tests.unit.routing.fakes import context


async def classify(
    headers: dict[str, str] | None = None,
    settings: dict[str, object] | None = None,
    default: Classification = Classification.INTERNAL,
) -> tuple[Classification, Classification, list[str]]:
    ctx = context("chat-default", headers=headers, settings=dict(settings or {}))
    await ClassifyStage(default).before_call(ctx)
    return ctx.classification, ctx.classification_floor, ctx.classification_reasons


async def test_gateway_default_without_header_or_project_setting() -> None:
    level, floor, reasons = await classify(default=Classification.PUBLIC)
    assert level is Classification.PUBLIC
    assert floor is Classification.PUBLIC
    assert reasons == ["gateway default: public"]


async def test_project_default_applies_without_header() -> None:
    level, _, reasons = await classify(settings={"default_classification": "confidential"})
    assert level is Classification.CONFIDENTIAL
    assert reasons == ["project default: confidential"]


async def test_header_raises_above_the_default() -> None:
    level, _, reasons = await classify(
        {"x-socle-classification": " Secret "}, {"default_classification": "internal"}
    )
    assert level is Classification.SECRET
    assert reasons == ["header: secret"]


async def test_header_may_lower_to_but_never_below_the_floor() -> None:
    settings = {"default_classification": "confidential", "classification_floor": "internal"}
    level, floor, _ = await classify({"x-socle-classification": "internal"}, settings)
    assert level is Classification.INTERNAL
    level, floor, reasons = await classify({"x-socle-classification": "public"}, settings)
    assert level is Classification.INTERNAL
    assert floor is Classification.INTERNAL
    assert reasons == ["header: public", "project floor: internal"]


async def test_project_default_below_floor_is_raised() -> None:
    level, _, _ = await classify(
        settings={"default_classification": "public", "classification_floor": "secret"}
    )
    assert level is Classification.SECRET


async def test_invalid_header_is_a_400_naming_the_header() -> None:
    with pytest.raises(InvalidRequest) as caught:
        await classify({"x-socle-classification": "top-secret"})
    assert caught.value.status == 400
    assert caught.value.param == "X-Socle-Classification"
    assert "public, internal, confidential, secret" in caught.value.message


async def test_invalid_project_setting_is_an_operator_error() -> None:
    with pytest.raises(PolicyError, match="classification_floor"):
        await classify(settings={"classification_floor": "very"})


async def test_guard_findings_can_only_raise_afterwards() -> None:
    ctx = context("chat-default", headers={"x-socle-classification": "confidential"})
    await ClassifyStage().before_call(ctx)
    ctx.raise_classification(Classification.INTERNAL, "ignored")
    assert ctx.classification is Classification.CONFIDENTIAL
    ctx.raise_classification(Classification.SECRET, "guard: NIR")
    assert ctx.classification is Classification.SECRET
