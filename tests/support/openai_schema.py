"""Validate dicts against OpenAI's own OpenAPI schemas (jsonschema, draft 2020-12).

    from tests.support.openai_schema import validate
    validate(response, "CreateChatCompletionResponse")            # raises ValidationError
    validate(chunk, "CreateChatCompletionStreamResponse", strict=True)

The spec comes from a checkout of openai/openai-openapi when one is present (``OPENAI_OPENAPI_REPO``
or the workspace mirror), else from the committed extract ``tests/data/openai_schemas.json``
(made by ``scripts/extract_openai_schemas.py``). OpenAPI 3.1 is JSON Schema 2020-12 except for a
few leftovers of 3.0 that are converted here: ``nullable: true`` becomes ``anyOf [..., null]``,
component ``$ref``s point into ``$defs``, and ``x-`` / ``discriminator`` keywords are dropped.

``strict=True`` also forbids properties the schema does not define (``additionalProperties:
false`` on every plain object schema): use it for responses Socle builds itself, not for
pass-through upstream answers, which may carry vendor extensions.
"""

from __future__ import annotations

import json
import os
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

MIRROR = Path(os.environ.get("OPENAI_OPENAPI_REPO", "/work/.mirror/openai+openai-openapi/repo"))
EXTRACT = Path(__file__).resolve().parents[1] / "data" / "openai_schemas.json"
_PREFIX = "#/components/schemas/"


@lru_cache(maxsize=1)
def component_schemas() -> dict[str, Any]:
    """All component schemas, from the checkout if there is one, else from the extract."""
    if MIRROR.is_dir():
        try:
            text = subprocess.run(
                ["git", "-C", str(MIRROR), "show", "HEAD:openapi.json"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            schemas: dict[str, Any] = json.loads(text)["components"]["schemas"]
            return schemas
        except (OSError, subprocess.CalledProcessError, ValueError, KeyError):
            pass
    extract: dict[str, Any] = json.loads(EXTRACT.read_text(encoding="utf-8"))
    return extract["components"]["schemas"]  # type: ignore[no-any-return]


def to_json_schema(node: Any, *, strict: bool = False) -> Any:
    """Convert one OpenAPI 3.1 schema node (recursively) to plain JSON Schema 2020-12."""
    if isinstance(node, list):
        return [to_json_schema(v, strict=strict) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-") or key in ("discriminator", "nullable", "$recursiveAnchor"):
            continue
        if key == "$ref" and isinstance(value, str) and value.startswith(_PREFIX):
            out[key] = "#/$defs/" + value[len(_PREFIX) :]
        elif key in ("properties", "patternProperties", "$defs"):
            out[key] = {k: to_json_schema(v, strict=strict) for k, v in value.items()}
        else:
            out[key] = to_json_schema(value, strict=strict)
    if (
        strict
        and "properties" in out
        and "additionalProperties" not in out
        and not any(k in out for k in ("allOf", "anyOf", "oneOf"))
    ):
        out["additionalProperties"] = False
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


@lru_cache(maxsize=64)
def validator(name: str, *, strict: bool = False) -> Draft202012Validator:
    """A compiled validator for the component schema ``name``."""
    schemas = component_schemas()
    if name not in schemas:
        raise KeyError(f"no component schema named {name!r}")
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": {k: to_json_schema(schemas[k], strict=strict) for k in _closure(schemas, name)},
        "$ref": f"#/$defs/{name}",
    }
    Draft202012Validator.check_schema(document)
    return Draft202012Validator(document)


def _closure(schemas: dict[str, Any], root: str) -> set[str]:
    """``root`` and every component schema it references, transitively."""
    found: set[str] = set()
    pending = [root]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.add(name)
        stack: list[Any] = [schemas[name]]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and ref.startswith(_PREFIX):
                    pending.append(ref[len(_PREFIX) :])
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    return found


def validate(instance: Any, name: str, *, strict: bool = False) -> None:
    """Raise ``jsonschema.ValidationError`` (the most relevant one) unless ``instance`` fits."""
    errors = sorted(validator(name, strict=strict).iter_errors(instance), key=lambda e: e.path)
    if errors:
        from jsonschema.exceptions import best_match

        raise best_match(errors)
