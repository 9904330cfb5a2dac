"""The outbox relay: committed events -> Kafka, one active relay per service database.

Publishes only what the event store committed (rows in `outbox`), in position order, keyed
by stream id so one aggregate's events stay in one partition in version order. A row is
deleted only after the broker acknowledged it and every row before it: delivery is at least
once, and consumers deduplicate by event id.

An event the broker refuses for good (a non-retriable error, e.g. a record over the topic's
`max.message.bytes`) is parked (`outbox_parked`) with the later events of its stream, with an
alert, and the relay moves on; `titp outbox retry` puts them back after a fix.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka import errors as kafka_errors
from aiokafka.errors import KafkaError
from opentelemetry import context as otel_context
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor

from shared.db import connect
from shared.events import CLOUDEVENTS_CONTENT_TYPE, RecordedEvent
from shared.kafka import client_options
from shared.store import OUTBOX_CHANNEL, PARKED_BEHIND, EventStore
from shared.telemetry import context_from_traceparent
from shared.topics import ensure_topics

log = logging.getLogger(__name__)

MAX_BACKOFF = 5.0


class LostLeadership(Exception):
    """The connection holding the advisory lock is gone, so another relay may lead now."""


class _ProducerSpent(Exception):
    """A batch had an unpublishable event, now parked: its producer's sequence numbers are off, start a new one."""


def headers(event: RecordedEvent | None = None) -> list[tuple[str, bytes]]:
    """A Kafka message's headers: the content type and, while no tracing instrumentation adds its own, the event's
    `traceparent`, so the header names the trace the event's attribute names. A new list for each message, because
    OpenTelemetry's aiokafka instrumentation appends the producer span's `traceparent` to the list it is given."""
    out = [("content-type", CLOUDEVENTS_CONTENT_TYPE.encode())]
    if event is not None and event.traceparent and not _instrumented():
        out.append(("traceparent", event.traceparent.encode()))
    return out


def _instrumented() -> bool:
    """Is the aiokafka instrumentation on (setup_telemetry turns it on once an exporter is set)?"""
    return bool(AIOKafkaInstrumentor().is_instrumented_by_opentelemetry)


async def send(producer: AIOKafkaProducer, topic: str, event: RecordedEvent) -> asyncio.Future[Any]:
    """Send one event as the relay publishes it (and `republish` again): its CloudEvent JSON, keyed by its
    stream id, with the relay's headers. Returns the future of the broker's acknowledgement.

    Sent in the event's own trace (the command's): while traces are exported, the aiokafka instrumentation's
    producer span is a child of the event's `traceparent`, and the header it writes names that trace; else the
    header is the event's `traceparent` itself (and no context is made for a span nobody records)."""
    value, key = event.to_json(), event.subject.encode()
    if not _instrumented():
        return await producer.send(topic, value, key=key, headers=headers(event))
    token = otel_context.attach(context_from_traceparent(event.traceparent))
    try:
        return await producer.send(topic, value, key=key, headers=headers())
    finally:
        otel_context.detach(token)


# Non-retriable errors that say nothing about the event: the broker out of reach, the relay not allowed
# (an ACL), the producer's own state. Every event would fail alike, so the relay retries (with alerts)
# instead of parking the whole outbox.
_NOT_THE_EVENT = (
    kafka_errors.KafkaTimeoutError,
    kafka_errors.IllegalStateError,
    kafka_errors.ProducerClosed,
    kafka_errors.ProducerFenced,
    kafka_errors.OutOfOrderSequenceNumber,
    kafka_errors.UnknownProducerId,
    kafka_errors.InvalidProducerEpoch,
    kafka_errors.TopicAuthorizationFailedError,
    kafka_errors.ClusterAuthorizationFailedError,
    kafka_errors.TransactionalIdAuthorizationFailed,
    kafka_errors.AuthenticationFailedError,
    kafka_errors.SaslAuthenticationFailed,
)


