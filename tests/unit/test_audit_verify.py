"""Verifying a log offline, as an auditor with an exported bundle does: hash chains, signed checkpoints, and
what each kind of tampering looks like. Pure: events are built and signed here, nothing is stored."""

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from shared.audit.checkpoints import CHECKPOINT_STREAM, CheckpointSigned, PublicKey, fold, is_sealed, signed_bytes
from shared.audit.log import BadRecord, Records, in_log_order, parse_record, read_bundle, verify_log, write_bundle
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

    def seal(self, key: ed25519.Ed25519PrivateKey = KEY, *, version: int = 2) -> RecordedEvent:
        """A checkpoint over everything so far: v2 names the heads of the streams changed since the last one,
        v1 (as signed before heads) does not."""
        sealed = [e for e in self.events if is_sealed(e)]
        log_hash = GENESIS_HASH
        for event in sealed:
            log_hash = fold(log_hash, event.hash)
        through = sealed[-1].position
        before = max((e.data["through_position"] for e in self.events if not is_sealed(e)), default=0)
        heads = {e.subject: (e.streamversion, e.hash) for e in sealed if e.position > before} if version == 2 else None
        signature = key.sign(signed_bytes("registry", through, len(sealed), log_hash, heads))
        checkpoint = CheckpointSigned(
            through_position=through,
            events=len(sealed),
            log_hash=log_hash,
            key_id=PublicKey.of(key.public_key()).key_id,
            signature=base64.b64encode(signature).decode(),
            heads=heads,
        )
        data = checkpoint.model_dump(mode="json", exclude={"heads"} if heads is None else set())
        return self.append(CHECKPOINT_STREAM, f"titp.registry.CheckpointSigned.v{version}", **data)


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
    [*named, (stream, _, reason)] = findings(forged.events)
    # Check: the re-chained streams are named at the heads the checkpoint sealed, and the log no longer matches.
    assert [n[:2] for n in named] == [("org-a", str(forged.events[2].id)), ("org-b", str(forged.events[5].id))]
    assert all(n[2].endswith("rewritten and re-hashed") for n in named)
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
    deleted_last = verify_log("registry", [e for e in log.events if e.id != last.id], [PUBLIC]).findings
    # Check: the stream's chain cannot see its last event gone; the checkpoint names it by stream and version.
    assert [(f.stream_id, f.event_id, f.streamversion, f.reason) for f in deleted_last[:1]] == [
        ("org-b", None, 3, "sealed by checkpoint 1, now missing: deleted")
    ]
    assert str(deleted_last[0]) == "registry: stream org-b, version 3: sealed by checkpoint 1, now missing: deleted"
    assert deleted_last[1].stream_id == CHECKPOINT_STREAM and "5 are there now" in deleted_last[1].reason


def test_a_v1_checkpoint_without_heads_still_verifies_and_a_later_v2_one_names_heads():
    log, streams = history()
    log.events.pop()
    log.seal(version=1)
    log.append("org-b", reason="later")
    log.seal()
    assert [e.type for e in log.events if not is_sealed(e)] == [
        "titp.registry.CheckpointSigned.v1",
        "titp.registry.CheckpointSigned.v2",
    ]
    report = verify_log("registry", log.events, [PUBLIC])
    assert (report.ok, report.checkpoints) == (True, 2)
    assert log.events[-1].data["heads"] == {"org-b": [4, log.events[-2].hash]}
    # A stream rewritten and re-hashed after the v1 checkpoint is named at the head the v2 one sealed.
    forged = Log()
    for event in log.events:
        if event.id == log.events[-2].id:
            forged.append(event.subject, event.type, reason="rewritten")
        else:
            forged.events.append(event)
    named = [f for f in verify_log("registry", forged.events, [PUBLIC]).findings if f.stream_id == "org-b"]
    assert [(f.event_id, f.streamversion) for f in named] == [(str(forged.events[-2].id), 4)]
    assert named[0].reason.endswith("rewritten and re-hashed")


def test_a_checkpoint_that_goes_back_is_caught():
    log, _ = history()
    first = log.events[-1]
    log.append("org-a", reason="more")
    log.seal()
    # A third checkpoint that is the first one again (signed, so its signature holds), chained on.
    log.append(CHECKPOINT_STREAM, first.type, **first.data)
    assert findings(log.events) == [
        (
            CHECKPOINT_STREAM,
            str(log.events[-1].id),
            f"goes back from the checkpoint before: 6 events through position {6 << 20} after 7 through {8 << 20}",
        )
    ]


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"[1, 2]", "a JSON list, not a CloudEvent object"),
        (b'"text"', "a JSON str, not a CloudEvent object"),
        (b"null", "a JSON null, not a CloudEvent object"),
        (b"{not json", "not JSON: "),
        (None, "an empty record (no value)"),
        (b'{"specversion": "1.0"}', "not a CloudEvent of this system: missing id, source, type"),
        (
            b'{"specversion": "0.3", "id": 1, "source": "s", "type": "t", "subject": "s", "time": "x", "data": {},'
            b' "streamversion": 1, "position": 1, "prevhash": "", "hash": ""}',
            "not a CloudEvent of this system: ",
        ),
    ],
)
def test_a_record_that_is_no_event_says_why(raw, reason):
    with pytest.raises(BadRecord) as raised:
        parse_record(raw)
    assert str(raised.value).startswith(reason)


def test_records_skip_a_repeat_and_name_a_conflicting_one():
    log, _ = history()
    records = Records()
    assert records.add("t[0]@0", log.events[0].to_json()) == log.events[0]
    assert records.add("t[0]@1", log.events[0].to_json()) is None
    changed = {**log.events[0].to_cloudevent(), "data": {"reason": "other"}}
    assert records.add("t[1]@0", orjson.dumps(changed)) is None
    assert records.add("t[1]@1", b"[]") is None
    assert (records.events, records.duplicates) == ([log.events[0]], 1)
    assert records.problems == [
        f"t[1]@0: event {log.events[0].id} again, but different from the one at t[0]@0; left out",
        "t[1]@1: a JSON list, not a CloudEvent object",
    ]


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
