from __future__ import annotations

import pytest

from socle.guards.scanner import EntityScanner
from tests.unit.guards.values import break_last_digit, iban, luhn_complete, nir, spaced

SCANNER = EntityScanner()


def found(text: str) -> list[tuple[str, str]]:
    """(type, matched text) of every finding."""
    return [(f.type, text[f.start : f.end]) for f in SCANNER.scan(text)]


def types(text: str) -> set[str]:
    return {t for t, _ in found(text)}


@pytest.mark.parametrize(
    "value",
    ["jean.dupont@example.fr", "a.b-c+tag@sub.domain.co.uk", "Marie_99@entreprise.com"],
)
def test_email(value: str) -> None:
    assert found(f"Écrivez à {value}, merci.") == [("email", value)]


@pytest.mark.parametrize("text", ["user@localhost", "@channel please", "foo@bar", "a@b.c"])
def test_email_negatives(text: str) -> None:
    assert "email" not in types(text)


@pytest.mark.parametrize(
    "value",
    [
        "06 12 34 56 78",
        "0612345678",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "+33 6 12 34 56 78",
        "+33612345678",
        "+33 (0)6 12 34 56 78",
        "0033 6 12 34 56 78",
        "01 23 45 67 89",
    ],
)
def test_french_phones(value: str) -> None:
    assert found(f"Appelez le {value} demain") == [("phone", value)]


@pytest.mark.parametrize("value", ["+1 415 555 2671", "+44 20 7946 0958", "+4930123456789"])
def test_international_phones(value: str) -> None:
    assert found(f"call {value} today") == [("phone", value)]


@pytest.mark.parametrize("text", ["commande 4521 du 12", "00 12 34 56 78", "+12 34", "06 12 34 56"])
def test_phone_negatives(text: str) -> None:
    assert "phone" not in types(text)


@pytest.mark.parametrize(
    "body", ["1850578006084", "2690299341732", "185052A005084", "185052B005084"]
)
def test_nir_compact_and_spaced(body: str) -> None:
    value = nir(body)
    assert found(f"NIR {value}") == [("nir", value)]
    groups = (value[0], value[1:3], value[3:5], value[5:7], value[7:10], value[10:13], value[13:])
    s = " ".join(groups)
    assert found(f"Sécu : {s}.") == [("nir", s)]


def test_nir_bad_key_is_not_reported() -> None:
    bad = break_last_digit(nir("1850578006084"))
    assert "nir" not in types(f"NIR {bad}")


def test_nir_bad_month_is_not_reported() -> None:
    assert "nir" not in types(f"numéro {nir('1851578006084')}")


@pytest.mark.parametrize(
    "country,bban",
    [
        ("FR", "30006000011234567890189"),
        ("DE", "370400440532013000"),
        ("GB", "NWBK60161331926819"),
        ("NL", "ABNA0417164300"),
        ("ES", "21000418450200051332"),
    ],
)
def test_iban_compact_and_grouped(country: str, bban: str) -> None:
    value = iban(country, bban)
    assert found(f"IBAN: {value}") == [("iban", value)]
    grouped = spaced(value)
    assert found(f"virement sur {grouped} svp") == [("iban", grouped)]


def test_iban_followed_by_bic_is_cut_at_country_length() -> None:
    value = spaced(iban("FR", "30006000011234567890189"))
    assert found(f"{value} BIC BNPAFRPP") == [("iban", value)]


def test_iban_bad_checksum_is_not_reported() -> None:
    good = iban("FR", "30006000011234567890189")
    bad = good[:-1] + ("8" if good[-1] != "8" else "7")
    assert "iban" not in types(f"IBAN {bad}")
    assert "iban" not in types(f"IBAN {spaced(bad)}")


def test_siren_needs_luhn_and_grouping_or_context() -> None:
    assert found("SIREN 732829320") == [("siren", "732829320")]
    assert found("la société 732 829 320 a payé") == [("siren", "732 829 320")]
    assert found("n° 732 829 320") == [("siren", "732 829 320")]  # 3-3-3 grouping
    assert "siren" not in types("commande 732829320")  # bare 9 digits, no context
    assert "siren" not in types("SIREN 732829321")  # Luhn fails


