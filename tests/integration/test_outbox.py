"""The outbox relay against the real PostgreSQL and Kafka: committed events, and only those,
reach the topic as CloudEvents in stream order; one leader; broker downtime is survived."""

import asyncio
import os
import signal
import time
from collections import defaultdict
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from cloudevents.core.bindings.kafka import KafkaMessage, from_structured_event

from shared.db import connect
from shared.events import EventPayload, EventTypes
from shared.kafka import client_options
from shared.outbox import OutboxRelay
from shared.store import OUTBOX_CHANNEL, EventStore
from shared.telemetry import setup_telemetry
from shared.topics import dlq_topic, ensure_topics, service_topic
from tests.helpers import TopicReader, eventually

types = EventTypes("testoutbox")


@types.register
class PermitApplicationFiled(EventPayload):
    note: str


store = EventStore(types)
LOCK_KEY = 7_340_101  # each test has a database of its own, so one key serves all


@pytest.fixture
async def topic(kafka_bootstrap, unique):
    name = f"test.outbox.{unique}"
    assert await ensure_topics(kafka_bootstrap, [name]) == [name]
    return name


@pytest.fixture
def relay(pool, fresh_database, topic, kafka_bootstrap):
    def make(**options) -> OutboxRelay:
        return OutboxRelay(
            pool, fresh_database, store, topic, kafka_bootstrap, lock_key=LOCK_KEY, **{"poll_interval": 0.2, **options}
        )

    return make


async def append(pool, stream, expected, *notes):
    async with pool.acquire() as conn, conn.transaction():
        return await store.append(conn, stream, expected, [PermitApplicationFiled(note=n) for n in notes])


async def outbox_size(pool) -> int:
    return await pool.fetchval("SELECT count(*) FROM outbox")


async def outbox_is_empty(pool) -> bool:
    return await outbox_size(pool) == 0


async def relay_locks_held(pool) -> int:
    return await pool.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = $1"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        LOCK_KEY,
    )


def event_ids(messages) -> list[str]:
    return [from_structured_event(as_kafka(m)).get_id() for m in messages]


def as_kafka(message) -> KafkaMessage:
    return KafkaMessage(headers=dict(message.headers), key=message.key, value=message.value)


def versions_by_stream(messages) -> dict[str, list[int]]:
    """Each stream's versions in arrival order, a re-sent event counted where it first arrived."""
    seen, out = set(), defaultdict(list)
    for m in messages:
        event = from_structured_event(as_kafka(m))
        if event.get_id() not in seen:
            seen.add(event.get_id())
            out[event.get_subject()].append(event.get_extension("streamversion"))
    return dict(out)


async def test_committed_events_reach_the_topic_as_cloudevents_keyed_by_stream_in_version_order(
    pool, relay, topic, kafka_bootstrap
):
    # Check: a backlog recorded before the relay starts...
    recorded = []
    for version in range(3):
        for org in ("org-kobe", "org-osaka"):
            recorded += await append(pool, org, version, f"{org} filing {version + 1}")
    async with TopicReader(kafka_bootstrap, topic) as reader, relay() as running:
        # ...and events recorded while it runs, two in one transaction, all arrive.
        recorded += await append(pool, "org-kobe", 3, "kobe 4", "kobe 5")
        recorded += await append(pool, "org-nagoya", 0, "nagoya 1")
        messages = await reader.wait_for(len(recorded))
        await eventually(lambda: running.published == len(recorded))
    assert len(messages) == len(recorded) == 9
    by_id = {str(e.id): e for e in recorded}
    for message in messages:
        event = from_structured_event(as_kafka(message))
        original = by_id[event.get_id()]
        assert dict(message.headers)["content-type"] == b"application/cloudevents+json"
        assert message.key == original.subject.encode() == event.get_subject().encode()
        assert event.get_type() == "titp.testoutbox.PermitApplicationFiled.v1"
        assert event.get_source() == "/titp/testoutbox"
        assert event.get_data() == original.data
        assert event.get_extension("hash") == original.hash
    # Check: one stream = one partition, in version order.
    partitions = defaultdict(set)
    for m in messages:
        partitions[m.key].add(m.partition)
    assert all(len(p) == 1 for p in partitions.values())
    assert versions_by_stream(messages) == {"org-kobe": [1, 2, 3, 4, 5], "org-osaka": [1, 2, 3], "org-nagoya": [1]}
    assert await outbox_size(pool) == 0


