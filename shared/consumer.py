"""Subscriptions to other services' topics: inbox deduplication, trust checks, retries, DLQ, manual commits.

Each message is applied in one PostgreSQL transaction that also records its event id in
`inbox`; the Kafka offset is committed only after that transaction. A crash in between
redelivers the message, and the inbox row turns the redelivery into a no-op: effects happen
exactly once even though delivery is at least once.

A record is applied only if it is what its topic's service published (`check_record`): its
`source` and `type` are that service's, its `hash` covers its content, and it continues its
stream's hash chain from the last record of that stream applied here (`inbox_streams`, kept in
the same transaction). A record that fails is dead-lettered at once with the reason, never
applied. A stream this consumer never saw may start at any version: a consumer group that joins
late (or starts at the topic's end) trusts the first record it sees of a stream on its own hash,
and checks every later one against it. The broker's ACLs (docs/security.md) keep others from
writing a service's topic at all; these checks catch what gets through anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import asyncpg
import orjson
from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaConnectionError, KafkaError, KafkaTimeoutError
from opentelemetry.trace import SpanKind

from shared.db import database_unavailable
from shared.events import CLOUDEVENTS_CONTENT_TYPE, GENESIS_HASH, EventTypes, RecordedEvent, chain_hash
from shared.kafka import client_options
from shared.telemetry import start_span
from shared.topics import ensure_topics, topic_service

log = logging.getLogger(__name__)

Handler = Callable[[asyncpg.Connection, RecordedEvent], Awaitable[None]]

MAX_BACKOFF = 5.0
STALL_AFTER = 20.0  # seconds without a record, with records waiting on an assigned partition, before a new consumer
STOP_GRACE = 10.0  # seconds stop() waits for the message in hand to be settled before cutting it off
ERROR_HEADER_LIMIT = 4000  # characters of the exception text kept in the DLQ header
REFERENCE_KEY_LIMIT = 1024  # bytes of the original key a DLQ reference keeps (a bigger key is dropped)
REFERENCE_HEADER = "titp-reference"  # on a DLQ message that stands for a record it could not copy: why


class Untrusted(Exception):
    """A record that is not what its topic's service published: dead-lettered at once, never applied or retried."""


class ForeignSource(Untrusted):
    """The record's `source` is not the service whose topic it came on."""


class ForeignType(Untrusted):
    """The record's `type` is not one of the topic's service (`titp.<service>.<Name>.v<N>`)."""


class BrokenChain(Untrusted):
    """The record's hash does not cover its content, or it does not continue its stream's chain as applied here."""


class StreamGap(Untrusted):
    """The record skips versions of its stream: an earlier one was not applied here (e.g. it was dead-lettered).

    Redriving the DLQ re-publishes the stream's dead letters in their order, and they then continue the chain."""


def check_record(topic: str, event: RecordedEvent) -> None:
    """Raise `Untrusted` unless `event` is one of the events `topic`'s service publishes, hashed over its content."""
    service = topic_service(topic)
    expected = EventTypes(service).source
    if event.source != expected:
        raise ForeignSource(f"source {event.source!r} on {topic}, where only {expected} publishes")
    if not re.fullmatch(rf"titp\.{re.escape(service)}\.[A-Za-z][A-Za-z0-9]*\.v[0-9]+", event.type):
        raise ForeignType(f"type {event.type!r} on {topic}, where only titp.{service}.<Name>.v<N> are published")
    try:
        intact = chain_hash(event.prevhash, event) == event.hash
    except ValueError:  # a prevhash that is no hex digest
        intact = False
    if not intact:
        raise BrokenChain(f"event {event.id}: its hash does not match its content and prevhash")