def test_siret_and_la_poste() -> None:
    siret = luhn_complete("7328293200007")
    assert found(f"SIRET {siret}") == [("siret", siret)]
    assert found(f"SIRET {siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}")[0][0] == "siret"
    assert found("siret La Poste 35600000049837") == [("siret", "35600000049837")]
    assert "siret" not in types(f"SIRET {break_last_digit(siret)}")


@pytest.mark.parametrize(
    "value",
    ["4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "3782 822463 10005"],
)
def test_cards(value: str) -> None:
    assert found(f"ma carte {value} exp 12/27") == [("credit_card", value)]


def test_card_bad_luhn_and_unknown_range() -> None:
    assert "credit_card" not in types("carte 4111 1111 1111 1112")
    assert "credit_card" not in types(f"ref {luhn_complete('999999999999999')}")


def test_card_followed_by_other_digits() -> None:
    assert ("credit_card", "4111 1111 1111 1111") in found("4111 1111 1111 1111 123 cvv")


@pytest.mark.parametrize(
    "value", ["192.168.1.10", "8.8.8.8", "2001:db8::8a2e:370:7334", "fe80::1ff:fe23:4567:890a"]
)
def test_ip_addresses(value: str) -> None:
    assert found(f"host {value} is down") == [("ip_address", value)]


@pytest.mark.parametrize(
    "text",
    [
        "version 1.2.3",
        "v1.2.3.4",
        "at 12:30:45",
        "std::vector",
        "999.1.1.1",
        "MAC 00:1A:2B:3C:4D:5E",
    ],
)
def test_ip_negatives(text: str) -> None:
    assert "ip_address" not in types(text)


@pytest.mark.parametrize(
    "text,value",
    [
        ("Né le 12/03/1985 à Lyon", "12/03/1985"),
        ("date de naissance : 1985-03-12", "1985-03-12"),
        ("née le 3 mars 1990", "3 mars 1990"),
        ("DOB: 03/12/1985", "03/12/1985"),
        ("I was born on March 12, 1985.", "March 12, 1985"),
        ("born 1st of January 1970", "1st of January 1970"),
    ],
)
def test_date_of_birth_in_context(text: str, value: str) -> None:
    assert found(text) == [("date_of_birth", value)]


@pytest.mark.parametrize(
    "text",
    ["Réunion le 12/03/2024 à 14h", "Facture du 1985-03-12", "born on 31/02/1985"],
)
def test_dates_that_are_not_birth_dates(text: str) -> None:
    assert "date_of_birth" not in types(text)


def test_birth_keyword_does_not_reach_into_the_next_sentence() -> None:
    dobs = [v for t, v in found("Né le 12/03/1985. Réunion le 14/05/2024.") if t == "date_of_birth"]
    assert dobs == ["12/03/1985"]


@pytest.mark.parametrize(
    "value",
    [
        "12 rue des Lilas, 75012 Paris",
        "3 bis avenue Victor Hugo 69006 Lyon",
        "45, boulevard de la République, 13001 Marseille",
        "7 place d'Armes 78000 Versailles",
        "18 chemin du Moulin 31000 Toulouse CEDEX 9",
    ],
)
def test_french_addresses(value: str) -> None:
    assert found(f"J'habite au {value}.") == [("address", value)]


def test_street_without_postcode_has_lower_confidence() -> None:
    findings = SCANNER.scan("rendez-vous au 12 rue de la Paix demain")
    assert [(f.type, f.rule) for f in findings] == [("address", "pii.address.fr_street")]
    assert findings[0].confidence < 0.8


def test_no_address_without_street_type() -> None:
    assert "address" not in types("les 12 membres de Paris 75012 sont venus")


def test_findings_never_show_values_in_repr() -> None:
    finding = SCANNER.scan("mail jean.dupont@example.fr")[0]
    assert "jean" not in repr(finding)
