"""What the visa service knows of other services' facts, as their topics told it.

Decisions receive these as plain data, read from the local read model inside the command's
transaction: a training plan (titp.accreditation.v1) and the restrictions on its supervising
organization's permit (titp.registry.v1).
"""

from dataclasses import dataclass
from datetime import date
from typing import Literal
from uuid import UUID

from contracts.accreditation import DiscontinuationReason, ExamPassed, ExamResult, PausePeriod, PlanStatus, Stage
from contracts.registry import Scheme


def field_name(value: str) -> str:
    """A field as compared: lower case, words joined by underscores ("Food manufacturing" = "food_manufacturing")."""
    return "_".join(value.lower().replace("-", " ").split())


@dataclass(frozen=True)
class KnownPlan:
    """A plan as titp.accreditation.v1 told it. The details of its application (`field`, `transfer_from`,
    `extension`, `exams_passed`) come from `TrainingPlanApplied`; the rest from the header every event carries."""

    plan_id: UUID
    trainee_id: UUID
    stage: Stage | None  # TITP's stage; None for an ESD plan
    job_category: str
    supervising_organization_id: UUID | None
    start_date: date
    end_date: date
    status: PlanStatus
    certified_on: date | None = None
    ended_on: date | None = None  # completed, discontinued or revoked on
    exam_result: ExamResult | None = None
    scheme: Scheme = Scheme.TITP
    field: str | None = None  # ESD: one of its fields
    transfer_from: UUID | None = None  # ESD: the worker's plan with another employer that this one continues
    extension: bool = False  # ESD: the extra year after a failed SSW test
    exams_passed: tuple[ExamPassed, ...] = ()  # as the application stated them
    transferred_on: date | None = None  # ESD: this plan ended by the worker's transfer to `transferred_to`
    transferred_to: UUID | None = None
    discontinuation_reason: DiscontinuationReason | None = None  # from the difficulty notice; None before 003
    operation: str | None = None  # TITP: the operation (作業) code its application named (shared.reference)
    operation_known: bool = False  # the operation is in shared.reference: `ssw_field` is its SSW field
    ssw_field: str | None = None  # the SSW (i) field the operation relates to (shared.reference), if any
    pauses: tuple[PausePeriod, ...] = ()  # issue 25: its pauses, oldest first

    @property
    def transferred(self) -> bool:
        """Ended by the worker's transfer to another employer (ESD)."""
        return self.status is PlanStatus.TRANSFERRED or self.transferred_on is not None

    def days_paused(self, first: date, last: date) -> int:
        """The days from `first` to `last` (both included) on which the plan was paused (issue 25)."""
        return sum(p.days_within(first, last) for p in self.pauses)

    def in_field(self, field: str) -> bool:
        """The plan's work matches a Specified Skilled Worker field: its ESD field, or its job category."""
        return field in (self.field, self.job_category)

    def related_to_ssw_field(self, field: str) -> bool:
        """The TITP training relates to an SSW (i) field: its operation's `ssw_field` (shared.reference); for a
        plan whose operation is not known, its job category read as the field (the mapping before operations)."""
        if self.operation_known:
            return self.ssw_field is not None and field_name(self.ssw_field) == field_name(field)
        return field_name(self.job_category) == field_name(field)


@dataclass(frozen=True)
class PermitRestriction:
    """A revocation or an expiry (from a day, for good: an expired permit is not renewed, the organization
    applies anew) or a suspension (from..until) of a permit."""

    kind: Literal["revoked", "expired", "suspended"]
    from_date: date
    until_date: date | None = None

    def covers(self, day: date) -> bool:
        return self.from_date <= day and (self.until_date is None or day <= self.until_date)


def restriction_on(restrictions: list[PermitRestriction], day: date) -> PermitRestriction | None:
    """The restriction in force that day; a revocation before an expiry, an expiry before a suspension."""
    order = ("revoked", "expired", "suspended")
    covering = sorted((r for r in restrictions if r.covers(day)), key=lambda r: order.index(r.kind))
    return covering[0] if covering else None
