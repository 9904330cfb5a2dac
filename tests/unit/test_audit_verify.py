"""Verifying a log offline, as an auditor with an exported bundle does: hash chains, signed checkpoints, and
what each kind of tampering looks like. Pure: events are built and signed here, nothing is stored."""

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from cryptography.hazmat.primitives.asymmetric import ed25519

from shared.audit.checkpoints import CHECKPOINT_STREAM, CheckpointSigned, PublicKey, fold, is_sealed, signed_bytes
from shared.audit.log import in_log_order, read_bundle, verify_log, write_bundle
from shared.events import GENESIS_HASH, RecordedEvent, chain_hash

KEY = ed25519.Ed25519PrivateKey.generate()
PUBLIC = PublicKey.of(KEY.public_key())
START = datetime(2026, 4, 1, tzinfo=UTC)


class Log:
    """Appends like the store does (positions, versions, chained hashes) and signs like the sealer does."""

    def __init__(self) -> None:
        self.events: list[RecordedEvent] = []

    def append(self, stream: str, type: str = "titp.registry.PermitGranted.v1", **data) -> RecordedEvent:
        previous = [e for e in self.events if e.subject == stream]
        draft = RecordedEvent(
            id=uuid4(),
            source="/titp/registry",
            type=type,
            subject=stream,
            time=START + timedelta(seconds=len(self.events)),
            data=data,
            streamversion=len(previous) + 1,
            position=(len(self.events) + 1) << 20,
            prevhash=previous[-1].hash if previous else GENESIS_HASH,
            hash="",
        )
        event = replace(draft, hash=chain_hash(draft.prevhash, draft))
        self.events.append(event)
        return event

    def seal(self, key: ed25519.Ed25519PrivateKey = KEY) -> RecordedEvent:
        sealed = [e for e in self.events if is_sealed(e)]
        log_hash = GENESIS_HASH
        for event in sealed:
            log_hash = fold(log_hash, event.hash)
        through = sealed[-1].position
        signature = key.sign(signed_bytes("registry", through, len(sealed), log_hash))
        checkpoint = CheckpointSigned(
            through_position=through,
            events=len(sealed),
            log_hash=log_hash,
            key_id=PublicKey.of(key.public_key()).key_id,
            signature=base64.b64encode(signature).decode(),
        )
        return self.append(CHECKPOINT_STREAM, "titp.registry.CheckpointSigned.v1", **checkpoint.model_dump())


def history() -> tuple[Log, dict[str, list[RecordedEvent]]]:
    log = Log()
    streams = {name: [log.append(name, reason=f"{name} {n}") for n in range(3)] for name in ("org-a", "org-b")}
    log.seal()
    return log, streams


def findings(events, keys=(PUBLIC,)) -> list[tuple[str | None, str | None, str]]:
    return [(f.stream_id, f.event_id, f.reason) for f in verify_log("registry", events, keys).findings]


def test_an_untouched_log_verifies_and_says_how_far_it_is_sealed():
    log, _ = history()
    log.append("org-a", reason="after the checkpoint")
    report = verify_log("registry", log.events, [PUBLIC])
    assert (report.ok, report.events, report.streams, report.checkpoints, report.unsealed) == (True, 8, 3, 1, 1)
    assert report.sealed_through == 6 << 20


def test_a_topic_delivers_some_events_twice_and_that_is_not_tampering():
    log, _ = history()
    assert verify_log("registry", [*log.events, *log.events[2:5]], [PUBLIC]).ok
    assert in_log_order(reversed(log.events + log.events)) == log.events


def test_a_changed_payload_names_the_stream_and_the_event():
    log, streams = history()
    changed = replace(streams["org-b"][1], data={"reason": "nothing to see"})
    events = [changed if e.id == changed.id else e for e in log.events]
    assert findings(events) == [("org-b", str(changed.id), "hash does not match the event's content")]


def test_a_rehashed_stream_keeps_its_chain_but_breaks_the_checkpoint():
    log, streams = history()
    forged = Log()
    for event in log.events:  # the forger rewrites org-b's second event and re-chains the whole stream
        data = {"reason": "nothing to see"} if event.id == streams["org-b"][1].id else event.data
        forged.events.append(event) if not is_sealed(event) else forged.append(event.subject, event.type, **data)
    [(stream, _, reason)] = findings(forged.events)
    assert stream == CHECKPOINT_STREAM and "6 events were signed" in reason and "hash differently" in reason


def test_a_deleted_event_is_caught_by_its_chain_or_by_the_checkpoint():
    log, streams = history()
    middle, last = streams["org-a"][1], streams["org-b"][2]
    assert findings([e for e in log.events if e.id != middle.id]) == [
        ("org-a", str(streams["org-a"][2].id), "expected version 2, found 3"),
        (
            CHECKPOINT_STREAM,
            str(log.events[-1].id),
            "the log no longer matches it: 6 events were signed through"
            f" position {6 << 20}, 5 are there now: events up to that position"
            " were deleted, changed or reordered",
        ),
    ]
    [(stream, _, reason)] = findings([e for e in log.events if e.id != last.id])
    assert stream == CHECKPOINT_STREAM and "5 are there now" in reason


def test_reordered_events_are_caught():
    log, streams = history()
    first, second = streams["org-a"][:2]
    swapped = {first.id: replace(first, position=second.position), second.id: replace(second, position=first.position)}
    assert findings([swapped.get(e.id, e) for e in log.events])[0][:2] == ("org-a", str(second.id))


def test_a_checkpoint_counts_only_with_a_published_key_and_a_good_signature():
    log, _ = history()
    other = ed25519.Ed25519PrivateKey.generate()
    assert findings(log.events, keys=()) == [
        (CHECKPOINT_STREAM, str(log.events[-1].id), f"signed with key {PUBLIC.key_id}, not a published key of registry")
    ]
    log.seal(key=other)  # signed with a key nobody published
    assert findings(log.events)[0][2].startswith(f"signed with key {PublicKey.of(other.public_key()).key_id}")
    forged = replace(log.events[-1], data={**log.events[-1].data, "key_id": PUBLIC.key_id})
    log.events[-1] = replace(forged, hash=chain_hash(forged.prevhash, forged))
    assert findings(log.events) == [(CHECKPOINT_STREAM, str(forged.id), "the signature does not verify")]
    assert verify_log("registry", log.events, [PUBLIC]).checkpoints == 1


def test_a_bundle_is_written_and_read_back_with_its_keys(tmp_path):
    log, _ = history()
    assert write_bundle(tmp_path, {"registry": reversed(log.events)}, {"registry": [PUBLIC]}) == {"registry": 7}
    logs, keys = read_bundle(tmp_path)
    assert logs == {"registry": log.events} and [k.to_json() for k in keys["registry"]] == [PUBLIC.to_json()]
    assert verify_log("registry", logs["registry"], keys["registry"]).ok
