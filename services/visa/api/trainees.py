"""What immigration answers about a trainee: the way on to Specified Skilled Worker (i) (DOMAIN §6, §9, §11)."""

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request

from services.visa.api.auth import Reader
from services.visa.api.schemas import SswEligibilityAnswer, TraineeResidence
from services.visa.projections.pauses import residence_of
from services.visa.projections.queries import ssw_eligibility_of
from shared.web.app import PoolDep
from shared.web.http import EARLIEST_DATE, LATEST_DATE, AsOf, today

router = APIRouter(prefix="/v1/trainees", tags=["trainees"])


@router.get("/{trainee_id}/ssw-eligibility", response_model=SswEligibilityAnswer)
async def get_ssw_eligibility(
    trainee_id: UUID,
    pool: PoolDep,
    request: Request,
    _: Reader,
    field: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description="the SSW (i) field, as shared.reference names it (construction, food_manufacturing, ...)",
        ),
    ],
    as_of: AsOf = None,
) -> SswEligibilityAnswer:
    """May the trainee move to Specified Skilled Worker (i). The path is the scheme of the trainee's latest
    certified plan. TITP (`ssw.titp_exempt_after_stage_ii`): having completed stage ii, at least 2 years 10
    months of TITP, grade 3 passed or the evaluation report received, no plan revoked or discontinued but for
    the employer's bankruptcy or a transfer: without the Japanese test, and without the skills test in a field
    a completed stage-ii plan's operation relates to. ESD
    (`ssw.esd_grade_3_and_japanese_a2`): no exemption; an ESD plan in the field, grade 3 or the SSW skills test,
    and Japanese A2 passed. `rule` names the path, `unmet` the rules that fail."""
    day = as_of.day if as_of else today()
    answer = await ssw_eligibility_of(pool, trainee_id, field, day, request.app.state.visa_rules)
    return SswEligibilityAnswer(
        trainee_id=trainee_id,
        field=field,
        as_of=day,
        scheme=answer.scheme,
        rule=answer.rule,
        eligible=answer.eligible,
        exempt_from=list(answer.exempt_from),
        tests_required=list(answer.tests_required),
        field_related=answer.field_related,
        skills_evidence=list(answer.skills_evidence),
        titp_days_completed=answer.titp_days_completed,
        titp_days_required=answer.titp_days_required,
        unmet=list(answer.unmet),
        qualifying_training_plan_id=answer.qualifying_plan_id,
        exams_passed=list(answer.exams_passed),
    )


@router.get("/{trainee_id}/residence", response_model=TraineeResidence)
async def get_residence(
    trainee_id: UUID,
    pool: PoolDep,
    _: Reader,
    on: Annotated[
        date | None,
        Query(ge=EARLIEST_DATE, le=LATEST_DATE, description="The day asked (default: today in Japan)"),
    ] = None,
) -> TraineeResidence:
    """The trainee on a day: the latest status of residence granted here (visa or change of status) and its period
    of stay, and their plans with their pauses (pregnancy, childbirth, illness, injury): `paused`, `paused_since`. A
    pause never cancels or shortens the status of residence (issue 25); a plan resumed ends later by the days paused.
    404 for a trainee with no plan known here."""
    return TraineeResidence.model_validate(await residence_of(pool, trainee_id, on or today()))
