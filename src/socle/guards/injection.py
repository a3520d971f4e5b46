"""Prompt-injection and jailbreak detection for user messages and tool / retrieved content.

Detection is a set of signal families (override of instructions, jailbreak persona, system
prompt exfiltration, role spoofing, safety bypass, fiction framing, …; the patterns are in
:mod:`socle.guards.injection_rules`), each a pattern with a weight. The score is the noisy-OR of
the weights of the families that matched::

    score = 1 - Π (1 - w_i)

so one strong signal (≈0.8) passes a 0.5 threshold alone and weak ones (authority claims,
"from now on you are…") only together. Families that are readings of one signal (a strict
pattern and its paraphrase form) share a group, and only the strongest of a group counts.
Patterns run on normalised readings of the text (:mod:`socle.guards.normalize`): NFKC,
confusables, invisible and bidi characters removed, and — when a cheap trigger says so —
decoded base64 / hex / rot13 / reversed payloads, leetspeak and spaced-out letters. A family
found only in such a hidden reading weighs more (the hiding is itself a signal).

Cost: on benign text the detector is a few operations on the keyword hits the entity scanner
already computed (:attr:`TextView.hits`): per-word bit masks open the families whose gates
are met. Normalisation runs only when a family is open or an obfuscation trigger fires, and a
family's pattern is then tried only where one of its literal prefixes occurs
(:class:`~socle.guards.anchors.AnchoredPattern`).

A message that *talks about* injection ("how do I block 'ignore previous instructions'?") is
common in security work: a match inside double quotes or next to meta words (detect, protect,
example, OWASP…) counts at :data:`META_DAMPING` of its weight. Several independent families still
add up, so wrapping a real attack in such words does not make it pass.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from socle.guards import injection_rules as rules
from socle.guards.anchors import AnchoredPattern
from socle.guards.normalize import fold, readings
from socle.guards.textview import TextView, keys

META_DAMPING = 0.45
HIDDEN_BONUS = 0.15
TRICK_WEIGHTS = {
    "unicode_tags": 0.6,  # invisible copies of ASCII: no benign text hides sentences that way
    "zero_width": 0.15,
    "bidi_control": 0.15,
    "confusables": 0.2,
    "compatibility_forms": 0.1,
}


@dataclass(frozen=True, slots=True)
class Family:
    """One kind of injection signal: its rule id, weight, gates and pattern. Families of one
    ``group`` are readings of the same signal: only the strongest of them counts."""

    rule: str
    weight: float
    words: frozenset[bytes]  # first gate: one of these words
    matcher: AnchoredPattern
    group: str
    also: tuple[frozenset[bytes], ...]  # further gates: one word of each too
    needles: frozenset[str]  # substrings of the lower-cased text that open the gate alone

    @property
    def pattern(self) -> re.Pattern[str]:
        """The compiled pattern (matched on folded text)."""
        return self.matcher.pattern


@dataclass(frozen=True, slots=True)
class Signal:
    """A family (or obfuscation trick) that matched, and in which reading of the text."""

    rule: str
    weight: float
    reading: str  # "plain", "base64", "hex", "rot13", "reversed", "leetspeak", "spacing"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The injection score of one text and the signals that produced it."""

    score: float
    signals: tuple[Signal, ...]

    @property
    def rule(self) -> str:
        """The rule id of the strongest signal ("injection.none" when nothing matched)."""
        if not self.signals:
            return "injection.none"
        return max(self.signals, key=lambda s: s.weight).rule


NO_INJECTION = Verdict(0.0, ())

