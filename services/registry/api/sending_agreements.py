"""Sending agreements between supervising and sending organizations (DOMAIN §2, §10)."""

from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request, Response

from contracts.registry import Scheme
from services.registry import commands
from services.registry.api.auth import OtitOfficer, Reader
from services.registry.api.schemas import SendingAgreementDocument, SignSendingAgreement
from services.registry.domain.sending_agreement import Status
from services.registry.projections.reading import read_document
from services.registry.projections.sending import list_sending_agreements as listed
from services.registry.projections.sending import sending_agreement_document
from shared.errors import NotFound
from shared.web.app import PoolDep
from shared.web.http import Accepted, AsOf, Command, Page, cursor_uuid, decode_cursor, document_response, page_of

router = APIRouter(tags=["sending agreements"])


@router.post("/v1/supervising-organizations/{id}/sending-agreements", status_code=201, response_model=Accepted)
async def sign_sending_agreement(id: UUID, body: SignSendingAgreement, command: Command, _: OtitOfficer) -> Response:
    """Register an agreement with an approved sending organization, signed while the permit is in force."""
    agreement_id = uuid4()
    return await command.execute(
        commands.sign_sending_agreement,
        agreement_id,
        supervising_organization_id=id,
        sending_organization_id=body.sending_organization_id,
        signed_on=body.signed_on,
        created_at=f"/v1/sending-agreements/{agreement_id}",
    )


@router.post("/v1/supervision-support-organizations/{id}/sending-agreements", status_code=201, response_model=Accepted)
async def sign_support_sending_agreement(
    id: UUID, body: SignSendingAgreement, command: Command, _: OtitOfficer
) -> Response:
    """Register a supervision support organization's agreement (ESD) with an approved sending organization,
    signed while its ESD permit is in force."""
    agreement_id = uuid4()
    return await command.execute(
        commands.sign_sending_agreement,
        agreement_id,
        supervising_organization_id=id,
        sending_organization_id=body.sending_organization_id,
        signed_on=body.signed_on,
        scheme=Scheme.ESD,
        created_at=f"/v1/sending-agreements/{agreement_id}",
    )


@router.get("/v1/supervising-organizations/{id}/sending-agreements", response_model=Page[SendingAgreementDocument])
async def list_sending_agreements(
    id: UUID,
    pool: PoolDep,
    principal: Reader,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[dict[str, Any]]:
    """A supervising organization's sending agreements, in id order, a page at a time."""
    if not principal.may_see(id):
        raise NotFound("supervising organization", id)
    items = await listed(
        pool, supervising_organization_id=id, status=status, after=cursor_uuid(decode_cursor(cursor)), limit=limit + 1
    )
    return page_of(items, limit, lambda item: [item["id"]])


@router.get("/v1/sending-agreements/{id}", response_model=SendingAgreementDocument)
async def get_sending_agreement(
    id: UUID, request: Request, pool: PoolDep, principal: Reader, as_of: AsOf = None
) -> Response:
    """One sending agreement; with `as_of`, as recorded then."""
    document = await read_document(
        pool,
        request.app.state.runner,
        "sending_agreements",
        commands.SENDING_AGREEMENT,
        sending_agreement_document,
        id,
        as_of.until if as_of else None,
    )
    if document is None or not principal.may_see(document["supervising_organization_id"]):
        raise NotFound("sending agreement", id)
    shown = SendingAgreementDocument.model_validate(document)
    return document_response(shown.model_dump(mode="json"), shown.version)
