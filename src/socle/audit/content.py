"""Prompt and answer content, encrypted per subject so that erasing a subject's key shreds it.

Each subject (the request's ``user`` field, else its project) has a random 256-bit content key
(DEK), stored wrapped (AES-256-GCM) by the key-encryption key (KEK) in ``audit_content_keys``.
Content is AES-256-GCM encrypted with the DEK: ``nonce(12) || ciphertext+tag``, with the key id
and request id as associated data. Erasure nulls the wrapped DEK: the ciphertext stays (the hash
chain still verifies) but nothing can decrypt it any more.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
import uuid
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from socle.audit.errors import AuditKeyError, ContentErased
from socle.audit.keys import ContentKek
from socle.store.database import Database
from socle.store.models.audit import AuditContentKey

log = logging.getLogger(__name__)
ALGORITHM = "AES-256-GCM"
_NONCE = 12


def subject_hash(subject: str) -> str:
    """How a subject is named in the key table: never in clear."""
    return hashlib.sha256(b"socle-audit-subject:" + subject.encode()).hexdigest()


def _aad(key_id: str, request_id: str | None) -> bytes:
    return f"{key_id}:{request_id or ''}".encode()


def encrypt(dek: AESGCM, key_id: str, request_id: str | None, plaintext: bytes) -> bytes:
    nonce = secrets.token_bytes(_NONCE)
    return nonce + dek.encrypt(nonce, plaintext, _aad(key_id, request_id))


class ContentVault:
    """Content keys: created on first use, cached for a while, unwrapped with the KEK, erased."""

    def __init__(self, database: Database, kek: ContentKek, *, cache_s: float = 30.0) -> None:
        self._db = database
        self._kek = kek
        self._kek_aead = AESGCM(kek.key)
        self._cache_s = cache_s
        self._cache: dict[str, tuple[str, AESGCM, float]] = {}

    def _wrap(self, key_id: str, dek: bytes) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        return nonce + self._kek_aead.encrypt(nonce, dek, b"socle-audit-dek:" + key_id.encode())

    def _unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        try:
            return self._kek_aead.decrypt(
                wrapped[:_NONCE], wrapped[_NONCE:], b"socle-audit-dek:" + key_id.encode()
            )
        except InvalidTag:
            raise AuditKeyError(f"content key {key_id} does not unwrap with this KEK") from None

    async def keys_for(self, hashes: Iterable[str]) -> dict[str, tuple[str, AESGCM]]:
        """The live content key of each subject hash, created when missing (batched lookups)."""
        now = time.monotonic()
        found: dict[str, tuple[str, AESGCM]] = {}
        missing: list[str] = []
        for h in set(hashes):
            cached = self._cache.get(h)
            if cached is not None and cached[2] > now:
                found[h] = (cached[0], cached[1])
            else:
                missing.append(h)
        if not missing:
            return found
        loaded = await self._load_live(missing)
        absent = [h for h in missing if h not in loaded]
        if absent:
            await self._create(absent)
            loaded.update(await self._load_live(absent))
        for h, (key_id, dek) in loaded.items():
            aead = AESGCM(dek)
            self._cache[h] = (key_id, aead, now + self._cache_s)
            found[h] = (key_id, aead)
        return found

    async def _load_live(self, hashes: list[str]) -> dict[str, tuple[str, bytes]]:
        stmt = select(
            AuditContentKey.subject_hash, AuditContentKey.key_id, AuditContentKey.wrapped
        ).where(
            AuditContentKey.subject_hash.in_(hashes),
            AuditContentKey.kek_id == self._kek.kek_id,
            AuditContentKey.erased_at.is_(None),
        )
        async with self._db.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return {
            h: (key_id, self._unwrap(key_id, wrapped))
            for h, key_id, wrapped in rows
            if wrapped is not None
        }

    async def _create(self, hashes: list[str]) -> None:
        now = time.time()
        rows = []
        for h in hashes:
            key_id = uuid.uuid4().hex
            rows.append(
                {
                    "key_id": key_id,
                    "subject_hash": h,
                    "kek_id": self._kek.kek_id,
                    "wrapped": self._wrap(key_id, AESGCM.generate_key(bit_length=256)),
                    "created_at": now,
                    "erased_at": None,
                }
            )
        # Another process may create the same subject's key at once: the partial unique index
        # keeps one, and the caller re-reads whichever won.
        insert = pg_insert if self._db.dialect == "postgresql" else sqlite_insert
        async with self._db.engine.begin() as conn:
            await conn.execute(insert(AuditContentKey).on_conflict_do_nothing(), rows)

    async def decrypt(self, key_id: str, request_id: str | None, blob: bytes) -> bytes:
        """Decrypt one record's content; :class:`ContentErased` once the key was destroyed."""
        stmt = select(AuditContentKey.wrapped, AuditContentKey.kek_id).where(
            AuditContentKey.key_id == key_id
        )
        async with self._db.engine.connect() as conn:
            row = (await conn.execute(stmt)).first()
        if row is None or row.wrapped is None:
            raise ContentErased(f"content key {key_id} was erased")
        if row.kek_id != self._kek.kek_id:
            raise AuditKeyError(f"content key {key_id} is wrapped by another KEK ({row.kek_id})")
        dek = AESGCM(self._unwrap(key_id, row.wrapped))
        return dek.decrypt(blob[:_NONCE], blob[_NONCE:], _aad(key_id, request_id))

    async def erase(self, subject: str) -> int:
        """Destroy every content key of ``subject``; returns how many were destroyed."""
        h = subject_hash(subject)
        self._cache.pop(h, None)
        stmt = (
            update(AuditContentKey)
            .where(AuditContentKey.subject_hash == h, AuditContentKey.erased_at.is_(None))
            .values(wrapped=None, erased_at=time.time())
        )
        async with self._db.engine.begin() as conn:
            if self._db.dialect == "sqlite":
                # Overwrite freed space so the old key bytes do not linger in the file.
                await conn.execute(text("PRAGMA secure_delete=ON"))
            count = (await conn.execute(stmt)).rowcount
        await self._scrub()
        return int(count or 0)

    async def _scrub(self) -> None:
        """Best effort: push the old key bytes out of the WAL / dead tuples."""
        try:
            if self._db.dialect == "sqlite":
                async with self._db.engine.connect() as conn:
                    await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            elif self._db.dialect == "postgresql":
                async with self._db.engine.connect() as conn:
                    auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                    await auto.execute(text("VACUUM audit_content_keys"))
        except Exception:  # scrubbing is an extra: the key is already gone
            log.debug("scrubbing after erasure failed", exc_info=True)
