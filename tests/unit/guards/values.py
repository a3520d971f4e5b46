"""Valid and invalid identifiers for the recognizer tests, computed from their check rules."""

from __future__ import annotations

from socle.guards.checksums import luhn_valid


def luhn_complete(prefix: str) -> str:
    """``prefix`` plus the Luhn check digit that makes it valid."""
    for d in "0123456789":
        if luhn_valid(prefix + d):
            return prefix + d
    raise AssertionError("unreachable")


def nir(body13: str) -> str:
    """A NIR from its first 13 characters (2A/2B allowed) with its key."""
    digits = body13.upper().replace("2A", "19", 1) if body13[5:7].upper() == "2A" else body13
    if body13[5:7].upper() == "2B":
        digits = body13[:5] + "18" + body13[7:]
    return f"{body13}{97 - int(digits) % 97:02d}"


def iban(country: str, bban: str) -> str:
    """A compact IBAN with the right check digits."""
    rearranged = bban + country + "00"
    number = int("".join(str(int(c, 36)) for c in rearranged))
    return f"{country}{98 - number % 97:02d}{bban}"


def spaced(value: str, size: int = 4) -> str:
    """``value`` in groups of ``size`` separated by spaces."""
    return " ".join(value[i : i + size] for i in range(0, len(value), size))


def break_last_digit(value: str) -> str:
    """``value`` with its last digit changed (breaks any check digit)."""
    last = value[-1]
    return value[:-1] + ("0" if last != "0" else "1")