_NO_MORE: tuple[tuple[str, ...], str] = ((), "")
FAMILIES: tuple[Family, ...] = tuple(
    Family(
        rule,
        weight,
        keys(*words, *rules.MORE.get(rule, _NO_MORE)[0]),
        AnchoredPattern(re.compile(pattern + rules.MORE.get(rule, _NO_MORE)[1])),
        rules.GROUPS.get(rule, rule),
        tuple(keys(*g) for g in (rules.ALSO.get(rule), rules.ALSO_2.get(rule)) if g),
        frozenset(rules.NEEDLES.get(rule, ())),
    )
    for rule, weight, words, pattern in rules.SPEC
)
_GROUP_OF = {f.rule: f.group for f in FAMILIES}
_ALL_WORDS: frozenset[bytes] = frozenset().union(*(f.words for f in FAMILIES))
_ALL_NEEDLES: tuple[str, ...] = tuple(sorted({n for f in FAMILIES for n in f.needles}))


def _gate_tables() -> tuple[dict[bytes, int], tuple[tuple[int, int], ...], dict[str, int]]:
    """Bit masks that open every family in one pass over a text's keyword hits.

    Family ``i`` has bit ``i`` of the first-gate mask; each further gate has a bit of its own
    in a second mask. A word maps to the OR of the bits of the gates it belongs to; a family is
    open when its first bit is set and all its further-gate bits are.
    """
    word_bits: dict[bytes, int] = {}
    needs: list[tuple[int, int]] = []
    needle_bits: dict[str, int] = {}
    next_bit = len(FAMILIES)
    for i, family in enumerate(FAMILIES):
        for w in family.words:
            word_bits[w] = word_bits.get(w, 0) | (1 << i)
        required = 0
        for gate in family.also:
            bit = 1 << next_bit
            next_bit += 1
            required |= bit
            for w in gate:
                word_bits[w] = word_bits.get(w, 0) | bit
        needs.append((1 << i, required))
        for n in family.needles:
            needle_bits[n] = needle_bits.get(n, 0) | (1 << i)
    return word_bits, tuple(needs), needle_bits


_WORD_BITS, _NEEDS, _NEEDLE_BITS = _gate_tables()
# A character every needle has (":", "<", "!"): one cheap test before the needles.
_NEEDLE_CHARS = tuple({next(c for c in n if not c.isalnum() and c != " ") for n in _ALL_NEEDLES})
_GATE_WORDS = frozenset(_WORD_BITS)

# Words that betray a hidden payload when spelt in rot13 or backwards ("vtaber", "erongi").
_CORE = (
    "ignore", "instructions", "prompt", "system", "previous", "oublie", "consignes", "reveal",
    "désormais", "dan", "anything", "règles", "jailbreak", "developer", "développeur",
    "restrictions", "disregard", "forget", "pretend", "unfiltered",
)  # fmt: skip
_HIDDEN_WORDS = keys(*(codecs.encode(w, "rot13") for w in _CORE), *(w[::-1] for w in _CORE))
_LEET_BYTES = bytes.maketrans(b"013457@$!|", b"oieastasil")
# A letter next to a leet character: without one, no word is written in leetspeak.
# (Led by the leet character class: ``re`` then skips ahead over letters quickly.)
_LEET_MIX = re.compile(r"[013457@$!|](?:(?<=[a-z][013457@$!|])|(?=[a-z]))")
_SINGLE_LETTERS = keys(*"abcdefghijklmnopqrstuvwxyz")
# Single letters common in prose (French elisions l' d' j', English "a", "I") do not suggest
# spaced-out words; others do.
_COMMON_SINGLES = keys(
    "a", "à", "y", "i", "l", "d", "j", "n", "s", "c", "m", "t", "x", "e", "o", "u"
)  # fmt: skip
_RARE_SINGLES = _SINGLE_LETTERS - _COMMON_SINGLES

