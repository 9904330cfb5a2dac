"""Visas issued at embassies and consulates on certificates of eligibility (DOMAIN §6, §10)."""

from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request, Response

from contracts.registry import Scheme
from services.visa import commands
from services.visa.api.auth import ImmigrationOfficer, Reader
from services.visa.api.schemas import IssueVisa, VisaDocument
from services.visa.projections.queries import VISAS
from shared.web.app import PoolDep
from shared.web.http import Accepted, AsOf, Command, Page, document_response

router = APIRouter(prefix="/v1/visas", tags=["visas"])


@router.post("", status_code=201, response_model=Accepted)
async def issue_visa(body: IssueVisa, command: Command, request: Request, _: ImmigrationOfficer) -> Response:
    """Issue a visa on a certificate that is valid, unused and not revoked; the certificate is then used. It
    grants the certificate's status of residence (TITP stage i, or ESD) with its period of stay."""
    id = uuid4()
    return await command.execute(
        commands.issue_visa,
        id,
        coe_id=body.coe_id,
        post=body.post,
        issued_on=body.issued_on,
        rules=request.app.state.visa_rules,
        created_at=f"{router.prefix}/{id}",
    )


@router.get("/{id}", response_model=VisaDocument)
async def get_visa(id: UUID, request: Request, _: Reader, as_of: AsOf = None) -> Response:
    """One visa; with `as_of`, only if it was recorded by then."""
    document, version = await VISAS.one(request.app.state.runner, id, as_of)
    return document_response(VisaDocument.model_validate(document).model_dump(mode="json"), version)


@router.get("", response_model=Page[VisaDocument])
async def list_visas(
    pool: PoolDep,
    _: Reader,
    trainee_id: UUID | None = None,
    training_plan_id: UUID | None = None,
    coe_id: UUID | None = None,
    scheme: Annotated[Scheme | None, Query(description="titp or esd")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[dict[str, Any]]:
    """Visas, filtered, in id order, a page at a time."""
    return await VISAS.page(
        pool,
        limit,
        cursor,
        trainee_id=trainee_id,
        training_plan_id=training_plan_id,
        coe_id=coe_id,
        scheme=scheme and scheme.value,
    )
