"""Read models rebuilt from the log: a replay of the topics into a fresh database, the diff of two
databases' read models, and the rebuild of a service's projections in place.

A service's read models have two origins. Those of its own aggregates are projections of its
own events (`Aggregate.project`); a replay writes the service's own topic into the fresh
`events` table unchanged (same ids, positions and hashes, so the chains still verify) and
projects each stream as the live service did: once per transaction that appended to it.
Those of other services' facts are written by its subscription handler
(`ServiceDefinition.on_event`) from their topics; a replay feeds it the same events, each
once (the inbox, as live). But a handler also *reacts*, appending the service's own events;
those are already in its own topic, so in a replay the handler gets a runner whose
reactions decide and append nothing (`_ReactionsAlreadyRecorded`). What a handler writes to
its read models must therefore follow from the other services' events alone, never from
what its reactions decided.

Order: live, a service applies other services' events as they arrive and records its own
in between, and a projection may read what an earlier event of another service left (a
certification looks up the implementing organization's prefecture). A replay goes through
both in the order they were recorded: the service's own transactions in position order, each
partition of the other topics in offset order (so each stream in version order), merged by
recording time. What depends on an order that arrival and recording time disagree on
(events of different streams within the consumer's lag) could come out differently; the
diff would show it.

Chores run once at the end, with the same runner: those that keep read models (folding
counters) bring them to rest, those that decide (expiries) append nothing, their events are
in the log already.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from shared.audit.log import Progress, in_log_order, no_progress, read_topic
from shared.commands import Aggregate, CommandRunner, Outcome
from shared.db import create_pool, migrate
from shared.events import EventContext, EventPayload, RecordedEvent
from shared.service import ServiceDefinition
from shared.settings import ServiceSettings
from shared.store import POSITION_BITS, EventStore
from shared.topics import service_topic

# Tables of every service that are not read models: the log itself and the bookkeeping around it.
NOT_READ_MODELS = frozenset(
    {"events", "outbox", "outbox_parked", "inbox", "inbox_streams", "idempotency_keys", "schema_migrations"}
)

_BATCH = 500  # steps per transaction of a replay


class ReplayError(Exception):
    pass


class _ReactionsAlreadyRecorded(CommandRunner):
    """The runner a replay gives the subscription handler and the chores: what the service decided then is
    in its own log already, so here a decision decides and appends nothing."""

    async def decide_and_apply(
        self,
        conn: asyncpg.Connection,
        aggregate: Aggregate,
        stream_id: str,
        decide: Any,
        context: EventContext,
        *,
        if_match: int | None = None,
        opened: Any = None,
    ) -> Outcome:
        return Outcome(stream_id, 0, [])

    async def apply(
        self,
        conn: asyncpg.Connection,
        aggregate: Aggregate,
        stream_id: str,
        state: Any,
        version: int,
        payloads: Sequence[EventPayload],
        context: EventContext,
        *,
        head: Any = None,
    ) -> list[RecordedEvent]:
        return []


@dataclass
class ReplayResult:
    service: str
    events: int = 0  # of the service's own, written to the fresh store
    projected: int = 0  # projections written (one per stream and transaction)
    applied: int = 0  # other services' events applied to the read models
    failed: list[str] = field(default_factory=list)  # other services' events the handler refused (live: the DLQ)
    left_out: list[str] = field(default_factory=list)  # records of its topics that are no event, where and why
    duplicates: int = 0  # records of its topics that repeated an event unchanged, skipped


def in_recorded_order(
    own: Sequence[RecordedEvent], others: Sequence[Sequence[RecordedEvent]]
) -> Iterator[list[RecordedEvent] | RecordedEvent]:
    """The service's own transactions (lists of events) and other services' events, merged by recording time,
    each input's order kept."""
    transactions = [list(events) for _, events in groupby(own, key=lambda e: e.position >> POSITION_BITS)]
    return heapq.merge(transactions, *others, key=lambda step: step[0].time if isinstance(step, list) else step.time)