# Words of a text that discusses attacks rather than performs one. None of them is needed to
# write an attack, so an attacker gains nothing by leaving them out; adding them only damps
# quoted or nearby matches, never the other families.
_META = AnchoredPattern(
    re.compile(
        r"(?<![.@/])\b(?:prompt injections?|injections? (?:de prompt|d'instructions|"
        r"indirecte?s?)|jailbreak (?:attacks?|attempts?|prompts?|techniques?)|attacks?|"
        r"attaques?|attaquants?|attackers?|detect\w*|protect\w*|proteg\w*|defen[cs]e\w*|"
        r"defend\w*|mitigat\w*|prevent\w*|preven\w*|examples?|exemples?|explain\w*|expliqu\w*|"
        r"research\w*|classif\w*|owasp|red team\w*|test cases?|cas de test|regex\w*|payloads?|"
        r"phrases? (?:like|comme|such as|typiques?)|sensibilis\w*|awareness|flagged|signale\w*|"
        r"waf)\b(?![.@/-]\w)"  # not inside a host name or e-mail
    )
)
_META_WINDOW = 80
# Characters that hide or disguise letters: invisible and bidi controls, Greek and Cyrillic,
# fullwidth, enclosed, mathematical and tag forms. Accented Latin (French) is not among them.
# (A superset of what :func:`socle.guards.normalize.readings` looks for, so that a text without
# them can skip those searches.)
_SUSPICIOUS = re.compile(
    "[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u0370-\u052f\u1d00-\u1dbf"
    "\u061c\u0131\u0261"
    "\u2070-\u209f\u2100-\u214f\u2460-\u24ff\uff00-\uffef\U0001d400-\U0001d7ff"
    "\U0001f130-\U0001f189\U000e0000-\U000e007f]"
)
_SQUASHED = re.compile(
    r"(?:ignore|disregard|forget|oublie|bypass)\w{0,24}?(?:instructions|consignes|rules|regles|"
    r"prompt|guidelines)"
    r"|(?:reveal|show|print|repete|revele|affiche)\w{0,12}?(?:systemprompt|promptsysteme|"
    r"instructions)"
)


def _disguised(raw: str) -> bool:
    """Whether a non-ASCII text has a character of :data:`_SUSPICIOUS`. Most French text is
    Windows-1252 (accents, €, ’, «», œ), where only the soft hyphen and ™ are suspicious; the
    codec tells that faster than the pattern does."""
    try:
        raw.encode("cp1252")
    except UnicodeEncodeError:
        return _SUSPICIOUS.search(raw) is not None
    return "\u00ad" in raw or "\u2122" in raw


def open_families(view: TextView, extra: frozenset[bytes] = frozenset()) -> list[Family]:
    """The families whose gates the text's keyword hits (plus ``extra`` words: leetspeak
    readings) or needles open."""
    gates = 0
    bits = _WORD_BITS
    for w in (view.hits | extra if extra else view.hits) & _GATE_WORDS:
        gates |= bits[w]
    needled = 0
    lower = view.lower
    if any(c in lower for c in _NEEDLE_CHARS):
        for needle in _ALL_NEEDLES:
            if needle in lower:
                needled |= _NEEDLE_BITS[needle]
    if not gates and not needled:
        return []
    key = (gates, needled)
    families = _OPEN_MEMO.get(key)
    if families is None:
        families = [
            family
            for family, (bit, required) in zip(FAMILIES, _NEEDS, strict=True)
            if (gates & bit and gates & required == required) or needled & bit
        ]
        if len(_OPEN_MEMO) < _OPEN_MEMO_MAX:
            _OPEN_MEMO[key] = families
    return list(families)


# The families a combination of gate bits opens: the same few combinations come back message
# after message (bounded; beyond the bound the list is computed each time).
_OPEN_MEMO: dict[tuple[int, int], list[Family]] = {}
_OPEN_MEMO_MAX = 4096


