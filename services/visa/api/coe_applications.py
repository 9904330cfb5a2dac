"""Applications for certificates of eligibility and the certificates issued on them (DOMAIN §6, §10)."""

from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request, Response

from contracts.registry import Scheme
from services.visa import commands
from services.visa.api.auth import ImmigrationOfficer, Reader
from services.visa.api.schemas import ApplyForCoe, CoeApplicationDocument, DenyCoe, IssueCoe
from services.visa.domain.certificate_of_eligibility import Lifecycle
from services.visa.projections.queries import COE_APPLICATIONS
from shared.web.app import PoolDep
from shared.web.http import Accepted, AsOf, Command, Page, document_response

router = APIRouter(prefix="/v1/coe-applications", tags=["certificates of eligibility"])


@router.post("", status_code=201, response_model=Accepted)
async def apply_for_coe(body: ApplyForCoe, command: Command, request: Request, _: ImmigrationOfficer) -> Response:
    """File an application for a certificate of eligibility for a certified plan to enter on: TITP stage i; TITP
    stage iii for a trainee whose previous stay ended with a departure (`departed_on`, `re_entry_permit_used`)
    without a re-entry permit or more than 3 months before; or an ESD worker's first plan. The certificate names
    the scheme's status of residence and the stage."""
    id = uuid4()
    return await command.execute(
        commands.apply_for_coe,
        id,
        training_plan_id=body.training_plan_id,
        applied_on=body.applied_on,
        departure=body.departure(),
        rules=request.app.state.visa_rules,
        created_at=f"{router.prefix}/{id}",
    )


@router.post("/{id}/issue", response_model=Accepted)
async def issue_coe(id: UUID, body: IssueCoe, command: Command, request: Request, _: ImmigrationOfficer) -> Response:
    """Issue the certificate, valid for 3 months, while the plan is certified and its permit in force."""
    return await command.execute(commands.issue_coe, id, issued_on=body.issued_on, rules=request.app.state.visa_rules)


@router.post("/{id}/deny", response_model=Accepted)
async def deny_coe(id: UUID, body: DenyCoe, command: Command, _: ImmigrationOfficer) -> Response:
    """Deny the application."""
    return await command.execute(commands.deny_coe, id, reason=body.reason)


@router.get("/{id}", response_model=CoeApplicationDocument)
async def get_coe_application(id: UUID, request: Request, _: Reader, as_of: AsOf = None) -> Response:
    """One application and its certificate; with `as_of`, as recorded then and its status on that day."""
    document, version = await COE_APPLICATIONS.one(request.app.state.runner, id, as_of)
    return document_response(CoeApplicationDocument.model_validate(document).model_dump(mode="json"), version)


@router.get("", response_model=Page[CoeApplicationDocument])
async def list_coe_applications(
    pool: PoolDep,
    _: Reader,
    status: Annotated[
        Lifecycle | None, Query(description="as recorded: pending, issued, denied, cancelled, revoked, used")
    ] = None,
    training_plan_id: UUID | None = None,
    trainee_id: UUID | None = None,
    scheme: Annotated[Scheme | None, Query(description="titp or esd")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[dict[str, Any]]:
    """Applications, filtered, in id order, a page at a time."""
    return await COE_APPLICATIONS.page(
        pool,
        limit,
        cursor,
        lifecycle=status and status.value,
        training_plan_id=training_plan_id,
        trainee_id=trainee_id,
        scheme=scheme and scheme.value,
    )
