"""Sending organizations, approved under a Memorandum of Cooperation until withdrawn (DOMAIN §1, §2, §10)."""

from datetime import date
from typing import Annotated, Literal
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field

from services.registry.api.reading import read_document
from services.registry.api.supervising_organizations import Officer
from shared.web.http import Accepted, Body
from services.registry.domain import sending_agreement as sa
from services.registry.domain import sending_organization as so
from contracts.registry import SendingOrganizationApproved
from services.registry.projections.sending import (
    agreements_in_force,
    lock_sending_organization,
    project_sending_agreement,
    project_sending_organization,
    sending_organization_document,
)
from shared.web.auth import Principal, Role, require_roles
from shared.commands import Aggregate, Outcome
from shared.errors import NotFound
from shared.web.http import AsOf, Command, Page, cursor_uuid, decode_cursor, document_response, page_of
from shared.web.app import PoolDep

SENDING_ORGANIZATION = Aggregate("sending-organization", so.SendingOrganization(), so.evolve,
                                 project_sending_organization)
SENDING_AGREEMENT = Aggregate("sending-agreement", sa.SendingAgreement(), sa.evolve, project_sending_agreement)

# Supervising organizations read the list to choose whom they sign agreements with.
Reader = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.SUPERVISING_ORG, Role.AUDITOR, Role.ADMIN))]


def moc_countries(request: Request) -> frozenset[str]:
    return request.app.state.moc_countries


class ApproveSendingOrganization(Body):
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2, e.g. VN")
    approval_reference: str = Field(min_length=1, max_length=200,
                                    description="the origin country's approval, as its government numbers it")
    approved_on: date


class WithdrawSendingOrganization(Body):
    reason: str = Field(min_length=1, max_length=2000)
    withdrawn_on: date


router = APIRouter(prefix="/v1/sending-organizations", tags=["sending organizations"])


@router.post("", status_code=201, response_model=Accepted)
async def approve_sending_organization(body: ApproveSendingOrganization, command: Command, _: Officer,
                                       countries: Annotated[frozenset[str], Depends(moc_countries)]) -> Response:
    """Record a sending organization approved by a country with a Memorandum of Cooperation."""
    id = str(uuid4())
    approval = SendingOrganizationApproved(**body.model_dump())
    return await command.run(SENDING_ORGANIZATION, id,
                             lambda state: so.approve_sending_organization(state, approval, countries),
                             created_at=f"{router.prefix}/{id}")


@router.post("/{id}/withdraw", response_model=Accepted)
async def withdraw_sending_organization(id: UUID, body: WithdrawSendingOrganization, command: Command,
                                        _: Officer) -> Response:
    """Withdraw the approval; every agreement with the organization ends the same day."""

    def decide(state: so.SendingOrganization) -> list:
        if not state.exists:
            raise NotFound("sending organization", id)
        return so.withdraw_sending_organization(state, body.reason, body.withdrawn_on)

    async def work(conn: asyncpg.Connection) -> Outcome:
        runner = command.runner
        await lock_sending_organization(conn, id)
        outcome = await runner.decide_and_apply(conn, SENDING_ORGANIZATION, str(id), decide, command.context,
                                                if_match=command.if_match)
        reason = f"the sending organization's approval was withdrawn: {body.reason}"
        for agreement_id in await agreements_in_force(conn, sending_organization_id=id):
            await runner.decide_and_apply(conn, SENDING_AGREEMENT, str(agreement_id),
                                          lambda s: sa.end_sending_agreement(s, body.withdrawn_on, reason),
                                          command.context)
        return outcome

    return await command.run_work(work)


@router.get("/{id}")
async def get_sending_organization(id: UUID, request: Request, _: Reader, as_of: AsOf = None) -> Response:
    """One sending organization; with `as_of`, as recorded then."""
    document = await read_document(request, "sending_organizations", SENDING_ORGANIZATION,
                                   sending_organization_document, id, as_of)
    if document is None:
        raise NotFound("sending organization", id)
    return document_response(document, document["version"])


@router.get("")
async def list_sending_organizations(
    pool: PoolDep,
    _: Reader,
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    status: Literal["approved", "withdrawn"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page:
    """Sending organizations, filtered, in id order, a page at a time."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """
            SELECT document FROM sending_organizations
             WHERE ($1::text IS NULL OR country = $1) AND ($2::text IS NULL OR status = $2)
               AND ($3::uuid IS NULL OR id > $3)
             ORDER BY id LIMIT $4
            """,
            country, status, cursor_uuid(decode_cursor(cursor)), limit + 1,
        )
    return page_of([r["document"] for r in rows], limit, lambda item: [item["id"]])
