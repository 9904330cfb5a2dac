"""Changes of status of residence from one stage to the next (DOMAIN §6, §10)."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from contracts.accreditation import Stage
from contracts.registry import Scheme
from services.visa import commands
from services.visa.api.auth import ImmigrationOfficer, Reader
from services.visa.api.schemas import ChangeStatus, StatusChangeDocument
from services.visa.projections.queries import STATUS_CHANGES
from shared.web.app import PoolDep
from shared.web.http import Accepted, AsOf, Command, Page, document_response

router = APIRouter(prefix="/v1/status-changes", tags=["changes of status"])


@router.post("", status_code=201, response_model=Accepted)
async def change_status(body: ChangeStatus, command: Command, request: Request, _: ImmigrationOfficer) -> Response:
    """Grant the change of status to a certified plan: TITP from stage i to ii, or ii to iii, on the next stage's
    plan; ESD to the worker's new plan after a transfer to another employer, or for the extension year."""
    return await command.execute(
        commands.change_status,
        body.training_plan_id,
        decided_on=body.decided_on,
        rules=request.app.state.visa_rules,
        created_at=f"{router.prefix}/{commands.status_change_id(body.training_plan_id)}",
    )


@router.get("/{id}", response_model=StatusChangeDocument)
async def get_status_change(id: UUID, request: Request, _: Reader, as_of: AsOf = None) -> Response:
    """One change of status; with `as_of`, only if it was recorded by then."""
    document, version = await STATUS_CHANGES.one(request.app.state.runner, id, as_of)
    return document_response(StatusChangeDocument.model_validate(document).model_dump(mode="json"), version)


@router.get("", response_model=Page[StatusChangeDocument])
async def list_status_changes(
    pool: PoolDep,
    _: Reader,
    trainee_id: UUID | None = None,
    training_plan_id: UUID | None = None,
    to_stage: Stage | None = None,
    scheme: Annotated[Scheme | None, Query(description="titp or esd")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[dict[str, Any]]:
    """Changes of status, filtered, in id order, a page at a time."""
    return await STATUS_CHANGES.page(
        pool,
        limit,
        cursor,
        trainee_id=trainee_id,
        training_plan_id=training_plan_id,
        to_stage=to_stage and to_stage.value,
        scheme=scheme and scheme.value,
    )
