"""Implementing organizations (employers) over REST: the Art. 15 improvement orders addressed to them (§11).

An order is issued by an officer here or on an inspection referral (subscriptions.py); its breach (the deadline
passed, not closed) revokes the employer's plans in force, naming the order (Art. 16(1)). The plan-level route
(POST /v1/training-plans/{id}/improvement-orders) still records the orders it did, on the plan."""

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from services.accreditation import commands
from services.accreditation.api.auth import OtitOfficer, Reader
from services.accreditation.api.schemas import (
    BreachImprovementOrder,
    CloseImprovementOrder,
    EmployerImprovementOrder,
    IssueImprovementOrder,
)
from services.accreditation.projections import employers, registry
from shared.errors import NotFound
from shared.web.app import PoolDep
from shared.web.http import Accepted, Command, today

router = APIRouter(prefix="/v1/implementing-organizations", tags=["implementing organizations"])


@router.post("/{id}/improvement-orders", status_code=201, response_model=Accepted)
async def issue_employer_improvement_order(
    id: UUID, body: IssueImprovementOrder, command: Command, _: OtitOfficer
) -> Response:
    """Order the implementing organization to improve its training by a deadline after the order (Art. 15): the
    answer's `id` is the order's. 404 for an organization the registry's topic has not told of."""
    return await command.execute(
        commands.issue_employer_improvement_order,
        id,
        issued_on=body.issued_on,
        deadline=body.deadline,
        reason=body.reason,
        created_at=f"{router.prefix}/{id}/improvement-orders",
    )


@router.post("/{id}/improvement-orders/{order_id}/close", response_model=Accepted)
async def close_employer_improvement_order(
    id: UUID, order_id: UUID, body: CloseImprovementOrder, command: Command, _: OtitOfficer
) -> Response:
    """The order was complied with."""
    return await command.execute(commands.close_employer_improvement_order, id, order_id, closed_on=body.closed_on)


@router.post("/{id}/improvement-orders/{order_id}/breach", response_model=Accepted)
async def breach_employer_improvement_order(
    id: UUID, order_id: UUID, body: BreachImprovementOrder, command: Command, _: OtitOfficer
) -> Response:
    """The order was breached: revoke the organization's plans in force (Art. 16(1)), each naming the order."""
    return await command.execute(commands.revoke_for_breach, id, order_id, revoked_on=body.revoked_on)


@router.get("/{id}/improvement-orders", response_model=list[EmployerImprovementOrder])
async def list_employer_improvement_orders(
    id: UUID,
    pool: PoolDep,
    principal: Reader,
    on: Annotated[date | None, Query(description="`overdue` as of this day (default: today)")] = None,
) -> list[EmployerImprovementOrder]:
    """The organization's Art. 15 orders, oldest first (an organization sees its own only: the employer, and the
    supervising organizations it belongs to in either scheme, each of them where it has several)."""
    async with pool.acquire() as conn:
        org = await registry.implementing_organization(conn, id)
    supervisors = org.every_supervisor() if org else ()  # issue 20: each of its organizations
    if not principal.may_see(id, *supervisors):
        raise NotFound("implementing organization", id)
    day = on or today()
    return [
        EmployerImprovementOrder(
            **row, overdue=row["closed_on"] is None and row["issued_on"] <= day and row["deadline"] < day
        )
        for row in await employers.improvement_orders(pool, id)
    ]
