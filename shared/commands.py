"""The write path of every service: load an aggregate, decide, append, project, in one transaction.

request -> decide(state) -> events | DomainRuleViolation
        -> ONE transaction: append (expected version), projections, idempotency record
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

import asyncpg
import orjson

from shared.errors import ConflictError, NotFound, PreconditionFailed
from shared.events import EventContext, EventPayload, RecordedEvent
from shared.store import ConcurrencyError, EventStore, StreamHead, appended_since

log = logging.getLogger(__name__)

S = TypeVar("S")


@dataclass(frozen=True)
class Aggregate(Generic[S]):
    """How to rebuild one kind of aggregate from its events, and the read model it keeps.

    `project(conn, stream_id, state, version)` writes the aggregate's current-state row in
    the same transaction as the append; a rebuild replays each stream through it.
    """

    name: str
    initial: S
    evolve: Callable[[S, EventPayload], S]
    project: Callable[[asyncpg.Connection, str, S, int], Awaitable[None]] | None = None

    def fold(self, state: S, payloads: Sequence[EventPayload]) -> S:
        for payload in payloads:
            state = self.evolve(state, payload)
        return state


@dataclass(frozen=True)
class Outcome:
    stream_id: str
    version: int
    events: list[RecordedEvent]


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Idempotency:
    """An Idempotency-Key, scoped to its caller and route, and a hash of the request it came with."""

    key: str
    request_hash: str

    @classmethod
    def of(cls, key: str, scope: str, body: bytes) -> Idempotency:
        return cls(key=f"{scope}:{key}", request_hash=hashlib.sha256(body).hexdigest())


Render = Callable[[Outcome], StoredResponse]


@dataclass(frozen=True)
class UnitOfWork:
    """One command's transaction: the connection it runs on, who asked and why (`context`), and
    the version the caller pinned with If-Match. Every function of a service's `commands.py`
    takes one first, so routes, subscriptions, chores, tests and tools change state the same way:

        async def grant_permit(uow: UnitOfWork, id: UUID, *, permit_type, granted_on) -> Outcome:
            return await uow.decide(SUPERVISING_ORGANIZATION, str(id), lambda s: so.grant_permit(...))
    """

    runner: CommandRunner
    conn: asyncpg.Connection
    context: EventContext
    if_match: int | None = None
    # Streams loaded in this transaction, kept for a decision on the same stream: a command that checks a stream
    # (as another aggregate, say) and then decides on it reads it once. Dropped if anything was appended since.
    opened: dict[str, tuple[list[RecordedEvent], StreamHead]] = field(default_factory=dict, compare=False, repr=False)

    async def decide(
        self, aggregate: Aggregate[S], stream_id: str, decide: Callable[[S], Sequence[EventPayload]]
    ) -> Outcome:
        """Load the aggregate, decide, append and project, in this transaction."""
        opened = self.opened.pop(stream_id, None)
        return await self.runner.decide_and_apply(
            self.conn,
            aggregate,
            stream_id,
            decide,
            self.context,
            if_match=self.if_match,
            opened=opened if opened and not appended_since(opened[1]) else None,
        )

    async def load(self, aggregate: Aggregate[S], stream_id: str, *, until: datetime | None = None) -> tuple[S, int]:
        if until is not None:
            return await self.runner.load(self.conn, aggregate, stream_id, until=until)
        opened = self.opened[stream_id] = await self.runner.store.open_stream(self.conn, stream_id)
        return self.runner.fold(aggregate, opened[0])

    def unpinned(self) -> UnitOfWork:
        """The same transaction for a further stream, which the caller's If-Match does not name."""
        return UnitOfWork(self.runner, self.conn, self.context, opened=self.opened)


CommandFunction = Callable[..., Awaitable[Outcome]]


