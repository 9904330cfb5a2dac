"""What the visa routes share: who may do what, request bodies, the rules in force, and reading a resource."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

import asyncpg
from fastapi import Depends, Request, Response
from pydantic import TypeAdapter

from services.visa.domain.rules import VisaRules
from shared.web.auth import Principal, Role, require_roles
from shared.commands import Aggregate
from shared.errors import NotFound
from shared.web.http import cursor_uuid, decode_cursor, document_response, Page, page_of, PointInTime, today

S = TypeVar("S")

Officer = Annotated[Principal, Depends(require_roles(Role.IMMIGRATION))]
Reader = Annotated[Principal, Depends(require_roles(Role.IMMIGRATION, Role.AUDITOR, Role.ADMIN))]


def visa_rules(request: Request) -> VisaRules:
    return request.app.state.visa_rules


Rules = Annotated[VisaRules, Depends(visa_rules)]


@dataclass(frozen=True)
class Resource(Generic[S]):
    """One kind of record: its read-model table, its aggregate, and the document clients see."""

    name: str
    table: str
    aggregate: Aggregate[S]
    state: TypeAdapter
    document: Callable[[str, S, int, date], dict[str, Any]]

    async def one(self, request: Request, id: UUID, as_of: PointInTime | None) -> Response:
        """From the read model, or with `as_of` from the events recorded by then."""
        async with request.app.state.pool.acquire() as conn:
            if as_of is None:
                row = await conn.fetchrow(f"SELECT state, version FROM {self.table} WHERE id = $1", id)
                state, version = (self.state.validate_python(row["state"]), row["version"]) if row else (None, 0)
            else:
                state, version = await request.app.state.runner.load(conn, self.aggregate, str(id),
                                                                     until=as_of.until)
        if not version:
            raise NotFound(self.name, id)
        return document_response(self.document(str(id), state, version, as_of.day if as_of else today()), version)

    async def page(self, pool: asyncpg.Pool, limit: int, cursor: str | None, **filters: Any) -> Page:
        """In id order; `filters` are column = value, None for any."""
        wanted = {column: value for column, value in filters.items() if value is not None}
        conditions = [f"{column} = ${i}" for i, column in enumerate(wanted, start=1)]
        after = cursor_uuid(decode_cursor(cursor))
        if after:
            conditions.append(f"id > ${len(wanted) + 1}")
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT id, state, version FROM {self.table} {where} ORDER BY id LIMIT {limit + 1}",
                *wanted.values(), *([after] if after else []))
        day = today()
        return page_of([self.document(str(r["id"]), self.state.validate_python(r["state"]), r["version"], day)
                        for r in rows], limit, lambda item: [item["id"]])
