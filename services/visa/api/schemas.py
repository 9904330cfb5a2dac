"""The visa service's request bodies and the documents it answers with."""

from datetime import date
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.accreditation import ExamGrade, Stage
from contracts.registry import Scheme
from contracts.visa import StatusChangeKind, StatusOfResidence
from services.visa.domain.certificate_of_eligibility import CoeStatus, Lifecycle
from shared.web.http import Body

# Requests


class ApplyForCoe(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"training_plan_id": "0b7e6c2a-4f1d-4c3b-9a8e-2d5f6a7b8c9d", "applied_on": "2026-06-10"}]
        },
    )

    training_plan_id: UUID = Field(
        description="A certified plan to enter on, as titp.accreditation.v1 told it: TITP stage i, or an ESD"
        " worker's first plan (not a transfer, not the extension year)"
    )
    applied_on: date


class IssueCoe(Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"issued_on": "2026-06-20"}]})

    issued_on: date


class DenyCoe(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"reason": "The certificate of employment submitted with the application could not be verified"}
            ]
        },
    )

    reason: str = Field(min_length=1, max_length=2000)


class IssueVisa(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "coe_id": "5a2d8f3e-1b4c-4e6a-8d7f-3c9b0a1e2f4d",
                    "post": "Embassy of Japan in Hanoi",
                    "issued_on": "2026-07-01",
                }
            ]
        },
    )

    coe_id: UUID = Field(description="The certificate of eligibility (its application's id)")
    post: str = Field(min_length=1, max_length=200, description="The embassy or consulate issuing it")
    issued_on: date


class ChangeStatus(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"training_plan_id": "7c4e2b1a-9d8f-4a6e-b3c5-1f2e3d4c5b6a", "decided_on": "2027-08-20"}]
        },
    )

    training_plan_id: UUID = Field(
        description="The certified plan the status moves to: TITP the next stage's; ESD the worker's new plan"
        " (a transfer, or the extension year)"
    )
    decided_on: date


# Documents


class Document(BaseModel):
    """What a GET answers: exactly these fields (a document with any other is a bug, not a variant)."""

    model_config = ConfigDict(extra="forbid")


class CoeApplicationDocument(Document):
    """A COE application and, once issued, its certificate (same id), naming the status of residence."""

    id: UUID
    training_plan_id: UUID
    trainee_id: UUID
    scheme: Scheme = Field(description="The plan's scheme: titp or esd")
    status_of_residence: StatusOfResidence = Field(
        description="technical_intern_training (TITP, stage i) or employment_for_skill_development (ESD, 育成就労)"
    )
    lifecycle: Lifecycle = Field(description="As recorded")
    applied_on: date
    issued_on: date | None
    expires_on: date | None = Field(description="The last day a visa may be issued on the certificate")
    denial_reason: str | None
    cancelled_on: date | None
    revoked_on: date | None
    withdrawal_reason: str | None = Field(description="Why it was cancelled or revoked")
    visa_id: UUID | None = Field(description="The visa issued on the certificate")
    used_on: date | None
    status: CoeStatus = Field(
        description="On `status_on`: the lifecycle, or expired for an issued certificate past its last day"
    )
    status_on: date
    version: int


class VisaDocument(Document):
    """A visa to enter — TITP in stage i, or ESD — issued on a certificate of eligibility."""

    id: UUID
    coe_id: UUID
    training_plan_id: UUID
    trainee_id: UUID
    post: str = Field(description="The embassy or consulate that issued it")
    issued_on: date
    stage: Stage | None = Field(description="TITP: i; null for ESD")
    period_of_stay_months: int
    scheme: Scheme
    status_of_residence: StatusOfResidence
    version: int


class StatusChangeDocument(Document):
    """A change of status of residence to a certified plan: TITP from one stage to the next; ESD to the worker's
    new plan (a transfer to another employer, or the extension year)."""

    id: UUID
    training_plan_id: UUID
    trainee_id: UUID
    from_stage: Stage | None = Field(description="TITP: the stage held; null for ESD")
    to_stage: Stage | None = Field(description="TITP: the plan's stage; null for ESD")
    decided_on: date
    period_of_stay_months: int
    scheme: Scheme
    status_of_residence: StatusOfResidence
    kind: StatusChangeKind = Field(description="next_stage (TITP), transfer or extension (ESD)")
    from_training_plan_id: UUID | None = Field(description="ESD: the plan whose status the worker held")
    version: int


class SswEligibilityAnswer(Document):
    """May the trainee move to Specified Skilled Worker (i): a TITP trainee without the tests after stage ii, an
    ESD worker with grade 3 (or the SSW skills test) and Japanese A2."""

    trainee_id: UUID
    field: str
    as_of: date
    scheme: Scheme = Field(description="The path judged: the scheme of the trainee's latest certified plan")
    rule: str = Field(
        description="The rule that decided: ssw.titp_exempt_after_stage_ii or ssw.esd_grade_3_and_japanese_a2"
    )
    eligible: bool
    exempt_from: list[str] = Field(description="The tests the trainee need not take (TITP only)")
    unmet: list[str] = Field(description="The rules that fail, by name")
    qualifying_training_plan_id: UUID | None
    exams_passed: list[ExamGrade] = Field(
        description="ESD: the exams passed by as_of, as the plans' applications stated them and the exam body"
        " reported them (titp.accreditation.v1)"
    )
