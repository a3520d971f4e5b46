from __future__ import annotations

import pytest

from socle.guards import checksums
from tests.unit.guards.values import break_last_digit, iban, luhn_complete, nir


def test_luhn_known_numbers() -> None:
    assert checksums.luhn_valid("4111111111111111")
    assert checksums.luhn_valid("732829320")
    assert not checksums.luhn_valid("4111111111111112")
    assert not checksums.luhn_valid("732829321")


@pytest.mark.parametrize(
    "country,bban",
    [
        ("FR", "30006000011234567890189"),
        ("DE", "370400440532013000"),
        ("GB", "NWBK60161331926819"),
        ("NL", "ABNA0417164300"),
        ("IT", "X0542811101000000123456"),
        ("BE", "539007547034"),
        ("MT", "MALT011000012345MTLCAST001S"),
        ("NO", "86011117947"),
    ],
)
def test_iban_mod97_per_country(country: str, bban: str) -> None:
    value = iban(country, bban)
    assert len(value) == checksums.IBAN_LENGTHS[country]
    assert checksums.iban_valid(value)
    wrong_digits = value[:2] + f"{(int(value[2:4]) + 1) % 100:02d}" + value[4:]
    assert not checksums.iban_valid(wrong_digits)


def test_iban_rejects_wrong_length_and_unknown_country() -> None:
    good = iban("FR", "30006000011234567890189")
    assert not checksums.iban_valid(good[:-1])
    assert not checksums.iban_valid("ZZ" + good[2:])


def test_nir_key_and_corsica() -> None:
    assert checksums.nir_valid(nir("1850578006084"))
    assert not checksums.nir_valid(break_last_digit(nir("1850578006084")))
    corsica_a = nir("185052A005084")
    corsica_b = nir("185052B005084")
    assert checksums.nir_valid(corsica_a)
    assert checksums.nir_valid(corsica_b)
    # 2A and 2B count as 19 and 18: swapping them breaks the key.
    assert not checksums.nir_valid(corsica_a.replace("2A", "2B"))


def test_siren_siret_luhn_and_la_poste() -> None:
    assert checksums.siren_valid("732829320")
    assert not checksums.siren_valid("732829321")
    siret = luhn_complete("7328293200007")
    assert checksums.siret_valid(siret)
    assert not checksums.siret_valid(break_last_digit(siret))
    # La Poste establishments: digit sum divisible by 5, Luhn or not.
    la_poste = "35600000049837"
    assert sum(map(int, la_poste)) % 5 == 0
    assert not checksums.luhn_valid(la_poste)
    assert checksums.siret_valid(la_poste)
    assert not checksums.siret_valid("35600000049838")


@pytest.mark.parametrize(
    "number,brand",
    [
        ("4111111111111111", "visa"),
        ("5555555555554444", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("378282246310005", "amex"),
        ("6011111111111117", "discover"),
        ("3530111333300000", "jcb"),
        ("30569309025904", "diners"),
    ],
)
def test_cards_brand_and_luhn(number: str, brand: str) -> None:
    assert checksums.payment_card_brand(number) == brand
    assert checksums.card_valid(number)
    assert not checksums.card_valid(break_last_digit(number))


def test_card_outside_known_ranges_is_rejected() -> None:
    number = luhn_complete("999999999999999")
    assert checksums.luhn_valid(number)
    assert not checksums.card_valid(number)
