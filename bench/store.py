"""Figures 3, 4 and 5, on the event store itself.

3. the outbox relay's throughput to Kafka beside a raw aiokafka producer sending the same messages;
4. a full replay (every event read in order and folded into its aggregate) and a projection rebuild;
5. append latency with an empty store and with millions of stored events, in alternating rounds.

Big stores are filled by cloning a real registry stream in SQL (new stream ids, positions and event ids, the
recorded data and hashes): what a replay reads is realistic, though the clones' hash chains do not verify.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import AsyncExitStack

import httpx
from aiokafka import AIOKafkaProducer

from bench.harness import BOOTSTRAP, GENERAL_GRANT, RUN, TOPIC_PREFIX, Keys, database, in_process_settings, summary
from bench.services import APPLY, application
from services.registry.app import DEFINITION as REGISTRY
from services.registry.app import create_app
from shared.audit.replay import fold_streams, rebuild
from shared.db import create_pool, migrate
from shared.events import EventPayload, EventTypes
from shared.kafka import client_options
from shared.outbox import OutboxRelay, headers
from shared.store import POSITION_BITS, EventStore
from shared.topics import ensure_topics

bench_events = EventTypes("bench")


@bench_events.register
class Measured(EventPayload):
    n: int


async def registry_template(dsn: str, keys: Keys) -> str:
    """A real registry stream, recorded through the service's own HTTP API in-process: apply, grant, an order."""
    settings = in_process_settings("registry", dsn, keys, "template")
    app = create_app(settings)
    officer = keys.headers("otit")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://registry", headers=officer) as http,
    ):
        id = (await http.post(APPLY, json=application())).raise_for_status().json()["id"]
        (await http.post(f"{APPLY}/{id}/grant", json=GENERAL_GRANT)).raise_for_status()
        (
            await http.post(
                f"{APPLY}/{id}/improvement-orders",
                json={"issued_on": "2026-09-01", "deadline": "2026-12-01", "reason": "records kept short of policy"},
            )
        ).raise_for_status()
    return id


# Clone k's corporate number: k as the 12-digit base behind its check digit (valid_corporate_number), in SQL.
CLONED_CORPORATE_NUMBER = (
    "(9 - ("
    + " + ".join(f"(k::bigint / {10 ** (n - 1)} % 10) * {1 if n % 2 else 2}" for n in range(1, 13))
    + ") % 9)::text || lpad(k::text, 12, '0')"
)


async def clone(pool, stream_id: str, copies: int, *, outbox: bool = False, numbered_from: int = 1) -> int:
    """Append `copies` clones of a stream, numbered from `numbered_from`, at most 2**POSITION_BITS events a
    transaction; returns the events added."""
    async with pool.acquire() as conn:
        size = await conn.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", stream_id)
        per_transaction = (1 << POSITION_BITS) // size - 1
        for first in range(numbered_from, numbered_from + copies, per_transaction):
            last = min(numbered_from + copies - 1, first + per_transaction - 1)
            async with conn.transaction():
                await conn.execute(
                    f"""
                    INSERT INTO events (position, stream_id, version, id, type, time, data, actor, prevhash, hash)
                    SELECT (pg_current_xact_id()::text::bigint << {POSITION_BITS}) + 1 + (k - $2) * $4 + t.ord,
                           md5(t.stream_id || '-' || k)::uuid::text, t.version, gen_random_uuid(), t.type, t.time,
                           CASE WHEN t.data ? 'application' THEN jsonb_set(t.data, '{{application,corporate_number}}',
                                                                         to_jsonb({CLONED_CORPORATE_NUMBER}))
                                ELSE t.data END,
                           t.actor, t.prevhash, t.hash
                      FROM generate_series($2::int, $3::int) k,
                           (SELECT *, row_number() OVER (ORDER BY position) - 1 AS ord
                              FROM events WHERE stream_id = $1) t""",
                    stream_id,
                    first,
                    last,
                    size,
                )
                if outbox:
                    await conn.execute(
                        "INSERT INTO outbox SELECT position FROM events WHERE stream_id <> $1 ON CONFLICT DO NOTHING",
                        stream_id,
                    )
        await conn.execute("ANALYZE events")
    return copies * size


