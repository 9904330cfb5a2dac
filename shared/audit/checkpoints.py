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

A checkpoint (v2) also names the head (version, hash) of every stream changed since the previous
one, so a verifier names a sealed stream whose last event was deleted or rewritten, not only
a count that no longer matches. And the sealer signs nothing it has not checked: it builds on
the last checkpoint it signed (kept in memory; at start, on the whole log, re-folded from the
beginning against every checkpoint there), and each new event must continue its stream's chain
from the head it sealed. A log rewritten under it (its last checkpoints deleted, an event
changed and its stream re-hashed) is refused: an error in the log, `refusals` counted (the
metric titp_sealer_refusals_total), nothing signed.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import asyncpg
import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from pydantic import BaseModel

from shared.commands import CommandRunner
from shared.events import GENESIS_HASH, EventContext, EventPayload, RecordedEvent, chain_hash
from shared.store import ConcurrencyError, EventStore

log = logging.getLogger(__name__)

CHECKPOINT_STREAM = "checkpoints"
ALGORITHM = "Ed25519"
_SIGNATURE_DOMAIN = b"titp-checkpoint-v1\n"  # a checkpoint's signature can be nothing else's
# Streams one checkpoint names at most: a burst of more is sealed by several checkpoints, so that a checkpoint
# stays far below the broker's record size (about 1000 * 130 bytes).
MAX_HEADS = 1000

Head = tuple[int, str]  # a stream's last version and that event's hash


class CheckpointSigned(EventPayload):
    """The service's log through `through_position`, `events` events, hashes to `log_hash`; signed with `key_id`.

    `heads`: each stream changed since the previous checkpoint, at its version and hash as sealed (signed too).
    """

    version: ClassVar[int] = 2

    through_position: int
    events: int
    log_hash: str
    key_id: str
    signature: str  # base64 of the Ed25519 signature over `signed_bytes`
    heads: dict[str, Head] | None = None  # None only in a v1 checkpoint (before heads), read by `checkpoint_of`


class CheckpointSignedV1(BaseModel):
    """CheckpointSigned as recorded before v2 (no `heads`), still read by `checkpoint_of`."""

    model_config = {"extra": "forbid", "title": "CheckpointSigned"}

    through_position: int
    events: int
    log_hash: str
    key_id: str
    signature: str


def checkpoint_of(event: RecordedEvent) -> CheckpointSigned:
    """A checkpoint event's payload, v1 (no heads) upcast to v2. Raises ValueError if it is not one."""
    data = dict(event.data) if isinstance(event.data, dict) else event.data
    if event.type.endswith(".CheckpointSigned.v1") and isinstance(data, dict):
        data = {**data, "heads": None}
    return CheckpointSigned.model_validate(data)


def signed_bytes(
    service: str, through_position: int, events: int, log_hash: str, heads: Mapping[str, Head] | None = None
) -> bytes:
    body: dict[str, Any] = {
        "service": service,
        "through_position": through_position,
        "events": events,
        "log_hash": log_hash,
    }
    if heads is not None:
        body["heads"] = {stream: list(head) for stream, head in heads.items()}
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


class Refused(Exception):
    """The log is not the one sealed before: the sealer signs nothing."""


@dataclass(frozen=True)
class _Folded:
    """One sealed event folded into the log hash, and the fold so far."""

    position: int
    stream: str
    head: Head
    events: int
    log_hash: str


@dataclass
class _Sealed:
    """What the sealer has signed or checked: the checkpoint stream's head and the fold it seals."""

    version: int = 0  # of the checkpoint stream
    hash: str = GENESIS_HASH  # of its last event
    through: int = 0
    events: int = 0
    log_hash: str = GENESIS_HASH
    heads: dict[str, Head] = field(default_factory=dict)  # every sealed stream's head


