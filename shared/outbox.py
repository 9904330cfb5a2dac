"""The outbox relay: committed events -> Kafka, one active relay per service database.

Publishes only what the event store committed (rows in `outbox`), in position order, keyed
by stream id so one aggregate's events stay in one partition in version order. A row is
deleted only after the broker acknowledged it and every row before it: delivery is at least
once, and consumers deduplicate by event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from shared.db import connect
from shared.events import CLOUDEVENTS_CONTENT_TYPE
from shared.store import OUTBOX_CHANNEL, EventStore

log = logging.getLogger(__name__)

MAX_BACKOFF = 5.0


class LostLeadership(Exception):
    """The connection holding the advisory lock is gone, so another relay may lead now."""


def headers() -> list[tuple[str, bytes]]:
    """A Kafka message's headers: a new list for each message, because OpenTelemetry's aiokafka
    instrumentation appends the producer span's `traceparent` to the list it is given."""
    return [("content-type", CLOUDEVENTS_CONTENT_TYPE.encode())]


class OutboxRelay:
    """Publishes a service's outbox to `topic` while it holds the advisory lock `lock_key`.

    Standbys retry the lock every `poll_interval`; the leader wakes on the store's
    notification or every `poll_interval`, whichever comes first.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        dsn: str,
        store: EventStore,
        topic: str,
        bootstrap: str,
        *,
        lock_key: int,
        poll_interval: float = 1.0,
        batch: int = 500,
        ack_timeout: float = 10.0,
        producer_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.pool, self.dsn, self.store, self.topic, self.bootstrap = pool, dsn, store, topic, bootstrap
        self.lock_key, self.poll_interval, self.batch, self.ack_timeout = lock_key, poll_interval, batch, ack_timeout
        self.producer_options = dict(producer_options or {})
        # Counters for metrics and health checks.
        self.is_leader = False
        self.published = 0
        self.errors = 0
        self.last_error: str | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"outbox-relay:{self.topic}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def __aenter__(self) -> OutboxRelay:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _failed(self, what: str, exc: BaseException, delay: float) -> None:
        self._report(f"{type(exc).__name__}: {exc}", f"{what} failed, retrying in {delay:.1f}s")

    def _report(self, error: str, what: str) -> None:
        self.errors += 1
        self.last_error = error
        log.warning("outbox relay: %s: %s", what, error, extra={"topic": self.topic, "error": error})

    async def _run(self) -> None:
        delay = min(self.poll_interval, MAX_BACKOFF)
        while True:
            try:
                await self._lead()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database trouble: give up the lock, start over
                self._failed("leading", exc, delay)
                await asyncio.sleep(delay)

    async def _lead(self) -> None:
        """Wait to become the leader, then publish until cancelled or the lock is lost."""
        leader_conn = await connect(self.dsn)
        try:
            while not await leader_conn.fetchval("SELECT pg_try_advisory_lock($1)", self.lock_key):
                await asyncio.sleep(self.poll_interval)
            # Listen before the first read, so no append between the two goes unnoticed.
            await leader_conn.add_listener(OUTBOX_CHANNEL, lambda *_: self._wake.set())
            leader_conn.add_termination_listener(lambda *_: self._wake.set())
            self.is_leader = True
            log.info("outbox relay is the leader", extra={"topic": self.topic, "lock_key": self.lock_key})
            await self._publish_forever(leader_conn)
        finally:
            self.is_leader = False
            # Closing the session releases the advisory lock for a standby.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(leader_conn.close(), timeout=5)

    async def _publish_forever(self, leader_conn: asyncpg.Connection) -> None:
        producer: AIOKafkaProducer | None = None
        delay = 0.2
        try:
            while True:
                if leader_conn.is_closed():
                    raise LostLeadership("the connection holding the relay lock closed")
                self._wake.clear()
                try:
                    if producer is None:
                        producer = await self._start_producer()
                    sent = await self._publish_batch(producer)
                    delay = 0.2
                except (OSError, asyncio.TimeoutError, KafkaError) as exc:
                    # Broker trouble: keep the rows and the lock, drop the producer, retry.
                    self._failed(f"publishing to {self.topic}", exc, delay)
                    if producer is not None:
                        await _stop_quietly(producer)
                        producer = None
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, MAX_BACKOFF)
                    continue
                if sent == self.batch:
                    continue  # more may be waiting
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)
        finally:
            if producer is not None:
                await _stop_quietly(producer)

    async def _start_producer(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, enable_idempotence=True, acks="all", **self.producer_options
        )
        try:
            await producer.start()
        except BaseException:
            await _stop_quietly(producer)
            raise
        return producer

    async def _publish_batch(self, producer: AIOKafkaProducer) -> int:
        async with self.pool.acquire() as conn:
            events = await self.store.unpublished(conn, self.batch)
        if not events:
            return 0
        # Sent in position order, which per stream is version order.
        futures = [
            await producer.send(self.topic, event.to_json(), key=event.subject.encode(), headers=headers())
            for event in events
        ]
        # The idempotent producer retries until the broker answers, however long it is away;
        # waiting keeps the order intact. Meanwhile the outage shows in the counters and logs.
        pending = set(futures)
        while pending:
            _, pending = await asyncio.wait(pending, timeout=self.ack_timeout)
            if pending:
                self._report(
                    f"{len(pending)} of {len(futures)} events unacknowledged after {self.ack_timeout:.0f}s",
                    f"waiting for {self.topic}",
                )
        results = await asyncio.gather(*futures, return_exceptions=True)
        # Mark only the prefix the broker acknowledged: a row after a failed one is sent again,
        # so a stream's versions are never published out of order.
        acked = 0
        while acked < len(results) and not isinstance(results[acked], BaseException):
            acked += 1
        if acked:
            async with self.pool.acquire() as conn:
                await self.store.mark_published(conn, [e.position for e in events[:acked]])
            self.published += acked
        if acked < len(results):
            raise results[acked]
        return acked


async def _stop_quietly(producer: AIOKafkaProducer) -> None:
    # Stopping waits for pending sends; against a dead broker that must not hang the relay.
    try:
        await asyncio.wait_for(producer.stop(), timeout=5)
    except Exception as exc:
        log.debug("stopping the Kafka producer failed: %s", exc)
