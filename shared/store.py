"""The PostgreSQL event store: append with an expected version, read a stream, read all.

Every call takes a connection so that an append, the projections it feeds and the outbox
row share the caller's one transaction.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import orjson

from shared.errors import EventTooLarge
from shared.events import (
    GENESIS_HASH,
    EventContext,
    EventPayload,
    EventTypes,
    RecordedEvent,
    chain_hash,
)

POSITION_BITS = 20  # events one transaction may append: 2**20
OUTBOX_CHANNEL = "titp_outbox"

# The largest event (its CloudEvent JSON, what the relay sends) an append accepts. Kafka refuses a record
# batch over the broker's `message.max.bytes` (default 1,048,588) or the topic's `max.message.bytes`, and the
# relay could never publish it; a dead-lettered copy also carries headers. Half of that leaves room for both.
MAX_EVENT_BYTES = 512 * 1024

# Why the relay parked an event that could itself be published: an earlier event of its stream is parked.
PARKED_BEHIND = "behind an earlier parked event of its stream"

# The order key every reader follows; see migrations/001_event_store.sql for why it is gap-free.
_SAFE_LIMIT = f"(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << {POSITION_BITS})"

_COLUMNS = (
    "position, stream_id, version, id, type, time, data, actor, correlationid, causationid, traceparent, prevhash, hash"
)


_E_COLUMNS = ", ".join("e." + c.strip() for c in _COLUMNS.split(","))

_INSERT = f"INSERT INTO events ({_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)"
_APPEND = f"""
    WITH appended AS (
        INSERT INTO events ({_COLUMNS})
        SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::uuid[], $5::text[], $6::timestamptz[],
                             $7::jsonb[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
        RETURNING position)
    , published AS (INSERT INTO outbox (position) SELECT position FROM appended)
    SELECT pg_notify($14, '')"""
# The same without the relay's wake-up call: for an append whose committer wakes the relay of its own process
# (see `committer_wakes`). A data-modifying WITH runs whether or not the last SELECT reads it.
_APPEND_QUIETLY = _APPEND.replace("SELECT pg_notify($14, '')", "SELECT count(*) FROM appended")

# Set by a committer that will wake this process's relay itself once its transaction commits (CommandRunner.run):
# the appends inside it then skip `pg_notify`, whose queue every notifying commit takes in turn.
_committer_wakes: ContextVar[bool] = ContextVar("committer_wakes", default=False)


@dataclass(frozen=True)
class StreamHead:
    """Where an append goes: this transaction's first position (`pg_current_xact_id() << POSITION_BITS`),
    the stream's version, last hash and position, the database's clock when the head was read: an event's time
    (one clock per service, whichever instance or host appends; never the Python process's clock), and the last
    position this transaction had used when the head was read, if known (see `appended_since`)."""

    base: int
    version: int
    hash: str | None
    position: int | None
    now: datetime
    mine: int | None = None


class _Positions:
    """The last position each recent transaction of this process appended at, so the next append in the
    same transaction continues after it without asking the database. An append it did not see (or one it
    forgot) makes the insert collide on the position, which is a ConcurrencyError: retried afresh."""

    def __init__(self, keep: int = 4096) -> None:
        self.keep = keep
        self.last: OrderedDict[int, int] = OrderedDict()

    def next(self, head: StreamHead) -> int:
        known = [p for p in (head.mine, self.last.get(head.base)) if p is not None]
        return max(known) + 1 if known else head.base

    def used(self, base: int, position: int) -> None:
        self.last[base] = position
        self.last.move_to_end(base)
        while len(self.last) > self.keep:
            self.last.popitem(last=False)


_positions = _Positions()


def appended_since(head: StreamHead) -> bool:
    """Whether this process appended in the transaction of `head` after `head` was read (as far as it remembers):
    then a stream opened earlier in the transaction must be read again before a decision on it."""
    return _positions.last.get(head.base) != head.mine


def _row(e: RecordedEvent) -> tuple:
    return (
        e.position,
        e.subject,
        e.streamversion,
        e.id,
        e.type,
        e.time,
        e.data,
        e.actor,
        e.correlationid,
        e.causationid,
        e.traceparent,
        e.prevhash,
        e.hash,
    )


class ConcurrencyError(Exception):
    """The stream is not at the version the command was decided on."""

    def __init__(self, stream_id: str, expected: int | None, actual: int) -> None:
        self.stream_id, self.expected, self.actual = stream_id, expected, actual
        super().__init__(f"stream {stream_id} is at version {actual}, expected {expected}")


def _recorded(row: asyncpg.Record, source: str) -> RecordedEvent:
    # By index, in _COLUMNS' order: a replay builds millions of these, and names cost four times as much.
    (
        position,
        stream_id,
        version,
        id,
        type,
        time,
        data,
        actor,
        correlationid,
        causationid,
        traceparent,
        prevhash,
        hash,
    ) = row[:13]
    return RecordedEvent(
        id,
        source,
        type,
        stream_id,
        time.astimezone(UTC),
        data,
        version,
        position,
        prevhash,
        hash,
        actor,
        correlationid,
        causationid,
        traceparent,
    )


class EventStore:
    def __init__(self, types: EventTypes, *, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self.types = types
        self.max_event_bytes = max_event_bytes
        # The wake-up of the relay leading in this process (set by OutboxRelay while it leads), else None.
        self.wake_local_relay: Callable[[], None] | None = None

    @contextmanager
    def committer_wakes(self) -> Iterator[Callable[[], None]]:
        """Around one transaction whose commit the caller awaits: while this process's relay leads, the appends in
        it send no `pg_notify` (a lock every notifying commit takes in turn, and a round of the relay's LISTEN
        connection); the caller calls what this yields once the transaction committed, which wakes the relay.
        Elsewhere (another process's relay leads, or none) the appends notify as ever. Should the leadership move
        in between, the new leader finds the events on its next poll (`TITP_RELAY_POLL_INTERVAL_S`)."""
        token = _committer_wakes.set(True)

        def committed() -> None:
            if self.wake_local_relay is not None:
                self.wake_local_relay()

        try:
            yield committed
        finally:
            _committer_wakes.reset(token)

    async def open_stream(self, conn: asyncpg.Connection, stream_id: str) -> tuple[list[RecordedEvent], StreamHead]:
        """A stream's events, and its head for `append` in the same transaction: one round trip instead of two.
        Takes this transaction's id, which an append needs anyway."""
        rows = await conn.fetch(
            f"SELECT e.*, pg_current_xact_id()::text::bigint << {POSITION_BITS} AS base, clock_timestamp() AS now"
            " FROM (SELECT) AS one"
            f" LEFT JOIN LATERAL (SELECT {_COLUMNS} FROM events WHERE stream_id = $1) e ON true ORDER BY e.version",
            stream_id,
        )
        events = [_recorded(r, self.types.source) for r in rows if r["id"] is not None]
        last = events[-1] if events else None
        base = rows[0]["base"]
        return events, StreamHead(
            base,
            last.streamversion if last else 0,
            last.hash if last else None,
            last.position if last else None,
            rows[0]["now"],
            _positions.last.get(base),
        )

    async def append(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        expected_version: int | None,
        payloads: Sequence[EventPayload],
        context: EventContext = EventContext(),
        *,
        head: StreamHead | None = None,
    ) -> list[RecordedEvent]:
        """Append to one stream if it is at `expected_version` (0: new stream, None: any).

        Must run inside the caller's transaction. Raises ConcurrencyError when another
        command got there first; the caller retries with fresh state or answers 409/412.
        `head` is the stream's head from `open_stream` in this transaction (else it is read here).
        """
        if not conn.is_in_transaction():
            raise RuntimeError("append must run inside a transaction")
        if not payloads:
            return []
        if head is None:
            head = await self._head(conn, stream_id)
        current = head.version
        if expected_version is not None and expected_version != current:
            raise ConcurrencyError(stream_id, expected_version, current)
        first = _positions.next(head)
        if first + len(payloads) > head.base + (1 << POSITION_BITS):
            raise ValueError("too many events in one transaction")
        if head.position is not None and head.position > first:
            # The stream's last event comes from a transaction younger than this one; this
            # append would sort before it. Retrying in a new transaction puts it after.
            raise ConcurrencyError(stream_id, expected_version, current)

        now = head.now.astimezone(UTC)
        prev = head.hash or GENESIS_HASH
        recorded: list[RecordedEvent] = []
        for i, payload in enumerate(payloads):
            draft = RecordedEvent(
                id=uuid4(),
                source=self.types.source,
                type=self.types.type_name(payload),
                subject=stream_id,
                time=now,
                data=payload.model_dump(mode="json"),
                streamversion=current + 1 + i,
                position=first + i,
                prevhash=prev,
                hash="",
                actor=context.actor,
                correlationid=context.correlationid,
                causationid=context.causationid,
                traceparent=context.traceparent,
            )
            event = RecordedEvent(**{**draft.__dict__, "hash": chain_hash(prev, draft)})
            self._check_size(event)
            recorded.append(event)
            prev = event.hash
        try:
            # The events, their outbox rows and the relay's wake-up call in one statement; no call when the
            # committer wakes this process's leading relay itself.
            columns = zip(*(_row(e) for e in recorded))
            if _committer_wakes.get() and self.wake_local_relay is not None:
                await conn.execute(_APPEND_QUIETLY, *columns)
            else:
                await conn.execute(_APPEND, *columns, OUTBOX_CHANNEL)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name not in ("events_stream_version", "events_pkey"):
                raise
            # events_pkey: a position of this transaction's was taken by an append `_positions` did not see.
            raise ConcurrencyError(stream_id, expected_version, current + 1) from None
        _positions.used(head.base, recorded[-1].position)
        return recorded

    async def _head(self, conn: asyncpg.Connection, stream_id: str) -> StreamHead:
        row = await conn.fetchrow(
            f"""
            WITH me AS (SELECT pg_current_xact_id()::text::bigint << {POSITION_BITS} AS base)
            SELECT me.base,
                   (SELECT max(position) FROM events
                     WHERE position >= me.base AND position < me.base + (1 << {POSITION_BITS})) AS mine,
                   h.version, h.hash, h.position, clock_timestamp() AS now
              FROM me LEFT JOIN LATERAL (
                   SELECT version, hash, position FROM events WHERE stream_id = $1
                    ORDER BY version DESC LIMIT 1) h ON true
            """,
            stream_id,
        )
        return StreamHead(row["base"], row["version"] or 0, row["hash"], row["position"], row["now"], row["mine"])

    def _check_size(self, event: RecordedEvent) -> None:
        """Refuse (EventTooLarge: the command fails, nothing is appended) an event the broker would not take."""
        size = len(event.to_json())
        if size > self.max_event_bytes:
            raise EventTooLarge(event.type, _largest_field(event.data), size, self.max_event_bytes)

    async def restore(self, conn: asyncpg.Connection, events: Sequence[RecordedEvent]) -> None:
        """Write events exactly as they were recorded, e.g. by a replay from the topics: the same ids,
        positions and hashes, so the chains still verify. Nothing goes to the outbox: they were published."""
        await conn.executemany(_INSERT, [_row(e) for e in events])

    async def read_stream(
        self, conn: asyncpg.Connection, stream_id: str, *, until: datetime | None = None
    ) -> list[RecordedEvent]:
        """One aggregate's events in version order; with `until`, those recorded by then: the versions before
        the first one recorded later (times restored from another store, or written by a clock that was set
        back, may be out of order; a fold never gets a version without the ones before it)."""
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 AND ($2::timestamptz IS NULL OR version < coalesce("
            "(SELECT min(version) FROM events WHERE stream_id = $1 AND time > $2), 2147483647)) ORDER BY version",
            stream_id,
            until,
        )
        return [_recorded(r, self.types.source) for r in rows]

    async def read_all(
        self, conn: asyncpg.Connection, after_position: int = 0, limit: int = 1000
    ) -> list[RecordedEvent]:
        """Events in global order after a position, never past a transaction still running."""
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE position > $1 AND position < {_SAFE_LIMIT}"
            " ORDER BY position LIMIT $2",
            after_position,
            limit,
        )
        return [_recorded(r, self.types.source) for r in rows]

    async def read_committed(
        self, conn: asyncpg.Connection, after_position: int = 0, limit: int = 1000
    ) -> list[RecordedEvent]:
        """Every event committed so far, in global order after a position: what an audit checks. (Unlike
        `read_all`, not for following the log: a transaction still running may commit an event before these.)"""
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2", after_position, limit
        )
        return [_recorded(r, self.types.source) for r in rows]

    async def stream_ids(self, conn: asyncpg.Connection) -> list[str]:
        return [r["stream_id"] for r in await conn.fetch("SELECT DISTINCT stream_id FROM events ORDER BY 1")]

    async def unpublished(self, conn: asyncpg.Connection, limit: int = 500) -> list[RecordedEvent]:
        """The outbox: committed events the broker has not acknowledged yet, in position order."""
        rows = await conn.fetch(
            f"SELECT {_E_COLUMNS} FROM outbox o JOIN events e USING (position) ORDER BY o.position LIMIT $1", limit
        )
        return [_recorded(r, self.types.source) for r in rows]

    async def to_publish(
        self, conn: asyncpg.Connection, limit: int = 500, published: Sequence[int] = ()
    ) -> tuple[list[RecordedEvent], int]:
        """What the relay publishes next: the outbox in position order, after parking (in the same statement,
        so none is published ahead) the events of streams that have a parked event; and how many it parked.
        The same statement deletes the rows of `published`, which the broker acknowledged (mark_published)."""
        rows = await conn.fetch(
            f"""
            WITH done AS (DELETE FROM outbox WHERE position = ANY($2::bigint[]))
            , behind AS (
                DELETE FROM outbox o USING events e
                 WHERE e.position = o.position AND o.position <> ALL($2::bigint[])
                   AND EXISTS (SELECT 1 FROM outbox_parked p WHERE p.stream_id = e.stream_id)
                RETURNING o.position, e.stream_id)
            , parked AS (
                INSERT INTO outbox_parked (position, stream_id, error)
                SELECT position, stream_id, '{PARKED_BEHIND}' FROM behind)
            SELECT (SELECT count(*) FROM behind) AS behind, e.*
              FROM (SELECT) AS one LEFT JOIN LATERAL (
                   SELECT {_E_COLUMNS} FROM outbox o JOIN events e USING (position)
                    WHERE o.position NOT IN (SELECT position FROM behind) AND o.position <> ALL($2::bigint[])
                    ORDER BY o.position LIMIT $1) e ON true
             ORDER BY e.position""",
            limit,
            list(published),
        )
        events = [_recorded(r[1:], self.types.source) for r in rows if r["id"] is not None]
        return events, rows[0]["behind"]

    async def mark_published(self, conn: asyncpg.Connection, positions: Sequence[int]) -> None:
        await conn.execute("DELETE FROM outbox WHERE position = ANY($1::bigint[])", list(positions))

    async def park(self, conn: asyncpg.Connection, event: RecordedEvent, error: str) -> None:
        """Set an unpublishable event aside: out of the outbox, into `outbox_parked` with the reason."""
        await conn.execute(
            "WITH moved AS (DELETE FROM outbox WHERE position = $1 RETURNING position)"
            " INSERT INTO outbox_parked (position, stream_id, error) SELECT position, $2, $3 FROM moved",
            event.position,
            event.subject,
            error,
        )

    async def parked(self, conn: asyncpg.Connection) -> list[ParkedEvent]:
        rows = await conn.fetch(
            "SELECT p.position, p.stream_id, e.version, e.type, e.id, p.error, p.parked_at"
            " FROM outbox_parked p JOIN events e USING (position) ORDER BY p.position"
        )
        return [ParkedEvent(*r) for r in rows]

    async def unpark(self, conn: asyncpg.Connection) -> int:
        """Put every parked event back in the outbox (the relay publishes it in position order, with what
        was committed since); returns how many."""
        count: int = await conn.fetchval(
            """
            WITH moved AS (DELETE FROM outbox_parked RETURNING position)
            , back AS (INSERT INTO outbox (position) SELECT position FROM moved ON CONFLICT DO NOTHING)
            SELECT count(*) FROM moved""",
        )
        await conn.execute("SELECT pg_notify($1, '')", OUTBOX_CHANNEL)
        return count


@dataclass(frozen=True)
class ParkedEvent:
    position: int
    stream_id: str
    version: int
    type: str
    id: UUID
    error: str
    parked_at: datetime


def _largest_field(data: Any, path: str = "") -> str:
    """Where most of an event's JSON is: the path of its largest member, e.g. `job_categories[0]`."""
    members: list[tuple[str, Any]] = []
    if isinstance(data, dict):
        members = [(f"{path}.{key}" if path else str(key), value) for key, value in data.items()]
    elif isinstance(data, list):
        members = [(f"{path}[{i}]", value) for i, value in enumerate(data)]
    if not members:
        return path or "data"
    name, value = max(members, key=lambda member: len(orjson.dumps(member[1])))
    return _largest_field(value, name)
