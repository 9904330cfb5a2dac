"""What immigration answers about a trainee: the way on to Specified Skilled Worker (i) (DOMAIN §6)."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from services.visa.api.common import Reader
from services.visa.domain.ssw import ssw_eligibility
from services.visa.projections import known
from shared.errors import NotFound
from shared.web.http import AsOf, today
from shared.web.app import PoolDep

router = APIRouter(prefix="/v1/trainees", tags=["trainees"])


class SswEligibilityAnswer(BaseModel):
    trainee_id: UUID
    field: str
    as_of: str
    eligible: bool
    exempt_from: list[str]
    unmet: list[str]
    qualifying_training_plan_id: UUID | None


@router.get("/{trainee_id}/ssw-eligibility", response_model=SswEligibilityAnswer)
async def ssw_eligibility_of(
    trainee_id: UUID,
    pool: PoolDep,
    _: Reader,
    field: Annotated[str, Query(min_length=1, max_length=200, description="the SSW field, as a job category")],
    as_of: AsOf = None,
) -> SswEligibilityAnswer:
    """May the trainee move to Specified Skilled Worker (i) without the skills and Japanese tests: completed
    stage ii with its exam passed in the same field, no plan revoked or discontinued. `unmet` names the rules
    that fail."""
    async with pool.acquire() as conn:
        plans = await known.plans_of_trainee(conn, trainee_id)
    if not plans:
        raise NotFound("trainee", trainee_id)
    day = as_of.day if as_of else today()
    answer = ssw_eligibility(plans, field, day)
    return SswEligibilityAnswer(trainee_id=trainee_id, field=field, as_of=day.isoformat(), eligible=answer.eligible,
                                exempt_from=["skills_test", "japanese_test"] if answer.eligible else [],
                                unmet=list(answer.unmet), qualifying_training_plan_id=answer.qualifying_plan_id)
