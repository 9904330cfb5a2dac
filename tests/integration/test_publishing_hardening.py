"""Publishing cannot be jammed (issue 18, items 1 and 7), against the real PostgreSQL and Kafka: every string of
a request body is bounded; an event the broker would refuse is refused at append; an event the broker refuses
anyway is parked and the relay moves on, until `titp outbox retry`; event time is the database's; `as_of` reads
survive times out of order; `titp audit republish` rebuilds a deleted topic."""

import asyncio
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from cloudevents.core.bindings.kafka import KafkaMessage, from_structured_event

from services.registry.app import create_app
from shared.db import connect
from shared.events import EventPayload, EventTypes
from shared.kafka import client_options
from shared.outbox import OutboxRelay, headers
from shared.store import PARKED_BEHIND, EventStore
from shared.topics import service_topic
from tests.helpers import TopicReader, event_count, eventually, permit_application, titp

types = EventTypes("registry")  # the CLI's commands read the store as the service's


@types.register
class NoteTaken(EventPayload):
    note: str


store = EventStore(types)
LOCK_KEY = 7_340_002  # the services' relay lock (shared/web/app.RELAY_LOCK): `titp audit republish` takes it


@pytest.fixture
async def admin(kafka_bootstrap):
    admin = AIOKafkaAdminClient(**client_options(kafka_bootstrap))
    await admin.start()
    yield admin
    await admin.close()


async def create_topic(admin: AIOKafkaAdminClient, name: str, **config: str) -> None:
    await admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1, topic_configs=config)])
    await eventually(lambda: _known(admin, name))


async def _known(admin: AIOKafkaAdminClient, name: str) -> bool:
    return any(t["topic"] == name and t["partitions"] for t in await admin.describe_topics([name]))


async def append(pool, stream, expected, *notes):
    async with pool.acquire() as conn, conn.transaction():
        return await store.append(conn, stream, expected, [NoteTaken(note=n) for n in notes])


def cloudevent(message):
    return from_structured_event(KafkaMessage(headers=dict(message.headers), key=message.key, value=message.value))


def versions_by_stream(messages) -> dict[str, list[int]]:
    out = defaultdict(list)
    for message in messages:
        event = cloudevent(message)
        out[event.get_subject()].append(event.get_extension("streamversion"))
    return dict(out)


# 1. Every string and list of a request body is bounded.


@pytest.fixture
async def registry(fresh_database, service_settings, run_service, unique):
    app = create_app(service_settings("registry", fresh_database, topic_prefix=f"test-publishing-{unique}."))
    client = await run_service(app)
    return app, client


async def test_a_job_category_of_a_million_characters_is_a_422_naming_it_and_nothing_is_recorded(
    registry, token, fresh_database
):
    _, client = registry
    answer = await client.post(
        "/v1/supervising-organizations",
        json=permit_application(job_categories=["construction", "x" * 1_000_000]),
        headers=token("otit"),
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in answer.json()["errors"]] == ["body.job_categories[1]"]
    assert "at most 1000 characters" in answer.json()["errors"][0]["reason"]
    assert await event_count(fresh_database) == 0


# 2. An event the broker would refuse is refused at append.


async def test_an_event_over_the_size_limit_is_a_413_naming_its_largest_field_and_nothing_is_recorded(
    registry, token, fresh_database
):
    app, client = registry
    app.state.store.max_event_bytes = 8_000  # the default (512 KiB) is out of reach of a bounded body
    categories = [f"category {n:02} " + "x" * 900 for n in range(20)]
    categories[5] += "y" * 50  # the largest
    answer = await client.post(
        "/v1/supervising-organizations", json=permit_application(job_categories=categories), headers=token("otit")
    )
    assert answer.status_code == 413, answer.text
    problem = answer.json()
    assert answer.headers["content-type"] == "application/problem+json"
    assert problem["type"].endswith("/event-too-large")
    assert problem["field"] == "application.job_categories[5]"  # the event's field (PermitApplied.application)
    assert problem["limit_bytes"] == 8_000 and problem["size_bytes"] > 18_000
    assert await event_count(fresh_database) == 0
    # Under the limit, the same service records it.
    answer = await client.post(
        "/v1/supervising-organizations", json=permit_application(job_categories=categories[:3]), headers=token("otit")
    )
    assert answer.status_code == 201, answer.text


# 3. An event the broker refuses is parked, with its stream's later events; the relay moves on.


