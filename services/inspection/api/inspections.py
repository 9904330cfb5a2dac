"""Inspections and the worklist (DOMAIN §5, §10)."""

from datetime import date
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Request, Response

from contracts.inspection import InspectionReason, TargetType
from services.inspection import commands
from services.inspection.api.auth import Filer, Reader
from services.inspection.api.schemas import (
    CompleteInspection,
    InspectionDocument,
    ReceiveImprovementReport,
    ScheduleExtraordinaryInspection,
)
from services.inspection.domain.inspection import Status
from services.inspection.domain.rules import Cadence
from services.inspection.projections import inspections
from shared.errors import NotFound
from shared.web.app import PoolDep, StoreDep
from shared.web.http import Accepted, AsOf, Command, Page, cursor_day_and_id, document_response, page_of, today


async def get_cadence(request: Request) -> Cadence:
    cadence: Cadence = request.app.state.cadence
    return cadence


CadenceDep = Annotated[Cadence, Depends(get_cadence)]

router = APIRouter(prefix="/v1/inspections", tags=["inspections"])


@router.post("", status_code=201, response_model=Accepted)
async def schedule_extraordinary_inspection(
    body: ScheduleExtraordinaryInspection, command: Command, _: Filer
) -> Response:
    """Put an extraordinary inspection on the schedule, after a complaint, a tip or as a follow-up."""
    id = uuid4()
    return await command.execute(
        commands.schedule_extraordinary_inspection,
        id,
        target_type=body.target_type,
        target_id=body.target_id,
        reason=InspectionReason(body.reason),
        scheduled_on=body.scheduled_on or today(),
        due_by=body.due_by,
        detail=body.detail,
        created_at=f"{router.prefix}/{id}",
    )


@router.post("/{id}/complete", response_model=Accepted)
async def complete_inspection(
    id: UUID, body: CompleteInspection, command: Command, cadence: CadenceDep, _: Filer
) -> Response:
    """Record the inspector, the findings and the outcome; a referral is published for the registry or
    accreditation to act on; a regular inspection puts the next one on the schedule."""
    return await command.execute(
        commands.complete_inspection,
        id,
        inspected_on=body.inspected_on,
        inspector=body.inspector,
        findings=body.found(),
        outcome=body.outcome,
        improvement_report_due=body.improvement_report_due,
        referral=body.referred(),
        referral_id=uuid4(),
        cadence=cadence,
    )


@router.post("/{id}/improvement-report", response_model=Accepted)
async def receive_improvement_report(id: UUID, body: ReceiveImprovementReport, command: Command, _: Filer) -> Response:
    """Record the improvement report guidance or a recommendation asked for; the inspection no longer awaits it."""
    return await command.execute(commands.receive_improvement_report, id, received_on=body.received_on)


@router.get("/{id}", response_model=InspectionDocument)
async def get_inspection(id: UUID, pool: PoolDep, store: StoreDep, _: Reader, as_of: AsOf = None) -> Response:
    """One inspection; with `as_of`, as recorded by then, and overdue or not on that day."""
    async with pool.acquire() as conn:
        found = await inspections.find_inspection(conn, store, id, until=as_of.until if as_of else None)
    if found is None:
        raise NotFound("inspection", id)
    state, version = found
    document = inspections.inspection_document(str(id), state, version, as_of.day if as_of else today())
    return document_response(document.model_dump(mode="json"), version)


@router.get("")
async def list_inspections(
    pool: PoolDep,
    _: Reader,
    target_type: TargetType | None = None,
    target_id: UUID | None = None,
    status: Status | None = None,
    due_before: Annotated[date | None, Query(description="scheduled and due before this day")] = None,
    overdue_as_of: Annotated[
        date | None, Query(description="past due on this day and not inspected or cancelled by then")
    ] = None,
    awaiting_report: Annotated[
        bool | None,
        Query(description="guidance's or a recommendation's improvement report not yet received, its wait not closed"),
    ] = None,
    report_overdue_as_of: Annotated[
        date | None,
        Query(description="an improvement report due before this day and not received (or its wait closed) by then"),
    ] = None,
    reason: Annotated[
        InspectionReason | None, Query(description="why it is on the schedule, e.g. early_return, disappearance")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[InspectionDocument]:
    """The worklist: inspections filtered, ordered by due date, a page at a time."""
    after = cursor_day_and_id(cursor)
    async with pool.acquire() as conn:
        items = await inspections.list_inspections(
            conn,
            day=today(),
            target_type=target_type,
            target_id=target_id,
            status=status,
            due_before=due_before,
            overdue_as_of=overdue_as_of,
            awaiting_report=awaiting_report,
            report_overdue_as_of=report_overdue_as_of,
            after=after,
            limit=limit + 1,
            reason=reason,
        )
    return page_of(items, limit, lambda item: [item.due_by.isoformat(), str(item.id)])