async def relay_throughput(keys: Keys, events: int) -> dict:
    async with database("relay") as dsn:
        pool = await create_pool(dsn, max_size=4)
        try:
            template = await registry_template(dsn, keys)
            await clone(pool, template, events // 3, outbox=True)
            async with pool.acquire() as conn:
                backlog = await conn.fetchval("SELECT count(*) FROM outbox")
                messages = [
                    (e.to_json(), e.subject.encode())
                    for e in await EventStore(REGISTRY.event_types).unpublished(conn, backlog)
                ]
                # Set aside until the relay is running, as the baseline's producer is before its clock starts.
                await conn.execute("CREATE TABLE outbox_held AS SELECT * FROM outbox; DELETE FROM outbox")
            relay_topic, raw_topic = f"{TOPIC_PREFIX}relay", f"{TOPIC_PREFIX}raw"
            await ensure_topics(BOOTSTRAP, [relay_topic, raw_topic])

            # Baseline: the same messages, keys and headers, sent as the relay sends them (idempotent,
            # acks=all, 500 at a time, each batch awaited) by a bare producer.
            producer = AIOKafkaProducer(**client_options(BOOTSTRAP), enable_idempotence=True, acks="all")
            await producer.start()
            try:
                for topic in (raw_topic, relay_topic):  # leaders elected and metadata known before timing
                    for partition in await producer.partitions_for(topic):
                        await producer.send_and_wait(topic, b"warm-up", partition=partition)
                started = time.perf_counter()
                for i in range(0, len(messages), 500):
                    futures = [
                        await producer.send(raw_topic, value, key=key, headers=headers())
                        for value, key in messages[i : i + 500]
                    ]
                    await asyncio.gather(*futures)
                raw_s = time.perf_counter() - started
            finally:
                await producer.stop()

            relay = OutboxRelay(
                pool,
                dsn,
                EventStore(REGISTRY.event_types),
                relay_topic,
                BOOTSTRAP,
                lock_key=hash(RUN) & 0x7FFFFFFF,
                poll_interval=0.05,
            )
            started = time.perf_counter()
            await relay.start()
            try:
                # Started (its session, the lock, its producer), as the baseline's producer is before its clock.
                await asyncio.wait_for(relay.publishing.wait(), 60)
                startup_s = time.perf_counter() - started
                await pool.execute("INSERT INTO outbox SELECT * FROM outbox_held")
                started = time.perf_counter()
                assert relay.store.wake_local_relay is not None, "the relay leads in this process"
                relay.store.wake_local_relay()  # as a command committed in the relay's process does
                while relay.published < backlog:
                    await asyncio.sleep(0.002)
                relay_s = time.perf_counter() - started
            finally:
                await relay.stop()
        finally:
            await pool.close()
    relay_rate, raw_rate = backlog / relay_s, len(messages) / raw_s
    return {
        "relay_throughput": {
            "events": backlog,
            "relay_events_per_s": round(relay_rate),
            "raw_producer_events_per_s": round(raw_rate),
            "ratio": round(relay_rate / raw_rate, 3),
            "relay_startup_s": round(startup_s, 3),
        }
    }


async def replay_rate(keys: Keys, events: int, rebuild_events: int) -> dict:
    async with database("replay") as dsn:
        pool = await create_pool(dsn, max_size=4)
        try:
            template = await registry_template(dsn, keys)
            started = time.perf_counter()
            await clone(pool, template, rebuild_events // 3)
            rebuild_started = time.perf_counter()
            projected = (await rebuild(REGISTRY, pool)).projected
            rebuild_s = time.perf_counter() - rebuild_started
            async with pool.acquire() as conn:
                rebuilt_events = await conn.fetchval("SELECT count(*) FROM events")
            await clone(pool, template, (events - rebuilt_events) // 3, numbered_from=rebuild_events // 3 + 1)
            fill_s = time.perf_counter() - started - rebuild_s

            # Reading alone (the replay's query and page size, nothing parsed or folded), to tell the store's
            # share of a replay from the folding's.
            read = 0
            started = time.perf_counter()
            async with pool.acquire() as conn, conn.transaction(readonly=True):
                cursor = await conn.cursor(
                    "SELECT stream_id, version, type, data FROM events ORDER BY stream_id, version"
                )
                while page := await cursor.fetch(2000):
                    read += len(page)
            read_s = time.perf_counter() - started

            # A full replay: every stream folded to its current state, as a rebuild does before projecting.
            replayed, streams = 0, 0
            started = time.perf_counter()
            async with pool.acquire() as conn, conn.transaction(readonly=True):
                async for folded in fold_streams(REGISTRY, conn):
                    replayed += folded.version
                    streams += 1
            replay_s = time.perf_counter() - started
        finally:
            await pool.close()
    return {
        "replay": {
            "events": replayed,
            "streams": streams,
            "fill_s": round(fill_s, 1),
            "replay_events_per_s": round(replayed / replay_s),
            "read_only_events_per_s": round(read / read_s),
            "rebuild_events": rebuilt_events,
            "rebuild_streams": projected,
            "rebuild_events_per_s": round(rebuilt_events / rebuild_s),
        }
    }


async def fill_synthetic(pool, events: int) -> None:
    """`events` small bench events, ten a stream, in SQL."""
    async with pool.acquire() as conn:
        for first in range(0, events, 1_000_000):
            count = min(1_000_000, events - first)
            await conn.execute(
                f"""
                INSERT INTO events (position, stream_id, version, id, type, time, data, prevhash, hash)
                SELECT (pg_current_xact_id()::text::bigint << {POSITION_BITS}) + g,
                       'fill-' || ($1 + g) / 10, ($1 + g) % 10 + 1, gen_random_uuid(), 'bench.Measured', now(),
                       '{{"n": 1}}', repeat('0', 64), repeat('0', 64)
                  FROM generate_series(1, $2::int) g""",
                first,
                count,
            )
        await conn.execute("VACUUM ANALYZE events")


async def append_latency(stored: int, rounds: int = 5, per_round: int = 300) -> dict:
    """One client appending to new and existing streams, alternating rounds between an empty store and a full one."""
    store = EventStore(bench_events)
    async with AsyncExitStack() as stack:
        pools = {}
        for label in ("empty", "full"):
            pools[label] = await create_pool(await stack.enter_async_context(database(f"append_{label}")), max_size=2)
            stack.push_async_callback(pools[label].close)
            await migrate(pools[label])
        started = time.perf_counter()
        await fill_synthetic(pools["full"], stored)
        fill_s = time.perf_counter() - started
        latencies: dict[str, list[float]] = {"empty": [], "full": []}
        for _ in range(rounds):
            for label, pool in pools.items():
                async with pool.acquire() as conn:
                    stream = f"bench-{uuid.uuid4().hex[:8]}"
                    for version in range(per_round):
                        begun = time.perf_counter()
                        async with conn.transaction():
                            await store.append(conn, stream, version, [Measured(n=version)])
                        latencies[label].append(time.perf_counter() - begun)
    empty, full = summary(latencies["empty"]), summary(latencies["full"])
    return {
        "append_latency": {
            "stored_events": stored,
            "fill_s": round(fill_s, 1),
            "empty": empty,
            "full": full,
            "p50_ratio": round(full["p50_ms"] / empty["p50_ms"], 3),
            "p99_ratio": round(full["p99_ms"] / empty["p99_ms"], 3),
        }
    }


async def run(scale: float) -> dict:
    keys = Keys()
    result = await relay_throughput(keys, 5_000)
    result.update(await replay_rate(keys, int(1_000_000 * scale), rebuild_events=min(100_000, int(1_000_000 * scale))))
    result.update(await append_latency(int(10_000_000 * scale)))
    return result
