"""Checks on the model's answer: entities that were not in the input, secrets, and echoes of
the system prompt — on a whole answer, or on a stream through a bounded hold-back window.

Streaming: each choice's text is released as soon as it cannot be part of an entity still being
written (:func:`socle.guards.holdback.safe_cut`: the last unfinished token, an open chain of
digit groups, a date or an address, a private-key block), so that an entity split across chunks
is complete when it is checked while ordinary prose goes out in the chunk that brought it (or
one word later). At most ``holdback`` characters are held; beyond that the oldest are released
— except an entity already recognised across the release point, which is held whole (up to
four windows, after which it is released masked). While the answer is echoing the system
prompt, the full window is held so that the echo check can block before the prompt is out.
The end of the choice releases everything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain, islice

from socle.guards.config import Action
from socle.guards.findings import PII_TYPES, SECRET, SYSTEM_PROMPT_LEAK, Finding
from socle.guards.holdback import safe_cut
from socle.guards.normalize import fold_words
from socle.guards.policy import ResolvedPolicy
from socle.guards.pseudonym import canonical, mask
from socle.guards.scanner import EntityScanner
from socle.pipeline.context import Classification

_OUTPUT_TYPES = frozenset((*PII_TYPES, SECRET))
# Words shared in a row with the system prompt that make a stream hold its full window.
_ECHO_SEED_WORDS = 3
_KEY_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")


Shingle = tuple[str, ...]


def _ngrams(words: list[str], n: int) -> Iterator[Shingle]:
    """The runs of ``n`` consecutive words, as tuples (built by ``zip`` in C: no string join
    per position, which cost more than the rest of the echo check)."""
    return zip(*(islice(words, i, None) for i in range(n)), strict=False)


class EchoDetector:
    """Finds verbatim runs of the system prompt in an answer, by shared word n-grams.

    A shared n-gram is n consecutive words of the answer that are all words of the system
    prompt. Before building the answer's n-grams (a tuple and its hash per word), each answer
    word is looked up once in the prompt's vocabulary, in C, into one byte per word; without
    ``n`` set bytes in a row no n-gram can be shared and the answer is done with. Business
    answers share short words with their prompt ("de la", "vous"), rarely eight in a row.
    """

    __slots__ = ("_in_vocabulary", "_n", "_seeds", "_shingles", "_words")

    def __init__(self, system_texts: list[str], n: int) -> None:
        self._n = n
        self._words = [fold_words(text) for text in system_texts]
        self._shingles = frozenset(chain.from_iterable(_ngrams(w, n) for w in self._words))
        self._in_vocabulary = frozenset(chain.from_iterable(self._words)).__contains__
        self._seeds: frozenset[Shingle] | None = None  # only streams need them: built then

    def __bool__(self) -> bool:
        return bool(self._shingles)

    def _may_share(self, words: list[str], n: int) -> bool:
        """Whether ``words`` has ``n`` words of the system prompt in a row (a necessary
        condition for sharing an n-gram with it)."""
        return b"\x01" * n in bytes(map(self._in_vocabulary, words))

    def started(self, text: str) -> bool:
        """Whether ``text`` shares a run of a few words with the system prompt: an echo may be
        starting, and a stream holds its full window until it is decided."""
        return self.started_in(fold_words(text))

    def started_in(self, words: list[str]) -> bool:
        """:meth:`started` for a text's :func:`~socle.guards.normalize.fold_words`."""
        k = _ECHO_SEED_WORDS
        if not self._may_share(words, k):
            return False
        seeds = self._seeds
        if seeds is None:
            seeds = self._seeds = frozenset(chain.from_iterable(_ngrams(w, k) for w in self._words))
        return not seeds.isdisjoint(_ngrams(words, k))

    def matches(self, text: str) -> frozenset[Shingle]:
        """The system-prompt shingles (word tuples) that occur in ``text``."""
        return self.matches_in(fold_words(text))

    def matches_in(self, words: list[str]) -> frozenset[Shingle]:
        """:meth:`matches` for a text's :func:`~socle.guards.normalize.fold_words`."""
        if not self._may_share(words, self._n):
            return _NO_SHINGLES
        return self._shingles.intersection(_ngrams(words, self._n))


