"""The reads behind the visa service's GET routes and lists: one record (now, or as recorded by `?as_of=`)
and pages of records in id order."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar
from uuid import UUID

import asyncpg
from pydantic import TypeAdapter

from services.visa import commands
from services.visa.domain.rules import VisaRules
from services.visa.domain.ssw import SswEligibility, ssw_eligibility
from services.visa.projections import known
from services.visa.projections.resources import (
    coe_document,
    coe_state,
    evaluation_report_state,
    evaluation_reports_of,
    grant_document,
    status_change_state,
    visa_state,
)
from shared.commands import Aggregate, CommandRunner
from shared.errors import NotFound
from shared.web.http import Page, PointInTime, cursor_uuid, decode_cursor, page_of, today

S = TypeVar("S")


@dataclass(frozen=True)
class ReadModel(Generic[S]):
    """One kind of record: its table (`state` as JSON, beside the columns lists filter on), its aggregate
    (to fold its events as recorded by a past time) and its document."""

    name: str
    table: str
    aggregate: Aggregate[Any]
    state: TypeAdapter[S]
    document: Callable[[str, S, int, date], dict[str, Any]]

    async def one(self, runner: CommandRunner, id: UUID, as_of: PointInTime | None) -> tuple[dict[str, Any], int]:
        """The document and its version, from the read model, or with `as_of` from the events recorded by then."""
        async with runner.pool.acquire() as conn:
            if as_of is None:
                row = await conn.fetchrow(f"SELECT state, version FROM {self.table} WHERE id = $1", id)
                if row is None:
                    raise NotFound(self.name, id)
                state, version = self.state.validate_python(row["state"]), row["version"]
            else:
                state, version = await runner.load(conn, self.aggregate, str(id), until=as_of.until)
                if not version:
                    raise NotFound(self.name, id)
        return self.document(str(id), state, version, as_of.day if as_of else today()), version

    async def page(self, pool: asyncpg.Pool, limit: int, cursor: str | None, **filters: Any) -> Page[dict[str, Any]]:
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
                *wanted.values(),
                *([after] if after else []),
            )
        day = today()
        return page_of(
            [self.document(str(r["id"]), self.state.validate_python(r["state"]), r["version"], day) for r in rows],
            limit,
            lambda item: [item["id"]],
        )


COE_APPLICATIONS = ReadModel("COE application", "coe_applications", commands.COE_APPLICATION, coe_state, coe_document)
VISAS = ReadModel("visa", "visas", commands.VISA, visa_state, grant_document)
STATUS_CHANGES = ReadModel(
    "status change", "status_changes", commands.STATUS_CHANGE, status_change_state, grant_document
)
EVALUATION_REPORTS = ReadModel(
    "evaluation report", "evaluation_reports", commands.EVALUATION_REPORT, evaluation_report_state, grant_document
)


async def ssw_eligibility_of(
    pool: asyncpg.Pool, trainee_id: UUID, field: str, day: date, rules: VisaRules
) -> SswEligibility:
    """The SSW (i) rule on the trainee's plans and exam results as titp.accreditation.v1 told them and the
    evaluation reports received here; 404 for a trainee with no plan."""
    async with pool.acquire() as conn:
        plans = await known.plans_of_trainee(conn, trainee_id)
        results = await known.exams_passed_of(conn, trainee_id)
        reports = await evaluation_reports_of(conn, trainee_id)
    if not plans:
        raise NotFound("trainee", trainee_id)
    return ssw_eligibility(plans, field, day, results, reports, rules)
