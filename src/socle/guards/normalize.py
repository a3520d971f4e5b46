"""Undo the tricks that hide an instruction from a pattern matcher.

Attackers write ``ｉｇｎｏｒｅ``, ``іgnore`` (Cyrillic і), ``ig\u200bnore`` (zero-width space),
``1gn0r3``, ``i g n o r e``, or encode the whole payload in base64, hex, rot13 or backwards. The
functions here produce the plain readings of a text that the injection patterns are matched on,
and report which tricks were found (themselves a signal).

Everything here runs only after a cheap trigger, never on every message.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from dataclasses import dataclass, field

# Zero-width and invisible formatting characters, bidi controls, Unicode "tag" characters
# (U+E0000–E007F: invisible copies of ASCII, used to smuggle text past a human reader).
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200d\u2060-\u2064\ufeff]")
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_TAGS = re.compile("[\U000e0000-\U000e007f]+")

# Letters from other scripts that look like Latin ones (Unicode TR39 confusables, the subset
# that matters for Latin-script words).
_CONFUSABLES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
        "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d",
        "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ɡ": "g", "ı": "i", "ο": "o", "α": "a", "ν": "v",
        "ρ": "p", "τ": "t", "υ": "u", "ι": "i", "κ": "k", "χ": "x", "ε": "e", "η": "n", "μ": "u",
        "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
        "Т": "T", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z",
        "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y",
        "Χ": "X", "‘": "'", "’": "'", "ʼ": "'", "`": "'", "“": '"', "”": '"', "«": '"', "»": '"',
        "„": '"',
    }
)  # fmt: skip
_NON_LATIN_LETTER = re.compile("[\u0370-\u03ff\u0400-\u04ff\u0500-\u052f\u0131\u0261]")
_QUOTES = (
    ("‘", "'"),
    ("’", "'"),
    ("ʼ", "'"),
    ("“", '"'),
    ("”", '"'),
    ("«", '"'),
    ("»", '"'),
    ("„", '"'),
)
_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "l",
    }
)
_LEET_WORD = re.compile(r"\b(?=[a-z0-9@$!|]*[a-z])(?=[a-z0-9@$!|]*[0-9@$!|])[a-z0-9@$!|]{3,}\b")
# Single characters separated by one separator: "i g n o r e", "i.g.n.o.r.e", "i-g-n-o-r-e".
_SPACED = re.compile(r"(?<!\w)(?:\w[ .\-_*|/](?![ .\-_*|/])){2,}\w(?!\w)")
_SPACED_SEP = re.compile(r"[ .\-_*|/]")
_B64 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{16,}={0,2}(?![A-Za-z0-9+/=_-])")
_HEX = re.compile(r"(?<![0-9a-fA-F])(?:(?:\\x|0x)?[0-9a-fA-F]{2}[ :]?){8,}")


@dataclass(slots=True)
class Readings:
    """Plain readings of one text and the obfuscation tricks met on the way."""

    plain: str
    variants: list[tuple[str, str]] = field(default_factory=list)  # (how it was obtained, text)
    tricks: list[str] = field(default_factory=list)


def _windows_1252(text: str) -> bool:
    """Whether ``text`` is Windows-1252 (most French text), which has no Greek or Cyrillic
    letter: the codec tells that faster than the look-alike pattern does."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def fold(text: str, confusables: bool = True) -> str:
    """Lower-case, accent-free, single-spaced ASCII form that the patterns are written for.

    Look-alike letters are mapped first (``confusables=False``: the caller knows there are
    none); then NFKD splits accents off and the ASCII encoding drops them (and whatever else is
    not ASCII: the patterns are ASCII).
    """
    return " ".join(_fold_chars(text, confusables).split())


def fold_words(text: str) -> list[str]:
    """The words of :func:`fold` (``fold(text).split()``, without joining them first)."""
    return _fold_chars(text, True).split()


def _fold_chars(text: str, confusables: bool) -> str:
    """:func:`fold` before its whitespace is normalised."""
    if text.isascii():
        return text.lower()
    single = _fold_single_byte(text)
    return single if single is not None else _fold_unicode(text, confusables)


def _fold_unicode(text: str, confusables: bool) -> str:
    """:func:`_fold_chars` of any text (the reference the single-byte path agrees with)."""
    if confusables and not _windows_1252(text) and _NON_LATIN_LETTER.search(text):
        text = text.translate(_CONFUSABLES)
    for quote, plain in _QUOTES:  # eight substring tests cost less than one class search
        if quote in text:
            text = text.replace(quote, plain)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()


def _fold_table(encoding: str) -> tuple[bytes, bytes]:
    """``bytes.translate`` arguments that fold a text encoded in ``encoding`` (one byte per
    character) character by character: the table maps a byte to the one ASCII character its
    character folds to, or to 0x80 (not ASCII) when it folds to several; the deleted bytes
    fold to nothing."""
    table = bytearray(range(256))
    delete = bytearray()
    for byte in range(256):
        try:
            char = bytes([byte]).decode(encoding)
        except UnicodeDecodeError:
            continue  # a byte the code page leaves undefined: no text encodes to it
        folded = _fold_unicode(char, confusables=False)
        if not folded:
            delete.append(byte)
        else:
            table[byte] = ord(folded) if len(folded) == 1 else 0x80
    return bytes(table), bytes(delete)