def unpublishable(exc: BaseException) -> bool:
    """Will the broker refuse this event however often it is sent (too large, an invalid topic, ...)?"""
    return isinstance(exc, KafkaError) and not exc.retriable and not isinstance(exc, _NOT_THE_EVENT)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


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
        linger: float = 0.005,
        batch: int = 500,
        ack_timeout: float = 10.0,
        producer_options: Mapping[str, Any] | None = None,
        application_name: str | None = None,
    ) -> None:
        self.application_name = application_name  # of the connection holding the lock: who leads, to pg_stat_activity
        self.pool, self.dsn, self.store, self.topic, self.bootstrap = pool, dsn, store, topic, bootstrap
        self.lock_key, self.poll_interval, self.batch, self.ack_timeout = lock_key, poll_interval, batch, ack_timeout
        self.producer_options = dict(producer_options or {})
        # After a wake-up, how long to let more commits arrive before reading the outbox: more events a produce
        # request and a round of statements (as Kafka's own producers linger, 5 ms by default since Kafka 4).
        self.linger = linger
        # Positions the broker acknowledged, deleted from the outbox by the relay's next read (one statement).
        self._acknowledged_positions: list[int] = []
        self.leading = asyncio.Event()  # set while this relay holds the lock
        # Counters for metrics and health checks.
        self.published = 0
        self.parked = 0
        self.errors = 0
        self.last_error: str | None = None
        self._wake = asyncio.Event()
        self.publishing = asyncio.Event()  # set while this relay leads with a producer started
        self._task: asyncio.Task | None = None

    @property
    def is_leader(self) -> bool:
        return self.leading.is_set()

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
        leader_conn = await connect(self.dsn, application_name=self.application_name)
        try:
            while not await leader_conn.fetchval("SELECT pg_try_advisory_lock($1)", self.lock_key):
                await asyncio.sleep(self.poll_interval)
            # Listen before the first read, so no append between the two goes unnoticed.
            await leader_conn.add_listener(OUTBOX_CHANNEL, lambda *_: self._wake.set())
            leader_conn.add_termination_listener(lambda *_: self._wake.set())
            self.leading.set()
            # This process's commands wake the relay themselves after their commit (EventStore.committer_wakes).
            self.store.wake_local_relay = self._wake.set
            log.info("outbox relay is the leader", extra={"topic": self.topic, "lock_key": self.lock_key})
            await self._publish_forever(leader_conn)
        finally:
            self.leading.clear()
            self.store.wake_local_relay = None
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
                        self.publishing.set()
                    sent = await self._publish_batch(producer)
                    delay = 0.2
                except _ProducerSpent:
                    self.publishing.clear()
                    await _stop_quietly(producer)
                    producer = None
                    continue
                except (OSError, asyncio.TimeoutError, KafkaError) as exc:
                    # Broker trouble: keep the rows and the lock, drop the producer, retry.
                    self._failed(f"publishing to {self.topic}", exc, delay)
                    self.publishing.clear()
                    if producer is not None:
                        await _stop_quietly(producer)
                        producer = None
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, MAX_BACKOFF)
                    continue
                if sent:
                    continue  # more may be waiting; and the next read deletes what was acknowledged
                try:
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)
                except asyncio.TimeoutError:
                    continue
                if self.linger:
                    await asyncio.sleep(self.linger)
        finally:
            self.publishing.clear()
            if producer is not None:
                await _stop_quietly(producer)
            if self._acknowledged_positions:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._mark_acknowledged(), timeout=5)

    async def _start_producer(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            **client_options(self.bootstrap), enable_idempotence=True, acks="all", **self.producer_options
        )
        try:
            await producer.start()
        except BaseException:
            await _stop_quietly(producer)
            raise
        return producer

    async def _publish_batch(self, producer: AIOKafkaProducer) -> int:
        async with self.pool.acquire() as conn:
            events, parked_behind = await self.store.to_publish(conn, self.batch, self._acknowledged_positions)
        self._acknowledged_positions = []
        if parked_behind:
            self.parked += parked_behind
            log.error(
                "outbox relay: parked %d events behind an earlier parked event of their stream",
                parked_behind,
                extra={"topic": self.topic},
            )
        if not events:
            return 0
        # Sent in position order, which per stream is version order. An event too large for the client
        # is refused at once (MessageSizeTooLargeError): nothing after it is sent in this round.
        futures: list[asyncio.Future[Any]] = []
        refused: BaseException | None = None
        for event in events:
            try:
                futures.append(await send(producer, self.topic, event))
            except KafkaError as exc:
                refused = exc
                break
        results = await self._acknowledged(futures, producer)
        # Mark only the prefix the broker acknowledged: a row after a failed one is sent again,
        # so a stream's versions are never published out of order.
        acked = 0
        while acked < len(results) and not isinstance(results[acked], BaseException):
            acked += 1
        self._acknowledged_positions = [e.position for e in events[:acked]]
        self.published += acked
        failure = results[acked] if acked < len(results) else refused
        if failure is None:
            return acked
        if not unpublishable(failure):
            raise failure
        # The broker refuses one of the rest for good (and, batched with it, maybe others that it would
        # take alone): send the rest one at a time, parking what is refused and its stream's later events.
        # The batch's producer is done with (see _publish_one_by_one): the caller starts a new one.
        await self._publish_one_by_one(events[acked:])
        raise _ProducerSpent()

    async def _acknowledged(self, futures: list[asyncio.Future[Any]], producer: AIOKafkaProducer) -> list[Any]:
        """The broker's answers, in order. The idempotent producer retries until the broker answers, however
        long it is away; waiting keeps the order intact. Meanwhile the outage shows in the counters and logs.
        Unless the producer's sender task died (it can, like the consumer's tasks, when the broker goes away under
        uvloop): nobody would ever answer, so the producer is given up and the unacknowledged rows sent again."""
        pending = set(futures)
        while pending:
            _, pending = await asyncio.wait(pending, timeout=self.ack_timeout)
            sender: asyncio.Task[None] | None = getattr(getattr(producer, "_sender", None), "sender_task", None)
            if pending and sender is not None and sender.done():
                raise kafka_errors.KafkaConnectionError("the producer's sender task stopped; starting a new producer")
            if pending:
                self._report(
                    f"{len(pending)} of {len(futures)} events unacknowledged after {self.ack_timeout:.0f}s",
                    f"waiting for {self.topic}",
                )
        return await asyncio.gather(*futures, return_exceptions=True)

    async def _mark_acknowledged(self) -> None:
        async with self.pool.acquire() as conn:
            await self.store.mark_published(conn, self._acknowledged_positions)
        self._acknowledged_positions = []

    async def _mark_published(self, events: list[RecordedEvent]) -> None:
        if events:
            async with self.pool.acquire() as conn:
                await self.store.mark_published(conn, [e.position for e in events])
            self.published += len(events)

    async def _publish_one_by_one(self, events: list[RecordedEvent]) -> None:
        blocked: set[str] = set()
        producer = await self._start_producer()
        try:
            for event in events:
                if event.subject in blocked:
                    await self._park(event, PARKED_BEHIND)
                    continue
                try:
                    [result] = await self._acknowledged([await send(producer, self.topic, event)], producer)
                except KafkaError as exc:
                    result = exc
                if not isinstance(result, BaseException):
                    await self._mark_published([event])
                elif unpublishable(result):
                    await self._park(event, _describe(result))
                    blocked.add(event.subject)
                    # The idempotent producer gave the refused record a sequence number the broker never
                    # stored: its next record would be refused as out of order. A new producer starts afresh.
                    await _stop_quietly(producer)
                    producer = await self._start_producer()
                else:
                    raise result
        finally:
            await _stop_quietly(producer)

    async def _park(self, event: RecordedEvent, error: str) -> None:
        async with self.pool.acquire() as conn:
            await self.store.park(conn, event, error)
        self.parked += 1
        self.last_error = error
        # An alert: this event (and its stream's later ones) stays off the topic until an operator acts.
        log.error(
            "outbox relay: parked event %s (%s v%s of %s) at position %s: %s; fix the cause, then run"
            " `titp outbox retry`",
            event.id,
            event.type,
            event.streamversion,
            event.subject,
            event.position,
            error,
            extra={"topic": self.topic, "event_id": str(event.id), "position": event.position, "error": error},
        )


