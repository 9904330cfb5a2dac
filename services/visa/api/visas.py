"""Visas issued at embassies and consulates on certificates of eligibility (DOMAIN §6, §10)."""

from datetime import date
from typing import Annotated
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from services.visa.api.common import Officer, Reader, Resource, Rules
from services.visa.domain import certificate_of_eligibility as coe
from services.visa.domain import residence
from services.visa.projections.resources import COE_APPLICATION, VISA, grant_document, visa_state
from shared.commands import Outcome
from shared.web.http import Accepted, AsOf, Body, Command, Page
from shared.web.app import PoolDep

VISAS = Resource("visa", "visas", VISA, visa_state, grant_document)


class IssueVisa(Body):
    coe_id: UUID = Field(description="The certificate of eligibility (its application's id)")
    post: str = Field(min_length=1, max_length=200, description="The embassy or consulate issuing it")
    issued_on: date


router = APIRouter(prefix="/v1/visas", tags=["visas"])


@router.post("", status_code=201, response_model=Accepted)
async def issue_visa(body: IssueVisa, command: Command, rules: Rules, _: Officer) -> Response:
    """Issue a visa on a certificate that is valid, unused and not revoked; the certificate is then used."""
    id = str(uuid4())

    async def work(conn: asyncpg.Connection) -> Outcome:
        runner, coe_id = command.runner, str(body.coe_id)
        # The certificate's stream version guards it: of two visas on one certificate, one commits.
        certificate, version = await runner.load(conn, COE_APPLICATION, coe_id)
        await runner.apply(conn, COE_APPLICATION, coe_id, certificate, version,
                           coe.use_for_visa(certificate, UUID(id), body.issued_on), command.context)
        return await runner.decide_and_apply(
            conn, VISA, id,
            lambda s: residence.issue_visa(s, body.coe_id, certificate, body.post, body.issued_on, rules),
            command.context)

    return await command.run_work(work, created_at=f"{router.prefix}/{id}")


@router.get("/{id}")
async def get_visa(id: UUID, request: Request, _: Reader, as_of: AsOf = None) -> Response:
    """One visa; with `as_of`, only if it was recorded by then."""
    return await VISAS.one(request, id, as_of)


@router.get("")
async def list_visas(
    pool: PoolDep,
    _: Reader,
    trainee_id: UUID | None = None,
    training_plan_id: UUID | None = None,
    coe_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page:
    """Visas, filtered, in id order, a page at a time."""
    return await VISAS.page(pool, limit, cursor, trainee_id=trainee_id, training_plan_id=training_plan_id,
                            coe_id=coe_id)
