"""Bad records on a topic, as a careless producer or a relay delivering twice leaves them, against the real
Kafka and PostgreSQL: `titp audit verify --from kafka`, `export` and `replay` name each by topic, partition
and offset, skip a record repeated unchanged (and count it), go on, and exit 1; a broker or database out of
reach exits 2. Never a traceback."""

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from services.registry.app import create_app
from shared.kafka import client_options
from tests.e2e.test_audit_replay import settled
from tests.helpers import eventually, grant, permit_application, post
from tests.integration.test_audit_tamper import sealed_to_the_end, titp

SO = "/v1/supervising-organizations"


@pytest.fixture
async def registry(another_database, service_settings, run_service, kafka_bootstrap, token, unique):
    """The registry under a topic prefix of its own, one permit granted, sealed, published and settled."""
    prefix = f"test-audit-bad-{unique}."
    settings = service_settings(
        "registry",
        await another_database(),
        topic_prefix=prefix,
        consumer_group=f"{prefix}registry",
        relay_poll_interval_s=0.2,
    )
    app = create_app(settings)
    client = await run_service(app)
    otit = token("otit")
    permit = (await post(client, SO, permit_application(), otit, 201))["id"]
    await post(client, f"{SO}/{permit}/grant", grant(), otit)
    await sealed_to_the_end(app)
    await eventually(lambda: settled([app], kafka_bootstrap), timeout=30, message="the registry never settled")
    env = {
        "TITP_TOPIC_PREFIX": prefix,
        "TITP_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "TITP_DATABASE_URL": settings.database_url,
    }
    return app, f"{prefix}titp.registry.v1", env


async def produce(bootstrap: str, topic: str, *values: bytes, key: str | None = None) -> list[str]:
    """Produce raw records (to partition 0, or keyed as the relay keys a stream's events); returns where each
    landed, as topic[partition]@offset."""
    producer = AIOKafkaProducer(**client_options(bootstrap), acks="all")
    await producer.start()
    try:
        landed = [
            await producer.send_and_wait(topic, value, key=key.encode() if key else None, partition=None if key else 0)
            for value in values
        ]
    finally:
        await producer.stop()
    return [f"{topic}[{m.partition}]@{m.offset}" for m in landed]


BAD = {
    b'["a", "JSON", "array"]': "a JSON list, not a CloudEvent object",
    b'"a JSON string"': "a JSON str, not a CloudEvent object",
    b"\x00not json at all": "not JSON",
    b'{"specversion": "1.0", "id": "x"}': "not a CloudEvent of this system: missing source, type, subject",
}


async def test_bad_and_repeated_records_are_named_and_skipped_by_verify_export_and_replay(
    registry, kafka_bootstrap, another_database, tmp_path
):
    app, topic, env = registry
    async with app.state.pool.acquire() as conn:
        [granted] = [e for e in await app.state.store.read_committed(conn) if e.type.endswith("PermitGranted.v1")]
    # The relay delivers one event twice (unchanged); a careless producer writes four records that are no event.
    await produce(kafka_bootstrap, topic, granted.to_json(), key=granted.subject)
    bad = dict(zip(await produce(kafka_bootstrap, topic, *BAD), BAD.values()))

    code, out, err = await titp("audit", "verify", "--from", "kafka", "-s", "registry", **env)
    assert code == 1, out + err
    assert "Traceback" not in err
    assert out.startswith("registry: ok: ")  # the events themselves verify
    for at, reason in bad.items():
        assert f"  record left out: {at}: {reason}" in out, out
    assert "  1 records repeated unchanged, skipped" in out

    code, out, err = await titp("audit", "verify", "--from", "kafka", "-s", "registry", "--json", **env)
    report = orjson.loads(out)
    assert (code, report["ok"], report["findings"], report["duplicates_skipped"]) == (1, False, [], 1)
    assert [line.split(": ", 1)[0] for line in report["records_left_out"]] == list(bad)

    code, out, err = await titp("audit", "export", str(tmp_path / "bundle"), "--from", "kafka", "-s", "registry", **env)
    assert code == 1 and "Traceback" not in err
    assert all(f"registry: record left out: {at}: {reason}" in err for at, reason in bad.items()), err
    code, out, _ = await titp("audit", "verify", "--bundle", str(tmp_path / "bundle"))
    assert code == 0, out  # what was exported is the clean log

    # A replay skips the repeated record as the live subscriber would, names the bad ones, and still rebuilds.
    into = await another_database()
    code, out, err = await titp("audit", "replay", "-s", "registry", "--into", into, **env)
    assert "Traceback" not in err, err
    assert code == 1, out + err
    assert "the read models match the live ones" in out
    for at, reason in bad.items():
        assert f"  record left out: {at}: {reason}" in out, out
    assert "  1 records repeated unchanged, skipped" in out


async def test_a_record_repeating_an_event_id_with_other_content_is_named(registry, kafka_bootstrap):
    app, topic, env = registry
    async with app.state.pool.acquire() as conn:
        [granted] = [e for e in await app.state.store.read_committed(conn) if e.type.endswith("PermitGranted.v1")]
    forged = {**granted.to_cloudevent(), "data": {**granted.data, "permit_type": "excellent"}}
    [at] = await produce(kafka_bootstrap, topic, orjson.dumps(forged), key=granted.subject)
    code, out, err = await titp("audit", "verify", "--from", "kafka", "-s", "registry", **env)
    assert code == 1 and "Traceback" not in err
    assert f"  record left out: {at}: event {granted.id} again, but different from the one at {topic}[" in out, out


async def test_a_broker_or_database_out_of_reach_exits_2_without_a_traceback(registry, tmp_path):
    _, _, env = registry
    nowhere = {**env, "TITP_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"}
    code, out, err = await titp("audit", "verify", "--from", "kafka", "-s", "registry", **nowhere)
    assert (code, out) == (2, "") and "could not run: " in err and "Traceback" not in err, err
    no_database = {**env, "TITP_DATABASE_URL": "postgresql://titp@127.0.0.1:9/titp"}
    code, out, err = await titp("audit", "verify", "--from", "db", "-s", "registry", **no_database)
    assert (code, out) == (2, "") and "could not run: " in err and "Traceback" not in err, err
    code, _, err = await titp("audit", "replay", "-s", "registry", "--into", "postgresql:///x", **nowhere)
    assert code == 2 and "Traceback" not in err, err
    code, _, err = await titp("audit", "verify", "--from", "nowhere")
    assert code == 2 and "Traceback" not in err


async def test_a_record_the_relay_delivered_twice_is_skipped_by_replay(registry, kafka_bootstrap, another_database):
    app, topic, env = registry
    async with app.state.pool.acquire() as conn:
        log = await app.state.store.read_committed(conn)
    # The relay re-sends its last batch after a lost acknowledgement: the same records again, in order.
    await produce(kafka_bootstrap, topic, *(e.to_json() for e in log), key=None)
    code, out, err = await titp("audit", "replay", "-s", "registry", "--into", await another_database(), **env)
    assert "Traceback" not in err, err
    assert code == 0, out + err
    assert "the read models match the live ones" in out
    assert f"  {len(log)} records repeated unchanged, skipped" in out
    code, out, err = await titp("audit", "verify", "--from", "kafka", "-s", "registry", **env)
    assert code == 0 and out.startswith("registry: ok: ") and f"  {len(log)} records repeated unchanged" in out
