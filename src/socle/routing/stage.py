"""Pipeline stages of the routing capability: ``classify`` and ``route``.

``classify`` runs right after authentication and sets the request's data classification from the
``X-Socle-Classification`` header, the project's default and the project's floor. The guards stage
may raise it afterwards (``ctx.raise_classification``). ``route`` runs after the guards, so it
sees the final classification, and sets ``ctx.route`` for the call stage
(:class:`~socle.routing.dispatcher.Dispatcher`).
"""

from __future__ import annotations

from typing import Any

from socle.pipeline.context import Classification, RequestContext
from socle.pipeline.errors import InvalidRequest
from socle.pipeline.stage import Stage
from socle.routing.policy import PolicyError
from socle.routing.router import Router

CLASSIFICATION_HEADER = "X-Socle-Classification"
_HEADER_KEY = CLASSIFICATION_HEADER.lower()
_LEVELS: dict[str, Classification] = {c.label: c for c in Classification}


def parse_classification(value: str) -> Classification | None:
    """The classification named by ``value`` (case and spaces ignored), or ``None``."""
    return _LEVELS.get(value.strip().lower())


def _setting(settings: dict[str, Any], key: str) -> Classification | None:
    value = settings.get(key)
    if value is None or isinstance(value, Classification):
        return value
    level = parse_classification(value) if isinstance(value, str) else None
    if level is None:
        raise PolicyError(f"project setting {key}: unknown classification {value!r}")
    return level


class ClassifyStage(Stage):
    """Sets ``ctx.classification`` and ``ctx.classification_floor``.

    The level is the header's if present, else the project's ``default_classification``, else the
    gateway default; it is then raised to the project's ``classification_floor`` if below it. A
    client can thus raise its classification, or lower it to the floor, never below.
    """

    name = "classify"

    def __init__(self, default: Classification = Classification.INTERNAL) -> None:
        self.default = default

    async def before_call(self, ctx: RequestContext) -> None:
        settings = ctx.project_settings
        floor = _setting(settings, "classification_floor") or Classification.PUBLIC
        header = ctx.headers.get(_HEADER_KEY)
        if header is not None:
            level = parse_classification(header)
            if level is None:
                names = ", ".join(_LEVELS)
                raise InvalidRequest(
                    f"Invalid {CLASSIFICATION_HEADER} header {header[:40]!r}:"
                    f" expected one of {names}.",
                    param=CLASSIFICATION_HEADER,
                )
            reason = f"header: {level.label}"
        else:
            project_default = _setting(settings, "default_classification")
            level = project_default if project_default is not None else self.default
            source = "project default" if project_default is not None else "gateway default"
            reason = f"{source}: {level.label}"
        ctx.classification_floor = floor
        ctx.classification_reasons.append(reason)
        if level < floor:
            level = floor
            ctx.classification_reasons.append(f"project floor: {floor.label}")
        ctx.classification = level


class RouteStage(Stage):
    """Resolves the logical model and sets ``ctx.route`` to the request's :class:`RoutePlan`.

    Raises ``ModelNotFound`` (404) for an unknown model, ``InvalidRequest`` (400) for a model of the
    wrong kind, and ``NoRouteAvailable`` (503) with the reason when no deployment is allowed or
    healthy. Sets the ``X-Socle-Classification`` response header.
    """

    name = "route"

    def __init__(self, router: Router) -> None:
        self.router = router

    async def before_call(self, ctx: RequestContext) -> None:
        ctx.response_headers[CLASSIFICATION_HEADER] = ctx.classification.label
        ctx.route = self.router.plan(ctx)
