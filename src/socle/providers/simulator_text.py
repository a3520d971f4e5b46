"""Deterministic text for the simulator: token estimates, prompt reading and answer writing.

Everything here is a pure function of its inputs, so the same request always gets the same
answer. Token counts use one rule everywhere (about four characters per token), so a prompt and
a completion of the same text count the same.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

import orjson

from socle.providers.base import Json

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD_TOKENS = 4  # role and separators, as in OpenAI's own accounting
REPLY_PRIMING_TOKENS = 3

_WORD = re.compile(r"\S+")
_SPACE = re.compile(r"\s+")
_WORDS = re.compile(r"[^\W\d_]+", re.UNICODE)
# Function words that tell French from English (split at import; a literal list is unreadable).
_FRENCH_WORDS = (
    "le la les un une des est et de du que qui pour dans sur avec pas vous nous je tu il elle "
    "ce cette ces mon ma mes votre vos quel quelle quels comment pourquoi bonjour merci"
)
_ENGLISH_WORDS = (
    "the a an is are and of to that which for in on with not you we i he she it this these my "
    "your what how why hello thanks please"
)
_FRENCH = frozenset(_FRENCH_WORDS.split())
_ENGLISH = frozenset(_ENGLISH_WORDS.split())

_SENTENCES_EN = (
    "Here is a concise answer based on the information available.",
    "The main point is that the request can be handled in a few clear steps.",
    "First, identify the goal and the constraints that apply to it.",
    "Then compare the available options against those constraints.",
    "A careful review of the inputs usually reveals the simplest path.",
    "It is worth checking the result against the original question.",
    "Costs, risks and benefits should be weighed before deciding.",
    "In practice, small iterations give faster and safer feedback.",
    "Documentation and traceability make the outcome easier to audit.",
    "If more detail is needed, a follow-up question can narrow the scope.",
    "This answer comes from the Socle simulator, not from a language model.",
    "Each step should be validated by the people accountable for it.",
    "Data protection rules apply to every piece of personal information.",
    "A summary of the findings is often more useful than raw data.",
    "Monitoring after the change confirms that it worked as intended.",
    "These recommendations can be adapted to the context of your team.",
)
_SENTENCES_FR = (
    "Voici une réponse concise fondée sur les informations disponibles.",
    "L'essentiel est que la demande peut être traitée en quelques étapes claires.",
    "D'abord, identifiez l'objectif et les contraintes qui s'y appliquent.",
    "Ensuite, comparez les options disponibles au regard de ces contraintes.",
    "Un examen attentif des données d'entrée révèle souvent la voie la plus simple.",
    "Il est utile de vérifier le résultat par rapport à la question initiale.",
    "Les coûts, les risques et les bénéfices doivent être pesés avant de décider.",
    "En pratique, de petites itérations donnent un retour plus rapide et plus sûr.",
    "La documentation et la traçabilité facilitent l'audit du résultat.",
    "Si plus de détails sont nécessaires, une question de suivi peut préciser le périmètre.",
    "Cette réponse vient du simulateur de Socle, pas d'un modèle de langage.",
    "Chaque étape doit être validée par les personnes qui en sont responsables.",
    "Les règles de protection des données s'appliquent à toute information personnelle.",
    "Une synthèse des constats est souvent plus utile que les données brutes.",
    "Un suivi après le changement confirme qu'il a produit l'effet attendu.",
    "Ces recommandations peuvent être adaptées au contexte de votre équipe.",
)


def estimate_tokens(text: str) -> int:
    """Tokens in ``text`` by the simulator's rule: one per four characters, rounded up."""
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def content_text(content: Any) -> str:
    """The text of a message's content (a string or a list of parts; images count as a tag)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    pieces: list[str] = []
    for part in content:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "text":
            pieces.append(str(part.get("text", "")))
        elif kind == "image_url":
            pieces.append("[image]")
        elif kind in ("input_audio", "file"):
            pieces.append(f"[{kind}]")
    return " ".join(pieces)


def prompt_tokens(messages: Sequence[Json], tools: Any = None) -> int:
    """Prompt tokens of a chat request: every message's text, tool calls and tool definitions."""
    total = REPLY_PRIMING_TOKENS
    for message in messages:
        total += MESSAGE_OVERHEAD_TOKENS + estimate_tokens(content_text(message.get("content")))
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            total += estimate_tokens(function.get("name", "") + function.get("arguments", ""))
    if tools:
        total += estimate_tokens(orjson.dumps(tools).decode())
    return total


def excerpt(text: str, words: int = 12) -> str:
    """The first words of ``text`` on one line, with an ellipsis when cut."""
    parts = _SPACE.sub(" ", text).strip().split(" ")
    if len(parts) <= words:
        return " ".join(parts)
    return " ".join(parts[:words]) + "…"


def is_french(text: str) -> bool:
    """Whether ``text`` has more French than English function words."""
    words = [w.lower() for w in _WORDS.findall(text)]
    return sum(w in _FRENCH for w in words) > sum(w in _ENGLISH for w in words)


def write_answer(opening: str, *, french: bool, target_tokens: int, rng: random.Random) -> str:
    """An opening sentence followed by filler sentences until about ``target_tokens`` tokens."""
    bank = _SENTENCES_FR if french else _SENTENCES_EN
    order = list(range(len(bank)))
    rng.shuffle(order)
    sentences = [opening]
    length = len(opening)
    position = 0
    while length < target_tokens * CHARS_PER_TOKEN:
        sentence = bank[order[position % len(order)]]
        sentences.append(sentence)
        length += len(sentence) + 1
        position += 1
    return " ".join(sentences)


def opening_sentence(question: str, *, french: bool) -> str:
    """A first sentence that shows which message the answer is about."""
    if not question.strip():
        return "Bonjour." if french else "Hello."
    quoted = excerpt(question)
    end = "" if quoted.endswith((".", "?", "!", "…")) else "."
    if french:
        return f"Vous avez demandé : « {quoted} »{end}"
    return f'You asked: "{quoted}"{end}'


def tool_result_opening(tool_name: str, result: str, *, french: bool) -> str:
    """A first sentence that uses the result of the tool call the previous turn asked for."""
    if french:
        return f"D'après l'outil {tool_name}, le résultat est : {excerpt(result, 24)}."
    return f"According to the {tool_name} tool, the result is: {excerpt(result, 24)}."


def cut(text: str, stop: Sequence[str], max_tokens: int | None) -> tuple[str, str]:
    """Apply stop sequences then the token limit, as a model would; return text and reason."""
    earliest = -1
    for sequence in stop:
        if sequence:
            found = text.find(sequence)
            if found != -1 and (earliest == -1 or found < earliest):
                earliest = found
    reason = "stop"
    if earliest != -1:
        text = text[:earliest]
    if max_tokens is not None and estimate_tokens(text) > max_tokens:
        text = text[: max(max_tokens, 0) * CHARS_PER_TOKEN]
        reason = "length"
    return text, reason


def split_words(text: str, words_per_piece: int) -> list[str]:
    """Pieces of a few words whose concatenation is exactly ``text`` (for streaming)."""
    starts = [m.start() for m in _WORD.finditer(text)][::words_per_piece]
    if not starts:
        return [text] if text else []
    starts[0] = 0
    ends = [*starts[1:], len(text)]
    return [text[a:b] for a, b in zip(starts, ends, strict=True)]


def split_fixed(text: str, size: int) -> list[str]:
    """Pieces of ``size`` characters (tool-call arguments arrive like this in real streams)."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
