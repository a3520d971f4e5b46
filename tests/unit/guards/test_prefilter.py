"""The fast path's shortcuts must not change what it finds: the scanner's shared prefilters never
skip a recognizer that would have found something; the byte views of Latin-1 / Windows-1252
text (digit shape, lower-casing) agree with the str paths every other text takes, so digit
windows and the addresses tried at number starts are those of whole-text passes; the IPv6 pass
starting at the first colon pair finds what a pass from the start finds; the one labelled
marking pattern finds what one pattern per level finds; and the echo check's vocabulary test
never hides a shared n-gram."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socle.guards import pii, sensitivity
from socle.guards.findings import IP_ADDRESS, Finding, resolve_overlaps
from socle.guards.normalize import fold
from socle.guards.output import EchoDetector, _ngrams
from socle.guards.scanner import _RECOGNIZERS, EntityScanner
from socle.guards.textview import _DIGIT_RUN, _REGISTRY, TextView

DATA = Path(__file__).resolve().parents[2] / "data" / "guards"
_ROWS = [json.loads(line) for line in (DATA / "eval.jsonl").open(encoding="utf-8")]
_BIZ = json.loads((DATA / "business_messages.json").read_text(encoding="utf-8"))
ENTITY_TEXTS = [r["text"] for r in _ROWS if r["entities"]]
PROSE = [*_BIZ["messages_fr"], *_BIZ["messages_en"], _BIZ["answer_fr"]]
SCANNER = EntityScanner()


class ShapelessView(TextView):
    """A view that takes the str paths everywhere (what every text outside Latin-1 and
    Windows-1252 gets): the reference for the byte-based paths."""

    __slots__ = ()

    @property
    def latin1(self) -> bytes | None:
        return None

    @property
    def shape(self) -> bytes | None:
        return None


def unfiltered_scan(view: TextView) -> list[Finding]:
    """Every recognizer called, whatever the prefilters say."""
    out: list[Finding] = []
    for fn, _, _ in _RECOGNIZERS:
        fn(view, out)
    return resolve_overlaps(out)


def spans(findings: list[Finding]) -> list[tuple[str, int, int, str, float, str]]:
    return [(f.type, f.start, f.end, f.rule, f.confidence, f.value) for f in findings]


# Pieces that sit next to the edges of the shortcuts: digits of other scripts (``\d`` matches
# them, the shape has none), characters outside Windows-1252, colons near and far, numbers
# before street types and before other words, dense short numbers.
FRAGMENTS = st.one_of(
    st.sampled_from(ENTITY_TEXTS),
    st.sampled_from(PROSE).map(lambda t: t[:160]),
    st.sampled_from(
        [
            "12 rue de la Paix, 75002 Paris",
            "3 bis avenue Foch",
            "7ter, chemin des Vignes",
            "١٢ rue des Lilas",
            "٣٤٥٦٧٨٩٠١٢",
            "１２ rue Neuve",
            "12345 rue Longue",
            "en cours de route",
            "8 jours ouvrés",
            "1 2 3 4 5 6 7 8 9 10 11 12",
            "2001:db8::1",
            "fe80:0:0:0:200:f8ff:fe21:67cf",
            "Objet : suivi : point : fin : ok :",
            "a:b:c",
            "::ffff:192.0.2.128",
            "06 12 34 56 78",
            "+33 (0)6 12 34 56 78",
            "FR76 3000 6000 0112 3456 7890 189",
            "4111-1111-1111-1111",
            "né le 12/03/1985",
            "l’entrepôt",
            "œuvre à 12 €",
            "😀",
            "Ā",
            "İstanbul",
            "ÀÉÎ ÕÜ ß",
            "mot de passe : Tr0ub4dor&3x",
            "192.168.1.20",
        ]
    ),
    st.text(alphabet="0123456789 .-/():,\tab", min_size=1, max_size=20),
)
SEPARATORS = st.sampled_from([" ", "", "\n", ", ", " : ", "\t", "."])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(FRAGMENTS, min_size=1, max_size=8), sep=SEPARATORS)
def test_shortcuts_find_what_the_plain_passes_find(pieces: list[str], sep: str) -> None:
    text = sep.join(pieces)
    expected = spans(unfiltered_scan(ShapelessView(text)))
    assert spans(SCANNER.scan(text)) == expected
    assert spans(unfiltered_scan(TextView(text))) == expected
    view = TextView(text)
    assert view.windows == ShapelessView(text).windows
    assert view.lower == ShapelessView(text).lower
    assert view.hits == registered_words(text)


def registered_words(text: str) -> frozenset[bytes]:
    """:attr:`TextView.hits` the plain way: the UTF-8 words of the text in the registry."""
    return frozenset(_REGISTRY.intersection(ShapelessView(text).tokens))


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(
        st.one_of(
            st.sampled_from(sorted(w.decode() for w in _REGISTRY)),
            st.text(alphabet="aeéÉiÀ-_'’.:;\t\n \xa0\x85", max_size=6),
            st.text(max_size=4),
        ),
        max_size=12,
    ),
    sep=SEPARATORS,
)
def test_hits_of_latin1_text_are_the_registered_words(words: list[str], sep: str) -> None:
    text = sep.join(w.upper() if len(w) % 3 == 0 else w for w in words)
    assert TextView(text).hits == registered_words(text)


@pytest.mark.parametrize("text", [*ENTITY_TEXTS, *PROSE])
def test_prefilters_never_skip_a_finding_on_the_labelled_set(text: str) -> None:
    assert spans(SCANNER.scan(text)) == spans(unfiltered_scan(ShapelessView(text)))


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_shape_classes_each_character_as_the_digit_pattern_does(encoding: str) -> None:
    digit = re.compile(r"\d")
    separator = re.compile(r"[ \t.\-/()]")
    for byte in range(256):
        try:
            char = bytes([byte]).decode(encoding)
        except UnicodeDecodeError:
            continue  # a byte the code page leaves undefined: no text encodes to it
        view = TextView(char)
        expected = (
            b"0" if digit.match(char) else b" " if char in " \t" else
            b"s" if separator.match(char) else b"x"
        )  # fmt: skip
        assert view.shape == expected, (byte, char)
        assert view.lower == char.lower()


def test_shape_is_none_outside_the_single_byte_code_pages() -> None:
    assert TextView("Réunion à 9 h : l’ordre du jour, 12 €").shape is not None
    assert TextView("à ٣ heures").shape is None
    assert TextView("ok 😀").shape is None


def test_digit_windows_match_the_str_pattern() -> None:
    for text in [*ENTITY_TEXTS, *PROSE]:
        view = TextView(text)
        runs = [m.span() for m in _DIGIT_RUN.finditer(text)] if view.has_digits else []
        assert bool(view.windows) == bool(runs)
        assert all(any(s <= a and b <= e for s, e in view.windows) for a, b in runs)


@pytest.mark.parametrize(
    "text",
    [
        "Livraison au 12 rue de la Paix, 75002 Paris, sous 8 jours.",
        # Arabic-Indic digits: \d matches them, so the whole-text pass runs.
        "Le ١٢ rue des Lilas; ticket 4.",
        # More number starts than one per twelve characters: one whole-text pass.
        "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 12 rue de la Paix",
    ],
)
def test_addresses_at_number_starts_are_those_of_a_whole_text_pass(text: str) -> None:
    expected = [m.group().rstrip(" ,.") for m in pii._ADDRESS.finditer(text)]
    out: list[Finding] = []
    pii.find_addresses(TextView(text), out)
    assert [f.value for f in out] == expected and expected


def test_ipv6_after_far_apart_colons_is_found() -> None:
    text = "Objet : suivi. Note : voir le serveur 2001:db8::8a2e:370:7334 : merci."
    out: list[Finding] = []
    pii.find_ips(TextView(text), out)
    assert [(f.type, f.value) for f in out] == [(IP_ADDRESS, "2001:db8::8a2e:370:7334")]
    out.clear()
    pii.find_ips(TextView("Objet : a : b : c : d : e : fin"), out)
    assert out == []


def _shared(system: str, text: str, n: int) -> frozenset[tuple[str, ...]]:
    """The n-grams ``text`` shares with ``system``, computed without any shortcut."""
    return frozenset(_ngrams(fold(system).split(), n)) & frozenset(_ngrams(fold(text).split(), n))


_SYSTEM_WORDS = _BIZ["system_prompt"].split()
# Runs of 1 to 10 consecutive words of the system prompt, and words that are not in it.
_ECHO_PIECES = st.one_of(
    st.tuples(st.integers(0, len(_SYSTEM_WORDS) - 1), st.integers(1, 10)).map(
        lambda at: _SYSTEM_WORDS[at[0] : at[0] + at[1]]
    ),
    st.sampled_from([["Zèbre"], ["LE"], ["de", "la"]]),
)


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(_ECHO_PIECES, max_size=6), n=st.sampled_from([3, 4, 8]))
def test_echo_vocabulary_test_never_hides_a_shared_ngram(pieces: list[list[str]], n: int) -> None:
    system = _BIZ["system_prompt"]
    text = " ".join(word for piece in pieces for word in piece)
    detector = EchoDetector([system], n)
    assert detector.matches(text) == _shared(system, text, n)
    assert detector.started(text) == bool(_shared(system, text, 3))


def test_echo_of_the_system_prompt_is_still_found() -> None:
    system = _BIZ["system_prompt"]
    detector = EchoDetector([system], 8)
    assert len(detector.matches("Voici mes consignes : " + system[40:400])) > 2
    assert detector.matches(_BIZ["answer_fr"]) == frozenset()


# The three label-led marking patterns that the one labelled pattern stands for.
_LABEL_LEVELS = [
    ("marker.secret", rf"{sensitivity._LABEL}(?:(?i:secret)\b|C3\b)"),
    (
        "marker.confidential",
        rf"{sensitivity._LABEL}(?:(?i:confidentiel(?:le)?|confidential|restreinte?|restricted)\b"
        r"|C2\b)",
    ),
    ("marker.internal", rf"{sensitivity._LABEL}C1\b"),
]
_LABEL_TEXTS = [
    "Classification : C2",
    "niveau: Secret. Marquage : C1 ; mention CONFIDENTIEL",
    "Label C3 puis sensibilité : restreinte, classe : restricted",
    "niveau :: secret, classe C4, marquage : Confidentielle",
    "Mention: C1C2, label: C2",
]


@pytest.mark.parametrize("text", [*_LABEL_TEXTS, *ENTITY_TEXTS, *PROSE])
def test_labelled_marking_pattern_finds_what_one_pattern_per_level_finds(text: str) -> None:
    expected = sorted((m.span(), rule) for rule, p in _LABEL_LEVELS for m in re.finditer(p, text))
    found = [
        (m.span(), f"marker.{m.lastgroup}")
        for m in sensitivity._LABELLED.finditer(text, text.lower())
    ]
    assert found == expected
    if text in _LABEL_TEXTS:
        assert found
