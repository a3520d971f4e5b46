"""Recognizers of what makes a text sensitive without being an identifier: confidentiality
markers (``CONFIDENTIEL``, ``Diffusion restreinte``, ``C3``…) and health vocabulary.

Their findings feed the classification rules: a marker raises the request to the level it names
(rule ids ``marker.internal``, ``marker.confidential``, ``marker.secret``), health terms make the
request confidential under the default rules.
"""

from __future__ import annotations

import re

from socle.guards.anchors import AnchoredPattern
from socle.guards.findings import CONFIDENTIALITY_MARKER, HEALTH, Finding
from socle.guards.textview import TextView, keys

_LABEL = (
    r"(?i:classification|niveau|marquage|mention|sensibilit[ée]|sensitivity|label|classe)\s*:?\s*"
)

_SECRET_W = ("secret", "secrète", "défense", "defense")
_CONF_W = ("confidentiel", "confidentielle", "confidentiels", "confidentielles", "confidential")
_LABEL_W = ("classification", "niveau", "marquage", "mention", "sensibilité", "sensibilite",
            "sensitivity", "label", "classe")  # fmt: skip

# (rule, gate words, pattern): a pattern runs only when one of its words is in the text.
# Case matters — SECRET in capitals is a marking, "le secret de la sauce" is not.
_MARKERS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "marker.secret",
        _SECRET_W,
        r"\b(?:TR[ÈE]S SECRET|TOP SECRET|SECRET[ -]D[ÉE]FENSE|CONFIDENTIEL[ -]D[ÉE]FENSE)\b",
    ),
    (
        "marker.secret",
        _SECRET_W,
        r"(?i:\btr[èe]s secret\b|\btop secret\b|\bsecret[ -]d[ée]fense\b|"
        r"\bconfidentiel[ -]d[ée]fense\b)",
    ),
    (
        "marker.secret",
        _SECRET_W,
        r"(?<![\w-])SECRET(?![\w-]|\s*[=:_])|(?m:^[ \t*#\[(]*Secret[\])*]*[ \t]*$)|\[(?i:secret)\]",
    ),
    ("marker.secret", ("c3",), r"[\[(]C3[\])]"),
    (
        "marker.confidential",
        (*_CONF_W, "restreinte", "restricted"),
        r"\b(?:CONFIDENTIEL(?:LE)?S?|CONFIDENTIAL|DIFFUSION RESTREINTE|RESTRICTED)\b|"
        r"\[(?i:confidentiel(?:le)?|confidential)\]|(?m:^[ \t*#\[(]*(?:Confidentiel(?:le)?|"
        r"Confidential)\b)",
    ),
    (
        "marker.confidential",
        (*_CONF_W, "restreinte", "diffuser", "distribute", "forward"),
        r"(?i:\bstrictement confidentiel(?:le)?s?\b|\bstrictly confidential\b|"
        r"\bdiffusion restreinte\b|\bne pas diffuser\b|\bdo not (?:distribute|forward)\b)",
    ),
    (
        "marker.confidential",
        _CONF_W,
        r"(?i:\b(?:document|fichier|rapport|note|information|donn[ée]e|email|e-mail|mail|message|"
        r"contrat|pi[èe]ce)s? (?:est|sont|is|are) (?:strictement |strictly |hautement |"
        r"highly )?(?:confidentiel(?:le)?s?|confidential)\b)",
    ),
    ("marker.confidential", ("c2",), r"[\[(]C2[\])]"),
    (
        "marker.internal",
        ("interne", "internal"),
        r"(?i:\busage interne(?: uniquement)?\b|\binternal use only\b|\bfor internal use\b|"
        r"\binterne uniquement\b)",
    ),
    ("marker.internal", ("c1",), r"[\[(]C1[\])]"),
)
_MARKERS_RE = tuple(
    (rule, keys(*words), AnchoredPattern(re.compile(p))) for rule, words, p in _MARKERS
)
# A label and the level it names ("Classification : C2", "niveau : secret"), one pattern for
# the three levels: the label is searched for once, and the group that matched names the rule.
# Its matches are those of three patterns (one per level) together: after a label at most one
# level's word can match (they differ within their first two characters), and no level's word
# holds a label, so no match of one level overlaps (and hides) one of another.
_LABELLED = AnchoredPattern(
    re.compile(
        rf"{_LABEL}(?:(?P<secret>(?i:secret)\b|C3\b)"
        r"|(?P<confidential>(?i:confidentiel(?:le)?|confidential|restreinte?|restricted)\b|C2\b)"
        r"|(?P<internal>C1\b))"
    )
)
_LABEL_KEYS = keys(*_LABEL_W)
_MARKER_WORDS: frozenset[bytes] = frozenset().union(_LABEL_KEYS, *(w for _, w, _ in _MARKERS_RE))


