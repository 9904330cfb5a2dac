"""Gap chaos (issue 10, item 4): appends whose transactions commit in random, delayed order.

Many writers each open a transaction, take its id (and so their events' positions, ADR 0001)
at once, hold it open for a random time, append, wait again and commit; some roll back. While
they run, a follower pages through `read_all` the way subscribers, replay and rebuild do, the
relay publishes, and a subscription applies the topic. No reader may skip an event whose
transaction committed late, see one twice, or see a rolled-back one.
"""

import asyncio
import random
import uuid

import orjson
import pytest

from shared.consumer import Subscription
from shared.db import create_pool, migrate
from shared.events import EventPayload, EventTypes, RecordedEvent
from shared.outbox import OutboxRelay
from shared.store import ConcurrencyError, EventStore
from shared.topics import ensure_topics
from tests.helpers import TopicReader, eventually

types = EventTypes("testgaps")


@types.register
class Noted(EventPayload):
    note: str


store = EventStore(types)
WRITERS = 24
SECONDS = 2.5


@pytest.fixture
async def pool(fresh_database):
    pool = await create_pool(fresh_database, max_size=WRITERS + 6)
    await migrate(pool)
    yield pool
    await pool.close()


class Writers:
    """Appends in transactions that take their position first and commit after random delays."""

    def __init__(self, pool, rng: random.Random) -> None:
        self.pool, self.rng = pool, rng
        self.committed: list[RecordedEvent] = []  # in the order the commits happened
        self.rolled_back: list[RecordedEvent] = []
        self.conflicts = 0

    async def run(self, until: float) -> None:
        loop = asyncio.get_running_loop()
        while loop.time() < until:
            # A few streams shared by all writers (so appends to one stream race) and many of their own.
            stream = f"shared-{self.rng.randrange(4)}" if self.rng.random() < 0.3 else f"own-{uuid.uuid4().hex[:8]}"
            async with self.pool.acquire() as conn:
                tx = conn.transaction()
                await tx.start()
                try:
                    await conn.execute("SELECT pg_current_xact_id()")  # the position is taken now...
                    await asyncio.sleep(self.rng.uniform(0, 0.15))
                    events = await store.append(
                        conn, stream, None, [Noted(note=f"{stream} {i}") for i in range(self.rng.randint(1, 3))]
                    )
                    await asyncio.sleep(self.rng.uniform(0, 0.15))  # ...and made visible only now
                except ConcurrencyError:
                    self.conflicts += 1
                    await tx.rollback()
                    continue
                if self.rng.random() < 0.1:
                    await tx.rollback()
                    self.rolled_back += events
                else:
                    await tx.commit()
                    self.committed += events


async def follow(pool, seen: list[RecordedEvent], stop: asyncio.Event) -> None:
    """Page through read_all as a subscriber or a replay does, small pages, remembering the position."""
    after = 0
    async with pool.acquire() as conn:
        while True:
            batch = await store.read_all(conn, after, limit=7)
            seen += batch
            if batch:
                after = batch[-1].position
            elif stop.is_set():
                return
            else:
                await asyncio.sleep(0.005)


async def test_no_reader_skips_or_repeats_an_event_whose_transaction_commits_late(
    pool, fresh_database, another_database, kafka_bootstrap, unique
):
    topic, dlq = f"test-{unique}.titp.testgaps.v1", f"test-{unique}.titp.gaps.dlq"
    await ensure_topics(kafka_bootstrap, [topic, dlq])
    downstream = await create_pool(await another_database(), max_size=4)
    await migrate(downstream)
    applied: list[RecordedEvent] = []

    async def remember(conn, event):
        applied.append(event)

    rng = random.Random(unique)
    writers = Writers(pool, rng)
    followed: list[RecordedEvent] = []
    caught_up = asyncio.Event()
    relay = OutboxRelay(pool, fresh_database, store, topic, kafka_bootstrap, lock_key=7_340_201, poll_interval=0.2)
    try:
        async with (
            TopicReader(kafka_bootstrap, topic) as on_topic,
            relay,
            Subscription(
                "gaps", downstream, kafka_bootstrap, [topic], remember, dlq_topic=dlq, group_id=f"test.gaps.{unique}"
            ) as subscription,
        ):
            follower = asyncio.create_task(follow(pool, followed, caught_up))
            until = asyncio.get_running_loop().time() + SECONDS
            await asyncio.gather(*(writers.run(until) for _ in range(WRITERS)))
            caught_up.set()  # every writer is done: the follower returns once a page comes back empty
            await follower

            committed = sorted(writers.committed, key=lambda e: e.position)
            rolled_back = {e.id for e in writers.rolled_back}
            # Check: transactions did commit out of position order, some rolled back and some lost a race
            # (else this would prove nothing).
            assert writers.committed != committed and rolled_back and writers.conflicts, (
                len(committed),
                len(rolled_back),
                writers.conflicts,
            )

            # Check: the follower saw every committed event exactly once, in strictly rising positions.
            positions = [e.position for e in followed]
            assert positions == sorted(set(positions))
            assert [e.id for e in followed] == [e.id for e in committed]
            # Check: a replay from the start, in pages, reads the same.
            replayed, after = [], 0
            async with pool.acquire() as conn:
                while batch := await store.read_all(conn, after, limit=50):
                    replayed += batch
                    after = batch[-1].position
            assert replayed == followed

            # Check: the relay put every committed event on the topic and no rolled-back one, each stream
            # in version order; the subscriber applied each once.
            expected = {e.id for e in committed}

            def ids_on_topic():
                return {uuid.UUID(orjson.loads(m.value)["id"]) for m in on_topic.messages}

            await eventually(
                lambda: ids_on_topic() >= expected,
                timeout=15,
                message=lambda: f"{len(expected - ids_on_topic())} committed events not on the topic",
            )
            assert not ids_on_topic() & rolled_back
            by_stream: dict[str, list[int]] = {}
            for m in on_topic.messages:
                event = orjson.loads(m.value)
                if event["streamversion"] not in by_stream.get(event["subject"], []):
                    by_stream.setdefault(event["subject"], []).append(event["streamversion"])
            assert all(versions == sorted(versions) for versions in by_stream.values())
            await eventually(lambda: len(applied) >= len(expected), timeout=15)
            assert sorted(e.id for e in applied) == sorted(expected)
            assert subscription.dead_lettered == 0
    finally:
        await downstream.close()