async def test_an_event_the_topic_refuses_is_parked_with_its_streams_later_events_and_retried_after_a_fix(
    pool, fresh_database, admin, kafka_bootstrap, unique
):
    topic = f"test.publishing.{unique}"
    await create_topic(admin, topic, **{"max.message.bytes": "4000"})
    await append(pool, "stream-a", 0, "a1")
    await append(pool, "stream-b", 0, "b1")
    await append(pool, "stream-a", 1, "a2 " + "x" * 6000, "a3")  # a2 is over the topic's limit
    await append(pool, "stream-b", 1, "b2")
    relay = OutboxRelay(pool, fresh_database, store, topic, kafka_bootstrap, lock_key=LOCK_KEY, poll_interval=0.2)
    async with TopicReader(kafka_bootstrap, topic) as reader, relay:
        await reader.wait_for(3)
        await eventually(lambda: relay.parked == 2)
        # Later: stream a's next event waits behind the parked one; stream b's is published.
        await append(pool, "stream-a", 3, "a4")
        await append(pool, "stream-b", 2, "b3")
        await reader.wait_for(4)
        await eventually(lambda: relay.parked == 3)
        assert versions_by_stream(reader.messages) == {"stream-a": [1], "stream-b": [1, 2, 3]}

        code, out, err = await titp("outbox", "parked", "registry", TITP_DATABASE_URL=fresh_database)
        assert code == 0, err
        lines = out.splitlines()
        assert [line.split()[2:6] for line in lines[0::2]] == [
            ["titp.registry.NoteTaken.v1", "v2", "of", "stream-a"],
            ["titp.registry.NoteTaken.v1", "v3", "of", "stream-a"],
            ["titp.registry.NoteTaken.v1", "v4", "of", "stream-a"],
        ]
        assert "MessageSizeTooLargeError" in lines[1] or "RecordTooLargeError" in lines[1], lines[1]
        assert lines[3].strip() == lines[5].strip() == PARKED_BEHIND
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 0

        # The fix: the topic takes larger records. Then the parked events go out, in order.
        resource = ConfigResource(ConfigResourceType.TOPIC, topic, configs={"max.message.bytes": "1000000"})
        await admin.alter_configs([resource])
        code, out, err = await titp("outbox", "retry", "registry", "--yes", TITP_DATABASE_URL=fresh_database)
        assert code == 0, err
        assert "3 parked events back in the outbox" in out
        await reader.wait_for(7, timeout=20)
        assert versions_by_stream(reader.messages) == {"stream-a": [1, 2, 3, 4], "stream-b": [1, 2, 3]}
    assert await pool.fetchval("SELECT count(*) FROM outbox_parked") == 0


async def test_the_relay_counts_parked_events_in_the_metrics(registry, fresh_database, token):
    app, client = registry
    async with asyncpg.create_pool(fresh_database) as raw:
        assert await raw.fetchval("SELECT count(*) FROM outbox_parked") == 0
    answer = await client.post("/v1/supervising-organizations", json=permit_application(), headers=token("otit"))
    assert answer.status_code == 201
    async with asyncpg.create_pool(fresh_database) as raw:
        # What a parked event looks like to the metrics (parking itself is tested above against the broker).
        await raw.execute(
            "INSERT INTO outbox_parked (position, stream_id, error) SELECT position, stream_id, 'test'"
            " FROM events ORDER BY position LIMIT 1"
        )
    metrics = await client.get("/metrics")
    assert 'titp_relay_parked{service="registry"} 1.0' in metrics.text, [
        line for line in metrics.text.splitlines() if "parked" in line
    ]


# 4. Event time is the database's clock; as_of reads survive stored times out of order.


async def test_an_events_time_is_the_databases_clock_not_the_processs(fresh_database, pool):
    # A database whose clock reads a day ahead of this process's. PostgreSQL's own clock cannot be set, so this
    # connection resolves clock_timestamp() (which the store's head query calls unqualified) to one a day ahead.
    async with pool.acquire() as conn:
        await conn.execute(
            "CREATE SCHEMA skewed; CREATE FUNCTION skewed.clock_timestamp() RETURNS timestamptz LANGUAGE sql"
            " AS $$ SELECT pg_catalog.clock_timestamp() + interval '1 day' $$"
        )
    conn = await connect(fresh_database)
    try:
        await conn.execute("SET search_path = skewed, pg_catalog, public")
        async with conn.transaction():
            before = await conn.fetchval("SELECT clock_timestamp()")
            [event] = await store.append(conn, "stream-skew", 0, [NoteTaken(note="from the skewed clock")])
            after = await conn.fetchval("SELECT clock_timestamp()")
    finally:
        await conn.close()
    assert before <= event.time <= after
    assert event.time - datetime.now(UTC) > timedelta(hours=23)
    assert await pool.fetchval("SELECT time FROM events WHERE id = $1", event.id) == event.time
    # The same through open_stream, the head a command reads its stream with.
    conn = await connect(fresh_database)
    try:
        await conn.execute("SET search_path = skewed, pg_catalog, public")
        async with conn.transaction():
            _, head = await store.open_stream(conn, "stream-skew")
            [second] = await store.append(conn, "stream-skew", 1, [NoteTaken(note="again")], head=head)
    finally:
        await conn.close()
    assert second.time - datetime.now(UTC) > timedelta(hours=23)


