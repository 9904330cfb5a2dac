"""What the visa service knows of other services' facts, as their topics told it.

Decisions receive these as plain data, read from the local read model inside the command's
transaction: a training plan (titp.accreditation.v1) and the restrictions on its supervising
organization's permit (titp.registry.v1).
"""

from dataclasses import dataclass
from datetime import date
from typing import Literal
from uuid import UUID

from contracts.accreditation import ExamResult, PlanStatus, Stage


@dataclass(frozen=True)
class KnownPlan:
    plan_id: UUID
    trainee_id: UUID
    stage: Stage
    job_category: str
    supervising_organization_id: UUID | None
    start_date: date
    end_date: date
    status: PlanStatus
    certified_on: date | None = None
    ended_on: date | None = None  # completed, discontinued or revoked on
    exam_result: ExamResult | None = None


@dataclass(frozen=True)
class PermitRestriction:
    """A revocation (from a day, for good) or a suspension (from..until) of a permit."""

    kind: Literal["revoked", "suspended"]
    from_date: date
    until_date: date | None = None

    def covers(self, day: date) -> bool:
        return self.from_date <= day and (self.until_date is None or day <= self.until_date)


def restriction_on(restrictions: list[PermitRestriction], day: date) -> PermitRestriction | None:
    """The restriction in force that day; a revocation before a suspension."""
    covering = sorted((r for r in restrictions if r.covers(day)), key=lambda r: r.kind != "revoked")
    return covering[0] if covering else None
