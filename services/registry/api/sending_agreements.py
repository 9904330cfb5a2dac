"""Sending agreements between supervising and sending organizations (DOMAIN §2, §10)."""

from datetime import date
from typing import Annotated, Literal
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, Depends, Query, Request, Response

from services.registry.api.reading import read_document
from services.registry.api.sending_organizations import SENDING_AGREEMENT, SENDING_ORGANIZATION
from services.registry.api.supervising_organizations import SUPERVISING_ORGANIZATION, Officer
from shared.web.http import Accepted, Body
from services.registry.domain import sending_agreement as sa
from contracts.registry import SendingAgreementSigned
from services.registry.projections.sending import (
    agreements_in_force,
    lock_sending_organization,
    sending_agreement_document,
)
from shared.web.auth import Principal, Role, require_roles
from shared.commands import Outcome
from shared.errors import NotFound
from shared.web.http import AsOf, Command, Page, cursor_uuid, decode_cursor, document_response, page_of
from shared.web.app import PoolDep

Reader = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.SUPERVISING_ORG, Role.AUDITOR, Role.ADMIN))]


class SignSendingAgreement(Body):
    sending_organization_id: UUID
    signed_on: date


router = APIRouter(tags=["sending agreements"])


@router.post("/v1/supervising-organizations/{id}/sending-agreements", status_code=201, response_model=Accepted)
async def sign_sending_agreement(id: UUID, body: SignSendingAgreement, command: Command, _: Officer) -> Response:
    """Register an agreement with an approved sending organization, signed while the permit is in force."""
    agreement_id = str(uuid4())
    signature = SendingAgreementSigned(supervising_organization_id=id, **body.model_dump())

    async def work(conn: asyncpg.Connection) -> Outcome:
        runner = command.runner
        supervising_organization, _ = await runner.load(conn, SUPERVISING_ORGANIZATION, str(id))
        if not supervising_organization.exists:
            raise NotFound("supervising organization", id)
        await lock_sending_organization(conn, body.sending_organization_id)
        sending_organization, _ = await runner.load(conn, SENDING_ORGANIZATION, str(body.sending_organization_id))
        in_force = await agreements_in_force(conn, sending_organization_id=body.sending_organization_id,
                                             supervising_organization_id=id)
        return await runner.decide_and_apply(
            conn, SENDING_AGREEMENT, agreement_id,
            lambda state: sa.sign_sending_agreement(state, signature, supervising_organization,
                                                    sending_organization, in_force[0] if in_force else None),
            command.context)

    return await command.run_work(work, created_at=f"/v1/sending-agreements/{agreement_id}")


def _visible_to(principal: Principal, supervising_organization_id: str) -> bool:
    return not principal.is_organization_member or principal.acts_for(supervising_organization_id)


@router.get("/v1/supervising-organizations/{id}/sending-agreements")
async def list_sending_agreements(
    id: UUID,
    pool: PoolDep,
    principal: Reader,
    status: Literal["in_force", "ended"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page:
    """A supervising organization's sending agreements, in id order, a page at a time."""
    if not _visible_to(principal, str(id)):
        raise NotFound("supervising organization", id)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """
            SELECT document FROM sending_agreements
             WHERE supervising_organization_id = $1 AND ($2::text IS NULL OR status = $2)
               AND ($3::uuid IS NULL OR id > $3)
             ORDER BY id LIMIT $4
            """,
            id, status, cursor_uuid(decode_cursor(cursor)), limit + 1,
        )
    return page_of([r["document"] for r in rows], limit, lambda item: [item["id"]])


@router.get("/v1/sending-agreements/{id}")
async def get_sending_agreement(id: UUID, request: Request, principal: Reader, as_of: AsOf = None) -> Response:
    """One sending agreement; with `as_of`, as recorded then."""
    document = await read_document(request, "sending_agreements", SENDING_AGREEMENT, sending_agreement_document,
                                   id, as_of)
    if document is None or not _visible_to(principal, document["supervising_organization_id"]):
        raise NotFound("sending agreement", id)
    return document_response(document, document["version"])
