"""Filings received from implementing organizations (employers) and their supervising organizations over REST
(issue 20 item 4): the implementation-start notice (Art. 17), notices of difficulty in continuing training (Art. 19),
annual implementation reports (Art. 21) and the monthly visit records of stage i. Each is a record of its own with
its due date, the day it was filed and its lateness; each command one call into `commands.py`."""

from collections.abc import Callable
from typing import Annotated
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, Query, Response

from services.accreditation import commands
from services.accreditation.api.auth import Filer, Reader, VisitRecorder
from services.accreditation.api.schemas import (
    FileAnnualReport,
    FileDifficultyNotice,
    FileStartNotice,
    FileVisitRecord,
    Filing,
    FilingKind,
    StartNoticeAccepted,
)
from services.accreditation.api.training_plans import RuleBookDep
from services.accreditation.projections import filings
from shared.commands import Outcome, StoredResponse, UnitOfWork, json_response
from shared.errors import NotFound
from shared.web.app import PoolDep
from shared.web.http import Accepted, AsOf, Command

router = APIRouter(prefix="/v1/implementing-organizations", tags=["filings"])


@router.post("/{id}/start-notices", status_code=201, response_model=StartNoticeAccepted)
async def file_start_notice(
    id: UUID, body: FileStartNotice, command: Command, rules: RuleBookDep, _: Filer
) -> Response:
    """Art. 17: the employer started implementing training; once per employer (`filing.duplicate`). The answer
    carries the receipt number (`receipt_number`, e.g. S-2027-000123) its later filings quote. It names a certified
    plan of the employer (`filing.training_plan`), started on a day of it (`filing.started_on`), filed on or after
    the start (`filing.before_start`); due START_NOTICE_DAYS (30) after the employer's first plan starts."""
    filer = command.principal.only_organization

    async def work(conn: asyncpg.Connection) -> Outcome:
        return await commands.file_start_notice(
            UnitOfWork(command.runner, conn, command.context, command.if_match),
            id,
            training_plan_id=body.training_plan_id,
            started_on=body.started_on,
            filed_on=body.filed_on,
            rule_book=rules,
            filer=filer,
        )

    # As `command.execute`, the answer also carrying the receipt number (recorded with the Idempotency-Key's
    # response, so that a retry answers the same).
    stored = await command.runner.run(
        work, _with_receipt(f"{router.prefix}/{id}/filings"), if_match=command.if_match, idempotency=command.idempotency
    )
    return Response(stored.body, status_code=stored.status, headers=stored.headers)


@router.post("/{id}/difficulty-notices", status_code=201, response_model=Accepted)
async def file_difficulty_notice(
    id: UUID, body: FileDifficultyNotice, command: Command, rules: RuleBookDep, _: Filer
) -> Response:
    """Art. 19: continuing a plan's training became difficult on `occurred_on`, with the measures to continue; the
    plan stays certified (a transfer or a discontinuation is its own command). Type (b) plans: filed through the
    plan's supervising organization (`filing.through_supervising_organization`); type (a): by the employer
    (`filing.own_organization`). The plan was in training that day (`filing.plan_not_in_force`), the receipt number
    is the employer's (`filing.receipt_number`), filed on or after the day (`filing.before_occurrence`); due
    DIFFICULTY_NOTICE_DAYS (14) after it. Shows on the plan's GET (`difficulty_notices`)."""
    filing_id = uuid4()
    return await command.execute(
        commands.file_difficulty_notice,
        id,
        filing_id,
        training_plan_id=body.training_plan_id,
        occurred_on=body.occurred_on,
        filed_on=body.filed_on,
        cause=body.cause,
        measures=body.measures,
        receipt_number=body.receipt_number,
        rule_book=rules,
        filer=command.principal.only_organization,
        created_at=f"{router.prefix}/{id}/filings",
    )


@router.post("/{id}/annual-reports", status_code=201, response_model=Accepted)
async def file_annual_report(
    id: UUID, body: FileAnnualReport, command: Command, rules: RuleBookDep, _: Filer
) -> Response:
    """Art. 21: the report on a fiscal year (April-March); once per employer and year (`filing.duplicate`), after
    the year (`filing.too_early`), by an employer with a certified plan in training in it
    (`filing.no_training_in_year`), quoting its receipt number (`filing.receipt_number`); due 31 May after the
    year."""
    return await command.execute(
        commands.file_annual_report,
        id,
        fiscal_year=body.fiscal_year,
        filed_on=body.filed_on,
        receipt_number=body.receipt_number,
        trainees=body.trainees,
        rule_book=rules,
        filer=command.principal.only_organization,
        created_at=f"{router.prefix}/{id}/filings",
    )


@router.post("/{id}/visit-records", status_code=201, response_model=Accepted)
async def file_visit_record(
    id: UUID, body: FileVisitRecord, command: Command, rules: RuleBookDep, _: VisitRecorder
) -> Response:
    """The supervising organization's monthly visit to the employer in stage i; once per organization, employer and
    month (`filing.duplicate`). The visit is in the month (`filing.visited_on`), the employer had a stage-i plan in
    training under the organization in it (`filing.no_stage_i_plan`), filed on or after the visit
    (`filing.before_visit`); due the last day of the next month. An officer names the organization, or it is the
    one the employer's stage-i plans were under (`filing.supervising_organization`)."""
    return await command.execute(
        commands.file_visit_record,
        id,
        month=body.month,
        visited_on=body.visited_on,
        filed_on=body.filed_on,
        supervising_organization_id=body.supervising_organization_id,
        rule_book=rules,
        filer=command.principal.only_organization,
        created_at=f"{router.prefix}/{id}/filings",
    )


@router.get("/{id}/filings", response_model=list[Filing])
async def list_filings(
    id: UUID,
    pool: PoolDep,
    principal: Reader,
    kind: Annotated[FilingKind | None, Query(description="Only filings of this kind")] = None,
    as_of: AsOf = None,
) -> list[Filing]:
    """The employer's filings, by due date: kind, due_on, filed_on, late_days, receipt_number. With `as_of`, those
    recorded by then. An organization sees those of its own employer only (the employer, and its supervising
    organizations)."""
    async with pool.acquire() as conn:
        if not await _may_see(conn, principal.only_organization, id):
            raise NotFound("implementing organization", id)
    return [
        Filing.model_validate(d)
        for d in await filings.filings_of(pool, id, kind=kind, until=as_of.until if as_of else None)
    ]


async def _may_see(conn: asyncpg.Connection, organization: str | None, id: UUID) -> bool:
    if organization is None or organization == str(id):
        return True
    return organization in await commands.filing_supervisors(conn, id)


def _with_receipt(location: str) -> Callable[[Outcome], StoredResponse]:
    def render(outcome: Outcome) -> StoredResponse:
        receipt = outcome.events[0].data["receipt_number"] if outcome.events else None
        body = {"id": outcome.stream_id, "version": outcome.version, "receipt_number": receipt}
        response = json_response(201, body, version=outcome.version)
        response.headers["location"] = location
        return response

    return render