class Sealer:
    """The chore that signs a checkpoint whenever the log has grown since the last one, over a log it checked."""

    __name__ = "seal the log"

    def __init__(self, service: str, key: ed25519.Ed25519PrivateKey) -> None:
        self.service, self.key = service, key
        self.public_key = PublicKey.of(key.public_key())
        self.refusals = 0  # rounds that found the log rewritten and signed nothing (a metric)
        self._sealed: _Sealed | None = None  # None until the first round has checked the whole log
        self._lock = asyncio.Lock()  # the chore and a caller (a test, an operator) never seal at once

    async def __call__(self, runner: CommandRunner) -> RecordedEvent | None:
        async with self._lock, runner.pool.acquire() as conn:
            try:
                return await self._seal(runner.store, conn)
            except Refused as refusal:
                self.refusals += 1
                log.error(
                    "REFUSED to sign a checkpoint of %s: %s. The log was changed since it was sealed; nothing is"
                    " signed until it is restored (run `titp audit verify`)",
                    self.service,
                    refusal,
                    extra={"alert": "sealer_refused", "refusals": self.refusals},
                )
                return None

    async def _seal(self, store: EventStore, conn: asyncpg.Connection) -> RecordedEvent | None:
        base = self._sealed or _Sealed()
        if base.version:
            # The checkpoint this sealer signed (or checked) last must still be there, unchanged.
            at, last = await conn.fetchrow(
                "SELECT (SELECT hash FROM events WHERE stream_id = $1 AND version = $2),"
                " (SELECT max(version) FROM events WHERE stream_id = $1)",
                CHECKPOINT_STREAM,
                base.version,
            )
            if at != base.hash:
                raise Refused(
                    f"checkpoint {base.version}, signed before, is {'gone' if at is None else 'changed'}:"
                    f" the checkpoint stream ends at version {last or 0}"
                )
        checked, heads = replace(base, heads={}), dict(base.heads)
        pending: list[_Folded] = []  # events folded since the last checkpoint checked
        after = base.through
        while batch := await store.read_all(conn, after, 1000):
            for event in batch:
                if is_sealed(event):
                    pending.append(self._continues(event, heads, pending[-1] if pending else checked))
                elif event.streamversion > base.version:  # one signed since (another instance) or, at start, any
                    checked, pending = self._holds(event, checked, pending)
            after = batch[-1].position
        if not pending:
            self._sealed = replace(checked, heads=heads)
            return None  # nothing new since the last checkpoint
        checkpoints = [self._sign(segment) for segment in _segments(pending)]
        try:
            async with conn.transaction():
                recorded = await store.append(
                    conn, CHECKPOINT_STREAM, checked.version, checkpoints, EventContext(actor=f"{self.service}:sealer")
                )
        except ConcurrencyError:
            return None  # another instance of the service signed meanwhile: checked next round
        last = pending[-1]
        self._sealed = _Sealed(
            recorded[-1].streamversion, recorded[-1].hash, last.position, last.events, last.log_hash, heads
        )
        log.info(
            "signed checkpoint %d: %d events through position %d",
            recorded[-1].streamversion,
            last.events,
            last.position,
            extra={"position": last.position, "events": last.events},
        )
        return recorded[-1]

    @staticmethod
    def _continues(event: RecordedEvent, heads: dict[str, Head], previous: _Folded | _Sealed) -> _Folded:
        """Fold `event` if it continues its stream's chain from the head sealed before; else refuse."""
        version, prevhash = heads.get(event.subject, (0, GENESIS_HASH))
        if (event.streamversion, event.prevhash) != (version + 1, prevhash) or chain_hash(
            prevhash, event
        ) != event.hash:
            raise Refused(
                f"stream {event.subject}, event {event.id} (version {event.streamversion}) does not continue the"
                f" chain sealed before (version {version}, hash {prevhash[:12]}): the stream was rewritten"
            )
        heads[event.subject] = (event.streamversion, event.hash)
        return _Folded(
            event.position,
            event.subject,
            heads[event.subject],
            previous.events + 1,
            fold(previous.log_hash, event.hash),
        )

    def _holds(self, event: RecordedEvent, checked: _Sealed, pending: list[_Folded]) -> tuple[_Sealed, list[_Folded]]:
        """A checkpoint this sealer did not sign in this process: it must continue the checkpoint stream and
        match the log as folded here. Returns what is then checked and what is still to sign."""
        if (event.streamversion, event.prevhash) != (checked.version + 1, checked.hash) or chain_hash(
            checked.hash, event
        ) != event.hash:
            raise Refused(f"checkpoint {event.streamversion} does not continue the checkpoint stream's chain")
        try:
            checkpoint = checkpoint_of(event)
        except ValueError as exc:
            raise Refused(f"checkpoint {event.streamversion} is not a checkpoint: {exc}") from None
        if checkpoint.key_id == self.public_key.key_id and not self.public_key.verifies(
            checkpoint.signature,
            signed_bytes(
                self.service, checkpoint.through_position, checkpoint.events, checkpoint.log_hash, checkpoint.heads
            ),
        ):
            raise Refused(f"checkpoint {event.streamversion}: the signature does not verify")
        cut = bisect.bisect_right([f.position for f in pending], checkpoint.through_position)
        then = pending[cut - 1] if cut else checked
        sealed_heads = {f.stream: f.head for f in pending[:cut]}
        if (checkpoint.events, checkpoint.log_hash) != (then.events, then.log_hash) or (
            checkpoint.heads is not None and checkpoint.heads != sealed_heads
        ):
            raise Refused(
                f"checkpoint {event.streamversion} no longer matches the log: {checkpoint.events} events were"
                f" signed through position {checkpoint.through_position}, {then.events} are there now"
            )
        done = _Sealed(event.streamversion, event.hash, checkpoint.through_position, then.events, then.log_hash)
        return done, pending[cut:]

    def _sign(self, segment: list[_Folded]) -> CheckpointSigned:
        last = segment[-1]
        heads = {f.stream: f.head for f in segment}
        signature = self.key.sign(signed_bytes(self.service, last.position, last.events, last.log_hash, heads))
        return CheckpointSigned(
            through_position=last.position,
            events=last.events,
            log_hash=last.log_hash,
            key_id=self.public_key.key_id,
            signature=base64.b64encode(signature).decode(),
            heads=heads,
        )


