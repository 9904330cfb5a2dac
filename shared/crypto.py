"""Personal data sealed with a key per data subject, so that erasing the key erases the data
(crypto-shredding; docs/adr/0002-personal-data-crypto-shredding.md).

Events keep only the sealed bytes: the hash chains cover them, they can be published and
copied freely, and they become unreadable everywhere at once when the subject's key is erased.
The keys live in one table of the owning service's database: `<subject>_keys`
(subject_id uuid primary key, data_key bytea, created_at, erased_at), created by its migrations.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, TypeVar
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, Field

if TYPE_CHECKING:
    import asyncpg

M = TypeVar("M", bound=BaseModel)

NONCE_BYTES = 12
KEY_BITS = 256

Sealed = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9_-]+$",
        min_length=40,
        max_length=8000,
        description="AES-256-GCM with the data subject's own key, base64url of nonce,"
        " ciphertext and tag; unreadable once the key is erased",
    ),
]


class CannotUnseal(ValueError):
    """The sealed value was not made with this key for this subject, or was changed since."""


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BITS)


def seal(key: bytes, plaintext: bytes, subject: str) -> str:
    """Encrypt and authenticate `plaintext` for `subject`: it opens only with the same key and subject."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = nonce + AESGCM(key).encrypt(nonce, plaintext, subject.encode())
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()


def unseal(key: bytes, sealed: str, subject: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], subject.encode())
    except (InvalidTag, ValueError):
        raise CannotUnseal(f"the sealed data of {subject} does not open with its key") from None


def seal_model(key: bytes, model: BaseModel, subject: str) -> str:
    return seal(key, model.model_dump_json().encode(), subject)


def unseal_model(key: bytes, sealed: str, model: type[M], subject: str) -> M:
    return model.model_validate_json(unseal(key, sealed, subject))


class SubjectKeys:
    """The data keys of one kind of data subject (e.g. trainees), one row each; erased keys stay as rows
    without a key, so that an erased subject cannot quietly get a new one."""

    def __init__(self, table: str) -> None:
        self.table = table

    async def for_sealing(self, conn: asyncpg.Connection, subject_id: UUID) -> bytes | None:
        """The subject's key, created on first use; None once erased. Holds the row until the
        transaction ends, so an erasure waits for the data being sealed with the key and erases it too."""
        await conn.execute(
            f"INSERT INTO {self.table} (subject_id, data_key) VALUES ($1, $2) ON CONFLICT (subject_id) DO NOTHING",
            subject_id,
            new_data_key(),
        )
        key: bytes | None = await conn.fetchval(
            f"SELECT data_key FROM {self.table} WHERE subject_id = $1 FOR SHARE", subject_id
        )
        return key

    async def for_opening(self, conn: asyncpg.Connection, subject_ids: Iterable[UUID]) -> dict[UUID, bytes]:
        """The keys that still exist of these subjects."""
        rows = await conn.fetch(
            f"SELECT subject_id, data_key FROM {self.table}"
            " WHERE subject_id = ANY($1::uuid[]) AND data_key IS NOT NULL",
            list(set(subject_ids)),
        )
        return {r["subject_id"]: r["data_key"] for r in rows}

    async def erase(self, conn: asyncpg.Connection, subject_id: UUID) -> bool | None:
        """Forget the subject's key: True if erased now, False if erased before, None if it never had one."""
        row = await conn.fetchrow(
            f"SELECT data_key IS NULL AS erased FROM {self.table} WHERE subject_id = $1 FOR UPDATE", subject_id
        )
        if row is None:
            return None
        if row["erased"]:
            return False
        await conn.execute(
            f"UPDATE {self.table} SET data_key = NULL, erased_at = now() WHERE subject_id = $1", subject_id
        )
        return True