async def continue_chain(conn: asyncpg.Connection, event: RecordedEvent) -> None:
    """Check that `event` continues its stream from the last one applied, and make it the last (in the caller's
    transaction, the one that applies it)."""
    last = await conn.fetchrow(
        "SELECT version, hash FROM inbox_streams WHERE source = $1 AND stream_id = $2 FOR UPDATE",
        event.source,
        event.subject,
    )
    stream = f"{event.source} {event.subject}"
    if last is None:
        # Never seen: version 1 starts from the genesis hash; a later version is where this consumer joined.
        if event.streamversion == 1 and event.prevhash != GENESIS_HASH:
            raise BrokenChain(f"event {event.id}: version 1 of {stream} does not start from the genesis hash")
    elif event.streamversion > last["version"] + 1:
        raise StreamGap(
            f"event {event.id}: version {event.streamversion} of {stream}, but the last applied is {last['version']}"
        )
    elif event.streamversion <= last["version"]:
        raise BrokenChain(
            f"event {event.id}: version {event.streamversion} of {stream} was applied already, as another event"
        )
    elif event.prevhash != last["hash"]:
        raise BrokenChain(
            f"event {event.id}: version {event.streamversion} of {stream} does not continue the hash of"
            f" version {last['version']}"
        )
    await conn.execute(
        "INSERT INTO inbox_streams (source, stream_id, version, hash, position, applied_at)"
        " VALUES ($1, $2, $3, $4, $5, now())"
        " ON CONFLICT (source, stream_id) DO UPDATE SET version = excluded.version, hash = excluded.hash,"
        " position = excluded.position, applied_at = excluded.applied_at",
        event.source,
        event.subject,
        event.streamversion,
        event.hash,
        event.position,
    )


