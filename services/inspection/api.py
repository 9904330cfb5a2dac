"""Inspections and the worklist (DOMAIN §5, §10)."""

from datetime import date
from typing import Annotated, Literal
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field

from services.inspection.domain import inspection as ins
from contracts.inspection import (
    Finding,
    InspectionOutcome,
    InspectionReason,
    InspectionScheduled,
    TargetType,
)
from services.inspection.domain.rules import Cadence
from services.inspection.handlers import INSPECTION, complete_inspection, existing
from services.inspection.projections import inspection_document, load_state, organization_known
from shared.web.auth import Principal, Role, require_roles
from shared.commands import Outcome
from shared.errors import NotFound
from shared.web.http import Accepted, AsOf, Body, Command, decode_cursor, document_response, Page, page_of, today
from shared.web.problems import InvalidParameter
from shared.web.app import PoolDep

Officer = Annotated[Principal, Depends(require_roles(Role.OTIT))]
Reader = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.AUDITOR, Role.ADMIN))]


def get_cadence(request: Request) -> Cadence:
    return request.app.state.cadence


CadenceDep = Annotated[Cadence, Depends(get_cadence)]


class ScheduleExtraordinaryInspection(Body):
    target_type: TargetType
    target_id: UUID
    reason: Literal["complaint", "tip", "follow_up"]
    due_by: date
    detail: str | None = Field(None, max_length=4000)
    scheduled_on: date | None = Field(None, description="defaults to today in Japan")


class CompleteInspection(Body):
    inspected_on: date
    inspector: str = Field(min_length=1, max_length=200)
    findings: list[Finding] = Field(default_factory=list, max_length=200)
    outcome: InspectionOutcome
    referral: ins.Referral | None = Field(None, description="for the outcome referral")
    improvement_report_due: date | None = Field(None, description="for the outcome recommendation")


class ReceiveImprovementReport(Body):
    received_on: date


router = APIRouter(prefix="/v1/inspections", tags=["inspections"])


@router.post("", status_code=201, response_model=Accepted)
async def schedule_extraordinary_inspection(body: ScheduleExtraordinaryInspection, command: Command,
                                            _: Officer) -> Response:
    """Put an extraordinary inspection on the schedule, after a complaint, a tip or as a follow-up."""
    id = str(uuid4())
    scheduled = InspectionScheduled(target_type=body.target_type, target_id=body.target_id,
                                    reason=InspectionReason(body.reason), scheduled_on=body.scheduled_on or today(),
                                    due_by=body.due_by, detail=body.detail)

    async def work(conn: asyncpg.Connection) -> Outcome:
        known = await organization_known(conn, body.target_id, body.target_type)
        return await command.runner.decide_and_apply(
            conn, INSPECTION, id, lambda state: ins.schedule_extraordinary(state, scheduled, target_known=known),
            command.context)

    return await command.run_work(work, created_at=f"{router.prefix}/{id}")


@router.post("/{id}/complete", response_model=Accepted)
async def complete(id: UUID, body: CompleteInspection, command: Command, cadence: CadenceDep,
                   _: Officer) -> Response:
    """Record the inspector, the findings and the outcome; a referral is published for the registry or
    accreditation to act on; a regular inspection puts the next one on the schedule."""
    referral_id = uuid4()

    async def work(conn: asyncpg.Connection) -> Outcome:
        return await complete_inspection(
            command.runner, conn, id, inspected_on=body.inspected_on, inspector=body.inspector,
            findings=tuple(body.findings), outcome=body.outcome, improvement_report_due=body.improvement_report_due,
            referral=body.referral, referral_id=referral_id, cadence=cadence, context=command.context,
            if_match=command.if_match)

    return await command.run_work(work)


@router.post("/{id}/improvement-report", response_model=Accepted)
async def receive_improvement_report(id: UUID, body: ReceiveImprovementReport, command: Command,
                                     _: Officer) -> Response:
    """Record the improvement report a recommendation asked for; the inspection no longer awaits it."""
    return await command.run(INSPECTION, str(id),
                             existing(id, lambda s: ins.receive_improvement_report(s, body.received_on)))


@router.get("/{id}")
async def get_inspection(id: UUID, request: Request, pool: PoolDep, _: Reader, as_of: AsOf = None) -> Response:
    """One inspection; with `as_of`, as recorded by then, and overdue or not on that day."""
    async with pool.acquire() as conn:
        if as_of is None:
            row = await conn.fetchrow("SELECT state, version FROM inspections WHERE id = $1", id)
            state, version = (load_state(row["state"]), row["version"]) if row else (None, 0)
        else:
            state, version = await request.app.state.runner.load(conn, INSPECTION, str(id), until=as_of.until)
    if not version:
        raise NotFound("inspection", id)
    return document_response(inspection_document(str(id), state, version, as_of.day if as_of else today()), version)


@router.get("")
async def list_inspections(
    pool: PoolDep,
    _: Reader,
    target_type: TargetType | None = None,
    target_id: UUID | None = None,
    status: ins.Status | None = None,
    due_before: Annotated[date | None, Query(description="scheduled and due before this day")] = None,
    overdue_as_of: Annotated[date | None, Query(description="past due on this day and not inspected or cancelled"
                                                            " by then")] = None,
    awaiting_report: Annotated[bool | None, Query(description="a recommendation's improvement report not yet"
                                                              " received")] = None,
    report_overdue_as_of: Annotated[date | None, Query(description="an improvement report due before this day and"
                                                                   " not received by then")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page:
    """The worklist: inspections filtered, ordered by due date, a page at a time."""
    after = decode_cursor(cursor)
    after_due, after_id = _cursor_position(after)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """
            SELECT id, state, version FROM inspections
             WHERE ($1::text IS NULL OR target_type = $1) AND ($2::uuid IS NULL OR target_id = $2)
               AND ($3::text IS NULL OR status = $3)
               AND ($4::date IS NULL OR (status = 'scheduled' AND due_by < $4))
               AND ($5::date IS NULL OR (scheduled_on <= $5 AND due_by < $5 AND (closed_on IS NULL OR closed_on > $5)))
               AND ($6::boolean IS NULL
                    OR (improvement_report_due IS NOT NULL AND improvement_report_received_on IS NULL) = $6)
               AND ($7::date IS NULL OR (improvement_report_due < $7
                    AND (improvement_report_received_on IS NULL OR improvement_report_received_on > $7)))
               AND ($8::date IS NULL OR (due_by, id) > ($8, $9))
             ORDER BY due_by, id LIMIT $10
            """,
            target_type.value if target_type else None, target_id, status.value if status else None, due_before,
            overdue_as_of, awaiting_report, report_overdue_as_of, after_due, after_id, limit + 1,
        )
    day = today()
    return page_of([inspection_document(str(r["id"]), load_state(r["state"]), r["version"], day) for r in rows],
                   limit, lambda item: [item["due_by"], item["id"]])


def _cursor_position(after: list | None) -> tuple[date | None, UUID | None]:
    if not after:
        return None, None
    try:
        return date.fromisoformat(after[0]), UUID(after[1])
    except (ValueError, TypeError, IndexError):
        raise InvalidParameter("query.cursor", "not a cursor this service issued") from None
