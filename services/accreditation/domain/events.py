"""What the accreditation service records about technical intern training plans (DOMAIN §3, §4, §9).

These payloads are the service's public contract on `titp.accreditation.v1`: the visa and
inspection services build their read models from them. Every plan event carries the plan's
header (`PlanHeader`), so a consumer can act on any one of them without the ones before.
Change one only by adding a new version with an upcaster.
"""

from datetime import date
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.registry.domain.events import TrainingType
from shared.events import EventPayload, EventTypes

accreditation_events = EventTypes("accreditation")


class Stage(StrEnum):
    I = "i"  # noqa: E741 - the program's own numbering: (i), (ii), (iii)
    II = "ii"
    III = "iii"


class ExamGrade(StrEnum):
    BASIC = "basic"  # 基礎級: to move from stage i to ii
    GRADE_3 = "grade_3"  # 随時3級: to move from stage ii to iii
    GRADE_2 = "grade_2"  # 随時2級: at the end of stage iii
    JAPANESE_A1 = "japanese_a1"  # A1 / N5: one of the conditions of a transfer under ESD


class ExamResult(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_TAKEN = "not_taken"


class DiscontinuationReason(StrEnum):
    """The difficulty notice (技能実習実施困難時届出)."""

    BANKRUPTCY = "bankruptcy"
    DISAPPEARANCE = "disappearance"
    TRANSFER = "transfer"
    OTHER = "other"


class PlanStatus(StrEnum):
    """Where a plan stands. "In progress" is not stored: a certified plan is in progress from its start date."""

    APPLIED = "applied"
    CERTIFIED = "certified"
    REJECTED = "rejected"
    COMPLETED = "completed"
    DISCONTINUED = "discontinued"
    REVOKED = "revoked"


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trainee(Record):
    """The trainee's personal data, kept together so that it can be encrypted as one."""

    name: str = Field(min_length=1, max_length=200)
    date_of_birth: date
    nationality: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    passport_number: str = Field(min_length=1, max_length=20)


class ExamPassed(Record):
    grade: ExamGrade
    passed_on: date


class PlanHeader(Record):
    """What identifies a plan to other services; on every plan event."""

    trainee_id: UUID = Field(description="The trainee's stable id, the same across all their plans")
    stage: Stage
    training_type: TrainingType
    job_category: str = Field(min_length=1, max_length=200)
    implementing_organization_id: UUID
    supervising_organization_id: UUID | None = Field(default=None, description="Type (b) only")
    start_date: date
    end_date: date


class PlanTerms(PlanHeader):
    """Everything an application for certification states."""

    trainee: Trainee
    monthly_wage: int = Field(ge=0, description="Yen per month")
    comparable_japanese_wage: int = Field(ge=0, description="Yen per month paid to a Japanese worker doing the same")
    exams_passed: tuple[ExamPassed, ...] = Field(default=(), max_length=20)
    sending_organization_id: UUID | None = Field(default=None, description="Type (b) only")


class PlanEvent(EventPayload, PlanHeader):
    pass


# Training plans (stream: the plan's id)


@accreditation_events.register
class TrainingPlanApplied(PlanEvent, PlanTerms):
    applied_on: date


@accreditation_events.register
class TrainingPlanCertified(PlanEvent):
    certified_on: date
    rule_set: str = Field(description="The rule set it was decided under: titp, or esd for plans from 2027-04-01")


@accreditation_events.register
class TrainingPlanRejected(PlanEvent):
    reason: str


@accreditation_events.register
class TrainingPlanCompleted(PlanEvent):
    completed_on: date
    exam_result: ExamResult = Field(description="Of the stage's exam: basic (i), grade 3 (ii), grade 2 (iii)")


@accreditation_events.register
class TrainingPlanDiscontinued(PlanEvent):
    discontinued_on: date
    reason: DiscontinuationReason
    detail: str | None = None


@accreditation_events.register
class ImprovementOrderIssued(PlanEvent):
    """Art. 15: an order to improve the training by a deadline."""

    order_id: UUID
    issued_on: date
    deadline: date
    reason: str


@accreditation_events.register
class ImprovementOrderClosed(PlanEvent):
    order_id: UUID
    closed_on: date


@accreditation_events.register
class TrainingPlanRevoked(PlanEvent):
    """Art. 16: the certification is revoked; final."""

    revoked_on: date
    reason: str
    referral_id: UUID | None = Field(default=None, description="The inspection referral that decided it, if any")


@accreditation_events.register
class NewSupervisingOrganizationRequired(PlanEvent):
    """The supervising organization's permit was revoked while this plan was in force."""

    since: date
    reason: str