class Subscription:
    """Runs `handler(conn, event)` once per event of `topics`, as consumer group `titp.<service>`.

    A handler that raises is retried `max_retries` times (backoff doubling from
    `retry_backoff`), then the message goes to `dlq_topic` and the partition moves on. A message
    that is no CloudEvent, or fails `check_record`/`continue_chain`, goes there at once. Each of
    `topics` is a service's topic (`<topic prefix>titp.<service>.v<N>`): its records must be that
    service's.
    """

    def __init__(
        self,
        service: str,
        pool: asyncpg.Pool,
        bootstrap: str,
        topics: list[str],
        handler: Handler,
        *,
        dlq_topic: str,
        max_retries: int = 5,
        retry_backoff: float = 0.2,
        group_id: str | None = None,
        stall_after: float = STALL_AFTER,
    ) -> None:
        for topic in topics:
            topic_service(topic)  # refuses a topic whose publisher is unknown: its records could not be checked
        self.service, self.pool, self.bootstrap, self.topics, self.handler = service, pool, bootstrap, topics, handler
        self.dlq_topic, self.max_retries, self.retry_backoff = dlq_topic, max_retries, retry_backoff
        self.group_id = group_id or f"titp.{service}"
        self.stall_after = stall_after
        self.restarts = 0  # consumers given up and replaced (a failure, a stall)
        # Counters for metrics and health checks.
        self.applied = 0
        self.duplicates = 0
        self.dead_lettered = 0
        self.last_error: str | None = None
        self.assigned: frozenset[TopicPartition] = frozenset()
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task | None = None
        self._consumer: AIOKafkaConsumer | None = None  # the current one
        self._lock = asyncio.Lock()  # one message at a time vs. the rebalance callback
        # Held while one attempt at a message is made and its outcome recorded: the transaction
        # (or DLQ send), the counter and the pending offset. stop() cancels only outside it.
        self._settling = asyncio.Lock()
        self._pending: dict[TopicPartition, int] = {}  # applied but not yet committed offsets
        self._generation = 0  # bumped on every revocation: fetched batches go stale

    async def start(self) -> None:
        if self._task is not None:
            return
        # Subscribing to a topic that does not exist yet would wait for the next metadata
        # refresh (minutes), so make sure the topics and the DLQ exist before joining.
        await ensure_topics(self.bootstrap, [*self.topics, self.dlq_topic])
        self._producer = AIOKafkaProducer(**client_options(self.bootstrap), enable_idempotence=True, acks="all")
        await self._producer.start()
        self._task = asyncio.create_task(self._run(), name=f"subscription:{self.group_id}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            # Cancel between messages, never inside one: a cancellation landing in the COMMIT
            # round trip (or the pool's release after it) leaves the effect committed but neither
            # counted nor marked for commit, and one landing in the handler rolls back work that
            # then runs again on the next owner. A handler stuck past the grace period is cut
            # off anyway; its transaction rolls back and the redelivery is applied normally.
            settled = False
            try:
                async with asyncio.timeout(STOP_GRACE):
                    settled = await self._settling.acquire()
            except TimeoutError:
                log.warning(
                    "subscription %s: message in hand still unsettled after %.0fs, cancelling it",
                    self.group_id,
                    STOP_GRACE,
                    extra={"group_id": self.group_id},
                )
            try:
                task.cancel()
            finally:
                if settled:
                    self._settling.release()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), timeout=5)

    async def __aenter__(self) -> Subscription:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _progress(self) -> int:
        return self.applied + self.duplicates + self.dead_lettered

    async def _run(self) -> None:
        delay = self.retry_backoff
        while True:
            progress = self._progress()
            consumer = AIOKafkaConsumer(
                **client_options(self.bootstrap),
                group_id=self.group_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                client_id=f"{self.group_id}-consumer",
            )
            consumer.subscribe(self.topics, listener=_CommitOnRevoke(self, consumer))
            self._consumer = consumer
            try:
                await consumer.start()
                await self._consume(consumer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Start over from the last committed offsets; the inbox absorbs the repeats.
                self.restarts += 1
                if self._progress() != progress:
                    delay = self.retry_backoff
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "subscription %s failed, restarting in %.1fs: %s",
                    self.group_id,
                    delay,
                    self.last_error,
                    extra={"group_id": self.group_id, "error": self.last_error},
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
            finally:
                async with self._lock:
                    # Best effort: whatever is not committed is redelivered and skipped by the inbox.
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(self._commit(consumer, list(self._pending)), timeout=5)
                    self._pending.clear()
                # A broken consumer may not stop cleanly; the next one must start all the same.
                try:
                    await asyncio.wait_for(consumer.stop(), timeout=15)
                except TimeoutError:
                    # Said, because a member given up but still heartbeating can hold its group's rebalance.
                    log.warning(
                        "subscription %s: the consumer given up did not stop within 15s",
                        self.group_id,
                        extra={"group_id": self.group_id},
                    )
                except Exception:
                    pass

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        quiet_since = time.monotonic()
        unassigned_said = False
        while True:
            _check_fetcher(consumer)
            batch = await consumer.getmany(timeout_ms=1000)
            if batch:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > self.stall_after:
                if not consumer.assignment() and not unassigned_said:
                    # Legitimate with more members than partitions; else a rebalance held up (said once).
                    unassigned_said = True
                    log.warning(
                        "subscription %s: no partition assigned after %.0fs",
                        self.group_id,
                        self.stall_after,
                        extra={"group_id": self.group_id},
                    )
                await _check_not_stalled(consumer, self.stall_after)
                quiet_since = time.monotonic()
            generation = self._generation
            for tp, messages in batch.items():
                for message in messages:
                    async with self._lock:
                        if self._generation != generation:
                            # Partitions were revoked: the rest of this batch will be fetched
                            # again by whoever owns them now, from the committed offset.
                            break
                        await self._apply(message)  # also records message.offset + 1 as pending
                async with self._lock:
                    await self._commit(consumer, [tp])

    async def _commit(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        offsets = {tp: self._pending.pop(tp) for tp in partitions if tp in self._pending}
        if not offsets:
            return
        try:
            await _commit_while_coordinated(consumer, offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # The group moved on; the new owner reapplies from the last commit and the inbox
            # skips what was already applied here.
            log.info("offset commit refused after a rebalance: %s", exc, extra={"group_id": self.group_id})

    def _settled(self, message: ConsumerRecord) -> None:
        """The message is done with (applied, a duplicate or dead-lettered): commit past it."""
        self._pending[TopicPartition(message.topic, message.partition)] = message.offset + 1

    async def _apply(self, message: ConsumerRecord) -> None:
        try:
            event = RecordedEvent.from_json(message.value)
        except Exception as exc:
            async with self._settling:
                await self._dead_letter(message, exc, attempts=1)
                self._settled(message)
            return
        attempt = 0
        while True:
            attempt += 1
            try:
                # The handler's span joins the trace of the command that produced the event.
                with start_span(
                    f"{event.type} process",
                    traceparent=event.traceparent,
                    kind=SpanKind.CONSUMER,
                    attributes={
                        "messaging.system": "kafka",
                        "messaging.destination.name": message.topic,
                        "messaging.message.id": str(event.id),
                        "titp.attempt": attempt,
                    },
                ):
                    async with self.pool.acquire() as conn, self._settling:
                        async with conn.transaction():
                            # A duplicate first: skipped silently, whatever it claims now.
                            fresh = await conn.fetchval(
                                "INSERT INTO inbox (event_id, source, type) VALUES ($1, $2, $3)"
                                " ON CONFLICT DO NOTHING RETURNING true",
                                event.id,
                                event.source,
                                event.type,
                            )
                            if fresh:
                                check_record(message.topic, event)
                                await continue_chain(conn, event)
                                await self.handler(conn, event)
                        # Recorded with the transaction, before stop() may cancel: what was
                        # committed is counted once and its offset committed.
                        if fresh:
                            self.applied += 1
                        else:
                            self.duplicates += 1
                            log.debug("skipped duplicate event %s", event.id, extra={"event_id": str(event.id)})
                        self._settled(message)
            except Untrusted as exc:
                # Rolled back with its inbox row: refused, not failed, so never retried.
                self.last_error = f"{type(exc).__name__}: {exc}"
                async with self._settling:
                    await self._dead_letter(message, exc, attempts=attempt)
                    self._settled(message)
                return
            except Exception as exc:
                if database_unavailable(exc):
                    # Not the message's fault: the subscription backs off and starts over from its
                    # last commit instead of dead-lettering every message while PostgreSQL is away.
                    raise
                self.last_error = f"{type(exc).__name__}: {exc}"
                if attempt > self.max_retries:
                    async with self._settling:
                        await self._hold_stream(event)
                        await self._dead_letter(message, exc, attempts=attempt)
                        self._settled(message)
                    return
                delay = min(self.retry_backoff * 2 ** (attempt - 1), MAX_BACKOFF)
                log.warning(
                    "handling %s %s failed (attempt %d), retrying in %.2fs: %s",
                    event.type,
                    event.id,
                    attempt,
                    delay,
                    self.last_error,
                    extra={"event_id": str(event.id), "attempt": attempt},
                )
                await asyncio.sleep(delay)  # stop() may cancel here: nothing of this message took effect
                continue
            return

    async def _hold_stream(self, event: RecordedEvent) -> None:
        """A checked event the handler could not apply goes to the DLQ: the stream's later events must wait for it
        (`StreamGap`) until it is redriven. So that they do even when it was the first of its stream seen here, the
        stream is made known to end just before it."""
        await self.pool.execute(
            "INSERT INTO inbox_streams (source, stream_id, version, hash) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (source, stream_id) DO NOTHING",
            event.source,
            event.subject,
            event.streamversion - 1,
            event.prevhash,
        )

    async def _dead_letter(self, message: ConsumerRecord, exc: BaseException, *, attempts: int) -> None:
        headers = dict(message.headers or ())
        where = (message.topic, message.partition, message.offset)
        out = [
            ("content-type", headers.get("content-type", CLOUDEVENTS_CONTENT_TYPE.encode())),
            ("titp-error", str(exc)[:ERROR_HEADER_LIMIT].encode()),
            ("titp-error-type", type(exc).__name__.encode()),
            ("titp-original-topic", message.topic.encode()),
            ("titp-original-partition", str(message.partition).encode()),
            ("titp-original-offset", str(message.offset).encode()),
            ("titp-attempts", str(attempts).encode()),
        ]
        assert self._producer is not None, "dead-lettering needs the started subscription's producer"
        try:
            await self._producer.send_and_wait(self.dlq_topic, message.value, key=message.key, headers=out)
        except KafkaError as error:
            if error.retriable or isinstance(error, (KafkaTimeoutError, KafkaConnectionError)):
                raise  # the broker is away: the subscription starts over from its last commit
            # The copy cannot be written as it is (e.g. a record near the size limit, over it with these headers): a
            # small reference to it instead, so the partition moves on. The record itself stays on its topic.
            reference = {
                "topic": message.topic,
                "partition": message.partition,
                "offset": message.offset,
                "size": len(message.value or b""),
                "reason": f"{type(exc).__name__}: {exc}"[:ERROR_HEADER_LIMIT],
            }
            why = f"{type(error).__name__}: {error}"[:ERROR_HEADER_LIMIT]
            out = [("content-type", b"application/json"), *out[1:], (REFERENCE_HEADER, why.encode())]
            key = message.key if message.key is None or len(message.key) <= REFERENCE_KEY_LIMIT else None
            await self._producer.send_and_wait(self.dlq_topic, orjson.dumps(reference), key=key, headers=out)
            log.error("the DLQ copy of %s[%d]@%d was refused (%s): dead-lettered a reference to it", *where, why)
        self.dead_lettered += 1
        log.error(
            "dead-lettered %s[%d]@%d after %d attempt(s): %s",
            message.topic,
            message.partition,
            message.offset,
            attempts,
            exc,
            extra={
                "topic": message.topic,
                "partition": message.partition,
                "offset": message.offset,
                "dlq_topic": self.dlq_topic,
                "error": str(exc),
            },
        )


class CoordinationLost(KafkaError):
    """aiokafka's group coordination task ended: this consumer will never commit or rejoin again."""


async def _commit_while_coordinated(consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
    """`consumer.commit(offsets)`, unless aiokafka's group coordination task dies first. It can: a broker killed in
    the middle of a commit under uvloop raised RuntimeError in it ("Unexpected error in coordinator routine", seen
    in the broker-sigkill fault test), and commit() then waits for ever and the partition with it. Raising instead
    restarts the consumer from the last commit (the inbox absorbs the repeats). A mere outage is waited out: a
    consumer given up while the broker is away was seen to stall its group's rejoin for over a minute."""
    coordination: asyncio.Task[None] | None = getattr(
        getattr(consumer, "_coordinator", None), "_coordination_task", None
    )  # private to aiokafka (0.14 here); without it, a plain commit
    commit = asyncio.ensure_future(consumer.commit(offsets))
    if coordination is not None:
        await asyncio.wait({commit, coordination}, return_when=asyncio.FIRST_COMPLETED)
        if not commit.done():
            commit.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await commit
            raise CoordinationLost("the consumer's group coordination stopped; starting a new consumer")
    await commit


class ConsumerStalled(KafkaError):
    """The consumer stopped delivering records that are there to be read: a new consumer takes over."""


def _check_fetcher(consumer: AIOKafkaConsumer) -> None:
    """aiokafka's fetch task can die the way its coordination task does (a write to a closed connection under uvloop,
    "Unexpected error in fetcher routine"): getmany() then returns nothing for ever, silently. Its coordination task's
    death getmany() raises itself."""
    fetch: asyncio.Task[None] | None = getattr(getattr(consumer, "_fetcher", None), "_fetch_task", None)
    if fetch is not None and fetch.done():
        raise ConsumerStalled("the consumer's fetch task stopped; starting a new consumer")


async def _check_not_stalled(consumer: AIOKafkaConsumer, quiet_s: float) -> None:
    """After `quiet_s` without a record: raise `ConsumerStalled` if an assigned partition has records past this
    consumer's position (whatever stopped it: a new consumer starts from the last commit). Nothing assigned (more
    members than partitions) or the broker out of reach (an outage is waited out, not answered with a new member,
    which would only slow the group's rejoin) is no stall."""
    assigned = list(consumer.assignment())
    if not assigned:
        return
    try:
        async with asyncio.timeout(10):
            ends = await consumer.end_offsets(assigned)
            positions = {tp: await consumer.position(tp) for tp in assigned}
    except (KafkaError, TimeoutError, IllegalStateError):
        return
    behind = {str(tp): (positions[tp], ends[tp]) for tp in assigned if positions[tp] < ends[tp]}
    if behind:
        raise ConsumerStalled(f"no record for {quiet_s:.0f}s while there are records to read (position, end): {behind}")


class _CommitOnRevoke(ConsumerRebalanceListener):
    def __init__(self, subscription: Subscription, consumer: AIOKafkaConsumer) -> None:
        self.subscription, self.consumer = subscription, consumer

    async def on_partitions_revoked(self, revoked) -> None:
        sub = self.subscription
        # Waits for the message in hand to finish, then commits what was applied.
        async with sub._lock:
            sub._generation += 1
            sub.assigned = frozenset()
            await sub._commit(self.consumer, list(sub._pending))

    async def on_partitions_assigned(self, assigned) -> None:
        self.subscription.assigned = frozenset(assigned)


def redrive_group(dlq_topic: str) -> str:
    """The consumer group in which `redrive` keeps its progress through a DLQ."""
    return f"{dlq_topic}.redrive"


@dataclass(frozen=True)
class DeadLetter:
    """A message on a DLQ, with the reason `Subscription` gave; `redriven` once `redrive` re-published it."""

    partition: int
    offset: int
    dead_lettered_at: datetime
    redriven: bool
    original: str  # where it was dead-lettered from: topic[partition]@offset
    error_type: str
    error: str
    attempts: int
    event_id: str | None  # None for a message that is no CloudEvent
    event_type: str | None
    subject: str | None
    # Set when the DLQ holds only a reference (the copy was refused, e.g. too big): the record's size in bytes,
    # and why it was not copied. The record itself stays at `original`.
    size: int | None = None
    not_copied: str | None = None

    @classmethod
    def of(cls, message: ConsumerRecord, redriven: bool) -> DeadLetter:
        headers = {key: value.decode(errors="replace") for key, value in message.headers or ()}
        event_id: str | None = None
        event_type: str | None = None
        subject: str | None = None
        size: int | None = None
        if REFERENCE_HEADER in headers:  # a reference to a record the DLQ could not copy: no event to read
            with contextlib.suppress(Exception):
                size = int(orjson.loads(message.value)["size"])
        else:
            with contextlib.suppress(Exception):
                event = RecordedEvent.from_json(message.value)
                event_id, event_type, subject = str(event.id), event.type, event.subject
        return cls(
            message.partition,
            message.offset,
            datetime.fromtimestamp(message.timestamp / 1000, UTC),
            redriven,
            f"{headers.get('titp-original-topic')}[{headers.get('titp-original-partition')}]"
            f"@{headers.get('titp-original-offset')}",
            headers.get("titp-error-type", ""),
            headers.get("titp-error", ""),
            int(headers.get("titp-attempts", 0)),
            event_id,
            event_type,
            subject,
            size,
            headers.get(REFERENCE_HEADER),
        )

    def to_json(self) -> dict:
        return {**asdict(self), "dead_lettered_at": self.dead_lettered_at.isoformat()}


async def dead_letters(bootstrap: str, dlq_topic: str) -> list[DeadLetter]:
    """Every message on the DLQ up to its end as of the call (it keeps them all), oldest first per
    partition, each marked whether `redrive` has re-published it. Consumes nothing."""
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        [described] = await admin.describe_topics([dlq_topic])
    finally:
        await admin.close()
    if described["error_code"]:  # no such topic: nothing was ever dead-lettered
        return []
    partitions = sorted(TopicPartition(dlq_topic, p["partition"]) for p in described["partitions"])
    consumer = AIOKafkaConsumer(
        **client_options(bootstrap), group_id=redrive_group(dlq_topic), enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        letters = []
        for tp in partitions:
            redriven_up_to = await consumer.committed(tp) or 0
            while await consumer.position(tp) < end[tp]:
                for message in (await consumer.getmany(tp, timeout_ms=1000)).get(tp, []):
                    if message.offset < end[tp]:
                        letters.append(DeadLetter.of(message, redriven=message.offset < redriven_up_to))
        return letters
    finally:
        await consumer.stop()


async def redrive(bootstrap: str, dlq_topic: str, *, group_id: str | None = None) -> int:
    """Re-publish the DLQ's messages to their original topics; returns how many (a reference to a record the DLQ
    could not copy is skipped: the record stays where it was).

    Reads up to the DLQ's end as of the call. The DLQ's own consumer group remembers what was
    redriven, so running it twice does not send a message twice.
    """
    consumer = AIOKafkaConsumer(
        **client_options(bootstrap),
        group_id=group_id or redrive_group(dlq_topic),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(**client_options(bootstrap), enable_idempotence=True, acks="all")
    await consumer.start()
    try:
        await producer.start()
        partitions = [TopicPartition(dlq_topic, p) for p in sorted(await producer.partitions_for(dlq_topic))]
        consumer.assign(partitions)
        end = await consumer.end_offsets(partitions)
        count = 0
        for tp in partitions:
            while await consumer.position(tp) < end[tp]:
                messages = (await consumer.getmany(tp, timeout_ms=1000)).get(tp, [])
                for message in messages:
                    headers = dict(message.headers or ())
                    original = headers.get("titp-original-topic")
                    if original is None:
                        log.error(
                            "DLQ message %s[%d]@%d names no original topic; skipped",
                            tp.topic,
                            tp.partition,
                            message.offset,
                        )
                        continue
                    if REFERENCE_HEADER in headers:
                        log.error(
                            "DLQ message %s[%d]@%d only refers to a record it could not copy (%s); skipped",
                            tp.topic,
                            tp.partition,
                            message.offset,
                            headers[REFERENCE_HEADER].decode(errors="replace"),
                        )
                        continue
                    keep = [("content-type", headers.get("content-type", CLOUDEVENTS_CONTENT_TYPE.encode()))]
                    await producer.send_and_wait(original.decode(), message.value, key=message.key, headers=keep)
                    count += 1
                if messages:
                    await consumer.commit({tp: messages[-1].offset + 1})
        log.info("redrove %d message(s) from %s", count, dlq_topic, extra={"dlq_topic": dlq_topic})
        return count
    finally:
        with contextlib.suppress(KafkaError):
            await producer.stop()
        await consumer.stop()