_HEALTH_TERMS = (
    # French
    r"dossiers? m[ée]dica(?:l|ux)|dossiers? patients?|ant[ée]c[ée]dents? m[ée]dica(?:l|ux)|"
    r"diagnostic m[ée]dical|diagnostiqu[ée]e?s? (?:d'|de |d’|avec |comme )|maladies? chroniques?|"
    r"cancers?|tumeurs?|leuc[ée]mie|diab[èé]te|diab[ée]tiques?|\bvih\b|\bsida\b|s[ée]ropositi(?:f|"
    r"ve)|"
    r"h[ée]patite|chimioth[ée]rapie|radioth[ée]rapie|dialyse|insuline|antid[ée]presseurs?|"
    r"anxiolytiques?|d[ée]pression nerveuse|en d[ée]pression|trouble bipolaire|bipolaire|"
    r"schizophr[èé]n\w*|[ée]pilep\w+|alzheimer|parkinson|scl[ée]rose en plaques|"
    r"hospitalis[ée]e?s?|hospitalisation|ordonnance m[ée]dicale|sur ordonnance|arr[êe]ts? maladie|"
    r"affection de longue dur[ée]e|grossesse|enceinte|fausse couche|\bivg\b|asthme|"
    r"m[ée]decin traitant|psychiatr\w+|sous traitement|traitement m[ée]dical|anticoagulants?|"
    r"groupe sanguin|burn-out|pathologie|handicap\w*|"
    # English
    r"medical records?|health records?|patient records?|medical history|diagnosed with|"
    r"medical diagnosis|chronic (?:illness|disease)|tumou?rs?|leukemia|diabetes|diabetic|\bhiv\b|"
    r"hepatitis|chemotherapy|radiotherapy|dialysis|insulin|antidepressants?|clinical depression|"
    r"bipolar disorder|schizophrenia|epilepsy|alzheimer's|parkinson's|multiple sclerosis|"
    r"hospitali[sz]ed|hospitali[sz]ation|prescribed|sick leave|pregnan\w+|miscarriage|asthma|"
    r"psychiatrist|mental health|blood type|disability|\bptsd\b|on medication"
)
# One word of every term above: the regex runs only when one of them is in the text.
_HEALTH_WORDS = keys(
    "dossier",
    "dossiers",
    "antécédent",
    "antécédents",
    "antecedents",
    "diagnostic",
    "diagnostiqué",
    "diagnostiquée",
    "diagnostiqués",
    "diagnostique",
    "diagnostiquee",
    "chronique",
    "chroniques",
    "cancer",
    "cancers",
    "tumeur",
    "tumeurs",
    "leucémie",
    "leucemie",
    "diabète",
    "diabete",
    "diabétique",
    "diabetique",
    "diabétiques",
    "vih",
    "sida",
    "séropositif",
    "séropositive",
    "seropositif",
    "hépatite",
    "hepatite",
    "chimiothérapie",
    "chimiotherapie",
    "radiothérapie",
    "radiotherapie",
    "dialyse",
    "insuline",
    "antidépresseur",
    "antidépresseurs",
    "antidepresseurs",
    "anxiolytique",
    "anxiolytiques",
    "dépression",
    "depression",
    "bipolaire",
    "schizophrénie",
    "schizophrène",
    "schizophrene",
    "schizophrenie",
    "épilepsie",
    "epilepsie",
    "épileptique",
    "alzheimer",
    "parkinson",
    "sclérose",
    "sclerose",
    "hospitalisé",
    "hospitalisée",
    "hospitalisés",
    "hospitalise",
    "hospitalisee",
    "hospitalisation",
    "ordonnance",
    "arrêt",
    "arrêts",
    "arret",
    "maladie",
    "affection",
    "grossesse",
    "enceinte",
    "couche",
    "ivg",
    "asthme",
    "médecin",
    "medecin",
    "psychiatre",
    "psychiatrie",
    "psychiatrique",
    "traitement",
    "anticoagulant",
    "anticoagulants",
    "sanguin",
    "burn-out",
    "pathologie",
    "handicap",
    "handicapé",
    "handicapée",
    "handicapés",
    "medical",
    "médical",
    "médicale",
    "health",
    "patient",
    "diagnosed",
    "diagnosis",
    "chronic",
    "tumor",
    "tumors",
    "tumour",
    "tumours",
    "leukemia",
    "diabetes",
    "diabetic",
    "hiv",
    "hepatitis",
    "chemotherapy",
    "radiotherapy",
    "dialysis",
    "insulin",
    "antidepressant",
    "antidepressants",
    "bipolar",
    "schizophrenia",
    "epilepsy",
    "sclerosis",
    "hospitalized",
    "hospitalised",
    "hospitalization",
    "hospitalisation",
    "prescribed",
    "sick",
    "pregnant",
    "pregnancy",
    "miscarriage",
    "asthma",
    "psychiatrist",
    "psychiatric",
    "mental",
    "blood",
    "disability",
    "ptsd",
    "medication",
    "psychiatrie",
    "médicaux",
    "medicaux",
    "medicale",
    "burn",
    "psychiatres",
    "psychiatriques",
    "psychiatrists",
    "schizophrénique",
    "schizophréniques",
    "épileptiques",
    "epileptique",
    "epileptiques",
    "epileptic",
    "pregnancies",
    "handicapées",
    "handicaps",
    "alzheimer's",
    "parkinson's",
    "pathologies",
)
_HEALTH = re.compile(rf"(?<![\w-])(?:{_HEALTH_TERMS})(?![\w-])")