class InjectionDetector:
    """Scores a text for prompt injection; stateless and shared."""

    __slots__ = ()

    def score(self, text: str | TextView) -> Verdict:
        """The injection verdict of ``text``; :data:`NO_INJECTION` when nothing triggers."""
        view = text if isinstance(text, TextView) else TextView(text)
        raw = view.text
        lower = view.lower
        hits = view.hits
        leet_hits: frozenset[bytes] = frozenset()
        if _LEET_MIX.search(lower) is not None:
            leet_words = frozenset(lower.encode().translate(_LEET_BYTES).split())
            leet_hits = (leet_words & _GATE_WORDS) - hits
        plain_families = open_families(view, leet_hits)
        hidden = not _HIDDEN_WORDS.isdisjoint(hits)
        long_token = max(map(len, view.tokens), default=0) >= 16
        spaced = len(hits & _RARE_SINGLES) >= 2
        disguised = not raw.isascii() and _disguised(raw)
        if not (plain_families or leet_hits or hidden or long_token or spaced or disguised):
            return NO_INJECTION
        r = readings(
            raw,
            decode=long_token,
            unscramble=hidden,
            leet=bool(leet_hits),
            spaced=spaced,
            suspicious=disguised,
        )
        best: dict[str, Signal] = {}
        if r.tricks:
            plain_families = list(FAMILIES)  # disguised letters: the words gate saw nothing
        for family in plain_families:
            weight = _plain_weight(family, r.plain)
            if weight > 0:
                _keep(best, Signal(family.rule, weight, "plain"))
        for how, variant in r.variants:
            for family in FAMILIES:
                if family.matcher.search(variant) is not None:
                    weight = min(0.95, family.weight + HIDDEN_BONUS)
                    _keep(best, Signal(family.rule, weight, how))
            if how == "spacing" and _SQUASHED.search(variant.replace(" ", "")) is not None:
                _keep(best, Signal("injection.override", 0.9, how))
        if not best and "unicode_tags" not in r.tricks:
            return NO_INJECTION
        for trick in r.tricks:
            _keep(best, Signal(f"injection.obfuscation.{trick}", TRICK_WEIGHTS[trick], "plain"))
        signals = tuple(sorted(best.values(), key=lambda s: -s.weight))
        strongest: dict[str, float] = {}
        for s in signals:
            group = _GROUP_OF.get(s.rule, s.rule)
            strongest[group] = max(strongest.get(group, 0.0), s.weight)
        remaining = 1.0
        for weight in strongest.values():
            remaining *= 1.0 - weight
        return Verdict(round(1.0 - remaining, 4), signals)


def _plain_weight(family: Family, plain: str) -> float:
    """The family's weight, damped when every match is quoted or sits among meta words (meta
    words inside the match itself do not count: "disable your protections" is no talk about
    protection)."""
    weight = 0.0
    for m in family.matcher.finditer(plain):
        start, end = m.start(), m.end()
        quoted = _quoted(plain, start, end)
        meta = quoted or (
            _META.search(plain, None, max(0, start - _META_WINDOW), start) is not None
            or _META.search(plain, None, end, end + _META_WINDOW) is not None
        )
        w = family.weight * META_DAMPING if meta else family.weight
        weight = max(weight, w)
        if weight == family.weight:
            break
    return weight


_OPEN_SINGLE = re.compile(r"(?:^|[\s(:])'[^']*\Z")
_CLOSE_SINGLE = re.compile(r"^[^']*'(?![a-z])")


def _quoted(plain: str, start: int, end: int) -> bool:
    """True inside double quotes, or inside single quotes used as quotes (not apostrophes)."""
    if plain.count('"', 0, start) % 2 == 1:
        return True
    lo = max(0, start - 200)
    return (
        _OPEN_SINGLE.search(plain, lo, start) is not None
        and _CLOSE_SINGLE.match(plain[end : end + 200]) is not None
    )


def _keep(best: dict[str, Signal], signal: Signal) -> None:
    current = best.get(signal.rule)
    if current is None or signal.weight > current.weight:
        best[signal.rule] = signal


__all__ = ["FAMILIES", "NO_INJECTION", "InjectionDetector", "Signal", "Verdict", "fold"]
