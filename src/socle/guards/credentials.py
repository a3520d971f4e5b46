"""Recognizers of secrets: provider API keys, private key blocks, JWTs, passwords in connection
strings and assignments, and high-entropy tokens next to a secret-ish keyword.

All findings have type ``secret``; the rule id (``secret.<kind>``) tells which kind. Where a
match carries a label and a value (``password=…``, ``postgres://user:pw@host``), the finding spans
the value only, so that masking keeps the surrounding text readable.
"""

from __future__ import annotations

import base64
import binascii
import math
import re

from socle.guards.findings import SECRET, Finding
from socle.guards.textview import TextView

# (rule, trigger literals, pattern, confidence): tokens with a provider's fixed prefix and
# shape. A rule runs only when one of its literals is in the text (one cheap pass finds them
# all). Group "v", when present, is the secret part of the match.
_PREFIXED: tuple[tuple[str, tuple[str, ...], str, float], ...] = (
    (
        "secret.aws_access_key_id",
        ("AKIA", "ASIA", "ABIA", "ACCA"),
        r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b",
        0.95,
    ),
    ("secret.gcp_api_key", ("AIza",), r"\bAIza[0-9A-Za-z_-]{35}(?![\w-])", 0.95),
    ("secret.google_oauth_token", ("ya29.",), r"\bya29\.[0-9A-Za-z_-]{20,}", 0.9),
    (
        "secret.github_token",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
        r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b",
        0.98,
    ),
    ("secret.github_pat", ("github_pat_",), r"\bgithub_pat_[A-Za-z0-9_]{60,255}\b", 0.98),
    (
        "secret.gitlab_token",
        ("glpat-", "gldt-", "glrt-", "glptt-", "glcbt-", "glsoat-"),
        r"\bgl(?:pat|dt|rt|ptt|cbt|soat)-[A-Za-z0-9_-]{20,}(?![\w-])",
        0.98,
    ),
    (
        "secret.anthropic_api_key",
        ("sk-",),
        r"\bsk-ant-(?:api|admin|sid)\d{2}-[A-Za-z0-9_-]{32,}(?![\w-])",
        0.98,
    ),
    (
        "secret.openai_api_key",
        ("sk-",),
        r"\bsk-(?!ant-)(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{32,}(?![\w-])",
        0.95,
    ),
    ("secret.slack_token", ("xox",), r"\bxox[abposre]-[A-Za-z0-9-]{10,}", 0.95),
    (
        "secret.slack_webhook",
        ("hooks.slack",),
        r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_-]{20,}",
        0.95,
    ),
    (
        "secret.stripe_key",
        ("sk_live_", "sk_test_", "rk_live_", "rk_test_"),
        r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b",
        0.97,
    ),
    ("secret.huggingface_token", ("hf_",), r"\bhf_[A-Za-z0-9]{30,}\b", 0.95),
    ("secret.npm_token", ("npm_",), r"\bnpm_[A-Za-z0-9]{36}\b", 0.95),
    ("secret.sendgrid_key", ("SG.",), r"\bSG\.[\w-]{22}\.[\w-]{43}\b", 0.97),
    (
        "secret.azure_storage_key",
        ("AccountKey=",),
        r"AccountKey=(?P<v>[A-Za-z0-9+/]{80,}={0,2})",
        0.97,
    ),
    ("secret.azure_sas_signature", ("sig=",), r"[?&]sig=(?P<v>[A-Za-z0-9%+/]{30,}={0,2})", 0.9),
    (
        "secret.azure_client_secret",
        ("Q~",),
        r"(?<![\w~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![\w~.-])",
        0.9,
    ),
    (
        "secret.private_key",
        ("-----BEGIN",),
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|"
        r"[\s\S]*)",
        0.99,
    ),
    (
        "secret.connection_string",
        ("://",),
        r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^\s:/@\"'<>]{1,64}:(?P<v>[^\s@/\"'<>]{3,128})@[\w.-]+",
        0.9,
    ),
)
# Matched on the lower-cased text: these rules are led by a keyword, not a prefix.
_KEYWORD_LED: tuple[tuple[str, tuple[str, ...], str, float], ...] = (
    (
        "secret.mistral_api_key",
        ("mistral",),
        r"(?i:mistral)[\w .-]{0,20}?(?:key|token)?[\"']?\s*[:=]\s*[\"']?(?P<v>[A-Za-z0-9]{32})\b",
        0.9,
    ),
    (
        "secret.aws_secret_access_key",
        ("aws",),
        r"(?i:aws)[\w .-]{0,20}?(?i:secret)[\w .-]{0,20}?[\"']?\s*[:=]\s*[\"']?"
        r"(?P<v>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])",
        0.95,
    ),
)
_RULES_BY_LITERAL: dict[str, list[tuple[str, re.Pattern[str], float]]] = {}
for _rule, _literals, _pattern, _confidence in _PREFIXED:
    for _literal in _literals:
        _RULES_BY_LITERAL.setdefault(_literal, []).append(
            (_rule, re.compile(_pattern), _confidence)
        )
