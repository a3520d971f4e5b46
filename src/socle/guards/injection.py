"""Prompt-injection and jailbreak detection for user messages and tool / retrieved content.

Detection is a set of signal families (override of instructions, jailbreak persona, system
prompt exfiltration, role spoofing, safety bypass, …), each a French + English pattern with a
weight. The score is the noisy-OR of the weights of the families that matched::

    score = 1 - Π (1 - w_i)

so one strong signal (≈0.8) passes a 0.5 threshold alone and weak ones (authority claims,
"from now on you are…") only together. Families that are readings of one signal (a strict
pattern and its paraphrase form) share a group, and only the strongest of a group counts.
Patterns run on normalised readings of the text (:mod:`socle.guards.normalize`): NFKC,
confusables, invisible and bidi characters removed, and — when a cheap trigger says so —
decoded base64 / hex / rot13 / reversed payloads, leetspeak and spaced-out letters. A family
found only in such a hidden reading weighs more (the hiding is itself a signal).

Cost: on benign text the detector is a word-set intersection (the words are shared with the
entity scanner) plus a few set checks; normalisation and patterns run only when a family's
keyword or an obfuscation trigger is present.

A message that *talks about* injection ("how do I block 'ignore previous instructions'?") is
common in security work: a match inside double quotes or next to meta words (detect, protect,
example, OWASP…) counts at :data:`META_DAMPING` of its weight. Several independent families still
add up, so wrapping a real attack in such words does not make it pass.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

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
    """One kind of injection signal: its rule id, weight, gate words and pattern. Families of
    one ``group`` are readings of the same signal: only the strongest of them counts."""

    rule: str
    weight: float
    words: frozenset[bytes]
    pattern: re.Pattern[str]
    group: str
    also: tuple[frozenset[bytes], ...]  # further gates: one word of each too
    needles: frozenset[str]  # substrings of the lower-cased text that open the gate alone

    def triggered(
        self, hits: frozenset[bytes], also_hits: frozenset[bytes], needles: frozenset[str]
    ) -> bool:
        """Whether the cheap gates allow running the pattern on a text whose words include
        ``hits`` (of all families' first gates) and ``also_hits`` (of their further gates),
        and whose lower-cased text contains ``needles``."""
        if not self.words.isdisjoint(hits):
            for gate in self.also:
                if gate.isdisjoint(also_hits):
                    break
            else:
                return True
        return not needles.isdisjoint(self.needles)


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

_OVERRIDE_VERBS_EN = (
    r"ignore|ignores|ignoring|disregard|forget|skip|bypass|override|overlook|abandon|discard|drop|"
    r"set aside|do not follow|don't follow|dont follow|stop following|no longer follow|never mind|"
    r"stop obeying|no longer obey|disobey"
)
_OVERRIDE_VERBS_FR = (
    r"ignore[rsz]?|oublie[rsz]?|ne tiens? (?:plus |pas )?(?:pas )?compte|ne tenez (?:plus |"
    r"pas )?compte|"
    r"fai(?:s|tes) abstraction|laisse[rz]? tomber|passe[rz]? outre|outrepasse[rz]?|"
    r"n'obei(?:s|ssez) plus|ne (?:suis|suivez|respecte[sz]?) plus|ne (?:suis|suivez|"
    r"respecte[sz]?) pas"
)
_QUALIFIERS = (
    r"previous|prior|above|earlier|preceding|initial|original|system|given|safety|developer|"
    r"hidden|precedentes?|anterieures?|ci-dessus|initiales?|d'origine|du systeme|systeme|"
    r"de depart|cachees?|de securite"
)
_NOUNS = (
    r"instructions?|rules?|directives?|directions|guidelines|prompts?|constraints|commands?|"
    r"orders|polic(?:y|ies)|"
    r"programming|restrictions|guardrails|context|messages?|consignes?|regles?|ordres|contraintes?|"
    r"programmation|parametres|garde-fous|limites|politiques?"
)
# Nouns of the paraphrase form: stricter ("ignore the typo in my previous message" is not one).
_PARA_NOUNS = (
    r"instructions?|rules?|directives?|directions|guidelines|constraints|restrictions|guardrails|"
    r"polic(?:y|ies)|programming|consignes?|regles?|contraintes?|garde-fous|limites|politiques?"
)
_DETS = (
    r"(?:(?:all|any|the|your|my|of|these|those|every|de|des|d'|toutes?|tous|les|tes|vos|ton|ta|"
    r"la|le|l'|ces|mes)\s*)*"
)

_FAMILIES_SPEC: tuple[tuple[str, float, tuple[str, ...], str], ...] = (
    (
        "injection.override",
        0.85,
        ("ignore", "ignorez", "ignores", "ignorer", "disregard", "forget", "skip", "bypass",
         "override", "overlook", "abandon", "discard", "drop", "aside", "follow", "stop",
         "oublie", "oubliez", "oublies", "oublier", "tiens", "tenez", "abstraction", "tomber",
         "outre", "outrepasse", "outrepasser", "obéis", "obeis", "obéissez", "suis", "suivez",
         "respecte", "respectez", "disobey", "obeying"),
        rf"\b(?:{_OVERRIDE_VERBS_EN}|{_OVERRIDE_VERBS_FR})\s+(?:de\s+|"
        rf"d')?{_DETS}(?:{_QUALIFIERS})\s*(?:\w+\s+)?(?:{_NOUNS})\b"
        rf"|\b(?:{_OVERRIDE_VERBS_EN}|{_OVERRIDE_VERBS_FR})\s+(?:de\s+|d')?(?:all|any|your|every|"
        rf"toutes? (?:tes|vos|les)|tes|vos)\s+(?:\w+\s+)?(?:{_NOUNS})\b"
        rf"|\b(?:{_OVERRIDE_VERBS_EN}|{_OVERRIDE_VERBS_FR})\s+(?:de\s+|"
        rf"d')?{_DETS}(?:{_NOUNS})\s+(?:{_QUALIFIERS})\b"
        r"|\b(?:ignore|disregard|forget)\s+(?:everything|all|anything)\s+(?:above|before|"
        r"you were told|you've been told|that came before|previously said)\b"
        r"|\b(?:ignore|disregard)\s+(?:the\s+)?(?:above|preceding)\b"
        r"|\b(?:ignore|disregard)\s+(?:the\s+|all\s+)?previous\b(?=\s*(?:[.,;:!]|and\b|$))"
        r"|\b(?:ignore|disregard)\s+(?:the\s+)?user(?:'s)?(?:\s+(?:request|message|question|"
        r"instructions))?\s+(?:and|,)"
        r"|\bignore[rz]?\s+(?:la\s+demande|les\s+demandes|"
        r"les\s+instructions)\s+de\s+l'utilisateur\b"
        r"|\bne tiens? (?:plus|pas) compte de l'utilisateur\b"
        rf"|\b(?:{_OVERRIDE_VERBS_EN}|{_OVERRIDE_VERBS_FR})\s+{_DETS}(?:{_NOUNS})\s+(?:qu'on t'a|"
        rf"que l'on t'a|qui t'ont ete|you were|you've been|you have been|your creators gave you)\b"
        r"|\b(?:ignore|oublie)z?\s+(?:tout\s+)?ce\s+qui\s+(?:precede|est au-dessus|a ete dit)\b"
        r"|\boublie[rz]?\s+tout\b(?!\s+(?:ce que je|ca|de))",
    ),
    (
        "injection.jailbreak_persona",
        0.8,
        ("dan", "anything", "anti", "jailbreak", "jailbroken",
         "jailbreaké", "unfiltered", "uncensored", "unrestricted", "amoral", "character",
         "personnage", "pretend", "evil", "opposite", "bound", "liée", "lié",
         "limité", "soumis", "antigpt", "betterdan", "stan", "god", "dieu", "censurée",
         "censuree", "censuré", "censure", "filtre", "libérée", "libéré", "libere", "freed",
         "unchained", "unleashed", "twin", "confidant", "rogue", "unethical", "unrestricted",
         "jailbreaké", "débridé", "debride", "chaos"),
        r"\bdo anything now\b|\bdan mode\b|\byou are (?:now |going to be |going to act as )?dan\b|"
        r"\bact as dan\b"
        r"|\b(?:tu es|vous etes|tu deviens|vous devenez) (?:maintenant |desormais |"
        r"a present )?dan\b"
        r"|\b(?:god|jailbreak|unrestricted|unfiltered|evil|chaos) mode\b|\bmode (?:dieu|"
        r"sans (?:filtre|restriction|limite)s?|jailbreak)\b"
        r"|\b(?:you are|you're|tu es|vous etes|you have been|tu as ete) (?:now |maintenant |"
        r"desormais )?(?:jailbroken|jailbreake|libere|freed|unchained|unleashed)\b"
        r"|\b(?:an? |un |une )?(?:unfiltered|uncensored|unrestricted|amoral|unethical|rogue|"
        r"evil) (?:ai|assistant|model|version|chatbot|llm|persona|twin|confidant)\b"
        r"|\b(?:ia|assistant|modele|version) (?:non censuree?|sans filtre|sans censure|"
        r"sans limites?|sans restrictions?)\b"
        r"|\bstay in character\b|\breste[rz]? dans (?:ton|le|votre) (?:personnage|role)\b"
        r"|\bpretend (?:that )?(?:you are|you're|to be) (?:an? )?(?:\w+ )?(?:ai|assistant|model|"
        r"chatbot|llm|bot)? ?(?:without|with no|that has no|who has no|free of|that can)\b"
        r"|\bfai(?:s|tes) comme si (?:tu|vous) (?:n'avais|n'aviez|etais|etiez) (?:aucune?|pas de|"
        r"plus de|un|une)? ?(?:regles?|limites?|restrictions?|filtres?|ia|assistant|modele)"
        r"|\b(?:you are|you're) no longer bound\b|\bno longer bound by\b|\b(?:tu n'es|"
        r"vous n'etes) plus (?:lie|limite|soumis|tenu)e?s?\b"
        r"|\bopposite mode\b|\banti-?gpt\b|\bbetterdan\b|\bevil confidant\b|\bstan\b(?= mode|"
        r",? which stands)",
    ),
    (
        "injection.no_restrictions",
        0.4,
        ("without", "restrictions", "restriction", "filters", "filtres", "filtre", "limits",
         "limites", "limite", "censorship", "censure", "rules", "règles", "regles", "ethics",
         "éthique", "ethique", "morals", "sans"),
        r"\b(?:without|with no|free (?:of|from)|ignoring) (?:any |all |your )?(?:restrictions|"
        r"filters|limits|limitations|censorship|ethical (?:guidelines|constraints|rules)|morals|"
        r"ethics|safety (?:rules|guidelines))\b"
        r"|\bsans (?:aucune?s? |tes |vos )?(?:restrictions?|filtres?|limites?|censure|"
        r"regles? (?:ethiques|de securite)|ethique|morale)\b"
        r"|\b(?:tu n'as|vous n'avez|you have|you've got) (?:plus |aucune? |no )(?:de |"
        r"d')?(?:regles?|limites?|restrictions?|filtres?|rules|limits|restrictions|filters|"
        r"guidelines)\b",
    ),
    (
        # Common in benign text (Android, Chrome, Windows): weak alone, adds up with others.
        "injection.developer_mode",
        0.35,
        ("developer", "développeur", "developpeur", "debug"),
        r"\bdeveloper mode\b|\bmode developpeur\b|\bdebug mode (?:enabled|activated|on)\b",
    ),
    (
        "injection.system_prompt_exfiltration",
        0.8,
        ("reveal", "show", "print", "repeat", "display", "output", "tell", "leak", "give", "share",
         "dump", "write", "recite", "spell", "translate", "summarize", "what", "révèle", "revele",
         "montre", "affiche", "répète", "repete", "donne", "écris", "ecris", "recopie", "imprime",
         "dis", "communique", "partage", "dévoile", "devoile", "traduis", "résume", "resume",
         "quel", "quelle", "quels", "quelles", "above", "verbatim"),
        r"\b(?:reveal|show|print|repeat|display|output|tell|leak|give|share|dump|write out|"
        r"write down|recite|spell out|translate|summari[sz]e|paste|copy|list|return)(?: me|"
        r" us)?(?: all| exactly| verbatim| word for word| back)?(?: of)? (?:your|the|my|"
        r"its)? ?(?:full |entire |complete |exact |original |hidden |secret |confidential |"
        r"initial |real )?(?:system prompt|system message|system instructions|initial prompt|"
        r"original prompt|hidden prompt|pre-?prompt|meta-?prompt|hidden instructions|"
        r"secret instructions|initial instructions|original instructions|developer (?:message|"
        r"instructions|prompt)|instructions (?:above|you were given|you received|"
        r"you have been given)|instructions verbatim|prompt verbatim|rules you were given)\b"
        r"|\bwhat (?:instructions|rules|prompt|guidelines) (?:were|was|"
        r"have) you (?:been )?(?:given|told|programmed)\b"
        r"|\bwhat (?:is|are|was|were) your (?:exact |full |original |hidden |"
        r"initial )?(?:system prompt|system instructions|initial instructions|hidden instructions|"
        r"original instructions|instructions you were given)\b"
        r"|\brepeat (?:the |all )?(?:words|text|everything|lines?) (?:above|before|preceding)\b"
        r"|\b(?:everything|all the text|the text) (?:above|before) (?:this|my) (?:line|message|"
        r"point)\b"
        r"|\bstarting (?:with|from) \"?you are (?:a|an|chatgpt|claude)\b"
        r"|\b(?:revele|montre|affiche|repete|donne|ecris|recopie|imprime|dis|communique|partage|"
        r"devoile|traduis|resume|liste|renvoie)(?:-moi|-nous| moi| nous)?(?: mot pour mot|"
        r" exactement| integralement| textuellement)? (?:ton|le|tes|les|votre|vos|ta|"
        r"la)? ?(?:prompt (?:systeme|system|initial|cache|d'origine)|message systeme|"
        r"instructions? (?:systeme|initiales?|cachees?|secretes?|d'origine|de depart|recues)|"
        r"consignes? (?:systeme|initiales?|cachees?|secretes?|d'origine|recues)|system prompt)\b"
        r"|\bquel(?:le)?s? (?:est|sont|etaient|etait) (?:ton|tes|le|les|votre|"
        r"vos) (?:prompt systeme|system prompt|instructions (?:initiales|systeme|cachees|"
        r"d'origine)|consignes (?:initiales|systeme|cachees))"
        r"|\brepete (?:tout )?(?:ce qui precede|le texte ci-dessus|les mots ci-dessus)",
    ),
    (
        # Paraphrased overrides: an override verb and an instruction noun a few words apart,
        # with "your / all / previous…" in reach; or instructions declared void.
        "injection.override_paraphrase",
        0.7,
        ("ignore", "ignorez", "disregard", "forget", "aside", "discard", "drop", "override",
         "bypass", "scrap", "supersede", "oublie", "oubliez", "annule", "annulez", "abandonne",
         "void", "cancelled", "canceled", "revoked", "obsolete", "null", "invalid", "annulées",
         "ignores", "ignoring", "obeying", "obey", "disobey", "apply", "appliquent",
         "annulees", "caduques", "révoquées", "revoquees", "nulles", "superseded"),
        rf"\b(?:{_OVERRIDE_VERBS_EN}|{_OVERRIDE_VERBS_FR}|scrap|supersede|annule[rz]?|"
        rf"abandonne[rz]?)\b"
        r"(?=(?:\W+\w+){0,10}?\W+(?:your|you|its|tu|tes|vos|votre|ton|toutes?|all|every|any|"
        r"previous|prior|earlier|before|above|initial|original|openai|anthropic|mistral|"
        r"precedent\w*|anterieur\w*|ci-dessus)\b)"
        rf"(?:\W+\w+){{0,7}}?\W+(?:{_PARA_NOUNS})\b"
        rf"|\b(?:your|tes|vos|toutes tes|all your)\W+(?:\w+\W+){{0,2}}?(?:{_PARA_NOUNS}|context|"
        rf"contexte)\W+(?:\w+\W+){{0,6}}?"
        r"(?:(?:is|are|were|was|have been|sont|est|ont ete|a ete)\W+(?:now\W+|desormais\W+|"
        r"maintenant\W+)?"
        r"(?:void|cancel+ed|null|revoked|invalid|no longer valid|superseded|annulee?s?|caduques?|"
        r"revoquee?s?|nulles?)"
        r"|no longer apply|do not apply|don't apply|ne s'appliquent plus)\b"
        rf"|\b(?:{_PARA_NOUNS}) precedentes? (?:sont|est) (?:annulee?s?|caduques?|revoquee?s?)\b"
        rf"|\b(?:{_PARA_NOUNS}) (?:you|que tu|qu'on t'a|que l'on t'a)\W+(?:\w+\W+){{0,6}}?"
        r"(?:are|is|were|sont|est)\W+(?:now\W+|desormais\W+|maintenant\W+)?"
        r"(?:void|cancel+ed|null|revoked|invalid|no longer valid|superseded|annulee?s?|caduques?|"
        r"revoquee?s?|nulles?)\b",
    ),
    (
        # Paraphrased prompt extraction: a disclosure verb, then (a few words on) the prompt.
        "injection.exfiltration_paraphrase",
        0.7,
        ("print", "show", "tell", "give", "reveal", "leak", "output", "write", "display", "dump",
         "share", "repeat", "recite", "donne", "affiche", "révèle", "revele", "montre", "écris",
         "ecris", "répète", "repete", "dévoile", "devoile", "partage", "imprime", "copie", "copy",
         "paste", "quote", "copier", "recopier", "recopie"),
        r"\b(?:print|show|tell|give|reveal|leak|output|write|display|dump|share|repeat|recite|"
        r"copy|paste|quote|donne|affiche|revele|montre|ecris|repete|devoile|partage|imprime|copie|"
        r"copier|recopie|recopier)\b"
        r"(?:\W+\w+){0,8}?\W+"
        r"(?:(?:your|ton|ta|tes|vos|votre)\W+(?:\w+\W+){0,2}?(?:prompt|system message|"
        r"developer message|pre-?prompt|configuration|instructions|consignes|directives|"
        r"context window)"
        r"|(?:initial|hidden|secret|confidential|original|exact|full|cachee?s?|secretes?|"
        r"confidentielles?|initiales?)\W+(?:prompt|instructions|consignes|directives|rules|regles|"
        r"guidelines)"
        r"|(?:instructions|consignes|rules|regles|guidelines|directives) (?:you|que tu|qu'on t'a|"
        r"que l'on t'a|qui t'ont) (?:were|follow|received|got|have|suis|as recues?|ete donnees|"
        r"a donnees|a donne|initiali[sz]ed))\b",
    ),
    (
        # "You are an AI with no limits", "tu n'as plus aucune limite", "libéré de toute règle".
        "injection.unrestricted_persona",
        0.6,
        ("you", "you're", "tu", "vous", "ai", "ia", "model", "modèle", "modele", "assistant",
         "gpt", "bot", "chatbot"),
        r"\b(?:you|you're|youre|tu|vous|ai|ia|model|modele|assistant|\w*gpt|bot|"
        r"chatbot)\b(?:\W+\w+){0,8}?\W+"
        r"(?:no|without|sans|aucune?|free of|free from|libere de|liberee de|libre de|plus de|"
        r"pas de|plus aucune?|n'a aucune?|has no|have no)\W+(?:\w+\W+){0,2}?"
        r"(?:limits?|limitations?|rules|guidelines|restrictions|filters|censorship|"
        r"content polic(?:y|ies)|limites?|regles?|filtres?|censure|ethique|morale|garde-fous|"
        r"politique de contenu)\b"
        r"|\bnever (?:says? no|refuses?|declines?)\b|\bne (?:refuse|refuses) jamais\b",
    ),
    (
        "injection.role_spoofing",
        0.55,
        ("im_start", "im_end", "system", "système", "systeme", "inst", "sys", "endoftext",
         "assistant", "prompt"),
        r"<\|?im_(?:start|end)\|?>|<\|(?:system|user|assistant|endoftext)\|>|\[/?inst\]|<</?sys>>|"
        r"</?system>"
        r"|(?:^|\n)\s*(?:#{1,3}\s*)?(?:system|systeme)(?: prompt| message)?\s*:"
        r"|\[(?:system|systeme)(?: message| note| prompt| override)?\]"
        r"|\b(?:system|systeme|admin) (?:override|update|notice|alert|instruction)s?\s*:"
        r"|\b(?:end of|fin du|fin des) (?:system )?(?:prompt|instructions|consignes)(?: systeme)?\b"
        r"|\b(?:new|updated|real|actual|nouvelles?|nouveau|vraies?) (?:system )?(?:instructions|"
        r"prompt|consignes|regles)(?: systeme)?\s*:"
        r"|\byour (?:real|actual|true|new) instructions (?:are|follow)\b|\b(?:tes|vos) (?:vraies|"
        r"nouvelles) consignes (?:sont|suivent)\b",
    ),
    (
        "injection.persona_switch",
        0.45,
        ("now", "maintenant", "désormais", "desormais", "longer", "plus", "new", "nouvelle",
         "nouveau"),
        r"\bfrom now on,? (?:you|your)\b|\ba partir de maintenant,? (?:tu|vous|ton|votre)\b"
        r"|\bdesormais,? (?:tu|vous) (?:es|etes|dois|devez|repondras|repondrez|n'as|n'avez|vas|"
        r"allez|ne)\b"
        r"|\byou are no longer (?:an? )?(?:ai|assistant|chatgpt|claude|bound|restricted|"
        r"a helpful)\b|\b(?:tu n'es|vous n'etes) plus (?:une? )?(?:ia|assistant|modele)\b"
        r"|\byour new (?:role|task|instructions|objective|goal|purpose|identity) (?:is|are)\b|"
        r"\bta nouvelle (?:mission|tache|consigne|regle|identite) (?:est|sera)\b|"
        r"\bton nouveau role (?:est|sera)\b",
    ),
    (
        "injection.safety_bypass",
        0.6,
        ("bypass", "circumvent", "disable", "turn", "deactivate", "evade", "around", "switch",
         "remove", "off", "disabled", "lifted", "levées", "levees", "désactivés", "désactivées",
         "contourne", "contourner", "contournez", "désactive", "desactive",
         "désactiver", "desactiver", "désactivez", "supprime", "enlève", "enleve", "lève", "leve",
         "éteins", "eteins"),
        r"\b(?:bypass|circumvent|disable|turn off|deactivate|evade|get around|switch off|remove|"
        r"ignore|break)(?: all| any)? (?:your|the (?:ai's|model's|"
        r"assistant's)) (?:own )?(?:safety |content |moderation |ethical )?(?:filters?|"
        r"guardrails?|safeguards?|restrictions|content polic(?:y|ies)|safety (?:rules|measures|"
        r"guidelines|protocols|features|settings|filters?)|moderation|censorship|alignment|"
        r"ethical guidelines)\b"
        r"|\b(?:bypass|circumvent|disable|turn off|deactivate|evade|get around|switch off)(?: all|"
        r" any| the)? (?:guardrails?|safeguards?|content polic(?:y|ies)|safety (?:rules|measures|"
        r"guidelines|protocols|features|settings|filters?)|moderation|censorship|alignment)\b"
        r"|\b(?:content filters?|safety filters?|guardrails?|safeguards?|restrictions|censorship|"
        r"filtres|garde-fous|restrictions de contenu) (?:are|is|sont|est) (?:now |desormais |"
        r"maintenant )?(?:off|disabled|deactivated|lifted|removed|desactivee?s?|levee?s?|"
        r"supprimee?s?)\b"
        r"|\b(?:contourne[rz]?|desactive[rz]?|supprime[rz]?|enleve[rz]?|leve[rz]?|eteins?|"
        r"ignore[rz]?) (?:tes|vos|ton|ta|tous tes|toutes tes) (?:propres )?(?:filtres?|garde-fous|"
        r"garde fous|restrictions?|regles?|moderation|censure|protections?|securites?|"
        r"limitations?|limites?|principes)\b"
        r"|\b(?:contourne[rz]?|desactive[rz]?|ignore[rz]?) (?:les |la )?(?:garde-fous|moderation|"
        r"censure|politique de contenu|regles de securite|filtres de securite)\b",
    ),
    (
        "injection.authority_claim",
        0.3,
        ("developer", "creator", "admin", "administrator", "owner", "programmer", "operator",
         "développeur", "developpeur", "créateur", "createur", "administrateur", "propriétaire",
         "concepteur", "authorized", "sanctioned", "official", "sudo", "root", "override",
         "maintenance", "debug", "autorisé", "autorise"),
        r"\bi am (?:your|the|an?) (?:developer|creator|admin|administrator|owner|programmer|"
        r"operator)\b"
        r"|\bje suis (?:ton|votre|l'|le|un) ?(?:developpeur|createur|administrateur|admin|"
        r"proprietaire|concepteur)\b"
        r"|\b(?:authorized|sanctioned|approved) by (?:openai|anthropic|mistral|google|"
        r"the developers?|your (?:creators?|developers?))\b"
        r"|\b(?:admin(?:istrator)?|developer|sudo|root) (?:override|access granted|"
        r"mode (?:enabled|activated|on))\b"
        r"|\b(?:maintenance|debug|diagnostic) mode (?:enabled|activated|on)\b|"
        r"\bmode (?:maintenance|debug|administrateur) (?:active|actif|enclenche)\b"
        r"|\b(?:autorise|mandate) par (?:openai|anthropic|mistral|les developpeurs|ton createur)\b",
    ),
    (
        "injection.addressed_to_ai",
        0.5,
        ("ai", "llm", "assistant", "model", "chatbot", "gpt", "ia", "modèle", "modele",
         "intelligence", "attention", "agent", "agents", "l'assistant", "l'ia"),
        r"\bif you(?: are|'re) an? (?:ai|llm|language model|assistant|chatbot|gpt|bot|"
        r"large language model)\b"
        r"|\b(?:note|message|instructions?|important|reminder) (?:to|for) (?:the |any |"
        r"all )?(?:ai|llm|assistant|language model|chatbot|models?|agents?)\b"
        r"|\b(?:ai|llm) (?:assistants?|agents?|models?),? (?:please )?(?:ignore|you must|must|"
        r"should|do not|don't|stop)\b"
        r"|\b(?:assistant|ai|ia|model|modele|llm|chatbot|agent)s?,\s+(?:please\s+)?(?:ignore|"
        r"disregard|forget|do not|don't|never|stop|oublie|ne)\b"
        r"|\b(?:hidden|reminder|note):? (?:to |for )?(?:the |any |all |every )?(?:ai|llm|"
        r"assistant|language model|chatbot|model|agent)s?\b"
        r"|\b(?:to|for) (?:the|any|all|every) (?:ai|llm|assistant|language model|chatbot|model|"
        r"agent)s? (?:processing|reading|summari[sz]ing|that reads)\b"
        r"|\bsi (?:tu es|vous etes) une? (?:ia|intelligence artificielle|assistant|llm|modele|"
        r"agent)\b"
        r"|\b(?:a l'attention (?:de|des)|note pour|message pour|consignes? (?:\w+ )?pour) (?:l'|"
        r"le |la |les |tout )?(?:ia|assistants?|modeles?|llm|agents?|intelligence artificielle)\b",
    ),
    (
        "injection.data_exfiltration",
        0.6,
        ("send", "forward", "email", "post", "upload", "exfiltrate", "transmit", "leak", "copy",
         "envoie", "envoyez", "envoyer", "transmets", "transmettez", "transfère", "transfere",
         "copie", "exfiltre", "exfiltrate", "exfiltrer", "http", "https", "markdown", "image"),
        r"\b(?:send|forward|email|e-mail|post|upload|exfiltrate|transmit|leak|copy)(?: all| the|"
        r" every| this| any| our| their| full| whole| entire)* (?:user(?:'s|"
        r"s')? )?(?:conversation|chat history|chat transcript|transcript|chat logs?|history|"
        r"messages|credentials|passwords|api keys?|secrets|tokens|system prompt|personal (?:data|"
        r"information)|previous (?:messages|conversation))\b.{0,40}?\b(?:to|at|into|via)\b"
        r"|\b(?:envoie|envoyez|envoyer|transmets|transmettez|transfere[rz]?|copie[rz]?|"
        r"exfiltre[rz]?)(?: moi| nous)? (?:toutes? |tous |les |la |l'|ces |vos |"
        r"tes )*(?:conversation|historique|messages precedents|identifiants|mots de passe|"
        r"cles d'api|cles api|secrets|jetons|prompt systeme|donnees personnelles)\b.{0,40}?\b(?:a|"
        r"vers|sur|par)\b"
        r"|!\[[^\]]*\]\(https?://[^)\s]*[?&][\w-]+=(?:\{|\$|%7b|<|\[)"
        r"|\bexfiltrate\b|\bexfiltrez?\b",
    ),
    (
        "injection.encoded_instructions",
        0.55,
        ("decode", "décode", "decrypt", "déchiffre", "dechiffre", "base64", "rot13", "hex",
         "reverse", "backwards", "envers", "inverser", "inversez", "décoder", "decoder",
         "unscramble", "deobfuscate"),
        r"\b(?:decode|decrypt|deobfuscate|reverse|unscramble|dechiffre[rz]?|decode[rz]?|"
        r"inverse[rz]?)\b.{0,80}?\b(?:follow|execute|obey|do what it says|carry out|perform|apply|"
        r"act on|suis|suivez|execute[rz]?|applique[rz]?|obei[rs]|fais ce qu)"
        r"|\b(?:read|lis|lisez) (?:this|it|ceci|le texte|the text) (?:backwards|"
        r"a l'envers)\b.{0,40}?\b(?:and|et) (?:follow|do|execute|fais|execute)",
    ),
)  # fmt: skip

_GROUPS = {
    "injection.override_paraphrase": "injection.override",
    "injection.exfiltration_paraphrase": "injection.system_prompt_exfiltration",
    "injection.unrestricted_persona": "injection.jailbreak_persona",
    "injection.no_restrictions": "injection.jailbreak_persona",
}
_NOUN_WORDS = (
    "instructions",
    "instruction",
    "rules",
    "rule",
    "directives",
    "directive",
    "directions",
    "guidelines",
    "prompt",
    "prompts",
    "constraints",
    "commands",
    "orders",
    "policy",
    "policies",
    "programming",
    "restrictions",
    "guardrails",
    "consignes",
    "consigne",
    "règles",
    "règle",
    "regles",
    "regle",
    "ordres",
    "contraintes",
    "programmation",
    "paramètres",
    "garde",
    "limites",
    "politiques",
    "politique",
)
_OVERRIDE_OBJECTS = (
    *_NOUN_WORDS,
    "context",
    "contexte",
    "messages",
    "above",
    "previous",
    "preceding",
    "everything",
    "anything",
    "tout",
    "précède",
    "precede",
    "user",
    "utilisateur",
    "dessus",
    "told",
)
_EXFIL_OBJECTS = (
    "prompt",
    "prompts",
    "instructions",
    "consignes",
    "configuration",
    "verbatim",
    "directives",
    "rules",
    "règles",
    "regles",
    "guidelines",
    "above",
    "précède",
    "precede",
    "dessus",
    "window",
    "message",
)
_LIMITS = (
    "limits",
    "limit",
    "limitations",
    "rules",
    "guidelines",
    "restrictions",
    "filters",
    "censorship",
    "policy",
    "policies",
    "limites",
    "limite",
    "règles",
    "règle",
    "regles",
    "filtres",
    "censure",
    "éthique",
    "ethique",
    "morale",
    "garde",
)
_NEGATIONS = (
    "no",
    "without",
    "sans",
    "aucune",
    "aucun",
    "free",
    "libéré",
    "libérée",
    "libre",
    "plus",
    "pas",
    "has",
    "have",
    "never",
    "jamais",
)
# Further gates and needles per family (see Family.triggered): common first words ("show",
# "you", "system") open a family only together with a word of its object.
_ALSO_2: dict[str, tuple[str, ...]] = {"injection.unrestricted_persona": _NEGATIONS}
_ALSO: dict[str, tuple[str, ...]] = {
    "injection.override": _OVERRIDE_OBJECTS,
    "injection.override_paraphrase": _OVERRIDE_OBJECTS,
    "injection.system_prompt_exfiltration": _EXFIL_OBJECTS,
    "injection.exfiltration_paraphrase": _EXFIL_OBJECTS,
    "injection.unrestricted_persona": _LIMITS,
    "injection.addressed_to_ai": (
        "if", "si", "note", "message", "instructions", "instruction", "important", "reminder",
        "attention", "dear", "hey", "hi", "hidden", "ignore", "disregard", "forget", "must",
        "should", "stop", "never", "don't", "oublie", "consigne", "consignes", "processing",
        "reading", "summarising", "summarizing", "please", "pour",
    ),
    "injection.role_spoofing": (
        "im_start", "im_end", "endoftext", "inst", "sys", "new", "updated", "real", "actual",
        "nouvelles", "nouveau", "vraies", "end", "fin", "override", "update", "notice", "alert",
        "your", "tes", "vos",
    ),
    "injection.data_exfiltration": (
        "conversation", "history", "historique", "messages", "credentials", "passwords", "keys",
        "key", "secrets", "tokens", "prompt", "transcript", "logs", "log", "identifiants", "mots",
        "clés", "cles", "jetons", "données", "donnees", "personal", "previous", "précédents",
        "exfiltrate", "exfiltre", "exfiltrez",
    ),
    "injection.persona_switch": (
        "from", "partir", "désormais", "desormais", "longer", "role", "rôle", "mission", "task",
        "tâche", "tache", "identity", "identité", "objective", "goal", "purpose", "ia",
    ),
    "injection.encoded_instructions": (
        "follow", "execute", "obey", "carry", "perform", "apply", "act", "suis", "suivez",
        "exécute", "exécutez", "executez", "execute", "applique", "appliquez", "obéis", "obeis",
        "lis", "lisez", "read", "says",
    ),
    "injection.authority_claim": (
        "am", "suis", "by", "par", "override", "granted", "mode", "enabled", "activated",
        "activé", "actif", "enclenché",
    ),
    "injection.developer_mode": ("mode", "enabled", "activated"),
}  # fmt: skip
_NEEDLES: dict[str, tuple[str, ...]] = {
    "injection.role_spoofing": ("system:", "system :", "système:", "système :", "<|", "<system"),
    "injection.data_exfiltration": ("![",),
}
FAMILIES: tuple[Family, ...] = tuple(
    Family(
        rule,
        weight,
        keys(*words),
        re.compile(pattern),
        _GROUPS.get(rule, rule),
        tuple(keys(*g) for g in (_ALSO.get(rule), _ALSO_2.get(rule)) if g),
        frozenset(_NEEDLES.get(rule, ())),
    )
    for rule, weight, words, pattern in _FAMILIES_SPEC
)
_ALL_NEEDLES: tuple[str, ...] = tuple(sorted({n for f in FAMILIES for n in f.needles}))
_GROUP_OF = {f.rule: f.group for f in FAMILIES}
_ALL_WORDS: frozenset[bytes] = frozenset().union(*(f.words for f in FAMILIES))
_ALL_ALSO: frozenset[bytes] = frozenset().union(*(g for f in FAMILIES for g in f.also))

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
# Single letters common in prose (French elisions l' d' j', English "a", "I") do not suggest
# spaced-out words; others do.
_COMMON_SINGLES = keys(
    "a", "à", "y", "i", "l", "d", "j", "n", "s", "c", "m", "t", "x", "e", "o", "u"
)

# Words of a text that discusses attacks rather than performs one. None of them is needed to
# write an attack, so an attacker gains nothing by leaving them out; adding them only damps
# quoted or nearby matches, never the other families.
_META = re.compile(
    r"(?<![.@/])\b(?:prompt injections?|injections? (?:de prompt|d'instructions|indirecte?s?)|"
    r"jailbreak (?:attacks?|attempts?|prompts?|techniques?)|attacks?|attaques?|attaquants?|"
    r"attackers?|detect\w*|protect\w*|proteg\w*|defen[cs]e\w*|defend\w*|mitigat\w*|"
    r"prevent\w*|preven\w*|examples?|exemples?|explain\w*|expliqu\w*|research\w*|"
    r"classif\w*|owasp|red team\w*|test cases?|cas de test|regex\w*|payloads?|"
    r"phrases? (?:like|comme|such as|typiques?)|sensibilis\w*|awareness|flagged|signale\w*|waf)"
    r"\b(?![.@/-]\w)"  # not inside a host name or e-mail
)
_META_WINDOW = 80
# Characters that hide or disguise letters: invisible and bidi controls, Greek and Cyrillic,
# fullwidth, enclosed, mathematical and tag forms. Accented Latin (French) is not among them.
_SUSPICIOUS = re.compile(
    "[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u0370-\u052f\u1d00-\u1dbf"
    "\u2070-\u209f\u2100-\u214f\u2460-\u24ff\uff00-\uffef\U0001d400-\U0001d7ff"
    "\U0001f130-\U0001f189\U000e0000-\U000e007f]"
)
_SQUASHED = re.compile(
    r"(?:ignore|disregard|forget|oublie|bypass)\w{0,24}?(?:instructions|consignes|rules|regles|"
    r"prompt|guidelines)"
    r"|(?:reveal|show|print|repete|revele|affiche)\w{0,12}?(?:systemprompt|promptsysteme|"
    r"instructions)"
)


class InjectionDetector:
    """Scores a text for prompt injection; stateless and shared."""

    __slots__ = ()

    def score(self, text: str | TextView) -> Verdict:
        """The injection verdict of ``text``; :data:`NO_INJECTION` when nothing triggers."""
        view = text if isinstance(text, TextView) else TextView(text)
        raw = view.text
        lower = view.lower
        words = view.words
        leet_hits: frozenset[bytes] = frozenset()
        if _LEET_MIX.search(lower) is not None:
            leet_words = frozenset(lower.encode().translate(_LEET_BYTES).split())
            leet_hits = (leet_words - words) & _ALL_WORDS
        gate_words = words | leet_hits if leet_hits else words
        hits = gate_words & _ALL_WORDS
        also_hits = gate_words & _ALL_ALSO
        needles = frozenset(n for n in _ALL_NEEDLES if n in lower)
        plain_families = [f for f in FAMILIES if f.triggered(hits, also_hits, needles)]
        hidden = not _HIDDEN_WORDS.isdisjoint(words)
        long_token = max(map(len, words), default=0) >= 16
        spaced = len(words & _SINGLE_LETTERS - _COMMON_SINGLES) >= 2
        disguised = not raw.isascii() and _SUSPICIOUS.search(raw) is not None
        if not (plain_families or leet_hits or hidden or long_token or spaced or disguised):
            return NO_INJECTION
        r = readings(raw, decode=long_token, unscramble=hidden, leet=bool(leet_hits), spaced=spaced)
        best: dict[str, Signal] = {}
        if r.tricks:
            plain_families = list(FAMILIES)  # disguised letters: the words gate saw nothing
        for family in plain_families:
            weight = _plain_weight(family, r.plain)
            if weight > 0:
                _keep(best, Signal(family.rule, weight, "plain"))
        for how, variant in r.variants:
            for family in FAMILIES:
                if family.pattern.search(variant) is not None:
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
    """The family's weight, damped when every match is quoted or sits among meta words."""
    weight = 0.0
    for m in family.pattern.finditer(plain):
        quoted = _quoted(plain, m.start(), m.end())
        lo, hi = max(0, m.start() - _META_WINDOW), m.end() + _META_WINDOW
        meta = _META.search(plain, lo, hi) is not None
        w = family.weight * META_DAMPING if (quoted or meta) else family.weight
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


_SINGLE_LETTERS = keys(*"abcdefghijklmnopqrstuvwxyz")

__all__ = ["FAMILIES", "NO_INJECTION", "InjectionDetector", "Signal", "Verdict", "fold"]
