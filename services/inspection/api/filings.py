"""Filings due, overdue and filed (DOMAIN §9, §10 `GET /v1/filings`, §11): the quarterly audit reports supervision
support organizations owe about the employers they support under ESD; the implementation-start notices and annual
implementation reports implementing organizations owe; the business reports and stage-i visit records supervising
organizations owe (issue 20). An overdue one can lead to an extraordinary inspection of the organization owing it."""

from datetime import date
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Request, Response

from services.inspection import commands
from services.inspection.api.auth import Filer, Reader
from services.inspection.api.inspections import CadenceDep
from services.inspection.api.schemas import FilingDocument, OpenInspectionFromFiling
from services.inspection.domain.filings import FilingKind, FilingStatus
from services.inspection.projections import filings
from shared.filings import FilingDues
from shared.web.app import PoolDep
from shared.web.http import Accepted, Command, Page, cursor_day_and_id, page_of, today


async def get_filing_dues(request: Request) -> FilingDues:
    dues: FilingDues = getattr(request.app.state, "filing_dues", None) or FilingDues()
    return dues


FilingDuesDep = Annotated[FilingDues, Depends(get_filing_dues)]

router = APIRouter(prefix="/v1/filings", tags=["filings"])


@router.get("")
async def list_filings(
    pool: PoolDep,
    cadence: CadenceDep,
    dues: FilingDuesDep,
    _: Reader,
    kind: FilingKind | None = None,
    supervision_support_organization_id: UUID | None = None,
    implementing_organization_id: UUID | None = None,
    supervising_organization_id: UUID | None = None,
    due_before: Annotated[date | None, Query(description="due before this day")] = None,
    overdue_as_of: Annotated[
        date | None,
        Query(description="only those overdue on this day: due before it, not filed by then, and still owed"),
    ] = None,
    status: Annotated[
        FilingStatus | None, Query(description="due, overdue or filed on the day (`overdue_as_of`, `as_of` or today)")
    ] = None,
    as_of: Annotated[date | None, Query(description="the day the list is as of (today without it)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[FilingDocument]:
    """What organizations owe, as of `overdue_as_of`, `as_of` or today: one item per filing owed by then (a
    quarterly audit report: the next one per organization and employer), filed or not, ordered by due day.
    A duty a supervising (or support) organization no longer owes, its permit or support ended, leaves the list
    unless it was filed."""
    after = cursor_day_and_id(cursor)
    if overdue_as_of is not None and status not in (None, FilingStatus.OVERDUE):
        return Page[FilingDocument](items=[], next_cursor=None)
    async with pool.acquire() as conn:
        items = await filings.list_owed_filings(
            conn,
            day=overdue_as_of or as_of or today(),
            months=cadence.quarterly_audit_report_months,
            dues=dues,
            kind=kind,
            support_organization_id=supervision_support_organization_id,
            employer_id=implementing_organization_id,
            supervising_organization_id=supervising_organization_id,
            due_before=due_before,
            status=FilingStatus.OVERDUE if overdue_as_of is not None else status,
            after=after,
            limit=limit + 1,
        )
    return page_of(items, limit, lambda item: [item.due_on.isoformat(), str(item.id)])


@router.post("/{id}/inspection", status_code=201, response_model=Accepted)
async def open_inspection(
    id: UUID,
    body: OpenInspectionFromFiling,
    command: Command,
    cadence: CadenceDep,
    dues: FilingDuesDep,
    _: Filer,
) -> Response:
    """Open an extraordinary inspection (reason overdue_filing) of the organization owing the filing: only while it
    is overdue on `scheduled_on` (`filing.not_overdue`), once (`filing.inspection_open`). Answers the
    inspection's id."""
    inspection_id = uuid4()
    return await command.execute(
        commands.open_inspection_for_overdue_filing,
        inspection_id,
        filing_id=id,
        scheduled_on=body.scheduled_on or today(),
        due_by=body.due_by,
        reason=body.reason,
        cadence=cadence,
        dues=dues,
        created_at=f"/v1/inspections/{inspection_id}",
    )