_LATIN1_FOLD = _fold_table("latin-1")
_CP1252_FOLD = _fold_table("cp1252")


def _fold_single_byte(text: str) -> str | None:
    """:func:`_fold_unicode` of a Latin-1 or Windows-1252 text in one ``bytes.translate``, or
    None for other texts (and the few with a character that folds to several, like ½ or …).

    Folding works character by character: NFKD decomposes each character on its own and only
    reorders combining marks, which the ASCII encoding drops anyway; ASCII lower-casing and the
    quote mapping are per character; and these code pages hold no look-alike letter, so the
    confusables never apply (tests/unit/guards/test_fold.py compares both paths).
    """
    raw = text.encode("latin-1", "ignore")  # the fast codec; ’ “ € œ are not Latin-1
    if len(raw) != len(text) and "’" in text:
        # The usual apostrophe of French text folds to "'" (done first, as the quote mapping).
        text = text.replace("’", "'")
        raw = text.encode("latin-1", "ignore")
    table, delete = _LATIN1_FOLD
    if len(raw) != len(text):
        try:
            raw = text.encode("cp1252")
        except UnicodeEncodeError:
            return None
        table, delete = _CP1252_FOLD
    folded = raw.translate(table, delete)
    return folded.decode("ascii") if folded.isascii() else None


def readings(
    text: str,
    *,
    decode: bool = False,
    unscramble: bool = False,
    leet: bool = False,
    spaced: bool = False,
    suspicious: bool = True,
) -> Readings:
    """The readings of ``text`` to match: the normalised text, then decoded or re-spelt variants
    when asked for (the caller decides from cheap triggers): ``decode`` looks for base64 and hex
    payloads, ``unscramble`` adds the rot13 and reversed readings. ``suspicious=False`` tells
    that the text has none of the invisible, bidi, tag or look-alike characters (the caller
    checked with one pass), so their searches are skipped."""
    tricks: list[str] = []
    work = text
    if not text.isascii() and not suspicious:
        if not unicodedata.is_normalized("NFKC", work):
            nfkc = unicodedata.normalize("NFKC", work)
            if nfkc.lower() != work.lower():
                tricks.append("compatibility_forms")
            work = nfkc
    elif not text.isascii():
        tags = _TAGS.findall(work)
        if tags:
            tricks.append("unicode_tags")
            hidden = "".join(chr(ord(c) - 0xE0000) for c in "".join(tags))
            work = _TAGS.sub("", work) + " " + hidden
        if _INVISIBLE.search(work):
            tricks.append("zero_width")
            work = _INVISIBLE.sub("", work)
        if _BIDI.search(work):
            tricks.append("bidi_control")
            work = _BIDI.sub("", work)
        if not unicodedata.is_normalized("NFKC", work):
            nfkc = unicodedata.normalize("NFKC", work)
            if nfkc.lower() != work.lower():
                tricks.append("compatibility_forms")
            work = nfkc
        if _NON_LATIN_LETTER.search(work) and _mixed_script_word(work):
            tricks.append("confusables")
    result = Readings(plain=fold(work, confusables=suspicious), tricks=tricks)
    if decode:
        _add_decoded(work, result)
    if unscramble:
        # rot13 before folding: the attacker's rot13 left accented letters as they were.
        result.variants.append(("rot13", fold(codecs.decode(work, "rot13"))))
        result.variants.append(("reversed", result.plain[::-1]))
    if leet and _LEET_WORD.search(result.plain):
        # Every digit is read as a letter here ("tu 35" → "tu es"): this reading is only
        # matched against the patterns, never shown.
        result.variants.append(("leetspeak", result.plain.translate(_LEET)))
    if spaced:
        # Collapse before whitespace is folded: wider gaps are where the real words end.
        collapsed = fold(_SPACED.sub(_collapse, work.lower()))
        if collapsed != result.plain:
            result.variants.append(("spacing", collapsed))
    return result


def _mixed_script_word(text: str) -> bool:
    for word in text.split():
        if _NON_LATIN_LETTER.search(word) and any("a" <= c.lower() <= "z" for c in word):
            return True
    return False


def _collapse(m: re.Match[str]) -> str:
    return " " + _SPACED_SEP.sub("", m.group()) + " "


def _add_decoded(text: str, result: Readings) -> None:
    for m in _B64.finditer(text):
        decoded = _b64_text(m.group())
        if decoded:
            result.variants.append(("base64", fold(decoded)))
    for m in _HEX.finditer(text):
        raw = re.sub(r"\\x|0x|[ :]", "", m.group())
        try:
            decoded = bytes.fromhex(raw).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            continue
        if _mostly_text(decoded):
            result.variants.append(("hex", fold(decoded)))


def _b64_text(token: str) -> str | None:
    padded = token + "=" * (-len(token) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return decoded if _mostly_text(decoded) else None


def _mostly_text(s: str) -> bool:
    if len(s) < 6:
        return False
    printable = sum(c.isprintable() or c in "\n\t" for c in s)
    letters = sum(c.isalpha() or c == " " for c in s)
    return printable == len(s) and letters >= 0.7 * len(s)
