"""Check digits of the identifiers the recognizers report.

A candidate is reported as an identifier only when its check digits hold: a 27-character French
string that fails mod-97 is not an IBAN, a 9-digit order number that fails Luhn is not a SIREN.
"""

from __future__ import annotations

# ISO 13616 lengths of the IBANs of the SEPA countries (and a few territories that use them).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
    "EE": 20, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GI": 23, "GL": 18, "GR": 27,
    "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19,
    "SK": 24, "SM": 27, "VA": 22, "AL": 28, "ME": 22, "MD": 24, "MK": 19, "RS": 22, "XK": 20,
}  # fmt: skip

# The La Poste group's SIREN: its establishments' SIRETs break Luhn and follow a sum rule instead.
LA_POSTE_SIREN = "356000000"


def luhn_valid(digits: str) -> bool:
    """True when a string of ASCII digits passes the Luhn (mod 10) check."""
    total = 0
    parity = len(digits) % 2
    for i, ch in enumerate(digits):
        d = ord(ch) - 48
        if i % 2 == parity:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_valid(compact: str) -> bool:
    """True for an upper-case IBAN without spaces of its country's length whose mod-97 is 1."""
    expected = IBAN_LENGTHS.get(compact[:2])
    if expected is None or len(compact) != expected or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    # Letters count as two digits (A=10 … Z=35); int(ch, 36) does exactly that mapping.
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def nir_valid(compact: str) -> bool:
    """True for a 15-character French NIR (social security number) whose 2-digit key holds.

    The key is ``97 - (first 13 digits mod 97)``; for Corsica the department ``2A`` counts as
    ``19`` and ``2B`` as ``18`` in that computation.
    """
    if len(compact) != 15:
        return False
    body = compact[:13].upper()
    if body[5:7] == "2A":
        body = body[:5] + "19" + body[7:]
    elif body[5:7] == "2B":
        body = body[:5] + "18" + body[7:]
    if not body.isdigit() or not compact[13:].isdigit():
        return False
    return 97 - int(body) % 97 == int(compact[13:])


def siren_valid(digits: str) -> bool:
    """True for a 9-digit SIREN that passes Luhn."""
    return len(digits) == 9 and digits.isdigit() and luhn_valid(digits)


def siret_valid(digits: str) -> bool:
    """True for a 14-digit SIRET: Luhn, or for La Poste's establishments a digit sum that is a
    multiple of 5."""
    if len(digits) != 14 or not digits.isdigit():
        return False
    if digits.startswith(LA_POSTE_SIREN) and sum(ord(c) - 48 for c in digits) % 5 == 0:
        # La Poste numbers its thousands of post offices past what Luhn allows: INSEE validates
        # them by the sum of their digits instead.
        return True
    return luhn_valid(digits)


def payment_card_brand(digits: str) -> str | None:
    """The card scheme whose IIN range and length fit ``digits``, or None."""
    n = len(digits)
    p2 = int(digits[:2])
    p3 = int(digits[:3])
    p4 = int(digits[:4])
    p6 = int(digits[:6])
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    if (51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16:
        return "mastercard"
    if p2 in (34, 37) and n == 15:
        return "amex"
    if (p4 == 6011 or 644 <= p3 <= 649 or p2 == 65 or 622126 <= p6 <= 622925) and 16 <= n <= 19:
        return "discover"
    if 3528 <= p4 <= 3589 and 16 <= n <= 19:
        return "jcb"
    if (300 <= p3 <= 305 or p2 in (36, 38, 39)) and 14 <= n <= 19:
        return "diners"
    if p2 == 62 and 16 <= n <= 19:
        return "unionpay"
    if (p2 == 50 or 56 <= p2 <= 69) and 12 <= n <= 19:
        return "maestro"
    return None


def card_valid(digits: str) -> bool:
    """True for 13–19 digits in a known IIN range that pass Luhn."""
    return 13 <= len(digits) <= 19 and payment_card_brand(digits) is not None and luhn_valid(digits)