async def test_as_of_answers_the_prefix_recorded_by_then_when_stored_times_are_out_of_order(
    registry, token, fresh_database
):
    app, client = registry
    created = await client.post("/v1/supervising-organizations", json=permit_application(), headers=token("otit"))
    assert created.status_code == 201, created.text
    id = created.json()["id"]
    # A second event recorded earlier than the first, as by an instance whose clock ran an hour behind.
    granted = await client.post(
        f"/v1/supervising-organizations/{id}/grant",
        json={"permit_type": "general", "meets_excellence_standard": True, "granted_on": "2026-05-01"},
        headers=token("otit"),
    )
    assert granted.status_code == 200, granted.text
    conn = await asyncpg.connect(fresh_database)
    try:
        first = await conn.fetchval("SELECT time FROM events WHERE stream_id = $1 AND version = 1", id)
        async with conn.transaction():
            await conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
            await conn.execute(
                "UPDATE events SET time = $2 WHERE stream_id = $1 AND version = 2", id, first - timedelta(hours=1)
            )
            await conn.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")
    finally:
        await conn.close()
    # Between the grant's time and the application's: the grant alone "was recorded by then".
    between = {"as_of": (first - timedelta(minutes=30)).isoformat()}
    answer = await client.get(f"/v1/supervising-organizations/{id}", params=between, headers=token("otit"))
    assert answer.status_code == 404, answer.text  # nothing yet: version 1 was recorded later
    answer = await client.get(f"/v1/audit/streams/{id}", params=between, headers=token("auditor"))
    assert answer.status_code == 404, answer.text
    at_first = {"as_of": first.isoformat()}
    answer = await client.get(f"/v1/supervising-organizations/{id}", params=at_first, headers=token("otit"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["version"] == 2


# 5. `titp audit republish` rebuilds a deleted topic from the store.


async def test_republish_rebuilds_a_deleted_topic_with_the_same_records(
    pool, fresh_database, admin, kafka_bootstrap, unique
):
    prefix = f"test-republish-{unique}."
    topic = prefix + service_topic("registry")
    await create_topic(admin, topic)
    for n in range(3):
        await append(pool, f"stream-{n}", 0, *[f"note {n}.{v}" for v in range(4)])
    relay = OutboxRelay(pool, fresh_database, store, topic, kafka_bootstrap, lock_key=LOCK_KEY, poll_interval=0.2)
    async with TopicReader(kafka_bootstrap, topic) as reader, relay:
        original = await reader.wait_for(12)
    await admin.delete_topics([topic])
    await eventually(lambda: _gone(admin, topic))

    environment = {
        "TITP_DATABASE_URL": fresh_database,
        "TITP_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "TITP_TOPIC_PREFIX": prefix,
    }
    async with asyncpg.create_pool(fresh_database) as raw, raw.acquire() as lock:
        await lock.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)  # a relay running
        code, _, err = await titp("audit", "republish", "registry", "--yes", **environment)
        assert code == 2 and "stop the service first" in err, err
    code, out, err = await titp("audit", "republish", "registry", "--yes", **environment)
    assert code == 0, err
    assert f"republished 12 events to {topic}" in out
    async with TopicReader(kafka_bootstrap, topic) as reader:
        republished = await reader.wait_for(12)
        await asyncio.sleep(1)
    assert len(reader.messages) == 12

    def records(messages):
        # The relay's headers; a `traceparent` is added when tracing is on, as it was in this test's relay.
        return sorted((m.key, m.value, [h for h in m.headers if h[0] != "traceparent"]) for m in messages)

    assert records(republished) == records(original)
    assert all([h for h in m.headers if h[0] != "traceparent"] == headers() for m in republished)
    # In position order: within each stream (one partition), versions 1..4.
    assert versions_by_stream(republished) == {f"stream-{n}": [1, 2, 3, 4] for n in range(3)}


async def _gone(admin: AIOKafkaAdminClient, topic: str) -> bool:
    return topic not in await admin.list_topics()


async def test_republish_out_of_reach_exits_2_in_one_line_without_a_traceback(pool, fresh_database):
    await append(pool, "stream-0", 0, "note")
    no_database = {"TITP_DATABASE_URL": "postgresql://titp:titp@127.0.0.1:1/none"}
    no_broker = {"TITP_DATABASE_URL": fresh_database, "TITP_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}
    for environment, cause in ((no_database, "Connect call failed"), (no_broker, "127.0.0.1:1")):
        code, _, err = await titp("audit", "republish", "registry", "--yes", **environment)
        assert code == 2, err
        assert "could not run: " in err and cause in err and "Traceback" not in err, err
