from __future__ import annotations

import base64

import pytest

from socle.guards.credentials import shannon_entropy
from socle.guards.scanner import EntityScanner

SCANNER = EntityScanner()


def rules(text: str) -> list[tuple[str, str]]:
    return [(f.rule, text[f.start : f.end]) for f in SCANNER.scan(text) if f.type == "secret"]


def _jwt() -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
    payload = base64.urlsafe_b64encode(b'{"sub":"1234567890","name":"x"}').decode().rstrip("=")
    return f"{header}.{payload}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"


ALNUM = "aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xYz"


@pytest.mark.parametrize(
    "rule,value",
    [
        ("secret.aws_access_key_id", "AKIAIOSFODNN7EXAMPLE"),
        ("secret.gcp_api_key", "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"),
        ("secret.github_token", "ghp_" + ALNUM + "ABC"),
        ("secret.github_pat", "github_pat_" + "A1b2C3d4E5" * 8 + "Zz"),
        ("secret.gitlab_token", "glpat-" + "xY7_kL9mN2pQ4rS6tU8v"),
        ("secret.openai_api_key", "sk-proj-" + ALNUM + "AbCd1234"),
        ("secret.anthropic_api_key", "sk-ant-api03-" + ALNUM + ALNUM + "-xyzXYZ09"),
        ("secret.slack_token", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"),
        ("secret.stripe_key", "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"),
        ("secret.jwt", _jwt()),
    ],
)
def test_prefixed_secrets(rule: str, value: str) -> None:
    assert rules(f"config: {value} end") == [(rule, value)]


def test_private_key_block() -> None:
    block = (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\nabc==\n-----END RSA PRIVATE KEY-----"
    )
    assert rules(f"voici la clé\n{block}\nmerci") == [("secret.private_key", block)]


def test_truncated_private_key_block_runs_to_the_end() -> None:
    text = "key: -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA"
    assert rules(text)[0][0] == "secret.private_key"


def test_connection_string_reports_the_password_only() -> None:
    assert rules("DATABASE_URL=postgres://admin:S3cr3tP4ss@db.internal:5432/app") == [
        ("secret.connection_string", "S3cr3tP4ss")
    ]
    assert rules("postgres://admin:${DB_PASSWORD}@db:5432/app") == []


@pytest.mark.parametrize(
    "text,value",
    [
        ("password=Hunter2!x", "Hunter2!x"),
        ('"api_key": "9f8e7d6c5b4a39281706"', "9f8e7d6c5b4a39281706"),
        ("mot de passe : Soleil2024!", "Soleil2024!"),
        ("DB_PASSWORD='Tr0ub4dor&3'", "Tr0ub4dor&3"),
        ("mdp: Azerty#123", "Azerty#123"),
    ],
)
def test_password_assignments(text: str, value: str) -> None:
    assert rules(text) == [("secret.password_assignment", value)]


@pytest.mark.parametrize(
    "text",
    [
        "password: required",
        "password = os.environ['DB_PASSWORD']",
        "set the password=${PASSWORD} in .env",
        "token: <your-token-here>",
        "password: ********",
        "Le mot de passe est changeme",
        "How do I reset my password?",
    ],
)
def test_password_placeholders_are_not_secrets(text: str) -> None:
    assert rules(text) == []


def test_high_entropy_token_near_keyword() -> None:
    token = "q8Zr2LmX9vTb4KsW7yHn3JpD"
    assert shannon_entropy(token) > 4
    assert rules(f"Authorization header uses token {token} for the API") == [
        ("secret.high_entropy", token)
    ]
    assert rules(f"the build id is {token} for the record") == []  # no secret-ish keyword


def test_low_entropy_token_near_keyword_is_ignored() -> None:
    assert rules("token aaaaaaaaaaaaaaaaaaaaaaaa1") == []


def markers(text: str) -> list[tuple[str, str]]:
    return [
        (f.rule, text[f.start : f.end])
        for f in SCANNER.scan(text)
        if f.type == "confidentiality_marker"
    ]


@pytest.mark.parametrize(
    "text,rule",
    [
        ("CONFIDENTIEL - ne pas diffuser", "marker.confidential"),
        ("Document classé Diffusion restreinte", "marker.confidential"),
        ("Classification : C2", "marker.confidential"),
        ("[C3] Plan de restructuration", "marker.secret"),
        ("TRÈS SECRET", "marker.secret"),
        ("Secret défense", "marker.secret"),
        ("Ce document est strictement confidentiel.", "marker.confidential"),
        ("STRICTLY CONFIDENTIAL", "marker.confidential"),
        ("For internal use only", "marker.internal"),
    ],
)
def test_confidentiality_markers(text: str, rule: str) -> None:
    assert rule in {r for r, _ in markers(text)}


@pytest.mark.parametrize(
    "text",
    [
        "Le secret de la réussite, c'est la régularité.",
        "Store the client secret in the vault.",
        "SECRET_KEY = os.environ['SECRET_KEY']",
        "Our C2 detection rules flag beaconing.",
        "Ce restaurant est un secret bien gardé.",
    ],
)
def test_words_that_are_not_markers(text: str) -> None:
    assert markers(text) == []


def health(text: str) -> list[str]:
    return [text[f.start : f.end] for f in SCANNER.scan(text) if f.type == "health"]


def test_health_terms_fr_en() -> None:
    found = health("Le patient est diagnostiqué avec un diabète, sous insuline.")
    assert {"diabète", "insuline"} <= set(found)
    assert "dossier médical" in health("Merci de joindre le dossier médical complet.")
    assert "chemotherapy" in health("She started chemotherapy last week.")
    assert "diagnosed with" in health("He was diagnosed with epilepsy in 2019.")


@pytest.mark.parametrize(
    "text",
    [
        "Le traitement des données personnelles est encadré par le RGPD.",
        "Run a diagnostic on the network card.",
        "The Great Depression started in 1929.",
    ],
)
def test_everyday_words_are_not_health_terms(text: str) -> None:
    assert health(text) == []
