"""Subscriptions against the real Kafka and PostgreSQL: each event applied once in effect,
offsets committed after the transaction, failing messages dead-lettered and redriven."""

import asyncio
from collections import Counter

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.consumer import Subscription, redrive
from shared.db import create_pool, migrate
from shared.events import EventPayload, EventTypes, RecordedEvent
from shared.kafka import client_options
from shared.topics import ensure_topics
from tests.helpers import TopicReader, eventually, next_event

types = EventTypes("testupstream")


@types.register
class InspectionFindingRecorded(EventPayload):
    finding: str


@pytest.fixture
async def pool(fresh_database):
    pool = await create_pool(fresh_database, max_size=6)
    await migrate(pool)
    # The read model the handlers below maintain: how often each event took effect.
    await pool.execute(
        "CREATE TABLE findings (event_id uuid PRIMARY KEY, finding text NOT NULL, applied integer NOT NULL DEFAULT 1)"
    )
    yield pool
    await pool.close()


@pytest.fixture
async def topics(kafka_bootstrap, unique):
    topic, dlq = f"test-{unique}.titp.testupstream.v1", f"test-{unique}.titp.downstream.dlq"
    await ensure_topics(kafka_bootstrap, [topic, dlq])
    return topic, dlq


class Upstream:
    """The upstream service: each organization's findings are one stream, numbered and hash-chained."""

    def __init__(self) -> None:
        self.heads: dict[str, RecordedEvent] = {}

    def finding(self, org: str, text: str) -> RecordedEvent:
        event = next_event(types, org, InspectionFindingRecorded(finding=text), after=self.heads.get(org))
        self.heads[org] = event
        return event