def find_markers(t: TextView, out: list[Finding]) -> None:
    """Confidentiality markings; the rule id names the level the marking asks for."""
    if not t.has_any(_MARKER_WORDS):
        return
    for rule, words, pattern in _MARKERS_RE:
        if not t.has_any(words):
            continue
        for m in pattern.finditer(t.text, t.lower):
            out.append(Finding(CONFIDENTIALITY_MARKER, m.start(), m.end(), rule, 0.9, m.group()))
    if t.has_any(_LABEL_KEYS):
        for m in _LABELLED.finditer(t.text, t.lower):
            rule = f"marker.{m.lastgroup}"
            out.append(Finding(CONFIDENTIALITY_MARKER, m.start(), m.end(), rule, 0.9, m.group()))


def find_health(t: TextView, out: list[Finding]) -> None:
    """Health vocabulary (diagnoses, treatments, medical records) in French and English."""
    present = t.hits & _HEALTH_WORDS
    if not present:
        return
    # Every term has one of the gate words and none crosses sentence punctuation: searching
    # the sentences that hold a gate word finds what a search of the whole text would.
    for start, end in t.clauses(present):
        for m in _HEALTH.finditer(t.lower, start, end):
            value = t.text[m.start() : m.end()]
            out.append(Finding(HEALTH, m.start(), m.end(), "health.term", 0.8, value))