class RelayRunning(Exception):
    """A relay holds the service's relay lock: publishing the history beside it could reorder a stream."""


async def republish(
    pool: asyncpg.Pool,
    dsn: str,
    store: EventStore,
    topic: str,
    bootstrap: str,
    *,
    lock_key: int,
    partitions: int = 3,
    replication: int = 1,
    progress: Callable[[int], None] = lambda n: None,
) -> int:
    """Publish a service's whole history to `topic` again, e.g. after the topic was deleted: every committed
    event in position order, as the relay sends it (`send`), creating the topic if missing. Holds the relay
    lock meanwhile (RelayRunning if a relay has it: stop the service's instances first), so no relay
    publishes a newer event of a stream ahead of its history. Parked events are left to `titp outbox retry`;
    outbox rows of what was published are done with. Returns how many events were published."""
    lock_conn = await connect(dsn)
    try:
        if not await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_key):
            raise RelayRunning(f"a relay of this database is publishing to {topic}: stop the service first")
        await ensure_topics(bootstrap, [topic], partitions=partitions, replication=replication)
        producer = AIOKafkaProducer(**client_options(bootstrap), enable_idempotence=True, acks="all")
        await producer.start()
        try:
            return await _republish(pool, store, producer, topic, progress)
        finally:
            await _stop_quietly(producer)
    finally:
        await lock_conn.close()


async def _republish(
    pool: asyncpg.Pool, store: EventStore, producer: AIOKafkaProducer, topic: str, progress: Callable[[int], None]
) -> int:
    async with pool.acquire() as conn:
        parked = {e.position for e in await store.parked(conn)}
    published, after = 0, 0
    while True:
        async with pool.acquire() as conn:
            page = await store.read_committed(conn, after, 1000)
        if not page:
            return published
        after = page[-1].position
        events = [e for e in page if e.position not in parked]
        futures = [await send(producer, topic, e) for e in events]
        for result in await asyncio.gather(*futures, return_exceptions=True):
            if isinstance(result, BaseException):
                raise result
        async with pool.acquire() as conn:
            await store.mark_published(conn, [e.position for e in events])
        published += len(events)
        progress(len(page))


async def _stop_quietly(producer: AIOKafkaProducer) -> None:
    # Stopping waits for pending sends; against a dead broker that must not hang the relay.
    try:
        await asyncio.wait_for(producer.stop(), timeout=5)
    except Exception as exc:
        log.debug("stopping the Kafka producer failed: %s", exc)