def _segments(pending: list[_Folded]) -> list[list[_Folded]]:
    """The events to seal, cut so that no checkpoint names more than MAX_HEADS streams."""
    segments: list[list[_Folded]] = [[]]
    streams: set[str] = set()
    for folded in pending:
        if folded.stream not in streams and len(streams) == MAX_HEADS:
            segments.append([])
            streams.clear()
        streams.add(folded.stream)
        segments[-1].append(folded)
    return segments


# Verifying


@dataclass(frozen=True)
class CheckpointProblem:
    checkpoint: RecordedEvent
    reason: str
    stream_id: str | None = None  # the sealed stream it names, when a sealed head is missing or changed
    streamversion: int | None = None
    event: RecordedEvent | None = None  # that event, if it is still there


def verify_checkpoints(
    service: str, events: Sequence[RecordedEvent], keys: Mapping[str, PublicKey]
) -> tuple[list[RecordedEvent], list[CheckpointProblem]]:
    """Check every checkpoint among `events` (one service's log, in position order) against the log.

    Returns the checkpoints that hold and the problems found: a signature that does not verify or
    names an unknown key, a checkpoint that goes back from the one before, a log that no longer
    hashes as signed, and each sealed stream head (v2) that is missing or changed, by stream and version.
    """
    held: list[RecordedEvent] = []
    problems: list[CheckpointProblem] = []
    checkpoints = [e for e in events if not is_sealed(e)]
    sealed = [e for e in events if is_sealed(e)]
    by_version = {(e.subject, e.streamversion): e for e in sealed}
    remaining = iter(sealed)
    pending = next(remaining, None)
    count, log_hash = 0, GENESIS_HASH
    previous: CheckpointSigned | None = None
    for event in checkpoints:
        try:
            checkpoint = checkpoint_of(event)
        except ValueError as exc:
            problems.append(CheckpointProblem(event, f"not a checkpoint: {exc}"))
            continue
        key = keys.get(checkpoint.key_id)
        message = signed_bytes(
            service, checkpoint.through_position, checkpoint.events, checkpoint.log_hash, checkpoint.heads
        )
        if key is None:
            problems.append(
                CheckpointProblem(event, f"signed with key {checkpoint.key_id}, not a published key of {service}")
            )
            continue
        if not key.verifies(checkpoint.signature, message):
            problems.append(CheckpointProblem(event, "the signature does not verify"))
            continue
        if previous is not None and (
            checkpoint.through_position < previous.through_position or checkpoint.events < previous.events
        ):
            problems.append(
                CheckpointProblem(
                    event,
                    f"goes back from the checkpoint before: {checkpoint.events} events through position"
                    f" {checkpoint.through_position} after {previous.events} through {previous.through_position}",
                )
            )
            continue
        previous = checkpoint
        for stream_id, (version, head_hash) in (checkpoint.heads or {}).items():
            found = by_version.get((stream_id, version))
            if found is None:
                problems.append(
                    CheckpointProblem(
                        event,
                        f"sealed by checkpoint {event.streamversion}, now missing: deleted",
                        stream_id,
                        version,
                    )
                )
            elif found.hash != head_hash:
                problems.append(
                    CheckpointProblem(
                        event,
                        f"sealed by checkpoint {event.streamversion} with hash {head_hash[:12]}, now"
                        f" {found.hash[:12]}: rewritten and re-hashed",
                        stream_id,
                        version,
                        found,
                    )
                )
        while pending is not None and pending.position <= checkpoint.through_position:
            log_hash, count = fold(log_hash, pending.hash), count + 1
            pending = next(remaining, None)
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