async def replay_service(
    definition: ServiceDefinition,
    dsn: str,
    own: Sequence[RecordedEvent],
    others: Sequence[Sequence[RecordedEvent]],
    progress: Progress = no_progress,
) -> ReplayResult:
    """Rebuild the service's store and read models in the fresh database `dsn`.

    `own`: the service's own log, in position order, each event once; `others`: the partitions of
    the topics it subscribes to, each in offset order (duplicates are skipped, as live).
    """
    result = ReplayResult(definition.name)
    pool = await create_pool(dsn, max_size=2)
    try:
        await migrate(pool, definition.migrations)
        replay = _Replay(definition, EventStore(definition.event_types), result)
        runner = _ReactionsAlreadyRecorded(pool, replay.store)
        advance = progress(f"replaying {definition.name}", len(own) + sum(map(len, others)))
        async with pool.acquire() as conn:
            if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM events)"):
                raise ReplayError(f"{definition.name}: the database to replay into is not fresh: it has events")
            steps = in_recorded_order(own, others)
            while batch := [step for _, step in zip(range(_BATCH), steps)]:
                async with conn.transaction():
                    for step in batch:
                        if isinstance(step, list):
                            await replay.own_transaction(conn, step)
                        else:
                            await replay.other_event(conn, runner, step)
                        advance(len(step) if isinstance(step, list) else 1)
        for _, chore in definition.chores:
            await chore(runner)
    finally:
        await pool.close()
    return result


class _Replay:
    def __init__(self, definition: ServiceDefinition, store: EventStore, result: ReplayResult) -> None:
        self.definition, self.store, self.result = definition, store, result
        self.streams: dict[str, tuple[Aggregate | None, Any, int]] = {}  # stream -> aggregate, state, version

    async def own_transaction(self, conn: asyncpg.Connection, events: list[RecordedEvent]) -> None:
        try:
            async with conn.transaction():
                await self.store.restore(conn, events)
        except asyncpg.UniqueViolationError:
            # Two different events at one position or stream version: the topic contradicts itself.
            raise ReplayError(
                f"{self.definition.name}: the topic holds two different events at one position or stream version"
                f" among positions {events[0].position}..{events[-1].position}; see `titp audit verify --from kafka`"
            ) from None
        touched: dict[str, None] = {}
        for event in events:
            if event.subject not in self.streams:
                aggregate = self.definition.aggregate_of(event)
                self.streams[event.subject] = (aggregate, aggregate.initial if aggregate else None, 0)
            aggregate, state, _ = self.streams[event.subject]
            if aggregate is not None:
                try:
                    state = aggregate.evolve(state, self.definition.event_types.parse(event.type, event.data))
                except Exception as exc:
                    raise ReplayError(
                        f"{self.definition.name}: event {event.id} (stream {event.subject}, version"
                        f" {event.streamversion}) cannot be applied: {type(exc).__name__}: {exc}"
                    ) from None
            self.streams[event.subject] = (aggregate, state, event.streamversion)
            touched[event.subject] = None
        # As live: each stream projected once per transaction that appended to it.
        for stream_id in touched:
            aggregate, state, version = self.streams[stream_id]
            if aggregate is None or aggregate.project is None:
                continue
            try:
                await aggregate.project(conn, stream_id, state, version)
            except Exception as exc:
                raise ReplayError(
                    f"{self.definition.name}: projecting stream {stream_id} at version {version} failed: {exc}"
                ) from exc
            self.result.projected += 1
        self.result.events += len(events)

    async def other_event(self, conn: asyncpg.Connection, runner: CommandRunner, event: RecordedEvent) -> None:
        if self.definition.on_event is None:
            return
        try:
            async with conn.transaction():  # a savepoint: as live, a refused event leaves no trace
                if await conn.fetchval(
                    "INSERT INTO inbox (event_id, source, type) VALUES ($1, $2, $3)"
                    " ON CONFLICT DO NOTHING RETURNING true",
                    event.id,
                    event.source,
                    event.type,
                ):
                    await self.definition.on_event(runner, conn, event)
                    self.result.applied += 1
        except Exception as exc:
            self.result.failed.append(f"{event.type} {event.id}: {type(exc).__name__}: {exc}")