_NO_SHINGLES: frozenset[Shingle] = frozenset()


@dataclass(slots=True)
class Decision:
    """An output finding and what was done with it (offsets are in the whole answer)."""

    finding: Finding
    action: Action


@dataclass(slots=True)
class OutputCheck:
    """The output checks of one request, under its policy and final classification."""

    scanner: EntityScanner
    policy: ResolvedPolicy
    classification: Classification
    input_keys: frozenset[tuple[str, str]]
    echo: EchoDetector | None
    refusal: str

    def entities(self, text: str) -> list[tuple[Finding, Action]]:
        """New entities and secrets in ``text`` with their output action (allow dropped)."""
        table = self.policy.output_actions[self.classification]
        decided: list[tuple[Finding, Action]] = []
        for f in self.scanner.scan(text):
            if f.type not in _OUTPUT_TYPES or f.confidence < self.policy.min_confidence:
                continue
            if (f.type, canonical(f.type, f.value)) in self.input_keys:
                continue  # the user's own data coming back (e.g. a restored pseudonym)
            action = table[f.type]
            if action is not Action.ALLOW:
                decided.append((f, action))
        return decided

    def leak_action(self) -> Action | None:
        """The action for a system-prompt echo, or None when the policy allows it."""
        mode = self.policy.system_prompt_leak
        return None if mode == "allow" else Action(mode)

    def check(self, text: str) -> tuple[str, list[Decision], bool]:
        """Checked ``text`` (masked, or the refusal when blocked), decisions, and blocked."""
        decided = self.entities(text)
        decisions = [Decision(f, a) for f, a in decided]
        if self.echo and len(self.echo.matches(text)) >= self.policy.echo_min_matches:
            action = self.leak_action()
            if action is not None:
                leak = Finding(
                    SYSTEM_PROMPT_LEAK, 0, len(text), "output.system_prompt_echo", 1.0, ""
                )
                decisions.append(Decision(leak, action))
        if any(d.action is Action.BLOCK for d in decisions):
            return self.refusal, decisions, True
        return _apply_masks(text, decided, 0), decisions, False


def _apply_masks(text: str, decided: list[tuple[Finding, Action]], offset: int) -> str:
    """``text`` with masked findings (spans relative to ``offset``) replaced."""
    masked = [(f, a) for f, a in decided if a is Action.MASK]
    if not masked:
        return text
    parts: list[str] = []
    pos = 0
    for f, _ in sorted(masked, key=lambda fa: fa[0].start):
        parts.append(text[pos : f.start - offset])
        parts.append(mask(f.type))
        pos = f.end - offset
    parts.append(text[pos:])
    return "".join(parts)


