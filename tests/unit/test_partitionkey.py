"""`partitionkey` (the CloudEvents partitioning extension) on every published and exported event: the stream id,
derived from `subject`, outside the hash, so a log recorded before it verifies and replays alike."""

import orjson
import pytest

from shared.audit.log import BadRecord, parse_record, read_bundle, verify_log, write_bundle
from shared.events import canonical_bytes
from tests.unit.test_audit_verify import PUBLIC, Log


def test_a_published_event_names_its_stream_as_partitionkey_outside_the_hash():
    log = Log()
    event = log.append("org-1", reason="first")
    published = orjson.loads(event.to_json())
    assert published["partitionkey"] == published["subject"] == "org-1"
    # Check: what the hash covers is the stored attributes only, as before partitionkey existed.
    assert "partitionkey" not in orjson.loads(canonical_bytes(event))
    assert event.to_cloudevent() == {k: v for k, v in published.items() if k != "partitionkey"}
    assert parse_record(event.to_json()) == event


def test_records_with_and_without_partitionkey_verify_alike(tmp_path):
    log = Log()
    for n in range(3):
        log.append(f"org-{n % 2}", n=n)
    log.seal()
    # Check: a bundle exported now (with partitionkey) and one from before (without) both verify, to the same events.
    write_bundle(tmp_path / "now", {"registry": log.events}, {"registry": [PUBLIC]})
    old = tmp_path / "old"
    old.mkdir()
    (old / "registry.jsonl").write_bytes(b"".join(orjson.dumps(e.to_cloudevent()) + b"\n" for e in log.events))
    (old / "public-keys.json").write_bytes((tmp_path / "now" / "public-keys.json").read_bytes())
    assert b'"partitionkey":"org-0"' in (tmp_path / "now" / "registry.jsonl").read_bytes()
    for bundle in (tmp_path / "now", old):
        logs, keys = read_bundle(bundle)
        assert logs["registry"] == log.events
        assert verify_log("registry", logs["registry"], keys["registry"]).ok


def test_a_record_whose_partitionkey_is_not_its_subject_is_no_event_of_ours():
    event = Log().append("org-1")
    forged = {**orjson.loads(event.to_json()), "partitionkey": "org-2"}
    with pytest.raises(BadRecord, match="partitionkey 'org-2' is not the event's subject 'org-1'"):
        parse_record(orjson.dumps(forged))