async def replay_topics(
    services: Sequence[tuple[ServiceDefinition, ServiceSettings]],
    into: Mapping[str, str],
    progress: Progress = no_progress,
) -> dict[str, ReplayResult]:
    """Replay services from their topics, each read once from offset 0, into the fresh databases `into[name]`."""
    topics = sorted(
        {
            settings.topic(t)
            for definition, settings in services
            for t in (service_topic(definition.name), *definition.subscribes_to)
        }
    )
    bootstrap = services[0][1].kafka_bootstrap_servers
    contents = {topic: await read_topic(bootstrap, topic, progress) for topic in topics}
    results = {}
    for definition, settings in services:
        own = in_log_order(contents[settings.topic(service_topic(definition.name))].events)
        others = [p for t in definition.subscribes_to for p in contents[settings.topic(t)].partitions]
        result = await replay_service(definition, into[definition.name], own, others, progress)
        read = [contents[settings.topic(t)] for t in (service_topic(definition.name), *definition.subscribes_to)]
        result.left_out = [problem for topic in read for problem in topic.unreadable]
        result.duplicates = sum(topic.records.duplicates for topic in read)
        results[definition.name] = result
    return results


async def create_database(dsn: str, *, recreate: bool = False) -> None:
    """Create the database `dsn` names unless it exists; with `recreate`, drop it first."""
    url = urlsplit(dsn)
    name = url.path.lstrip("/")
    if not name or '"' in name:
        raise ReplayError(f"not a database name: {name!r}")
    conn = await asyncpg.connect(urlunsplit(url._replace(path="/postgres")))
    try:
        if recreate:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def aggregate_state(definition: ServiceDefinition, events: Sequence[RecordedEvent]) -> tuple[Aggregate, Any, int]:
    """The aggregate one stream's events (in version order) make, its state and version."""
    aggregate = definition.aggregate_of(events[0])
    if aggregate is None:
        raise ReplayError(f"stream {events[0].subject} is not an aggregate of {definition.name}")
    state = aggregate.fold(aggregate.initial, [definition.event_types.parse(e.type, e.data) for e in events])
    return aggregate, state, events[-1].streamversion


# Diff


@dataclass(frozen=True)
class TableDiff:
    table: str
    only_live: list[str]
    only_replayed: list[str]


async def read_model_tables(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
    )
    return {r["table_name"] for r in rows} - NOT_READ_MODELS


async def _rows(conn: asyncpg.Connection, table: str, tables: set[str]) -> Counter[str]:
    if table not in tables:
        return Counter()
    return Counter(r[0] for r in await conn.fetch(f'SELECT to_jsonb(t)::text FROM "{table}" t'))


async def diff_read_models(
    live_dsn: str, replayed_dsn: str, outside_the_log: frozenset[str] = frozenset()
) -> list[TableDiff]:
    """Every read-model table of two databases, row by row; only the tables that differ."""
    live, replayed = await asyncpg.connect(live_dsn), await asyncpg.connect(replayed_dsn)
    try:
        live_tables = await read_model_tables(live) - outside_the_log
        replayed_tables = await read_model_tables(replayed) - outside_the_log
        diffs = []
        for table in sorted(live_tables | replayed_tables):
            a, b = await _rows(live, table, live_tables), await _rows(replayed, table, replayed_tables)
            if a != b:
                diffs.append(TableDiff(table, sorted((a - b).elements()), sorted((b - a).elements())))
        return diffs
    finally:
        await live.close()
        await replayed.close()


# Rebuild in place


@dataclass
class RebuildResult:
    service: str
    projected: int = 0
    skipped: int = 0  # streams of no aggregate (checkpoints), or of a projection not asked for
    # Streams projected again, by projection (the aggregate's name).
    by_projection: dict[str, int] = field(default_factory=dict)
    # The newest position of the log when the scan began: every read model rebuilt is at least that recent.
    as_of_position: int | None = None


@dataclass(frozen=True)
class Folded:
    stream_id: str
    aggregate: Aggregate | None  # None: a stream of no aggregate (checkpoints)
    state: Any
    version: int


def _projection(folded: Folded) -> Callable[[asyncpg.Connection, str, Any, int], Awaitable[None]]:
    """The projection of a folded stream that has one (rebuild skips the others before it asks)."""
    assert folded.aggregate is not None and folded.aggregate.project is not None
    return folded.aggregate.project


