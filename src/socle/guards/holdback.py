"""Where a stream can be cut: the start of the trailing text that could still grow into an
entity the output checks look for.

The recognizers' entities are either one token (an email, a key, a password value, an IP, a
compact IBAN or card) or a short chain of tokens led by a digit, an upper-case group or a month
(a phone or card in groups, a spaced IBAN, NIR or SIRET, "12 mars 1985", "March 12, 1985",
"12 rue de la Paix, 75002 Paris"), or a private-key block. So the text that must wait is:

* the last token when no whitespace follows it yet (it may go on: ``jean.dup`` → an email);
* an open chain: from a seed token (one with a digit, an ``@``, an upper-case group such as
  ``FR76`` or ``NWBK``, a month name) through the tokens that may continue it (more seeds,
  month names, ``of``/``bis``/``ter``, and after a number followed by a street type, the street
  and city words). The chain closes at a plain word that cannot continue it, or after a token
  ending a sentence;
* a ``-----BEGIN`` line with no ``-----END`` after it.

Everything before that point cannot be part of an entity still being written, and is released.
The caller bounds what is held by its hold-back window; this module only finds the cut.
"""

from __future__ import annotations

import re

from socle.guards.pii import STREET_TYPES

_TOKEN = re.compile(r"\S+")
_PUNCT = "\"'’«»()[]{}<>,:;.!?…"
_SEED = re.compile(r"[0-9@]")
_GROUP = re.compile(r"[A-Z0-9ÀÉ]{1,5}")  # an IBAN/NIR group or an acronym: may continue a chain
_MONTHS = frozenset(
    [
        "janvier",
        "février",
        "fevrier",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "aout",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
        "decembre",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "janv",
        "févr",
        "fév",
        "avr",
        "juil",
        "déc",
    ]
)
# Words that continue a date or a numbered street: "12th of March", "3 bis rue".
_JOINERS = frozenset(("of", "bis", "ter", "quater"))
_STREET_TYPES = frozenset(STREET_TYPES)
# Lower-case words an address may hold between its name and city words.
_PARTICLES = frozenset(
    [
        "de",
        "du",
        "des",
        "la",
        "le",
        "les",
        "aux",
        "au",
        "sur",
        "sous",
        "en",
        "et",
        "à",
        "lès",
        "lez",
        "d",
        "l",
        "cedex",
    ]
)
_SENTENCE_END = ".!?;"
_KEY_BEGIN = "-----BEGIN"
_KEY_END = "-----END"


def safe_cut(text: str, start: int = 0) -> int:
    """The index in ``text`` (at least ``start``) from which the tail must be held back:
    ``len(text)`` when all of ``text[start:]`` can be released."""
    n = len(text)
    if start >= n:
        return n
    begin = text.rfind(_KEY_BEGIN, start)
    held = n
    if begin >= 0 and text.find(_KEY_END, begin) < 0:
        held = begin  # a key block being written: held until its END line
    chain: int | None = None  # start of the open chain
    address = False  # the chain is a number followed by a street type
    numbered = False  # the chain holds a number
    last: re.Match[str] | None = None
    for m in _TOKEN.finditer(text, start):
        last = m
        if m.end() == n:
            break  # unfinished: it may yet continue the chain (``r`` → ``rue``) or start one
        raw = m.group()
        word = raw.strip(_PUNCT)
        lower = word.lower()
        seed = bool(_SEED.search(raw)) or bool(_GROUP.fullmatch(word)) or lower in _MONTHS
        if seed:
            if chain is None:
                chain, address, numbered = m.start(), False, False
            numbered = numbered or any(c.isdigit() for c in word)
        elif chain is not None:
            if numbered and lower.rstrip(".") in _STREET_TYPES:
                address = True
            elif lower in _JOINERS or (address and _continues_address(word, lower)):
                pass
            else:
                chain = None
        if chain is not None and raw[-1] in _SENTENCE_END and lower not in ("av", "pl", "bd"):
            chain = None  # a sentence ended: the entity did too
    if chain is not None:
        held = min(held, chain)
    if last is not None and last.end() == n:
        held = min(held, last.start())  # the last token may still grow
    return max(held, start)


def _continues_address(word: str, lower: str) -> bool:
    """A street or city word (capitalised), a particle, or an elided one (d'Alsace)."""
    return bool(word) and (word[0].isupper() or lower in _PARTICLES or "'" in word or "’" in word)