async def test_every_message_carries_its_own_headers_however_many_were_sent_before(
    pool, relay, topic, kafka_bootstrap, service_settings, fresh_database
):
    # The tracing instrumentation adds a traceparent to the headers of each message it sends; a header
    # list shared between messages once grew by one per message sent, so message 1,000 carried 1,000.
    setup_telemetry(service_settings("registry", fresh_database))
    for round in range(3):
        await append(pool, f"org-{round}", 0, *[f"filing {n}" for n in range(100)])
    async with TopicReader(kafka_bootstrap, topic) as reader, relay():
        messages = await reader.wait_for(300)
    assert len(messages) == 300
    for message in messages:
        names = [name for name, _ in message.headers]
        assert names.count("content-type") == 1 and names.count("traceparent") <= 1, names[:5]


async def test_an_append_that_rolls_back_never_reaches_kafka(pool, relay, topic, kafka_bootstrap):
    async with TopicReader(kafka_bootstrap, topic) as reader, relay() as running:
        await eventually(lambda: running.is_leader)
        async with pool.acquire() as conn:
            tx = conn.transaction()
            await tx.start()
            await store.append(conn, "org-withdrawn", 0, [PermitApplicationFiled(note="never filed")])
            await tx.rollback()
        [kept] = await append(pool, "org-kept", 0, "filed")
        messages = await reader.wait_for(1)
        await eventually(lambda: running.published == 1)
    assert [from_structured_event(as_kafka(m)).get_subject() for m in messages] == ["org-kept"]
    assert running.published == 1


async def test_only_one_relay_leads_and_a_standby_takes_over_without_losing_events(
    pool, relay, topic, kafka_bootstrap, admin_dsn
):
    a, b = relay(), relay()
    async with TopicReader(kafka_bootstrap, topic) as reader:
        await a.start()
        await b.start()
        try:
            await eventually(lambda: a.is_leader or b.is_leader)
            # Check: over several lock retries, never two leaders.
            for _ in range(10):
                assert not (a.is_leader and b.is_leader)
                await asyncio.sleep(0.1)
            leader, standby = (a, b) if a.is_leader else (b, a)

            first = await append(pool, "org-1", 0, "one", "two", "three")
            await reader.wait_for(3)
            await eventually(lambda: leader.published == 3)
            assert standby.published == 0

            # Check: the leader shuts down, the standby takes over and publishes what follows.
            await leader.stop()
            await eventually(lambda: standby.is_leader, timeout=5)
            second = await append(pool, "org-1", 3, "four", "five")
            await reader.wait_for(5)
            await eventually(lambda: standby.published == 2)

            # Check: the new leader's database session dies; it notices, and one relay leads again.
            await leader.start()
            assert await relay_locks_held(pool) == 1
            await pool.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND objid = $1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                LOCK_KEY,
            )
            await eventually(lambda: standby.errors > 0, message="the leader did not notice its session died")
            await eventually(lambda: leader.is_leader != standby.is_leader, timeout=5)
            assert await relay_locks_held(pool) == 1
            third = await append(pool, "org-1", 5, "six")
            messages = await reader.wait_for(6)
        finally:
            await a.stop()
            await b.stop()
    expected = [str(e.id) for e in first + second + third]
    arrived = event_ids(messages)
    # Check: nothing lost, in order; the clean hand-over sent nothing twice.
    assert list(dict.fromkeys(arrived)) == expected
    assert arrived[:5] == expected[:5]
    assert versions_by_stream(messages) == {"org-1": [1, 2, 3, 4, 5, 6]}


async def test_a_notification_wakes_the_relay_long_before_its_poll_interval(pool, relay, topic, kafka_bootstrap):
    async with TopicReader(kafka_bootstrap, topic) as reader, relay(poll_interval=30) as running:
        await eventually(lambda: running.is_leader)
        await append(pool, "org-first", 0, "first")
        await reader.wait_for(1, timeout=5)
        # The relay is now idle, waiting up to 30 s; only the append's notification can wake it.
        started = time.monotonic()
        await append(pool, "org-second", 0, "second")
        await reader.wait_for(2, timeout=5)
    assert time.monotonic() - started < 5


