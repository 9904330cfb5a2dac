"""Filings due and overdue (DOMAIN §9, §10 `GET /v1/filings`): the quarterly audit reports supervision support
organizations owe about the employers they support under ESD, for the inspection worklist."""

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from services.inspection.api.auth import Reader
from services.inspection.api.inspections import CadenceDep
from services.inspection.api.schemas import FilingDocument
from services.inspection.domain.filings import FilingKind
from services.inspection.projections import filings
from shared.web.app import PoolDep
from shared.web.http import Page, cursor_day_and_id, page_of, today

router = APIRouter(prefix="/v1/filings", tags=["filings"])


@router.get("")
async def list_filings(
    pool: PoolDep,
    cadence: CadenceDep,
    _: Reader,
    kind: FilingKind | None = None,
    supervision_support_organization_id: UUID | None = None,
    implementing_organization_id: UUID | None = None,
    due_before: Annotated[date | None, Query(description="the next report is due before this day")] = None,
    overdue_as_of: Annotated[
        date | None,
        Query(description="overdue on this day: due before it, by the reports filed by then, and still supported"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[FilingDocument]:
    """What supervision support organizations owe, as of `overdue_as_of` (today without it): one item per
    organization and employer supported on that day, ordered by the day the next report is due."""
    after = cursor_day_and_id(cursor)
    async with pool.acquire() as conn:
        items = await filings.list_filings(
            conn,
            day=overdue_as_of or today(),
            months=cadence.quarterly_audit_report_months,
            kind=kind,
            support_organization_id=supervision_support_organization_id,
            employer_id=implementing_organization_id,
            due_before=due_before,
            overdue_as_of=overdue_as_of,
            after=after,
            limit=limit + 1,
        )
    return page_of(items, limit, lambda item: [item.due_on.isoformat(), str(item.id)])
