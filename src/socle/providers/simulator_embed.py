"""Deterministic embedding vectors for the simulator, with a useful notion of similarity.

Each word (or token id) is hashed with BLAKE2b to a few signed positions of the vector; a text's
vector is the normalised sum over its words (feature hashing, a sparse random projection). Equal
inputs give equal vectors, texts that share words point in similar directions, and nothing needs
numpy or a model file.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from hashlib import blake2b

_WORD = re.compile(r"\w+", re.UNICODE)
_POSITIONS_PER_FEATURE = 8  # 8 × 4 digest bytes


@lru_cache(maxsize=65_536)
def _feature(feature: str, dimensions: int, key: bytes) -> tuple[tuple[int, float], ...]:
    digest = blake2b(feature.encode("utf-8"), digest_size=32, key=key).digest()
    spots = []
    for i in range(0, 4 * _POSITIONS_PER_FEATURE, 4):
        position = int.from_bytes(digest[i : i + 3], "little") % dimensions
        spots.append((position, 1.0 if digest[i + 3] & 1 else -1.0))
    return tuple(spots)


def embed_features(features: list[str], dimensions: int, key: bytes) -> list[float]:
    """The unit vector of a bag of features (words or token ids)."""
    vector = [0.0] * dimensions
    for feature in features:
        for position, sign in _feature(feature, dimensions, key):
            vector[position] += sign
    norm = math.sqrt(sum(x * x for x in vector))
    if norm == 0.0:  # no features, or signs that cancelled out: fall back to the whole input
        for position, sign in _feature("\x00" + "\x00".join(features), dimensions, key):
            vector[position] += sign
        norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector]


def text_features(text: str) -> list[str]:
    """Lower-cased words of a text; the text itself when it has no word characters."""
    return _WORD.findall(text.lower()) or [text]


def token_features(tokens: list[int]) -> list[str]:
    """Token ids as features, kept apart from words by a prefix."""
    return [f"#{t}" for t in tokens]