def _kafka_pid() -> int:
    data = Path(os.environ.get("TITP_DATA_DIR", Path(__file__).resolve().parents[2] / ".data"))
    return int((data / "kafka" / "kafka.pid").read_text().split()[0])


async def test_the_relay_survives_broker_downtime_and_catches_up_in_order(pool, relay, topic, kafka_bootstrap):
    pid = _kafka_pid()
    running = relay(ack_timeout=1.0)
    async with TopicReader(kafka_bootstrap, topic) as reader, running:
        recorded = []
        for org in ("org-a", "org-b", "org-c"):
            recorded += await append(pool, org, 0, f"{org} 1", f"{org} 2")
        await reader.wait_for(len(recorded))

        os.kill(pid, signal.SIGSTOP)  # the broker freezes: connections stay open, nothing answers
        try:
            for version in range(2, 5):
                for org in ("org-a", "org-b", "org-c"):
                    recorded += await append(pool, org, version, f"{org} {version + 1}")
            # Check: the relay reports the outage and keeps the rows.
            await eventually(lambda: running.errors >= 3, timeout=10, message="the relay reported no outage")
            assert await outbox_size(pool) > 0
        finally:
            os.kill(pid, signal.SIGCONT)

        # Check: once the broker is back, every event arrives.
        await eventually(
            lambda: len({m.value for m in reader.messages}) >= len(recorded),
            timeout=20,
            message=lambda: f"{len({m.value for m in reader.messages})} of {len(recorded)} arrived",
        )
        await eventually(lambda: outbox_is_empty(pool))
    assert running.last_error
    assert set(event_ids(reader.messages)) == {str(e.id) for e in recorded}
    assert versions_by_stream(reader.messages) == {org: [1, 2, 3, 4, 5] for org in ("org-a", "org-b", "org-c")}


async def test_topics_are_created_once_even_by_racing_callers_and_keep_events_forever(kafka_bootstrap, unique):
    assert (service_topic("registry"), dlq_topic("registry")) == ("titp.registry.v1", "titp.registry.dlq")
    names = [f"test.topics.{unique}.v1", f"test.topics.{unique}.dlq"]
    results = await asyncio.gather(*(ensure_topics(kafka_bootstrap, names) for _ in range(4)))
    assert sorted(t for created in results for t in created) == sorted(names)
    assert await ensure_topics(kafka_bootstrap, names) == []
    admin = AIOKafkaAdminClient(**client_options(kafka_bootstrap))
    await admin.start()
    try:
        # ensure_topics returned only once the broker's metadata shows the new topics' partitions.
        described = await admin.describe_topics(names)
        [configs] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name, {"retention.ms": None}) for name in names]
        )
    finally:
        await admin.close()
    assert [len(t["partitions"]) for t in described] == [3, 3]
    assert sorted((r[3], r[4][0][0], r[4][0][1]) for r in configs.resources) == sorted(
        (name, "retention.ms", "-1") for name in names
    )


async def test_a_commit_in_the_leaders_process_wakes_it_without_a_notification(
    pool, relay, topic, kafka_bootstrap, fresh_database
):
    heard: list[str] = []
    listener = await connect(fresh_database)
    await listener.add_listener(OUTBOX_CHANNEL, lambda *_: heard.append("notified"))
    try:
        # A poll interval far beyond the reader's wait: only a wake-up can publish in time.
        async with TopicReader(kafka_bootstrap, topic) as reader, relay(poll_interval=120) as running:
            await asyncio.wait_for(running.publishing.wait(), 10)  # leading, with its producer started
            with store.committer_wakes() as committed:
                [woken] = await append(pool, "org-woken", 0, "filed by a command")
                committed()
            messages = await reader.wait_for(1)
            await asyncio.sleep(0.5)  # what a notification would take to arrive
            assert heard == []
        assert event_ids(messages) == [str(woken.id)]
        assert not running.publishing.is_set()  # stopped
        await eventually(lambda: outbox_is_empty(pool))

        # Check: with no relay of this process leading (or outside a waking committer), an append notifies.
        with store.committer_wakes() as committed:
            await append(pool, "org-notifying", 0, "filed while no relay leads here")
            committed()
        await eventually(lambda: heard == ["notified"])
    finally:
        await listener.close()