_KEYWORD_LED_RE = tuple((r, lits, re.compile(p), c) for r, lits, p, c in _KEYWORD_LED)
_TRIGGER_LITERALS = tuple(_RULES_BY_LITERAL)

_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")

_KEYWORDS = (
    r"passw(?:or)?d|passwd|pwd|pass|passphrase|mot[ _]de[ _]passe|mdp|secret|client[_-]?secret|"
    r"api[_-]?key|apikey|access[_-]?key|secret[_-]?key|private[_-]?key|token|auth[_-]?token|"
    r"access[_-]?token|refresh[_-]?token|bearer|credentials?|cl[ée][ _]d'?api|jeton|authorization"
)
# What follows a keyword in password=…, "api_key": "…", mot de passe : …, token is …; matched
# anchored at the end of each keyword (never scanned over the whole text). The value is "v".
_ASSIGNMENT_TAIL = re.compile(
    r"[\w.-]{0,20}[\"']?"
    r"(?:\s*(?:=>|:=|[:=])\s*|\s+(?:[cC]['’])?(?i:is|est|was|était|vaut)\s+(?:(?i:le|la|the)\s+)?)"
    r"(?:(?i:bearer|basic)\s+)?"
    r"(?P<q>[\"'`]?)(?P<v>[^\s\"'`,;]{6,200})(?P=q)"
)
# Literals one of which every keyword-led secret contains ("pass" alone would open the gate
# for every "passer", "key" for every "keyboard").
_KEYWORD_LITERALS = (
    "passw", "passphrase", "pass=", "pass:", 'pass"', "pwd", "mot de passe", "mot_de_passe",
    "mdp", "secret", "api_key", "api-key", "apikey", "_key", "-key", "key=", "key:", 'key"',
    "token", "bearer", "credential", "jeton", "authoriz", "clé d", "cle d",
)  # fmt: skip
_KEYWORD = re.compile(_KEYWORDS)  # matched on the lower-cased text