@dataclass(slots=True)
class StreamGuard:
    """Output checks over one choice's streamed text, with a hold-back window."""

    check: OutputCheck
    holdback: int
    pending: str = ""
    context: str = ""  # the last released characters: keywords for context-led recognizers
    released: int = 0  # characters of the answer released so far
    blocked: bool = False
    in_key_block: bool = False  # a masked private key block whose END line has not come yet
    echo_hits: set[Shingle] = field(default_factory=set)
    decisions: list[Decision] = field(default_factory=list)
    # The last text the echo checks folded, and its words: both checks of one feed ask for
    # the same text (the context and what is pending), and folding is most of their cost.
    _folded: tuple[str, list[str]] = field(default=("", []), init=False, repr=False)

    def feed(self, text: str) -> str:
        """Text safe to release after ``text`` arrived ("" while it is held back)."""
        if self.blocked:
            return ""
        self.pending += text
        if self.in_key_block:
            return self._release(final=False)
        cut = self._cut()
        if cut <= 0:
            return ""  # nothing releasable yet: no scan
        return self._release(final=False, cut=cut)

    def _cut(self) -> int:
        """How many pending characters may go out (before the entity checks move the cut)."""
        pending = self.pending
        floor = len(pending) - self.holdback  # the hard cap on what is held
        echo = self.check.echo
        if echo and (self.echo_hits or echo.started_in(self._words(self.context + pending))):
            return floor  # an echo in progress: hold the whole window for the echo check
        return max(safe_cut(pending), floor)

    def finish(self) -> str:
        """Everything still held, checked (the end of the choice)."""
        if self.blocked or not self.pending:
            return ""
        return self._release(final=True)

    def _release(self, final: bool, cut: int | None = None) -> str:
        if self.in_key_block:
            if not self._skip_key_block(final):
                return ""
            cut = None if final else self._cut()
            if cut is not None and cut <= 0:
                return ""
        full = self.context + self.pending
        off = len(self.context)
        decided = [
            (f, a) for f, a in self.check.entities(full) if f.end > off
        ]  # findings wholly in the context were decided when released
        if final:
            cut = len(full)
        else:
            cut = off + (len(self.pending) - self.holdback if cut is None else cut)
        for f, _ in sorted(decided, key=lambda fa: fa[0].start):
            if f.start < cut < f.end:
                cut = max(f.start, off)
        if cut <= off:
            if len(self.pending) <= 4 * self.holdback:
                return ""
            cut = len(full) - self.holdback  # too long to hold: release it, masked as it stands
        now = [(f, a) for f, a in decided if f.start < cut]
        leak = self._echo(full)
        base = self.released - off
        for f, a in now:
            shifted = Finding(f.type, f.start + base, f.end + base, f.rule, f.confidence, f.value)
            self.decisions.append(Decision(shifted, a))
        if leak is not None:
            self.decisions.append(leak)
        if any(a is Action.BLOCK for _, a in now) or (leak and leak.action is Action.BLOCK):
            self.blocked = True
            self.pending = ""
            return self.check.refusal
        if any(f.rule == "secret.private_key" and "-----END" not in f.value for f, _ in now):
            # The key goes on past what was checked: drop it until its END line.
            self.in_key_block = True
        clipped = [(_clip(f, off, cut), a) for f, a in now]
        out = _apply_masks(full[off:cut], clipped, off)
        self.released += cut - off
        self.context = full[max(0, cut - self.holdback) : cut]
        self.pending = full[cut:]
        return out

    def _words(self, text: str) -> list[str]:
        if self._folded[0] != text:
            self._folded = (text, fold_words(text))
        return self._folded[1]

    def _skip_key_block(self, final: bool) -> bool:
        """Drop the rest of a masked private key block; True once its END line has passed
        (what follows is checked as usual)."""
        end = _KEY_END.search(self.pending)
        if end is None:
            keep = 0 if final else min(len(self.pending), 64)  # an END line split in two
            self.released += len(self.pending) - keep
            self.pending = self.pending[len(self.pending) - keep :]
            return False
        self.released += end.end()
        self.pending = self.pending[end.end() :]
        self.context = ""
        self.in_key_block = False
        return bool(self.pending)

    def _echo(self, full: str) -> Decision | None:
        echo = self.check.echo
        if not echo:
            return None
        before = len(self.echo_hits)
        self.echo_hits |= echo.matches_in(self._words(full))
        need = self.check.policy.echo_min_matches
        if before < need <= len(self.echo_hits):
            action = self.check.leak_action()
            if action is not None:
                end = self.released + len(full)
                leak = Finding(SYSTEM_PROMPT_LEAK, 0, end, "output.system_prompt_echo", 1.0, "")
                return Decision(leak, action)
        return None


def _clip(f: Finding, lo: int, hi: int) -> Finding:
    if lo <= f.start and f.end <= hi:
        return f
    return Finding(f.type, max(f.start, lo), min(f.end, hi), f.rule, f.confidence, f.value)
