"""Reference tables shipped with Socle (prices, model sizes, grid intensities) and name matching."""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml

T = TypeVar("T")

_SEPARATORS = re.compile(r"[\s_/]+")


def load_data(name: str) -> dict[str, Any]:
    """Read one YAML file shipped in ``socle/accounting/data``."""
    text = resources.files("socle.accounting").joinpath("data", name).read_text(encoding="utf-8")
    return _mapping(yaml.safe_load(text), name)


def load_file(path: Path) -> dict[str, Any]:
    """Read a user-supplied YAML file (price table override), naming it in errors."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read: {exc}") from None
    return _mapping(data, str(path))


def _mapping(data: object, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: the top level must be a mapping")
    return data


def normalise(name: str) -> str:
    """Lower-case, drop an ``org/`` prefix, and treat ``_``, ``/`` and spaces as ``-``."""
    name = name.strip().lower()
    if "/" in name:
        name = name.rsplit("/", 1)[1]
    return _SEPARATORS.sub("-", name)


class PrefixTable(Generic[T]):
    """Values by model name; a name matches its longest listed prefix ending at a separator.

    ``gpt-4o-mini-2024-07-18`` finds ``gpt-4o-mini`` before ``gpt-4o``; ``gpt-4o`` never matches
    ``gpt-4``. Results are cached: the set of names a gateway sees is small.
    """

    def __init__(self, entries: Mapping[str, T]) -> None:
        self._entries = {normalise(k): v for k, v in entries.items()}
        self._cache: dict[str, T | None] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, name: str) -> T | None:
        try:
            return self._cache[name]
        except KeyError:
            pass
        found = self._find(normalise(name))
        if len(self._cache) < 10_000:
            self._cache[name] = found
        return found

    def _find(self, name: str) -> T | None:
        if name in self._entries:
            return self._entries[name]
        cut = len(name)
        while True:
            cut = max(name.rfind(sep, 0, cut) for sep in "-:.@")
            if cut <= 0:
                return None
            value = self._entries.get(name[:cut])
            if value is not None:
                return value