class CommandRunner:
    def __init__(self, pool: asyncpg.Pool, store: EventStore, *, attempts: int = 3) -> None:
        self.pool, self.store, self.types = pool, store, store.types
        self.attempts = attempts

    async def load(
        self, conn: asyncpg.Connection, aggregate: Aggregate[S], stream_id: str, *, until: datetime | None = None
    ) -> tuple[S, int]:
        return self.fold(aggregate, await self.store.read_stream(conn, stream_id, until=until))

    def fold(self, aggregate: Aggregate[S], events: Sequence[RecordedEvent]) -> tuple[S, int]:
        state = aggregate.fold(aggregate.initial, [self.types.parse(e.type, e.data) for e in events])
        return state, events[-1].streamversion if events else 0

    async def apply(
        self,
        conn: asyncpg.Connection,
        aggregate: Aggregate[S],
        stream_id: str,
        state: S,
        version: int,
        payloads: Sequence[EventPayload],
        context: EventContext,
        *,
        head: StreamHead | None = None,
    ) -> list[RecordedEvent]:
        """Append and project inside the caller's transaction (also used by subscriptions)."""
        recorded = await self.store.append(conn, stream_id, version, payloads, context, head=head)
        if recorded and aggregate.project:
            await aggregate.project(conn, stream_id, aggregate.fold(state, payloads), version + len(recorded))
        return recorded

    async def decide_and_apply(
        self,
        conn: asyncpg.Connection,
        aggregate: Aggregate[S],
        stream_id: str,
        decide: Callable[[S], Sequence[EventPayload]],
        context: EventContext,
        *,
        if_match: int | None = None,
        opened: tuple[list[RecordedEvent], StreamHead] | None = None,
    ) -> Outcome:
        """`opened`: the stream's events and head, read earlier in this transaction (else they are read here)."""
        events, head = opened or await self.store.open_stream(conn, stream_id)
        state, version = self.fold(aggregate, events)
        if if_match is not None and if_match != version:
            raise PreconditionFailed(expected=if_match, actual=version)
        payloads = decide(state)
        recorded = await self.apply(conn, aggregate, stream_id, state, version, payloads, context, head=head)
        return Outcome(stream_id, version + len(recorded), recorded)

    async def transact(
        self, command: CommandFunction, *args: Any, context: EventContext, if_match: int | None = None, **kwargs: Any
    ) -> Outcome:
        """Run one function of a service's `commands.py` in a transaction of its own (chores, tools, tests)."""
        outcome: list[Outcome] = []

        async def work(conn: asyncpg.Connection) -> Outcome:
            outcome[:] = [await command(UnitOfWork(self, conn, context, if_match), *args, **kwargs)]
            return outcome[0]

        await self.run(work, lambda o: StoredResponse(200, {}, b""), if_match=if_match)
        return outcome[0]

    async def run(
        self,
        work: Callable[[asyncpg.Connection], Awaitable[Outcome]],
        render: Render,
        *,
        if_match: int | None = None,
        idempotency: Idempotency | None = None,
    ) -> StoredResponse:
        """Run `work` in one transaction to its response. A lost race is retried on fresh state,
        unless the caller pinned the version with If-Match (then it is a 412)."""
        for attempt in range(1, self.attempts + 1):
            try:
                with self.store.committer_wakes() as committed:
                    async with self.pool.acquire() as conn, conn.transaction():
                        if idempotency:
                            # Requests with one key take turns; a later one answers as the first did.
                            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", idempotency.key)
                            if earlier := await self._recorded_response(conn, idempotency):
                                return earlier
                        response = render(await work(conn))
                        if idempotency:
                            await conn.execute(
                                "INSERT INTO idempotency_keys (key, request_hash, status, headers, body)"
                                " VALUES ($1, $2, $3, $4, $5)",
                                idempotency.key,
                                idempotency.request_hash,
                                response.status,
                                response.headers,
                                response.body,
                            )
                    committed()
                    return response
            except ConcurrencyError as exc:
                if if_match is not None:
                    raise PreconditionFailed(expected=if_match, actual=exc.actual) from None
                if attempt == self.attempts:
                    raise ConflictError(f"{exc.stream_id} kept changing under this command; try again") from None
                log.info("concurrent change on %s, retrying (attempt %d)", exc.stream_id, attempt)
        raise AssertionError("unreachable")

    @staticmethod
    async def _recorded_response(conn: asyncpg.Connection, idempotency: Idempotency) -> StoredResponse | None:
        row = await conn.fetchrow(
            "SELECT request_hash, status, headers, body FROM idempotency_keys WHERE key = $1", idempotency.key
        )
        if row is None:
            return None
        if row["request_hash"] != idempotency.request_hash:
            raise ConflictError("this Idempotency-Key was already used with a different request")
        return StoredResponse(row["status"], row["headers"], bytes(row["body"]))


class Existing(Protocol):
    @property
    def exists(self) -> bool: ...


E = TypeVar("E", bound=Existing)


Decision = Callable[[E], Sequence[EventPayload]]


def existing(noun: str, id: Any, decide: Decision[E]) -> Decision[E]:
    """`decide`, on an aggregate that exists (`state.exists`); a 404 naming `noun` otherwise."""

    def decide_existing(state: E) -> Sequence[EventPayload]:
        if not state.exists:
            raise NotFound(noun, id)
        return decide(state)

    return decide_existing


def json_response(status: int, body: Any, *, version: int | None = None) -> StoredResponse:
    headers = {"content-type": "application/json"}
    if version is not None:
        headers["etag"] = f'"{version}"'
    return StoredResponse(status, headers, orjson.dumps(body))
