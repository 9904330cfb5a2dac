"""Sending organizations, recommended by a public body of their country (and from an MoC country on its government's
certified list) until withdrawn (DOMAIN §1, §2, §10, §11)."""

from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Request, Response

from services.registry import commands
from services.registry.api.auth import OtitOfficer, Reader, StatisticsReader
from services.registry.api.schemas import (
    ApproveSendingOrganization,
    SendingOrganizationDocument,
    SendingOrganizationFeeFlags,
    WithdrawSendingOrganization,
)
from services.registry.domain.sending_organization import Status
from services.registry.projections.fee_flags import fee_flags
from services.registry.projections.reading import read_document
from services.registry.projections.sending import list_sending_organizations as listed
from services.registry.projections.sending import sending_organization_document
from shared.errors import NotFound
from shared.web.app import PoolDep
from shared.web.http import Accepted, AsOf, Command, Page, cursor_uuid, decode_cursor, document_response, page_of
from shared.web.problems import Forbidden


async def moc_countries(request: Request) -> frozenset[str]:
    countries: frozenset[str] = request.app.state.moc_countries
    return countries


router = APIRouter(prefix="/v1/sending-organizations", tags=["sending organizations"])


@router.post("", status_code=201, response_model=Accepted)
async def approve_sending_organization(
    body: ApproveSendingOrganization,
    command: Command,
    _: OtitOfficer,
    countries: Annotated[frozenset[str], Depends(moc_countries)],
) -> Response:
    """Record a sending organization: recommended by a public body of its country (`recommendation_reference`),
    and from a country with a Memorandum of Cooperation also on its government's certified list
    (`approval_reference`)."""
    id = uuid4()
    return await command.execute(
        commands.approve_sending_organization,
        id,
        approval=body.approval(),
        moc_countries=countries,
        created_at=f"{router.prefix}/{id}",
    )


@router.post("/{id}/withdraw", response_model=Accepted)
async def withdraw_sending_organization(
    id: UUID, body: WithdrawSendingOrganization, command: Command, _: OtitOfficer
) -> Response:
    """Withdraw the approval; every agreement with the organization ends the same day."""
    return await command.execute(
        commands.withdraw_sending_organization, id, reason=body.reason, withdrawn_on=body.withdrawn_on
    )


# Supervising organizations read these to choose whom they sign agreements with: no organization owns them.
@router.get("/{id}", response_model=SendingOrganizationDocument)
async def get_sending_organization(
    id: UUID, request: Request, pool: PoolDep, _: Reader, as_of: AsOf = None
) -> Response:
    """One sending organization; with `as_of`, as recorded then."""
    document = await read_document(
        pool,
        request.app.state.runner,
        "sending_organizations",
        commands.SENDING_ORGANIZATION,
        sending_organization_document,
        id,
        as_of.until if as_of else None,
    )
    if document is None:
        raise NotFound("sending organization", id)
    shown = SendingOrganizationDocument.model_validate(document)
    return document_response(shown.model_dump(mode="json"), shown.version)


@router.get("", response_model=Page[SendingOrganizationDocument])
async def list_sending_organizations(
    pool: PoolDep,
    principal: Reader,
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    status: Status | None = None,
    flagged: Annotated[
        bool | None,
        Query(
            description="Officers and auditors: only those accreditation flagged (true) or never flagged (false) for"
            " a trainee's fees above its ceiling (issue 25); details: GET .../{id}/fee-flags"
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[dict[str, Any]]:
    """Sending organizations, filtered, in id order, a page at a time."""
    if flagged is not None and principal.is_organization_member:
        raise Forbidden("the fee flags are the agency's: officers and auditors only")
    items = await listed(
        pool,
        country=country,
        status=status,
        flagged=flagged,
        after=cursor_uuid(decode_cursor(cursor)),
        limit=limit + 1,
    )
    return page_of(items, limit, lambda item: [item["id"]])


@router.get("/{id}/fee-flags", response_model=SendingOrganizationFeeFlags)
async def get_fee_flags(id: UUID, pool: PoolDep, _: StatisticsReader) -> SendingOrganizationFeeFlags:
    """Accreditation's flags of this sending organization (issue 25): each plan whose trainee declared paying more
    than the ceiling before coming (`SendingOrganizationFeesFlagged` on titp.accreditation.v1), oldest first."""
    found = await pool.fetchval("SELECT EXISTS (SELECT 1 FROM sending_organizations WHERE id = $1)", id)
    if not found:
        raise NotFound("sending organization", id)
    return SendingOrganizationFeeFlags.model_validate(
        {"sending_organization_id": id, "flags": await fee_flags(pool, id)}
    )
