"""The visa service's request bodies and the documents it answers with."""

from datetime import date
from typing import Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.accreditation import ExamGrade, Stage
from contracts.registry import Scheme
from contracts.visa import NewCoeGround, StatusChangeKind, StatusOfResidence
from services.visa.domain.certificate_of_eligibility import CoeStatus, Departure, Lifecycle
from shared.web.http import Body

# Requests


class ApplyForCoe(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"training_plan_id": "0b7e6c2a-4f1d-4c3b-9a8e-2d5f6a7b8c9d", "applied_on": "2026-06-10"},
                {
                    "training_plan_id": "4d2c9e1b-7a3f-4b6e-8c5d-1e0f9a8b7c6d",
                    "applied_on": "2029-10-05",
                    "departed_on": "2029-09-02",
                    "re_entry_permit_used": False,
                },
            ]
        },
    )

    training_plan_id: UUID = Field(
        description="A certified plan to enter on, as titp.accreditation.v1 told it: TITP stage i; TITP stage iii"
        " after a departure without a re-entry permit or more than 3 months abroad; or an ESD worker's first plan"
        " (not a transfer, not the extension year)"
    )
    applied_on: date
    departed_on: date | None = Field(
        default=None, description="Stage iii only: the day the trainee left Japan, ending the previous stay"
    )
    re_entry_permit_used: bool | None = Field(
        default=None,
        description="Stage iii only: whether the trainee left with a re-entry permit (or the deemed one); given"
        " with departed_on",
    )

    @model_validator(mode="after")
    def _departure_whole(self) -> Self:
        if (self.departed_on is None) != (self.re_entry_permit_used is None):
            raise ValueError("departed_on and re_entry_permit_used are stated together, or neither")
        return self

    def departure(self) -> Departure | None:
        if self.departed_on is None or self.re_entry_permit_used is None:
            return None
        return Departure(self.departed_on, self.re_entry_permit_used)


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


class ReceiveEvaluationReport(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "training_plan_id": "7c4e2b1a-9d8f-4a6e-b3c5-1f2e3d4c5b6a",
                    "written_on": "2029-08-20",
                    "received_on": "2029-09-03",
                }
            ]
        },
    )

    training_plan_id: UUID = Field(description="The trainee's TITP stage-ii plan the report evaluates")
    written_on: date = Field(description="The day the implementing organization wrote it")
    received_on: date = Field(description="The day immigration received it")


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
        description="technical_intern_training (TITP, stage i or iii) or employment_for_skill_development (ESD,"
        " 育成就労)"
    )
    stage: Stage | None = Field(description="TITP: i, or iii after a departure; null for ESD")
    departed_on: date | None = Field(description="Stage iii: the departure that ended the previous stay")
    re_entry_permit_used: bool | None = Field(description="Stage iii: whether the trainee left with a re-entry permit")
    new_coe_ground: NewCoeGround | None = Field(
        description="Stage iii: no_re_entry_permit, or abroad_too_long (more than 3 months)"
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
    stage: Stage | None = Field(description="TITP: i, or iii on a stage-iii certificate; null for ESD")
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


class EvaluationReportDocument(Document):
    """An implementing organization's evaluation report (評価調書) on a trainee's TITP stage ii, as received."""

    id: UUID
    training_plan_id: UUID
    trainee_id: UUID
    written_on: date
    received_on: date
    version: int


class SswEligibilityAnswer(Document):
    """May the trainee move to Specified Skilled Worker (i): a TITP trainee who completed TITP (ii) in good
    standing, without the Japanese test and, in a related field, the skills test; an ESD worker with grade 3
    (or the SSW skills test) and Japanese A2."""

    trainee_id: UUID
    field: str
    as_of: date
    scheme: Scheme = Field(description="The path judged: the scheme of the trainee's latest certified plan")
    rule: str = Field(
        description="The rule that decided: ssw.titp_exempt_after_stage_ii or ssw.esd_grade_3_and_japanese_a2"
    )
    eligible: bool
    exempt_from: list[str] = Field(
        description="The tests the trainee need not take (TITP only): japanese_test, and skills_test in a related field"
    )
    tests_required: list[str] = Field(
        description="TITP, eligible: the tests still to take (skills_test when no completed stage-ii plan's"
        " operation relates to the field)"
    )
    field_related: bool | None = Field(
        description="TITP: a completed stage-ii plan's operation relates to the field (shared.reference ssw_field;"
        " the job category for a plan whose operation is not known); null for ESD"
    )
    skills_evidence: list[str] = Field(description="TITP: grade_3, evaluation_report: what shows the skills")
    titp_days_completed: int = Field(description="TITP: days of training done by as_of")
    titp_days_required: int = Field(description="TITP: the days 2 years 10 months (configurable) make")
    unmet: list[str] = Field(description="The rules that fail, by name")
    qualifying_training_plan_id: UUID | None
    exams_passed: list[ExamGrade] = Field(
        description="ESD: the exams passed by as_of, as the plans' applications stated them and the exam body"
        " reported them (titp.accreditation.v1)"
    )


# Issue 25: a trainee as immigration sees them, with the pauses of their plans


class ResidenceHeld(Document):
    """The latest status of residence granted here by the day asked: a visa to enter or a change of status."""

    granted_by: str = Field(description="visa or status_change")
    id: UUID = Field(description="The visa's or the change's id")
    training_plan_id: UUID
    scheme: Scheme
    stage: Stage | None
    status_of_residence: StatusOfResidence
    granted_on: date
    period_of_stay_months: int
    period_of_stay_until: date = Field(description="Its last day (Civil Code counting); a pause does not shorten it")


class KnownPause(Document):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    from_: date = Field(alias="from", description="The first day without training")
    until: date | None = Field(description="The last day without training; null while not resumed")
    resumed_on: date | None
    reason: str = Field(description="pregnancy, childbirth, illness or injury")


class TraineePlan(Document):
    training_plan_id: UUID
    scheme: Scheme
    stage: Stage | None
    status: str = Field(description="As accreditation recorded it (a paused plan stays certified)")
    start_date: date
    end_date: date = Field(description="As it now stands: a resumption moves it by the days paused")
    ended_on: date | None
    paused: bool = Field(description="Paused on the day asked")
    paused_since: date | None = Field(description="The first day of the pause covering the day asked")
    pauses: list[KnownPause]


class TraineeResidence(Document):
    """What immigration knows of a trainee on a day: the status of residence held (a pause never cancels it) and the
    trainee's plans as titp.accreditation.v1 told them, paused or not."""

    trainee_id: UUID
    as_of: date
    status_of_residence: ResidenceHeld | None = Field(description="null before any visa or change of status here")
    training_plans: list[TraineePlan]