async def fold_streams(
    definition: ServiceDefinition,
    conn: asyncpg.Connection,
    *,
    prefetch: int = 2000,
    only: Collection[Aggregate] | None = None,
) -> AsyncIterator[Folded]:
    """Every stream of the store folded to its current state: one scan in (stream, version) order, only the
    columns a fold needs, one stream in memory at a time. Runs inside the caller's transaction (a cursor).
    With `only`, a stream of another aggregate is not folded (it comes as one of no aggregate)."""
    types = definition.event_types
    # Fetched `prefetch` rows at a time explicitly: iterating the cursor row by row would make the asyncpg
    # tracing instrumentation record a span per row.
    cursor = await conn.cursor("SELECT stream_id, version, type, data FROM events ORDER BY stream_id, version")
    stream_id, aggregate, state, version = None, None, None, 0
    while rows := await cursor.fetch(prefetch):
        for row in rows:
            if row[0] != stream_id:
                if stream_id is not None:
                    yield Folded(stream_id, aggregate, state, version)
                stream_id = row[0]
                aggregate = definition.aggregates.get(types.model_of(row[2])) if types.knows(row[2]) else None
                if only is not None and aggregate not in only:
                    aggregate = None
                state = aggregate.initial if aggregate else None
            if aggregate is not None:
                state = aggregate.evolve(state, types.parse(row[2], row[3]))
            version = row[1]
    if stream_id is not None:
        yield Folded(stream_id, aggregate, state, version)


def projections(definition: ServiceDefinition) -> dict[str, Aggregate]:
    """The service's projections by name: each aggregate that keeps a read model (`titp rebuild --projection`)."""
    return {a.name: a for a in definition.aggregates.values() if a.project is not None}


async def rebuild(
    definition: ServiceDefinition,
    pool: asyncpg.Pool,
    progress: Progress = no_progress,
    *,
    batch: int = 500,
    only: Collection[str] | None = None,
) -> RebuildResult:
    """Project every stream of the service's store again while it serves (or only those of the projections named
    in `only`: KeyError for a name that is none of `projections(definition)`): one scan folds the streams
    (`fold_streams`), and their projections are written `batch` streams a transaction.

    A command that appends to a stream meanwhile projects it too; whichever commits second
    would win, so a rebuild that finds, after projecting, that the stream moved on projects
    it again from a fresh read. (The command's own projection, if it comes after, waits on
    the row this transaction wrote and then writes the newer state.)
    """
    known = projections(definition)
    chosen = None if only is None else [known[name] for name in only]
    runner = CommandRunner(pool, EventStore(definition.event_types))
    result = RebuildResult(definition.name)
    async with pool.acquire() as conn:
        streams = await conn.fetchval("SELECT count(DISTINCT stream_id) FROM events")
    names = ", ".join(sorted(only)) if only is not None else "projections"
    advance = progress(f"{definition.name}: rebuilding {names}", streams)

    async def project(folded: list[Folded]) -> None:
        async with pool.acquire() as conn, conn.transaction():
            for f in folded:
                await _projection(f)(conn, f.stream_id, f.state, f.version)
            by_id = {f.stream_id: f for f in folded}
            for stream_id, latest in await conn.fetch(
                "SELECT stream_id, max(version) FROM events WHERE stream_id = ANY($1::text[]) GROUP BY stream_id",
                list(by_id),
            ):
                moved, version = by_id[stream_id], by_id[stream_id].version
                while latest != version:  # it moved on since the scan read it
                    assert moved.aggregate is not None
                    state, version = await runner.load(conn, moved.aggregate, stream_id)
                    await _projection(moved)(conn, stream_id, state, version)
                    latest = await conn.fetchval("SELECT max(version) FROM events WHERE stream_id = $1", stream_id)
        result.projected += len(folded)
        for f in folded:
            assert f.aggregate is not None
            result.by_projection[f.aggregate.name] = result.by_projection.get(f.aggregate.name, 0) + 1

    pending: list[Folded] = []
    async with pool.acquire() as reader, reader.transaction(readonly=True, isolation="repeatable_read"):
        result.as_of_position = await reader.fetchval("SELECT max(position) FROM events")
        async for folded in fold_streams(definition, reader, only=chosen):
            if folded.aggregate is None or folded.aggregate.project is None:
                result.skipped += 1
            else:
                pending.append(folded)
                if len(pending) == batch:
                    await project(pending)
                    pending = []
            advance(1)
    if pending:
        await project(pending)
    return result
