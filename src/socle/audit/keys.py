"""Loading and generating the audit keys: the Ed25519 signing key and the content KEK.

Resolution order for each key: the environment variable, then the configured file, then a file
under ``<data_dir>/audit/`` that is generated (mode 0600) on first start. Replicas that share one
database should share both keys (a mounted secret); otherwise list every replica's public key in
``trusted_public_keys`` (see docs/audit.md).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from socle.audit.config import AuditConfig
from socle.audit.errors import AuditKeyError

SIGNING_KEY_NAME = "signing_key.pem"
CONTENT_KEY_NAME = "content.key"


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint of a public key: the first 16 bytes of SHA-256 of its raw form, hex."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


def public_pem(public_key: Ed25519PublicKey) -> str:
    """The public key as PEM (SubjectPublicKeyInfo), the form auditors receive."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    """Parse a PEM public key; it must be Ed25519."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise AuditKeyError(f"not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise AuditKeyError("the public key is not an Ed25519 key")
    return key


def parse_private_key(data: bytes, source: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM (PKCS#8) or a base64 32-byte seed."""
    text = data.strip()
    if text.startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text, password=None)
        except (ValueError, TypeError) as exc:
            raise AuditKeyError(f"{source}: not an unencrypted PEM private key ({exc})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditKeyError(f"{source}: the private key is not an Ed25519 key")
        return key
    try:
        seed = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise AuditKeyError(f"{source}: neither PEM nor base64") from None
    if len(seed) != 32:
        raise AuditKeyError(f"{source}: a base64 Ed25519 seed must decode to 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(seed)


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_secret(path: Path, data: bytes) -> None:
    """Create a file readable by its owner only, failing if it already exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


@dataclass(frozen=True, slots=True)
class Signer:
    """The checkpoint signing key and its fingerprint."""

    private_key: Ed25519PrivateKey
    key_id: str

    @classmethod
    def from_key(cls, key: Ed25519PrivateKey) -> Signer:
        return cls(key, key_id(key.public_key()))

    def sign(self, data: bytes) -> str:
        return self.private_key.sign(data).hex()

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()


class TrustedKeys:
    """The public keys whose checkpoint signatures verify accepts, by fingerprint."""

    def __init__(self, keys: list[Ed25519PublicKey]) -> None:
        self.by_id = {key_id(k): k for k in keys}

    def verify(self, key_ref: str, signature_hex: str, data: bytes) -> str | None:
        """None if the signature is good, else why not ("unknown_key" or "bad_signature")."""
        key = self.by_id.get(key_ref)
        if key is None:
            return "unknown_key"
        try:
            key.verify(bytes.fromhex(signature_hex), data)
        except (InvalidSignature, ValueError):
            return "bad_signature"
        return None

    def pems(self) -> list[str]:
        return [public_pem(k) for k in self.by_id.values()]


def load_signer(config: AuditConfig, data_dir: Path | None, *, create: bool = True) -> Signer:
    """The signing key from the env var, the configured file or the data dir (generated)."""
    env_value = os.environ.get(config.signing_key_env)
    if env_value:
        return Signer.from_key(parse_private_key(env_value.encode(), config.signing_key_env))
    if config.signing_key_file is not None:
        path = config.signing_key_file
        if not path.exists():
            raise AuditKeyError(f"audit.signing_key_file: {path} does not exist")
        return Signer.from_key(parse_private_key(path.read_bytes(), str(path)))
    if data_dir is None:
        raise AuditKeyError("no audit signing key: set audit.signing_key_file or a data dir")
    path = data_dir / "audit" / SIGNING_KEY_NAME
    if not path.exists():
        if not create:
            raise AuditKeyError(f"no audit signing key at {path}")
        # Another process of this replica may generate it at the same moment: use theirs.
        with contextlib.suppress(FileExistsError):
            _write_secret(path, private_pem(Ed25519PrivateKey.generate()))
    return Signer.from_key(parse_private_key(path.read_bytes(), str(path)))


def load_trusted_keys(
    config: AuditConfig, signer: Signer | None, extra_files: list[Path] | None = None
) -> TrustedKeys:
    """The signer's public key plus every configured or given public key file."""
    keys = [signer.public_key] if signer is not None else []
    for path in [*config.trusted_public_keys, *(extra_files or [])]:
        keys.append(load_public_key(path.read_bytes()))
    return TrustedKeys(keys)


@dataclass(frozen=True, slots=True)
class ContentKek:
    """The key-encryption key that wraps per-subject content keys."""

    key: bytes
    kek_id: str


def _kek(raw: bytes) -> ContentKek:
    return ContentKek(raw, hashlib.sha256(b"socle-audit-kek" + raw).hexdigest()[:32])


def _parse_kek(data: bytes, source: str) -> ContentKek:
    try:
        raw = base64.b64decode(data.strip(), validate=True)
    except binascii.Error:
        raise AuditKeyError(f"{source}: the content key must be base64") from None
    if len(raw) != 32:
        raise AuditKeyError(f"{source}: the content key must decode to 32 bytes")
    return _kek(raw)


def load_content_kek(
    config: AuditConfig, data_dir: Path | None, *, create: bool = True
) -> ContentKek:
    """The content KEK from the env var, the configured file or the data dir (generated)."""
    env_value = os.environ.get(config.content_key_env)
    if env_value:
        return _parse_kek(env_value.encode(), config.content_key_env)
    if config.content_key_file is not None:
        if not config.content_key_file.exists():
            raise AuditKeyError(f"audit.content_key_file: {config.content_key_file} does not exist")
        return _parse_kek(config.content_key_file.read_bytes(), str(config.content_key_file))
    if data_dir is None:
        raise AuditKeyError("no audit content key: set audit.content_key_file or a data dir")
    path = data_dir / "audit" / CONTENT_KEY_NAME
    if not path.exists():
        if not create:
            raise AuditKeyError(f"no audit content key at {path}")
        with contextlib.suppress(FileExistsError):
            _write_secret(path, base64.b64encode(secrets.token_bytes(32)) + b"\n")
    return _parse_kek(path.read_bytes(), str(path))
