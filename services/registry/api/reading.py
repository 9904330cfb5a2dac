"""Reading one resource: from its read model, or as recorded by a past time (`?as_of=`)."""

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from fastapi import Request

from shared.commands import Aggregate
from shared.web.http import PointInTime

S = TypeVar("S")


async def read_document(request: Request, table: str, aggregate: Aggregate[S],
                        document: Callable[[str, S, int], dict[str, Any]], id: UUID,
                        as_of: PointInTime | None) -> dict[str, Any] | None:
    """The row's document, or with `as_of` the same document built from the events recorded by then."""
    async with request.app.state.pool.acquire() as conn:
        if as_of is None:
            row = await conn.fetchrow(f"SELECT document FROM {table} WHERE id = $1", id)
            return row["document"] if row else None
        state, version = await request.app.state.runner.load(conn, aggregate, str(id), until=as_of.until)
    return document(str(id), state, version) if version else None
