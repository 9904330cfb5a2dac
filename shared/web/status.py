"""What one service is doing, read from its database and Kafka: `titp status` for operators, GET /v1/status for
officers' tools.

- The relay: which connection holds its lock (the leader: service, host and pid, from `pg_locks`), since when; the
  backlog (committed events not yet acknowledged by Kafka) and the age of its oldest; events parked; the newest
  position in the log.
- The subscription: its consumer group's committed offset, end and lag per partition of the topics it reads.
- The dead-letter topic: messages on it, and those not re-driven yet.
- The audit log: the last signed checkpoint (version, through which position, when) and the events since it.
- What this service knows of the others: per source service, the newest position applied here from its log,
  when, and over how many streams (`inbox_streams`). Beside the lag, that says whether a subscriber has caught up.

A part that cannot be read (the database or Kafka out of reach) is null, and `problems` says why in one line each:
the rest is still shown. Every instance of a service reads the same figures; the REST answer also says whether
the instance answering leads.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import BaseModel, Field

from shared.audit.checkpoints import CHECKPOINT_STREAM
from shared.consumer import redrive_group
from shared.db import connect
from shared.errors import one_line
from shared.kafka import client_options
from shared.service import Wiring

KAFKA_TIMEOUT = 5.0  # seconds a reading waits for Kafka before reporting it out of reach
DATABASE_TIMEOUT = 5.0


class RelayStatus(BaseModel):
    leader: str | None = Field(
        description="the database connection holding the relay's lock (`<service> relay <host> pid <pid>`), or"
        " null when no relay leads: then nothing is published"
    )
    leader_since: datetime | None = Field(description="when the leader's connection was opened")
    this_instance_leads: bool | None = Field(None, description="whether the instance answering leads (REST only)")
    backlog: int = Field(description="committed events Kafka has not acknowledged yet (outbox rows)")
    oldest_unpublished_s: float | None = Field(description="age of the oldest of them, seconds; null when none")
    parked: int = Field(description="events the broker refused for good, set aside until `titp outbox retry`")
    last_position: int | None = Field(description="the newest position in this service's log")


class PartitionStatus(BaseModel):
    topic: str
    partition: int
    committed: int | None = Field(description="the group's committed offset; null if it never committed here")
    end: int = Field(description="the partition's end offset")
    lag: int = Field(description="messages the group has yet to apply")


class ConsumerStatus(BaseModel):
    group: str
    lag: int = Field(description="the sum over the partitions")
    partitions: list[PartitionStatus]


class DeadLetterStatus(BaseModel):
    topic: str
    messages: int
    pending: int = Field(description="not re-driven yet (`titp dlq redrive`)")


class CheckpointStatus(BaseModel):
    version: int
    through_position: int
    events: int = Field(description="events the checkpoint covers, from the beginning of the log")
    signed_at: datetime


class SourceStatus(BaseModel):
    source: str = Field(examples=["/titp/registry"])
    last_position: int | None = Field(description="the newest position of that service's log applied here")
    last_applied_at: datetime | None
    streams: int = Field(description="its streams this service has applied events of")


class ServiceStatus(BaseModel):
    """One service's state, for operators and officers' tools; a part that could not be read is null."""

    service: str
    read_at: datetime
    problems: list[str] = Field(description="what could not be read, and why; empty when all was")
    relay: RelayStatus | None
    consumer: ConsumerStatus | None = Field(description="null when the service subscribes to nothing")
    dead_letters: DeadLetterStatus | None
    checkpoint: CheckpointStatus | None = Field(description="the last signed checkpoint; null before the first")
    unsealed: int | None = Field(description="events after the last checkpoint")
    sources: list[SourceStatus] = Field(description="what this service has applied of each other service")


async def read_status(wiring: Wiring, bootstrap: str, database: asyncpg.Pool | str, *, lock_key: int) -> ServiceStatus:
    """Read `wiring.service`'s state now from Kafka and the database (a pool, or a DSN to connect to for this
    reading), side by side."""
    status = ServiceStatus(
        service=wiring.service,
        read_at=datetime.now(timezone.utc),
        problems=[],
        relay=None,
        consumer=None,
        dead_letters=None,
        checkpoint=None,
        unsealed=None,
        sources=[],
    )
    kafka, tables = await asyncio.gather(
        asyncio.wait_for(read_kafka(bootstrap, wiring), KAFKA_TIMEOUT),
        asyncio.wait_for(_read_database(database, lock_key), DATABASE_TIMEOUT),
        return_exceptions=True,
    )
    if isinstance(kafka, BaseException):
        status.problems.append(f"Kafka ({bootstrap}) could not be read: {one_line(kafka)}")
    else:
        lags, status.dead_letters = kafka.partitions, kafka.dead_letters
        if wiring.group_id is not None:
            status.consumer = ConsumerStatus(group=wiring.group_id, lag=sum(p.lag for p in lags), partitions=lags)
    if isinstance(tables, BaseException):
        status.problems.append(f"the database could not be read: {one_line(tables)}")
    else:
        status.relay, status.checkpoint, status.unsealed, status.sources = tables
    return status


@dataclass
class KafkaReading:
    partitions: list[PartitionStatus]  # of the subscribed topics, for the consumer group
    dead_letters: DeadLetterStatus


async def read_kafka(bootstrap: str, wiring: Wiring) -> KafkaReading:
    """The consumer group's offsets and lag per partition of the topics it reads, and the DLQ's size."""
    topics = [*wiring.subscribed, wiring.dlq]
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    consumer = AIOKafkaConsumer(**client_options(bootstrap), enable_auto_commit=False)
    await admin.start()
    try:
        await consumer.start()
        partitions = [
            TopicPartition(d["topic"], p["partition"])
            for d in await admin.describe_topics(topics)
            if d["error_code"] == 0
            for p in d["partitions"]
        ]
        begin = await consumer.beginning_offsets(partitions)
        end = await consumer.end_offsets(partitions)
        redriven = await _committed(admin, redrive_group(wiring.dlq))
        committed = await _committed(admin, wiring.group_id) if wiring.group_id else {}
    finally:
        await consumer.stop()
        await admin.close()
    lags, messages, pending = [], 0, 0
    for tp in sorted(partitions):
        if tp.topic == wiring.dlq:
            messages += end[tp] - begin[tp]
            pending += end[tp] - max(redriven.get(tp, 0), begin[tp])
        else:
            at = committed.get(tp)
            # A partition the group never committed is read from its beginning.
            lags.append(
                PartitionStatus(
                    topic=tp.topic,
                    partition=tp.partition,
                    committed=at,
                    end=end[tp],
                    lag=end[tp] - max(at or 0, begin[tp]),
                )
            )
    return KafkaReading(lags, DeadLetterStatus(topic=wiring.dlq, messages=messages, pending=pending))


async def _committed(admin: AIOKafkaAdminClient, group_id: str) -> dict[TopicPartition, int]:
    offsets = await admin.list_consumer_group_offsets(group_id)
    return {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}


async def _read_database(
    database: asyncpg.Pool | str, lock_key: int
) -> tuple[RelayStatus, CheckpointStatus | None, int, list[SourceStatus]]:
    if isinstance(database, str):
        conn = await connect(database)
        try:
            return await _read_tables(conn, lock_key)
        finally:
            await conn.close()
    async with database.acquire() as conn:
        return await _read_tables(conn, lock_key)


async def _read_tables(
    conn: asyncpg.Connection, lock_key: int
) -> tuple[RelayStatus, CheckpointStatus | None, int, list[SourceStatus]]:
    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        relay = await conn.fetchrow(
            """
            SELECT (SELECT count(*) FROM outbox) AS backlog,
                   (SELECT extract(epoch FROM now() - min(e.time))::float8
                      FROM outbox o JOIN events e USING (position)) AS oldest_unpublished_s,
                   (SELECT count(*) FROM outbox_parked) AS parked,
                   (SELECT max(position) FROM events) AS last_position,
                   leader.led, leader.application_name AS leader, leader.backend_start AS leader_since
              FROM (SELECT) AS one
              LEFT JOIN LATERAL (
                   SELECT true AS led, a.application_name, a.backend_start
                     FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                      AND l.classid::bigint = ($1::bigint >> 32) AND l.objid::bigint = ($1::bigint & 4294967295)
                    LIMIT 1) AS leader ON true
            """,
            lock_key,
        )
        last = await conn.fetchrow(
            "SELECT version, time, data FROM events WHERE stream_id = $1 ORDER BY version DESC LIMIT 1",
            CHECKPOINT_STREAM,
        )
        checkpoint = (
            CheckpointStatus(
                version=last["version"],
                through_position=last["data"]["through_position"],
                events=last["data"]["events"],
                signed_at=last["time"],
            )
            if last
            else None
        )
        unsealed = await conn.fetchval(
            "SELECT count(*) FROM events WHERE position > $1 AND stream_id <> $2",
            checkpoint.through_position if checkpoint else 0,
            CHECKPOINT_STREAM,
        )
        sources = await conn.fetch(
            "SELECT source, max(position) AS last_position, max(applied_at) AS last_applied_at, count(*) AS streams"
            " FROM inbox_streams GROUP BY source ORDER BY source"
        )
    return (
        RelayStatus(
            leader=(relay["leader"] or "a connection without a name") if relay["led"] else None,
            leader_since=relay["leader_since"],
            backlog=relay["backlog"],
            oldest_unpublished_s=relay["oldest_unpublished_s"],
            parked=relay["parked"],
            last_position=relay["last_position"],
        ),
        checkpoint,
        unsealed,
        [SourceStatus(**row) for row in sources],
    )
