"""Build a JSON value that conforms to a (simple) JSON Schema, deterministically.

Used by the simulator for ``response_format: json_schema`` and for tool-call arguments. Covers
what function and response schemas use in practice: objects (every listed property is filled),
arrays (``minItems`` items), strings (``enum``, ``const``, common formats, length bounds),
numbers and integers (bounds), booleans, null, ``anyOf`` / ``oneOf`` / ``allOf`` and local
``$ref`` to ``$defs`` / ``definitions``. ``pattern`` and ``multipleOf`` are not honoured.
"""

from __future__ import annotations

import re
from typing import Any

from socle.providers.base import Json

_MAX_DEPTH = 12
_FORMATS = {
    "date": "2025-01-15",
    "date-time": "2025-01-15T09:30:00Z",
    "time": "09:30:00",
    "email": "user@example.org",
    "uri": "https://example.org/",
    "url": "https://example.org/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "192.0.2.1",
    "hostname": "example.org",
}
_PLACE_NAMES = frozenset({"city", "location", "place", "country", "town", "region"})
_PROPER_NOUN = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-ZÀ-Ý][\w'-]+)")


def sample(schema: Any, *, hint: str, root: Json | None = None) -> Any:
    """A value valid for ``schema``; strings are taken from ``hint`` where no rule says more."""
    return _Sampler(root if root is not None else schema, hint).value(schema, "", 0)


class _Sampler:
    def __init__(self, root: Any, hint: str) -> None:
        self.root = root if isinstance(root, dict) else {}
        self.hint = hint

    def value(self, schema: Any, name: str, depth: int) -> Any:
        if not isinstance(schema, dict) or depth > _MAX_DEPTH:
            return None
        if "$ref" in schema:
            return self.value(self._resolve(schema["$ref"]), name, depth + 1)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][0]
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if options:
                usable = [
                    o for o in options if not (isinstance(o, dict) and o.get("type") == "null")
                ]
                return self.value((usable or options)[0], name, depth + 1)
        if schema.get("allOf"):
            merged: Json = {}
            for part in schema["allOf"]:
                resolved = self._resolve(part["$ref"]) if "$ref" in part else part
                _merge(merged, resolved)
            return self.value(merged, name, depth + 1)
        kind = _type_of(schema)
        if kind == "object":
            properties = schema.get("properties") or {}
            return {k: self.value(v, k, depth + 1) for k, v in properties.items()}
        if kind == "array":
            count = max(int(schema.get("minItems", 1)), 0)
            if "maxItems" in schema:
                count = min(count, int(schema["maxItems"]))
            return [self.value(schema.get("items") or {}, name, depth + 1) for _ in range(count)]
        if kind == "integer":
            return int(_number(schema, 1))
        if kind == "number":
            return float(_number(schema, 1.5))
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return self._string(schema, name)

    def _string(self, schema: Json, name: str) -> str:
        text = _FORMATS.get(str(schema.get("format", "")), "")
        if not text:
            text = self._place() if name.lower() in _PLACE_NAMES else self.hint
        text = text or name or "value"
        minimum = int(schema.get("minLength", 0))
        if len(text) < minimum:
            text = text + "x" * (minimum - len(text))
        if "maxLength" in schema:
            text = text[: int(schema["maxLength"])]
        return text

    def _place(self) -> str:
        names = _PROPER_NOUN.findall(self.hint)
        return names[-1] if names else self.hint

    def _resolve(self, ref: Any) -> Any:
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return {}
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = (
                node.get(part.replace("~1", "/").replace("~0", "~"))
                if isinstance(node, dict)
                else None
            )
        return node if isinstance(node, dict) else {}


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null"


def _type_of(schema: Json) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if kinds else "null"
    if isinstance(kind, str):
        return kind
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


def _number(schema: Json, preferred: float) -> float:
    value = preferred
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if isinstance(low, int | float) and value <= low:
        value = low + (1 if "exclusiveMinimum" in schema and "minimum" not in schema else 0)
    if isinstance(high, int | float) and value >= high:
        value = high - (1 if "exclusiveMaximum" in schema and "maximum" not in schema else 0)
    return value


def _merge(target: Json, part: Json) -> None:
    for key, value in part.items():
        if key == "properties" and isinstance(value, dict):
            target.setdefault("properties", {}).update(value)
        elif key == "required" and isinstance(value, list):
            target["required"] = [*target.get("required", []), *value]
        else:
            target.setdefault(key, value)
