"""Signing and content keys: generated once, read from env or file, trusted by fingerprint."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from socle.audit.config import AuditConfig
from socle.audit.errors import AuditKeyError
from socle.audit.keys import (
    Signer,
    TrustedKeys,
    load_content_kek,
    load_public_key,
    load_signer,
    private_pem,
    public_pem,
)


@pytest.fixture(autouse=True)
def _no_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOCLE_AUDIT_SIGNING_KEY", raising=False)
    monkeypatch.delenv("SOCLE_AUDIT_CONTENT_KEY", raising=False)


def test_generated_once_into_the_data_dir(tmp_path: Path) -> None:
    first = load_signer(AuditConfig(), tmp_path)
    path = tmp_path / "audit" / "signing_key.pem"
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_signer(AuditConfig(), tmp_path).key_id == first.key_id
    kek = load_content_kek(AuditConfig(), tmp_path)
    assert (tmp_path / "audit" / "content.key").stat().st_mode & 0o777 == 0o600
    assert load_content_kek(AuditConfig(), tmp_path) == kek


def test_not_generated_when_asked_not_to(tmp_path: Path) -> None:
    with pytest.raises(AuditKeyError, match="no audit signing key"):
        load_signer(AuditConfig(), tmp_path, create=False)


def test_env_var_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = Ed25519PrivateKey.generate()
    monkeypatch.setenv("SOCLE_AUDIT_SIGNING_KEY", private_pem(key).decode())
    assert load_signer(AuditConfig(), tmp_path).key_id == Signer.from_key(key).key_id
    seed = base64.b64encode(bytes(range(32))).decode()
    monkeypatch.setenv("SOCLE_AUDIT_SIGNING_KEY", seed)
    seeded = load_signer(AuditConfig(), tmp_path)
    assert (
        seeded.key_id
        == Signer.from_key(Ed25519PrivateKey.from_private_bytes(bytes(range(32)))).key_id
    )
    assert not (tmp_path / "audit").exists()


def test_configured_file(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    key = Ed25519PrivateKey.generate()
    path.write_bytes(private_pem(key))
    config = AuditConfig(signing_key_file=path)
    assert load_signer(config, None).key_id == Signer.from_key(key).key_id
    with pytest.raises(AuditKeyError, match="does not exist"):
        load_signer(AuditConfig(signing_key_file=tmp_path / "missing.pem"), None)


def test_bad_keys_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCLE_AUDIT_SIGNING_KEY", "not a key!")
    with pytest.raises(AuditKeyError, match="SOCLE_AUDIT_SIGNING_KEY"):
        load_signer(AuditConfig(), tmp_path)
    monkeypatch.setenv("SOCLE_AUDIT_CONTENT_KEY", base64.b64encode(b"short").decode())
    with pytest.raises(AuditKeyError, match="32 bytes"):
        load_content_kek(AuditConfig(), tmp_path)


def test_trusted_keys_tell_why() -> None:
    signer = Signer.from_key(Ed25519PrivateKey.generate())
    trusted = TrustedKeys([load_public_key(public_pem(signer.public_key))])
    signature = signer.sign(b"body")
    assert trusted.verify(signer.key_id, signature, b"body") is None
    assert trusted.verify(signer.key_id, signature, b"other") == "bad_signature"
    assert trusted.verify(signer.key_id, "zz", b"body") == "bad_signature"
    assert trusted.verify("0" * 32, signature, b"body") == "unknown_key"
