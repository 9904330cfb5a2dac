"""Applications for certificates of eligibility and the certificates issued on them (DOMAIN §6, §10)."""

from datetime import date
from typing import Annotated
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from services.visa.api.common import Officer, Reader, Resource, Rules
from services.visa.domain import certificate_of_eligibility as coe
from services.visa.projections import known
from services.visa.projections.resources import COE_APPLICATION, coe_applications_of_plan, coe_document, coe_state
from shared.commands import Outcome
from shared.errors import NotFound
from shared.web.http import Accepted, AsOf, Body, Command, Page
from shared.web.app import PoolDep

COE_APPLICATIONS = Resource("COE application", "coe_applications", COE_APPLICATION, coe_state, coe_document)


class ApplyForCoe(Body):
    training_plan_id: UUID = Field(description="A certified stage-i plan, as titp.accreditation.v1 told it")
    applied_on: date


class IssueCoe(Body):
    issued_on: date


class DenyCoe(Body):
    reason: str = Field(min_length=1, max_length=2000)


router = APIRouter(prefix="/v1/coe-applications", tags=["certificates of eligibility"])


@router.post("", status_code=201, response_model=Accepted)
async def apply_for_coe(body: ApplyForCoe, command: Command, _: Officer) -> Response:
    """File an application for a certificate of eligibility for a certified stage-i plan."""
    id = str(uuid4())

    async def work(conn: asyncpg.Connection) -> Outcome:
        plan = await known.plan_for_update(conn, body.training_plan_id)
        restrictions = await known.permit_restrictions(conn, plan and plan.supervising_organization_id)
        others = list((await coe_applications_of_plan(conn, body.training_plan_id)).values())
        return await command.runner.decide_and_apply(
            conn, COE_APPLICATION, id,
            lambda s: coe.apply_for_coe(s, body.training_plan_id, plan, restrictions, others, body.applied_on),
            command.context)

    return await command.run_work(work, created_at=f"{router.prefix}/{id}")


@router.post("/{id}/issue", response_model=Accepted)
async def issue_coe(id: UUID, body: IssueCoe, command: Command, rules: Rules, _: Officer) -> Response:
    """Issue the certificate, valid for 3 months, while the plan is certified and its permit in force."""

    async def work(conn: asyncpg.Connection) -> Outcome:
        plan_id = await conn.fetchval("SELECT training_plan_id FROM coe_applications WHERE id = $1", id)
        if plan_id is None:
            raise NotFound("COE application", id)
        plan = await known.plan_for_update(conn, plan_id)
        restrictions = await known.permit_restrictions(conn, plan and plan.supervising_organization_id)
        return await command.runner.decide_and_apply(
            conn, COE_APPLICATION, str(id), lambda s: coe.issue_coe(s, plan, restrictions, body.issued_on, rules),
            command.context, if_match=command.if_match)

    return await command.run_work(work)


@router.post("/{id}/deny", response_model=Accepted)
async def deny_coe(id: UUID, body: DenyCoe, command: Command, _: Officer) -> Response:
    """Deny the application."""

    def existing(state: coe.CertificateOfEligibility) -> list:
        if not state.exists:
            raise NotFound("COE application", id)
        return coe.deny_coe(state, body.reason)

    return await command.run(COE_APPLICATION, str(id), existing)


@router.get("/{id}")
async def get_coe_application(id: UUID, request: Request, _: Reader, as_of: AsOf = None) -> Response:
    """One application and its certificate; with `as_of`, as recorded then and its status on that day."""
    return await COE_APPLICATIONS.one(request, id, as_of)


@router.get("")
async def list_coe_applications(
    pool: PoolDep,
    _: Reader,
    status: Annotated[coe.Lifecycle | None, Query(description="as recorded: pending, issued, denied, cancelled,"
                                                              " revoked, used")] = None,
    training_plan_id: UUID | None = None,
    trainee_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page:
    """Applications, filtered, in id order, a page at a time."""
    return await COE_APPLICATIONS.page(pool, limit, cursor, lifecycle=status and status.value,
                                       training_plan_id=training_plan_id, trainee_id=trainee_id)
