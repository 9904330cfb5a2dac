"""Signed checkpoints: a service's whole log, sealed in position order and signed with Ed25519.

Each stream is already a hash chain (shared/events.py), which shows an edited or removed
event inside a stream but not a stream's last event removed, nor a whole stream. A
checkpoint covers the global order: the sealer folds every event's hash, in position order,
into one running log hash,

    log_hash = sha256(previous log_hash || event hash)        (starting from GENESIS_HASH)

signs (service, through_position, events, log_hash) with the service's key and appends the
signature as an event, `CheckpointSigned`, to the stream `checkpoints`. So checkpoints go
wherever events go (Kafka, the REST feed, exports), and whoever holds the events and the
public key can check, offline, that nothing up to a checkpoint was deleted, changed or
reordered since it was signed. The checkpoint stream itself is not folded in (it is chained
and signed on its own), so a quiet service signs nothing new.

The sealer reads through `read_all`, which never passes a transaction still running: every
position up to a checkpoint is final when it is signed.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from shared.commands import CommandRunner
from shared.events import GENESIS_HASH, EventContext, EventPayload, RecordedEvent
from shared.store import ConcurrencyError

log = logging.getLogger(__name__)

CHECKPOINT_STREAM = "checkpoints"
ALGORITHM = "Ed25519"
_SIGNATURE_DOMAIN = b"titp-checkpoint-v1\n"  # a checkpoint's signature can be nothing else's


class CheckpointSigned(EventPayload):
    """The service's log through `through_position`, `events` events, hashes to `log_hash`; signed with `key_id`."""

    through_position: int
    events: int
    log_hash: str
    key_id: str
    signature: str  # base64 of the Ed25519 signature over `signed_bytes`


def signed_bytes(service: str, through_position: int, events: int, log_hash: str) -> bytes:
    body = {"service": service, "through_position": through_position, "events": events, "log_hash": log_hash}
    return _SIGNATURE_DOMAIN + orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def fold(log_hash: str, event_hash: str) -> str:
    return hashlib.sha256(bytes.fromhex(log_hash) + bytes.fromhex(event_hash)).hexdigest()


def is_sealed(event: RecordedEvent) -> bool:
    """Is the event one of those a checkpoint covers (all but the checkpoints themselves)?"""
    return event.subject != CHECKPOINT_STREAM


# Keys


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    key: ed25519.Ed25519PublicKey

    @classmethod
    def of(cls, key: ed25519.Ed25519PublicKey) -> PublicKey:
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return cls(hashlib.sha256(raw).hexdigest()[:16], key)

    def to_json(self) -> dict[str, str]:
        raw = self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"key_id": self.key_id, "algorithm": ALGORITHM, "public_key": base64.b64encode(raw).decode()}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> PublicKey:
        if body.get("algorithm") != ALGORITHM:
            raise ValueError(f"not an {ALGORITHM} key: {body.get('algorithm')!r}")
        key = PublicKey.of(ed25519.Ed25519PublicKey.from_public_bytes(base64.b64decode(body["public_key"])))
        if key.key_id != body["key_id"]:
            raise ValueError(f"key {body['key_id']} does not match its public key (that would be {key.key_id})")
        return key

    def verifies(self, signature: str, message: bytes) -> bool:
        try:
            self.key.verify(base64.b64decode(signature), message)
        except (InvalidSignature, ValueError):
            return False
        return True


