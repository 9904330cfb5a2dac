"""Reading one resource: from its read model, or as recorded by a past time (`?as_of=`)."""

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import asyncpg

from shared.commands import Aggregate, CommandRunner

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
