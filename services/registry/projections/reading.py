"""Reading one resource: from its read model, or as recorded by a past time (`?as_of=`)."""

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import asyncpg

from shared.commands import Aggregate, CommandRunner, Existing

S = TypeVar("S")


async def read_document(
    pool: asyncpg.Pool,
    runner: CommandRunner,
    table: str,
    aggregate: Aggregate[S],
    document: Callable[[str, S, int], dict[str, Any]],
    id: UUID,
    until: datetime | None,
) -> dict[str, Any] | None:
    """The row's document, or with `until` the same document built from the events recorded by
    then; None if there is none."""
    async with pool.acquire() as conn:
        if until is None:
            row = await conn.fetchrow(f"SELECT document FROM {table} WHERE id = $1", id)
            return row["document"] if row else None
        state, version = await runner.load(conn, aggregate, str(id), until=until)
    return document(str(id), state, version) if version else None


E = TypeVar("E", bound=Existing)


async def read_state(
    pool: asyncpg.Pool,
    runner: CommandRunner,
    table: str,
    aggregate: Aggregate[E],
    load_state: Callable[[Any], E],
    id: UUID,
    until: datetime | None,
) -> tuple[E, int] | None:
    """For a read model that keeps the state (its document depends on the day asked about): the row's
    state, or with `until` the state folded from the events recorded by then; None if it had not applied."""
    async with pool.acquire() as conn:
        if until is None:
            row = await conn.fetchrow(f"SELECT state, version FROM {table} WHERE id = $1", id)
            if row is None:
                return None
            state, version = load_state(row["state"]), row["version"]
        else:
            state, version = await runner.load(conn, aggregate, str(id), until=until)
    return (state, version) if state.exists else None