def load_signing_key(path: Path, *, create: bool = True) -> ed25519.Ed25519PrivateKey | None:
    """The Ed25519 key in `path` (PEM, PKCS#8); a new one is written there first if missing and `create`."""
    if not path.exists():
        if not create:
            return None
        try:
            _create_key(path)
        except OSError as exc:
            raise RuntimeError(
                f"cannot create a checkpoint signing key at {path} ({exc}); set"
                " TITP_CHECKPOINT_KEY_FILE to an Ed25519 private key (PEM, PKCS#8)"
            ) from None
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def _create_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_bytes(pem)
    temporary.chmod(0o600)
    try:
        os.link(temporary, path)  # fails if another process created it first: then theirs is the key
        log.warning("created a checkpoint signing key in %s; set TITP_CHECKPOINT_KEY_FILE in production", path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


# Sealing


class Sealer:
    """The chore that signs a checkpoint whenever the log has grown since the last one."""

    __name__ = "seal the log"

    def __init__(self, service: str, key: ed25519.Ed25519PrivateKey) -> None:
        self.service, self.key = service, key
        self.public_key = PublicKey.of(key.public_key())

    async def __call__(self, runner: CommandRunner) -> RecordedEvent | None:
        store = runner.store
        async with runner.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT version, data FROM events WHERE stream_id = $1 ORDER BY version DESC LIMIT 1", CHECKPOINT_STREAM
            )
            version = row["version"] if row else 0
            last = CheckpointSigned.model_validate(row["data"]) if row else None
            through, count, log_hash = (
                (last.through_position, last.events, last.log_hash) if last else (0, 0, GENESIS_HASH)
            )
            while batch := await store.read_all(conn, through, 1000):
                for event in filter(is_sealed, batch):
                    log_hash, count = fold(log_hash, event.hash), count + 1
                through = batch[-1].position
            if count == (last.events if last else 0):
                return None  # nothing new since the last checkpoint
            signature = self.key.sign(signed_bytes(self.service, through, count, log_hash))
            checkpoint = CheckpointSigned(
                through_position=through,
                events=count,
                log_hash=log_hash,
                key_id=self.public_key.key_id,
                signature=base64.b64encode(signature).decode(),
            )
            try:
                async with conn.transaction():
                    [recorded] = await store.append(
                        conn, CHECKPOINT_STREAM, version, [checkpoint], EventContext(actor=f"{self.service}:sealer")
                    )
            except ConcurrencyError:
                return None  # another instance of the service signed meanwhile
        log.info(
            "signed checkpoint %d: %d events through position %d",
            recorded.streamversion,
            count,
            through,
            extra={"position": through, "events": count},
        )
        return recorded


# Verifying


@dataclass(frozen=True)
class CheckpointProblem:
    checkpoint: RecordedEvent
    reason: str


def verify_checkpoints(
    service: str, events: Sequence[RecordedEvent], keys: Mapping[str, PublicKey]
) -> tuple[list[RecordedEvent], list[CheckpointProblem]]:
    """Check every checkpoint among `events` (one service's log, in position order) against the log.

    Returns the checkpoints that hold and the problems found: a signature that does not
    verify or names an unknown key, or a log that no longer hashes as signed.
    """
    held: list[RecordedEvent] = []
    problems: list[CheckpointProblem] = []
    checkpoints = [e for e in events if not is_sealed(e)]
    sealed = iter([e for e in events if is_sealed(e)])
    pending = next(sealed, None)
    count, log_hash = 0, GENESIS_HASH
    for event in checkpoints:
        try:
            checkpoint = CheckpointSigned.model_validate(event.data)
        except ValueError as exc:
            problems.append(CheckpointProblem(event, f"not a checkpoint: {exc}"))
            continue
        key = keys.get(checkpoint.key_id)
        message = signed_bytes(service, checkpoint.through_position, checkpoint.events, checkpoint.log_hash)
        if key is None:
            problems.append(
                CheckpointProblem(event, f"signed with key {checkpoint.key_id}, not a published key of {service}")
            )
            continue
        if not key.verifies(checkpoint.signature, message):
            problems.append(CheckpointProblem(event, "the signature does not verify"))
            continue
        while pending is not None and pending.position <= checkpoint.through_position:
            log_hash, count = fold(log_hash, pending.hash), count + 1
            pending = next(sealed, None)
        if (count, log_hash) != (checkpoint.events, checkpoint.log_hash):
            problems.append(
                CheckpointProblem(
                    event,
                    f"the log no longer matches it: {checkpoint.events} events were signed through position"
                    f" {checkpoint.through_position}, {count} are there now"
                    f"{'' if count != checkpoint.events else ' but they hash differently'}:"
                    " events up to that position were deleted, changed or reordered",
                )
            )
            continue
        held.append(event)
    return held, problems