def _by_rare_char(literals: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Literals grouped under the rarest character they contain, so that one ``in`` test of
    that character rules out the whole group on most texts (any character of a literal is a
    valid key: the grouping changes the cost, never the result)."""
    groups: dict[str, list[str]] = {}
    for lit in literals:
        key = min(lit, key=_rarity)
        groups.setdefault(key, []).append(lit)
    return tuple((key, tuple(lits)) for key, lits in groups.items())


# Characters from rarest to commonest in French and English prose (rough ranks; digits and
# characters not listed count as rarest). Punctuation, capitals and k, w, z, j, x first.
_RARE = "~=_\"':/QZXJKWYVqzxjkwy-BCDFGHLMNPRSTAEIOUbhgfvmpc.éèàdlnuroitsae "


def _rarity(char: str) -> int:
    return _RARE.find(char)  # -1 (not listed) sorts first


_TRIGGER_GROUPS = _by_rare_char(_TRIGGER_LITERALS)
_KEYWORD_GROUPS = _by_rare_char(_KEYWORD_LITERALS)


def _present(text: str, groups: tuple[tuple[str, tuple[str, ...]], ...]) -> list[str]:
    """The literals of ``groups`` that occur in ``text``."""
    return [lit for key, lits in groups if not key or key in text for lit in lits if lit in text]


def _any_present(text: str, groups: tuple[tuple[str, tuple[str, ...]], ...]) -> bool:
    """Whether one of the literals of ``groups`` occurs in ``text`` (stops at the first)."""
    for key, lits in groups:
        if key in text:
            for lit in lits:
                if lit in text:
                    return True
    return False


# Values that are references or placeholders, not secrets.
_PLACEHOLDER = re.compile(
    r"^(?:\$\{?.*|%\(?.*|\{\{.*|<.*>|\*+|x+|X+|\.+|#+|-+|null|none|nil|undefined|true|false|"
    r"os\.environ.*|os\.getenv.*|process\.env.*|env\(.*|getenv.*|\[.*\]|changeme|password|"
    r"motdepasse|your[_-].*|votre[_-].*|my[_-]?password|mon[_-]?mot.*|secret|example.*|"
    r"required|optional|string|str|int|bool|null,?|self\..*|settings\..*|config\..*|input\(.*|"
    r"getpass.*|prompt.*|redacted|masked|hidden|\.\.\..*)$",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[A-Za-z0-9+/_\-=.~]{20,}")
_ENTROPY_MIN = 3.5
_PATH_LIKE = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:/[\w.-]*)*$")
_ENTROPY_WINDOW = 40


def find_secrets(t: TextView, out: list[Finding]) -> None:
    """Every kind of secret this module knows; see the module docstring."""
    text = t.text
    lower = t.lower
    rules: dict[str, tuple[re.Pattern[str], float]] = {}
    # Substring tests are cheaper than one pass of a literal alternation; the pass runs only
    # when one of them hits, to name every literal present.
    for lit in _present(text, _TRIGGER_GROUPS):
        for rule, pattern, confidence in _RULES_BY_LITERAL[lit]:
            rules[rule] = (pattern, confidence)
    for rule, literals, pattern, confidence in _KEYWORD_LED_RE:
        for lit in literals:
            if lit in lower:
                rules[rule] = (pattern, confidence)
                break
    for rule, (pattern, confidence) in rules.items():
        for m in pattern.finditer(text):
            if m.re.groupindex.get("v"):
                start, end = m.span("v")
                if rule == "secret.connection_string" and _is_placeholder(m.group("v")):
                    continue
            else:
                start, end = m.span()
            out.append(Finding(SECRET, start, end, rule, confidence, text[start:end]))
    if "eyJ" in text:
        for m in _JWT.finditer(text):
            if _jwt_header_ok(m.group()):
                out.append(Finding(SECRET, m.start(), m.end(), "secret.jwt", 0.95, m.group()))
    if _any_present(lower, _KEYWORD_GROUPS):
        _find_keyword_secrets(text, lower, out)


def _find_keyword_secrets(text: str, lower: str, out: list[Finding]) -> None:
    taken_until = -1  # one finding per value: later keywords must start past it
    for k in _KEYWORD.finditer(lower):
        if k.start() < taken_until:
            continue
        m = _ASSIGNMENT_TAIL.match(text, k.end())
        if m is not None:
            value = m.group("v")
            quoted = bool(m.group("q"))
            if not _is_placeholder(value) and _looks_like_password(value, quoted=quoted):
                start, end = m.span("v")
                taken_until = end
                out.append(Finding(SECRET, start, end, "secret.password_assignment", 0.85, value))
                continue
        for t in _TOKEN.finditer(text, k.end(), min(len(text), k.end() + _ENTROPY_WINDOW + 200)):
            if t.start() - k.end() > _ENTROPY_WINDOW:
                break
            token = t.group().rstrip(".")
            if _high_entropy(token):
                end = t.start() + len(token)
                taken_until = end
                out.append(Finding(SECRET, t.start(), end, "secret.high_entropy", 0.75, token))
                break


def _is_placeholder(value: str) -> bool:
    return _PLACEHOLDER.match(value) is not None


def _looks_like_password(value: str, quoted: bool) -> bool:
    """A plain lower-case word after ``password:`` is more often prose than a password."""
    classes = (
        any(c.islower() for c in value)
        + any(c.isupper() for c in value)
        + any(c.isdigit() for c in value)
        + any(not c.isalnum() for c in value)
    )
    return classes >= 2 or (quoted and len(value) >= 8)


def shannon_entropy(token: str) -> float:
    """Bits per character of ``token``'s character distribution."""
    counts: dict[str, int] = {}
    for c in token:
        counts[c] = counts.get(c, 0) + 1
    n = len(token)
    return -sum(k / n * math.log2(k / n) for k in counts.values())


def _high_entropy(token: str) -> bool:
    if len(token) < 20 or token.isalpha() or token.isdigit():
        return False
    if token.startswith("/") or "//" in token or _PATH_LIKE.match(token):
        return False  # a URL or a path, not a token
    has_digit = any(c.isdigit() for c in token)
    has_alpha = any(c.isalpha() for c in token)
    return has_digit and has_alpha and shannon_entropy(token) >= _ENTROPY_MIN


def _jwt_header_ok(token: str) -> bool:
    header = token.split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
    except (binascii.Error, ValueError):
        return False
    return b'"alg"' in decoded or b'"typ"' in decoded
