"""Specified Skilled Worker (i) without the skills and Japanese tests (DOMAIN §6).

A trainee qualifies on a day when, by that day, they completed stage ii with its exam (grade 3)
passed in the job category of the requested field, and none of their plans was revoked or
discontinued (good standing).
"""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from contracts.accreditation import ExamResult, PlanStatus
from services.visa.domain.known import KnownPlan
from services.visa.domain.rules import SSW_QUALIFYING_STAGE


@dataclass(frozen=True)
class SswEligibility:
    eligible: bool
    unmet: tuple[str, ...]  # the rules that fail, by name
    qualifying_plan_id: UUID | None


def ssw_eligibility(plans: list[KnownPlan], field: str, day: date) -> SswEligibility:
    def ended(status: PlanStatus) -> list[KnownPlan]:
        return [p for p in plans if p.status is status and p.ended_on is not None and p.ended_on <= day]

    completed = [p for p in ended(PlanStatus.COMPLETED) if p.stage is SSW_QUALIFYING_STAGE]
    passed = [p for p in completed if p.exam_result is ExamResult.PASSED]
    in_field = [p for p in passed if p.job_category == field]
    unmet = []
    if not completed:
        unmet.append("ssw.stage_ii_not_completed")
    elif not passed:
        unmet.append("ssw.exam_not_passed")
    elif not in_field:
        unmet.append("ssw.field_differs")
    if ended(PlanStatus.REVOKED):
        unmet.append("ssw.plan_revoked")
    if ended(PlanStatus.DISCONTINUED):
        unmet.append("ssw.plan_discontinued")
    return SswEligibility(not unmet, tuple(unmet), in_field[0].plan_id if in_field else None)
