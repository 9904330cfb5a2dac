"""Changes of status of residence from one stage to the next (DOMAIN §6, §10)."""

from datetime import date
from typing import Annotated
from uuid import UUID, uuid5

import asyncpg
from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from contracts.accreditation import Stage
from services.visa.api.common import Officer, Reader, Resource, Rules
from services.visa.domain import residence
from services.visa.projections import known
from services.visa.projections.resources import STATUS_CHANGE, grant_document, stages_held, status_change_state
from shared.commands import Outcome
from shared.web.http import Accepted, AsOf, Body, Command, Page
from shared.web.app import PoolDep

STATUS_CHANGES = Resource("status change", "status_changes", STATUS_CHANGE, status_change_state, grant_document)

# One change of status per plan: its id follows from the plan's, so a second one meets the first's stream.
_STATUS_CHANGE_IDS = UUID("6c8a0f4e-2f1b-5d3a-9e57-0b4f3c2d1a90")


class ChangeStatus(Body):
    training_plan_id: UUID = Field(description="The next stage's certified plan")
    decided_on: date


router = APIRouter(prefix="/v1/status-changes", tags=["changes of status"])


@router.post("", status_code=201, response_model=Accepted)
async def change_status(body: ChangeStatus, command: Command, rules: Rules, _: Officer) -> Response:
    """Grant the change of status from stage i to ii, or ii to iii, on the next stage's certified plan."""
    id = str(uuid5(_STATUS_CHANGE_IDS, str(body.training_plan_id)))

    async def work(conn: asyncpg.Connection) -> Outcome:
        plan = await known.plan_for_update(conn, body.training_plan_id)
        held = await stages_held(conn, plan.trainee_id) if plan else set()
        return await command.runner.decide_and_apply(
            conn, STATUS_CHANGE, id,
            lambda s: residence.change_status(s, body.training_plan_id, plan, held, body.decided_on, rules),
            command.context)

    return await command.run_work(work, created_at=f"{router.prefix}/{id}")


@router.get("/{id}")
async def get_status_change(id: UUID, request: Request, _: Reader, as_of: AsOf = None) -> Response:
    """One change of status; with `as_of`, only if it was recorded by then."""
    return await STATUS_CHANGES.one(request, id, as_of)


@router.get("")
async def list_status_changes(
    pool: PoolDep,
    _: Reader,
    trainee_id: UUID | None = None,
    training_plan_id: UUID | None = None,
    to_stage: Stage | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page:
    """Changes of status, filtered, in id order, a page at a time."""
    return await STATUS_CHANGES.page(pool, limit, cursor, trainee_id=trainee_id, training_plan_id=training_plan_id,
                                     to_stage=to_stage and to_stage.value)
