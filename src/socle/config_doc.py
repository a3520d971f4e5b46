"""Generates docs/configuration.md from the settings models, so that every key is documented.

``python -m socle.config_doc > docs/configuration.md``; a test checks the file is up to date.
"""

from __future__ import annotations

import types
import typing
from pathlib import PurePath
from typing import Any, Union

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from socle.config import Settings

HEADER = """# Configuration

Socle reads `socle.yaml` (from `--config`, else `SOCLE_CONFIG`, else `./socle.yaml`) and
`SOCLE_*` environment variables, which win over the file. Nested keys use `__` in variable names:
`routing.offline` is `SOCLE_ROUTING__OFFLINE`. Everything is validated at start-up; a bad value
stops the start with a message naming the key (`socle config check` does the same without
starting). `socle init` writes a commented example.

This page is generated from the settings models (`python -m socle.config_doc`).
"""


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is typing.Literal:
        return " | ".join(f"`{a}`" for a in args)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is not None:
        inner = ", ".join(_type_name(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    if field.default is not PydanticUndefined:
        value = field.default
    elif field.default_factory is not None:
        try:
            value = field.default_factory()  # type: ignore[call-arg]
        except TypeError:
            return "(computed)"
    else:
        return "**required**"
    if isinstance(value, BaseModel):
        return "(section)"
    if isinstance(value, PurePath):
        value = str(value)
    text = repr(getattr(value, "label", value)) if not isinstance(value, str) else f'"{value}"'
    if len(text) > 60:
        return "(see below)" if isinstance(value, dict | list) else text[:57] + "…"
    return f"`{text}`"


def _model_of(annotation: Any) -> type[BaseModel] | None:
    candidates = [annotation, *typing.get_args(annotation)]
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _section(model: type[BaseModel], prefix: str, out: list[str], seen: set[str]) -> None:
    rows: list[str] = []
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        sub = _model_of(field.annotation)
        description = (field.description or "").replace("|", "\\|").replace("\n", " ")
        type_name = _type_name(field.annotation).replace("|", "\\|")
        rows.append(f"| `{key}` | {type_name} | {_default(field)} | {description} |")
        if sub is not None and sub.__name__ not in seen:
            nested.append((key, sub))
    title = prefix.rstrip(".") or "top level"
    doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    out.append(f"\n## `{title}`\n")
    if doc:
        out.append(f"{doc}\n")
    out.append("| key | type | default | meaning |\n|---|---|---|---|")
    out.extend(rows)
    for key, sub in nested:
        seen.add(sub.__name__)
        _section(sub, f"{key}.", out, seen)


def render() -> str:
    out = [HEADER]
    _section(Settings, "", out, {"Settings"})
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render(), end="")