async def produce(bootstrap: str, topic: str, *messages: RecordedEvent | bytes, partition: int | None = 0) -> None:
    """Publish like a relay does (key = stream id); raw bytes go out with the key b"org"."""
    producer = AIOKafkaProducer(**client_options(bootstrap), enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for message in messages:
            if isinstance(message, bytes):
                key, value = b"org", message
            else:
                key, value = message.subject.encode(), message.to_json()
            await producer.send_and_wait(
                topic, value, key=key, partition=partition, headers=[("content-type", b"application/cloudevents+json")]
            )
    finally:
        await producer.stop()


class RecordFindings:
    """The handler: applies each finding to the read model; refuses some while `broken`."""

    def __init__(self, refuse: str | None = None) -> None:
        self.refuse = refuse
        self.calls: Counter[str] = Counter()

    async def __call__(self, conn, event: RecordedEvent) -> None:
        payload = types.parse(event.type, event.data)
        self.calls[payload.finding] += 1
        await conn.execute(
            "INSERT INTO findings (event_id, finding) VALUES ($1, $2)"
            " ON CONFLICT (event_id) DO UPDATE SET applied = findings.applied + 1",
            event.id,
            payload.finding,
        )
        if payload.finding == self.refuse:
            raise ValueError(f"cannot apply finding {payload.finding!r}: rule not implemented")


def subscription(pool, bootstrap, topics, handler, unique, **options) -> Subscription:
    topic, dlq = topics
    return Subscription(
        "downstream",
        pool,
        bootstrap,
        [topic],
        handler,
        dlq_topic=dlq,
        group_id=f"test.downstream.{unique}",
        **{"max_retries": 2, "retry_backoff": 0.05, **options},
    )


async def applied(pool) -> dict[str, int]:
    return {r["finding"]: r["applied"] for r in await pool.fetch("SELECT finding, applied FROM findings")}


async def committed_offset(bootstrap: str, group: str, tp: TopicPartition) -> int | None:
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return offsets[tp].offset if tp in offsets else None


async def test_each_event_takes_effect_once_even_when_delivered_twice(pool, kafka_bootstrap, topics, unique):
    upstream = Upstream()
    events = [upstream.finding(f"org-{i % 3}", f"finding {i}") for i in range(6)]
    await produce(kafka_bootstrap, topics[0], *events, partition=None)
    # Check: the same messages produced again (a relay re-sending after a crash).
    await produce(kafka_bootstrap, topics[0], events[0], events[4], partition=None)
    handler = RecordFindings()
    async with subscription(pool, kafka_bootstrap, topics, handler, unique) as sub:
        await eventually(lambda: sub.applied + sub.duplicates == 8)
    assert (sub.applied, sub.duplicates, sub.dead_lettered) == (6, 2, 0)
    assert await applied(pool) == {f"finding {i}": 1 for i in range(6)}
    assert set(handler.calls.values()) == {1}
    inbox = await pool.fetch("SELECT event_id, source, type FROM inbox")
    assert {r["event_id"] for r in inbox} == {e.id for e in events}
    assert {(r["source"], r["type"]) for r in inbox} == {
        ("/titp/testupstream", "titp.testupstream.InspectionFindingRecorded.v1")
    }


async def test_offsets_are_committed_after_applying_so_a_restart_rereads_nothing(pool, kafka_bootstrap, topics, unique):
    upstream = Upstream()
    first = [upstream.finding("org-1", f"before restart {v}") for v in (1, 2, 3)]
    await produce(kafka_bootstrap, topics[0], *first)
    async with subscription(pool, kafka_bootstrap, topics, RecordFindings(), unique) as sub:
        await eventually(lambda: sub.applied == 3)
    tp = TopicPartition(topics[0], 0)
    assert await committed_offset(kafka_bootstrap, f"test.downstream.{unique}", tp) == 3

    # Check: a new member of the same group starts after the committed offset. All messages
    # are in one partition, so anything re-read would come before the new one.
    later = upstream.finding("org-1", "after restart")
    await produce(kafka_bootstrap, topics[0], later)
    handler = RecordFindings()
    async with subscription(pool, kafka_bootstrap, topics, handler, unique) as again:
        await eventually(lambda: again.applied == 1)
    assert again.duplicates == 0
    assert handler.calls == Counter({"after restart": 1})
    assert await committed_offset(kafka_bootstrap, f"test.downstream.{unique}", tp) == 4


async def test_a_poison_message_goes_to_the_dlq_after_bounded_retries_and_is_redriven_once_fixed(
    pool, kafka_bootstrap, topics, unique
):
    topic, dlq = topics
    upstream = Upstream()
    good, poison = upstream.finding("org-9", "ok"), upstream.finding("org-9", "unknown rule")
    after = upstream.finding("org-8", "ok again")  # another stream, in the same partition
    held = upstream.finding("org-9", "held back")  # the poison's own stream goes on after it
    await produce(kafka_bootstrap, topic, good, poison, after, held)
    handler = RecordFindings(refuse="unknown rule")
    async with (
        TopicReader(kafka_bootstrap, dlq) as dead,
        subscription(pool, kafka_bootstrap, topics, handler, unique, max_retries=2) as sub,
    ):
        # Check: the partition moves on past the poison message.
        await eventually(lambda: sub.applied == 2)
        [message, waiting] = await dead.wait_for(2)
        assert sub.dead_lettered == 2
        assert handler.calls["unknown rule"] == 3  # the first try and two retries
        # Check: the next event of the poison's stream is not applied out of order: it waits in the DLQ.
        assert dict(waiting.headers)["titp-error-type"] == b"StreamGap" and waiting.value == held.to_json()
        assert dict(waiting.headers)["titp-attempts"] == b"1"
        assert handler.calls["held back"] == 0
        headers = dict(message.headers)
        assert message.value == poison.to_json() and message.key == b"org-9"
        assert headers["titp-error"] == b"cannot apply finding 'unknown rule': rule not implemented"
        assert headers["titp-error-type"] == b"ValueError"
        assert headers["titp-original-topic"] == topic.encode()
        assert (headers["titp-original-partition"], headers["titp-original-offset"]) == (b"0", b"1")
        assert headers["titp-attempts"] == b"3"
        assert headers["content-type"] == b"application/cloudevents+json"
        # Check: each failed attempt rolled back, the handler's write and the inbox row alike.
        assert await applied(pool) == {"ok": 1, "ok again": 1}
        assert await pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", poison.id) == 0

        async def committed_past_the_poison():
            return await committed_offset(kafka_bootstrap, f"test.downstream.{unique}", TopicPartition(topic, 0)) == 4

        await eventually(committed_past_the_poison)

        # Check: the rule is implemented, the operator redrives, and the stream's events take effect in order.
        handler.refuse = None
        assert await redrive(kafka_bootstrap, dlq) == 2
        await eventually(lambda: sub.applied == 4)
        assert await applied(pool) == {"ok": 1, "unknown rule": 1, "ok again": 1, "held back": 1}
        # Check: a second redrive sends nothing again.
        assert await redrive(kafka_bootstrap, dlq) == 0
    assert sub.dead_lettered == 2


async def test_an_unparseable_message_goes_to_the_dlq_at_once(pool, kafka_bootstrap, topics, unique):
    topic, dlq = topics
    after = Upstream().finding("org-5", "fine")
    await produce(kafka_bootstrap, topic, b"{not a cloudevent", after)
    handler = RecordFindings()
    async with (
        TopicReader(kafka_bootstrap, dlq) as dead,
        TopicReader(kafka_bootstrap, topic) as source,
        subscription(pool, kafka_bootstrap, topics, handler, unique, max_retries=5, retry_backoff=5) as sub,
    ):
        await eventually(lambda: sub.applied == 1)
        # Check: dead-lettered at once, without retries and their 5 s backoff. "fine" follows it
        # in partition 0, so its being applied means the unparseable message was settled first.
        assert sub.dead_lettered == 1
        [message] = await dead.wait_for(1)
        headers = dict(message.headers)
        assert message.value == b"{not a cloudevent"
        assert headers["titp-attempts"] == b"1" and headers["titp-original-offset"] == b"0"
        assert headers["titp-error-type"] == b"JSONDecodeError" and headers["titp-error"]

        # Check: redrive puts it back on its original topic, as it was.
        assert await redrive(kafka_bootstrap, dlq) == 1
        messages = await source.wait_for(3)
        assert messages[2].value == b"{not a cloudevent"
        # (an instrumented producer adds the redrive's own trace context; the DLQ's titp-* headers are gone)
        redriven = {k: v for k, v in messages[2].headers if k != "traceparent"}
        assert redriven == {"content-type": b"application/cloudevents+json"}
        # Still unparseable: it lands in the DLQ again, and nothing was applied from it.
        await dead.wait_for(2)
    assert handler.calls == Counter({"fine": 1})


async def test_members_joining_and_leaving_a_group_hand_over_partitions_without_double_effects(
    pool, kafka_bootstrap, topics, unique
):
    topic, _ = topics
    handler = RecordFindings()

    async def slowly(conn, event):  # slow enough that the rebalances land mid-batch
        await asyncio.sleep(0.02)
        await handler(conn, event)

    # Enough that the first member cannot get through batch one alone before the rebalance
    # lands: it hears of the rebalance at its next heartbeat (every 3 s), ~130 events in.
    upstream = Upstream()
    batch_one = [upstream.finding(f"org-{i % 7}", f"one {i}") for i in range(240)]
    batch_two = [upstream.finding(f"org-{i % 7}", f"two {i}") for i in range(60)]
    total = len(batch_one) + len(batch_two)
    await produce(kafka_bootstrap, topic, *batch_one, partition=None)
    first = subscription(pool, kafka_bootstrap, topics, slowly, unique)
    second = subscription(pool, kafka_bootstrap, topics, slowly, unique)
    await first.start()
    try:
        await eventually(lambda: first.applied >= 10)
        await second.start()  # the group rebalances while the first member is busy
        await eventually(lambda: second.assigned and first.assigned, timeout=15)
        assert first.applied < len(batch_one)
        assert not first.assigned & second.assigned
        await produce(kafka_bootstrap, topic, *batch_two, partition=None)
        await eventually(lambda: second.applied > 0, timeout=10)
        await first.stop()  # and again when it leaves
        await eventually(
            lambda: first.applied + second.applied == total,
            timeout=20,
            message=lambda: (
                f"{first.applied} + {second.applied} of {total} applied"
                f" ({first.duplicates} + {second.duplicates} duplicates)"
            ),
        )
    finally:
        await first.stop()
        await second.stop()
    # Check: every event took effect exactly once, whichever member saw it (perhaps twice).
    assert await applied(pool) == {e.data["finding"]: 1 for e in batch_one + batch_two}
    assert sum(handler.calls.values()) == total
    # Check: the group's committed offsets reached the end of every partition.
    committed = [
        await committed_offset(kafka_bootstrap, f"test.downstream.{unique}", TopicPartition(topic, p)) for p in range(3)
    ]
    assert sum(o or 0 for o in committed) == total


async def test_a_consumer_that_stops_delivering_is_replaced_and_every_event_still_applies_once(
    pool, kafka_bootstrap, topics, unique
):
    """aiokafka's fetch task can die under uvloop when the broker goes away (seen in the broker-sigkill fault):
    getmany() then returns nothing for ever, silently. The subscription notices and starts a new consumer."""
    upstream = Upstream()
    await produce(kafka_bootstrap, topics[0], *(upstream.finding("org-1", f"first {i}") for i in range(2)))
    async with subscription(pool, kafka_bootstrap, topics, RecordFindings(), unique, stall_after=2.0) as sub:
        await eventually(lambda: sub.applied == 2)
        # Check: a fetch task that died.
        sub._consumer._fetcher._fetch_task.cancel()
        await produce(kafka_bootstrap, topics[0], *(upstream.finding("org-1", f"second {i}") for i in range(2)))
        await eventually(lambda: sub.applied == 4, timeout=20)
        assert sub.restarts == 1

        # Check: a fetcher alive that delivers nothing, with records waiting: replaced after `stall_after`.
        async def nothing(*args, **kwargs):
            await asyncio.sleep(0.5)
            return {}

        sub._consumer._fetcher.fetched_records = nothing
        await produce(kafka_bootstrap, topics[0], *(upstream.finding("org-1", f"third {i}") for i in range(2)))
        await eventually(lambda: sub.applied == 6, timeout=30)
        assert sub.restarts == 2
    assert await applied(pool) == {f"{n} {i}": 1 for n in ("first", "second", "third") for i in range(2)}
    assert sub.dead_lettered == 0


async def test_a_quiet_consumer_with_nothing_to_read_is_kept(pool, kafka_bootstrap, topics, unique):
    upstream = Upstream()
    await produce(kafka_bootstrap, topics[0], upstream.finding("org-1", "only"))
    async with subscription(pool, kafka_bootstrap, topics, RecordFindings(), unique, stall_after=1.0) as sub:
        await eventually(lambda: sub.applied == 1)
        await asyncio.sleep(4)
        assert sub.restarts == 0
