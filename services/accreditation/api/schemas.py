"""Every request body and every response document of the accreditation service.

Request bodies are models of their own: they build the contract's payloads (`ApplyForCertification.terms`)
but never inherit them, so HTTP validation and the wire contract change apart.
"""

from datetime import date
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.config import JsonDict

from contracts.accreditation import (
    DifficultyCause,
    DiscontinuationReason,
    ExamGrade,
    ExamResult,
    PauseReason,
    PlanChanges,
    PlanTerms,
    ReportedBy,
    ReportingParty,
    ReturnHome,
    Stage,
    TransferReason,
)
from contracts.registry import Scheme, TrainingType
from services.accreditation.api.fee_schemas import PlanFees
from services.accreditation.domain.rules import check_terms
from shared.errors import DomainRuleViolation
from shared.web.http import Body

Reason = Annotated[str, Field(min_length=1, max_length=2000)]
ShownStatus = Literal[
    "applied", "certified", "in_progress", "rejected", "completed", "discontinued", "revoked", "transferred", "paused"
]
Dimension = Literal["nationality", "job_group", "stage", "training_type", "prefecture", "scheme"]

_APPLICATION_EXAMPLE: JsonDict = {
    "trainee_id": "5f0c3a52-8d47-4b8e-9a51-2f1d6c7e8a90",
    "trainee": {
        "name": "Nguyen Van An",
        "date_of_birth": "2001-05-01",
        "nationality": "VN",
        "passport_number": "C1234567",
    },
    "stage": "i",
    "training_type": "b",
    "job_category": "construction",
    "operation": "construction.carpentry.building",
    "implementing_organization_id": "0b6c2d1e-3f4a-4b5c-8d6e-7f8091a2b3c4",
    "supervising_organization_id": "1c7d3e2f-4a5b-4c6d-9e7f-8091a2b3c4d5",
    "sending_organization_id": "2d8e4f30-5b6c-4d7e-8f90-91a2b3c4d5e6",
    "start_date": "2026-04-01",
    "end_date": "2027-03-31",
    "monthly_wage": 210000,
    "comparable_japanese_wage": 200000,
    "exams_passed": [],
    "applied_on": "2025-11-20",
}
_ESD_EXAMPLE: JsonDict = {
    "scheme": "esd",
    "trainee_id": "6a1d4b63-9e58-4c9f-8b62-3e2f7d8f9ba1",
    "trainee": {
        "name": "Siti Rahmawati",
        "date_of_birth": "2003-08-17",
        "nationality": "ID",
        "passport_number": "X9876543",
    },
    "training_type": "b",
    "field": "construction",
    "job_category": "formwork",
    "implementing_organization_id": "0b6c2d1e-3f4a-4b5c-8d6e-7f8091a2b3c4",
    "supervising_organization_id": "3e9f5a41-6c7d-4e8f-9a01-a2b3c4d5e6f7",
    "sending_organization_id": "2d8e4f30-5b6c-4d7e-8f90-91a2b3c4d5e6",
    "start_date": "2027-04-01",
    "end_date": "2030-03-31",
    "monthly_wage": 215000,
    "comparable_japanese_wage": 210000,
    "exams_passed": [{"grade": "japanese_a1", "passed_on": "2026-07-05"}],
    "applied_on": "2026-10-01",
}


# Requests


class StatedTrainee(Body):
    """The trainee as the application states them; their personal data is recorded sealed with their key."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    date_of_birth: date
    nationality: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    passport_number: str = Field(min_length=1, max_length=20)


class PassedExam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grade: ExamGrade
    passed_on: date


class ApplyForCertification(Body):
    """One trainee, one plan: a TITP stage (scheme titp, the default), or an ESD plan (scheme esd: no stage, a
    field, and for a transfer the plan it continues). A type (b) plan names its supervising (ESD: supervision
    support) and sending organizations; a type (a) plan names neither (checked by the domain's `check_terms`;
    here a 422). The switch decides at once (409, nothing recorded): from 2027-04-01 no TITP application but a
    continuing trainee's (`switch.titp_application_closed`), a TITP plan applied for before it starts by
    2027-06-30 (`switch.titp_start_by`), an ESD plan starts from 2027-04-01 (`switch.esd_start`). A TITP plan is
    filed (`applied_on`) from 6 months before its start (`plan.filing_too_early`) and at the latest 4 months
    before it for stage i, 3 for stages ii and iii (`plan.filing_too_late`)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_APPLICATION_EXAMPLE, _ESD_EXAMPLE]})

    scheme: Scheme = Field(default=Scheme.TITP, description="titp (the default) or esd")
    trainee_id: UUID = Field(description="The trainee's stable id, the same across all their plans")
    trainee: StatedTrainee
    stage: Stage | None = Field(default=None, description="TITP: i, ii or iii (required); ESD: none")
    field: str | None = Field(default=None, max_length=100, description="ESD: one of GET /v1/esd/fields")
    transfer_from: UUID | None = Field(
        default=None,
        description="A transfer (TITP or ESD): the trainee's plan with another employer that this one continues."
        " TITP: a certified plan of the same stage and operation in force on the new start; the new plan covers the"
        " rest of the stage (`transfer.*` rules)",
    )
    transfer_reason: TransferReason | None = Field(
        default=None, description="With transfer_from; TITP: an unavoidable reason only (not own_wish)"
    )
    extension: bool = Field(default=False, description="ESD: the extra year after a failed SSW skills test")
    training_type: TrainingType
    job_category: str = Field(min_length=1, max_length=200)
    operation: str | None = Field(
        default=None,
        max_length=100,
        description="TITP: the operation (作業), a code of the reference data (shared/reference/data/operations.json):"
        " required for stages ii and iii (`plan.operation_required`), checked whenever given"
        " (`plan.operation_known`, `plan.operation_job_category`); its last stage decides how far the trainee goes",
    )
    return_home: ReturnHome | None = Field(
        default=None,
        description="TITP stage iii: the return home (≥ 1 month, < 1 year) taken within its first year, when there"
        " is none of a month before it",
    )
    implementing_organization_id: UUID
    supervising_organization_id: UUID | None = Field(default=None, description="Type (b) only")
    sending_organization_id: UUID | None = Field(default=None, description="Type (b) only")
    start_date: date
    end_date: date
    monthly_wage: int = Field(ge=0, description="Yen per month")
    comparable_japanese_wage: int = Field(ge=0, description="Yen per month paid to a Japanese worker doing the same")
    exams_passed: list[PassedExam] = Field(default=[], max_length=20)
    applied_on: date

    def terms(self) -> PlanTerms:
        """The plan's terms as the contract states them (the trainee's personal data still in the clear)."""
        return PlanTerms.model_validate(self.model_dump(exclude={"applied_on"}))

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        try:
            check_terms(self.terms())
        except DomainRuleViolation as refused:
            raise ValueError(refused.detail) from None
        return self


class Certify(Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"certified_on": "2026-02-20"}]})

    certified_on: date


class Reject(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "the training plan does not state the training hours per subject"}]},
    )

    reason: Reason


class Revoke(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"revoked_on": "2026-09-01", "reason": "false statements in the application (Art. 16(1)(ii))"}]
        },
    )

    revoked_on: date
    reason: Reason


class Reassign(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"supervising_organization_id": "0b6f7c1e-3a2d-4e5f-8a9b-1c2d3e4f5a6b", "reassigned_on": "2026-10-01"}
            ]
        },
    )

    supervising_organization_id: UUID = Field(
        description="The new supervising organization: the registry has the employer under it from `reassigned_on`"
    )
    reassigned_on: date


class Complete(Body):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"completed_on": "2027-03-31", "exam_result": "passed"}]}
    )

    completed_on: date
    exam_result: ExamResult


class DiscontinuationReporter(Body):
    party: ReportingParty
    office: str = Field(
        min_length=1,
        max_length=200,
        description="The reporting office and the reporter's title, e.g. 'Sakura Cooperative, supervision manager';"
        " not the trainee's name",
    )


class Discontinue(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"on": "2026-09-01", "reason": "bankruptcy", "detail": "the implementing organization went bankrupt"},
                {
                    "on": "2026-10-03",
                    "reason": "disappearance",
                    "reported_on": "2026-10-05",
                    "reported_by": {"party": "supervising_organization", "office": "Sakura Cooperative, manager"},
                },
            ]
        },
    )

    on: date
    reason: DiscontinuationReason
    detail: str | None = Field(default=None, max_length=2000)
    reported_on: date | None = Field(
        default=None, description="A disappearance or a death (then required): the day it was reported"
    )
    reported_by: DiscontinuationReporter | None = Field(
        default=None, description="A disappearance or a death (then required): who reported it"
    )


class IssueImprovementOrder(Body):
    """A deadline on or before the issue day is refused by the rule `improvement_order.deadline_not_after_issue`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"issued_on": "2026-06-01", "deadline": "2026-07-01", "reason": "training log incomplete"}]
        },
    )

    issued_on: date
    deadline: date
    reason: Reason


class CloseImprovementOrder(Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"closed_on": "2026-06-20"}]})

    closed_on: date


class BreachImprovementOrder(Body):
    """The order's deadline passed without it being complied with (Art. 16(1)): the implementing organization's
    plans in force on `revoked_on` lose their certification, each revocation naming the order. Refused
    (`improvement_order.not_breached`) while the deadline has not passed or once the order was closed."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"revoked_on": "2026-08-01"}]})

    revoked_on: date


class RecordExamResult(Body):
    """A result the exam body reported: ESD counts passes (the first-year exams, transfers) and a failed SSW
    skills test (the extension)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "trainee_id": "6a1d4b63-9e58-4c9f-8b62-3e2f7d8f9ba1",
                    "grade": "basic",
                    "result": "passed",
                    "taken_on": "2027-11-20",
                }
            ]
        },
    )

    trainee_id: UUID
    grade: ExamGrade
    result: Literal["passed", "failed"]
    taken_on: date


class ErasePersonalData(Body):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "the trainee's request of 2026-05-10"}]}
    )

    reason: str = Field(
        min_length=1, max_length=2000, description="e.g. the trainee's request, or the end of the retention period"
    )


# Plan changes (issue 20, Art. 11)


class ChangedTerms(Body):
    """New values of the plan's changeable terms; a term left out stays as it is. Material terms need change
    certification: the period (start_date only before the plan starts), the job and operation, the return home, the
    comparable wage and a cut of the wage; a raise of the monthly wage is minor (a notice). The other terms of an
    application may be restated with their present value only: another value is refused (409
    `change.not_changeable`; another employer is a transfer, another supervising organization a reassignment)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"end_date": "2027-05-31"}, {"monthly_wage": 220000}]}
    )

    start_date: date | None = Field(default=None, description="Only before the plan starts")
    end_date: date | None = None
    monthly_wage: int | None = Field(default=None, ge=0, description="Yen per month")
    comparable_japanese_wage: int | None = Field(default=None, ge=0, description="Yen per month")
    job_category: str | None = Field(default=None, min_length=1, max_length=200)
    operation: str | None = Field(default=None, max_length=100, description="TITP: a reference data code")
    return_home: ReturnHome | None = Field(default=None, description="TITP stage iii: within its first year")
    # Not changeable: restated with the present value, or refused
    trainee_id: UUID | None = Field(default=None, description="Not changeable")
    trainee: StatedTrainee | None = Field(default=None, description="Not changeable (always refused)")
    scheme: Scheme | None = Field(default=None, description="Not changeable")
    stage: Stage | None = Field(default=None, description="Not changeable")
    training_type: TrainingType | None = Field(default=None, description="Not changeable")
    implementing_organization_id: UUID | None = Field(default=None, description="Not changeable: a transfer")
    supervising_organization_id: UUID | None = Field(default=None, description="Not changeable: a reassignment")
    sending_organization_id: UUID | None = Field(default=None, description="Not changeable")
    field: str | None = Field(default=None, max_length=100, description="Not changeable")
    transfer_from: UUID | None = Field(default=None, description="Not changeable")
    transfer_reason: TransferReason | None = Field(default=None, description="Not changeable")
    extension: bool | None = Field(default=None, description="Not changeable")
    exams_passed: list[PassedExam] | None = Field(default=None, max_length=20, description="Not changeable")

    def plan_changes(self) -> PlanChanges:
        return PlanChanges.model_validate(self.model_dump(include=set(PlanChanges.model_fields)))

    def unchangeable(self) -> dict[str, Any]:
        """The terms stated that no change may touch, as JSON values."""
        return self.model_dump(mode="json", exclude_unset=True, exclude=set(PlanChanges.model_fields))


class ApplyForPlanChange(Body):
    """Apply for change certification (Art. 11) of a plan in force: decided later by an officer under the plan's
    own rules. Refused (409) naming the rule: `change.plan_in_force`, `change.pending` (one at a time),
    `change.nothing_changed`, `change.not_changeable`, `change.start_date_started`, `change.start_date_past`,
    `change.end_date_past`, `plan.end_not_before_start`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "applied_on": "2026-09-01",
                    "reason": "the training is extended by two months after an injury",
                    "changes": {"end_date": "2027-05-31"},
                }
            ]
        },
    )

    applied_on: date
    reason: Reason
    changes: ChangedTerms


class CertifyPlanChange(Body):
    """Certify the pending change: the changed terms through the plan's rule book, as a certification would, on
    what the service knows now (409 naming the plan's rule, e.g. `plan.stage_length`, `quota.stage_limit`,
    `change.overlaps_other_plan`; or `change.not_pending`, `change.certified_before_application`)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"certified_on": "2026-09-20"}]})

    certified_on: date


class RejectPlanChange(Body):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "the extension is not justified"}]}
    )

    reason: Reason


class NotifyMinorChange(Body):
    """A notice of minor changes (軽微な変更の届出): in force as notified. `changes` may change minor terms only
    (by default a raise of the monthly wage): a material one is refused, `change.material_needs_certification`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "notified_on": "2026-10-01",
                    "description": "a new life instructor; the monthly wage raised",
                    "changes": {"monthly_wage": 225000},
                }
            ]
        },
    )

    notified_on: date
    description: Reason
    changes: ChangedTerms = Field(default_factory=ChangedTerms)


# Responses


class Document(BaseModel):
    """Exactly the members a document has: a projection sending another one fails here, not in a client."""

    model_config = ConfigDict(extra="forbid")


class ShownTrainee(Document):
    """The trainee as readers see them: the personal data opened, or null once erased."""

    nationality: str
    name: str | None
    date_of_birth: date | None
    passport_number: str | None
    personal_data_erased: bool


class Completion(Document):
    completed_on: date
    exam_result: ExamResult


class Discontinuation(Document):
    discontinued_on: date
    reason: DiscontinuationReason
    detail: str | None
    reported_on: date | None = Field(default=None, description="A disappearance or a death: the day it was reported")
    reported_by: ReportedBy | None = Field(default=None, description="A disappearance or a death: who reported it")


class Revocation(Document):
    revoked_on: date
    reason: str
    referral_id: UUID | None = Field(description="The inspection referral that decided it, if any")
    improvement_order_id: UUID | None = Field(
        default=None, description="The Art. 15 order whose breach is its ground, if it is"
    )


class ImprovementOrder(Document):
    order_id: UUID
    issued_on: date
    deadline: date
    reason: str
    closed_on: date | None


class NewSupervisingOrganizationRequirement(Document):
    since: date
    reason: str


class Reassignment(Document):
    supervising_organization_id: UUID = Field(description="The new supervising organization")
    previous_supervising_organization_id: UUID | None = Field(description="The one whose permit ended")
    reassigned_on: date


class Transfer(Document):
    transferred_on: date = Field(description="The day the worker moved: the new plan's start")
    to_plan_id: UUID
    reason: TransferReason


class StatedChanges(Document):
    """The terms a change or notice states (those left out are unchanged)."""

    start_date: date | None = None
    end_date: date | None = None
    monthly_wage: int | None = None
    comparable_japanese_wage: int | None = None
    job_category: str | None = None
    operation: str | None = None
    return_home: ReturnHome | None = None


class PlanChangeEntry(Document):
    """A change of the plan (kind `change`: change certification) or a notice of minor changes (`minor_change`)."""

    id: UUID = Field(description="The change's or the notice's id")
    kind: Literal["change", "minor_change"]
    status: Literal["pending", "certified", "rejected", "notified"]
    on: date = Field(description="Applied for (a change) or notified (a notice) on")
    reason: str = Field(description="The change's reason, or the notice's description")
    changes: StatedChanges
    certified_on: date | None
    rejection_reason: str | None
    terms_version: int | None = Field(description="The version of the terms it made; null if none (yet)")


class PlanChangeHistory(Document):
    training_plan_id: UUID
    terms_version: int = Field(description="The version of the terms in force (as of `as_of`, if given)")
    changes: list[PlanChangeEntry]
    version: int = Field(description="The plan's version")


# Issue 25: a pause as the plan's document shows it
class PauseEntry(Document):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    from_: date = Field(alias="from", description="Its first day without training")
    until: date | None = Field(description="Its last day without training; null while not resumed")
    resumed_on: date | None = Field(description="The day training resumed")
    days: int = Field(description="Days without training (0 while not resumed)")
    reason: PauseReason
    detail: str | None = Field(description="The filer's detail, opened; null if none or the trainee's data erased")


class TrainingPlanDocument(Document):
    """A training plan. `status` is as of today (or `as_of`): a certified plan is in progress from its start date."""

    id: UUID
    trainee_id: UUID
    trainee: ShownTrainee
    scheme: Scheme
    stage: Stage | None = Field(description="TITP's stage; null for an ESD plan")
    field: str | None = Field(description="ESD: its field")
    transfer_from: UUID | None = Field(description="A transfer: the plan with another employer this one continues")
    transfer_reason: TransferReason | None
    extension: bool
    training_type: TrainingType
    job_category: str
    operation: str | None = Field(default=None, description="TITP: the operation (作業), a reference data code")
    return_home: ReturnHome | None = Field(default=None, description="TITP stage iii: a return within its first year")
    implementing_organization_id: UUID
    supervising_organization_id: UUID | None
    sending_organization_id: UUID | None
    start_date: date
    end_date: date = Field(description="As it now stands: a resumption after a pause moves it by the days paused")
    paused_since: date | None = Field(
        default=None, description="The first day of the pause not resumed yet; null unless the plan is paused"
    )
    pauses: list[PauseEntry] = Field(default=[], description="Its pauses, oldest first")
    paused_days: int = Field(
        default=0, description="Days of its period without training: they count neither for the stage nor the totals"
    )
    monthly_wage: int
    comparable_japanese_wage: int
    exams_passed: list[PassedExam]
    applied_on: date
    status: ShownStatus
    certified_on: date | None
    rule_set: str | None = Field(description="titp or esd (the plan's scheme); null until certified")
    rejection_reason: str | None
    completion: Completion | None
    discontinuation: Discontinuation | None
    revocation: Revocation | None
    transfer: Transfer | None = Field(description="The trainee moved to another employer; this plan ended")
    improvement_orders: list[ImprovementOrder]
    new_supervising_organization_required: NewSupervisingOrganizationRequirement | None = Field(
        description="Set while the plan waits for a new supervising organization; a reassignment clears it"
    )
    reassignments: list[Reassignment] = Field(
        default=[], description="The moves to a new supervising organization, oldest first"
    )
    difficulty_notices: list["PlanDifficultyNotice"] = Field(
        default=[], description="Its notices of difficulty in continuing training (Art. 19), oldest first"
    )
    first_year_exams_missing: bool = Field(
        description="ESD: certified, its first year passed, and the basic grade or Japanese A1 not passed in it"
        " (as of today, or `as_of`)"
    )
    terms_version: int = Field(
        default=1, description="The version of the terms shown: 1 as certified, +1 per certified change or notice"
    )
    changes: list[PlanChangeEntry] = Field(
        default=[], description="Its changes and notices of minor changes, oldest first (also GET .../changes)"
    )
    fees: PlanFees | None = Field(default=None, description="What the trainee paid before coming (GET .../fees)")
    version: int = Field(description="Also the ETag")


class EmployerImprovementOrder(Document):
    """An Art. 15 order on the implementing organization."""

    order_id: UUID
    implementing_organization_id: UUID
    issued_on: date
    deadline: date
    reason: str
    referral_id: UUID | None = Field(description="The inspection referral that asked for it, if any")
    closed_on: date | None
    overdue: bool = Field(description="Its deadline passed (as of today, or `on`) and it is not closed: breached")


class EsdFieldDocument(Document):
    field: str = Field(description="Its id, as plans name it")
    name: str
    transfer_period_years: int = Field(description="With the first employer before a transfer at the worker's wish")
    transfer_japanese_level: ExamGrade = Field(description="The Japanese exam a transfer at the worker's wish needs")
    cap: int | None = Field(description="The national cap of the fiscal year; null where none is set")
    workers: int = Field(description="Workers counted against the cap in the fiscal year")
    room_left: int | None = Field(description="cap - workers (0 when at or over the cap); null without a cap")


class EsdFields(Document):
    fiscal_year: int = Field(description="Named by the year it starts (FY2027: 1 Apr 2027 - 31 Mar 2028)")
    fields: list[EsdFieldDocument]


class MonthCount(Document):
    month: str = Field(description="YYYY-MM")
    last_day: date
    total: int
    counts: dict[str, int] = Field(default={}, description="Per value of the `by` dimension; only when split")


class MonthlyCounts(Document):
    by: Dimension | None
    where: dict[str, str] = Field(description="The filters given")
    months: list[MonthCount]


class FiscalYearRevocations(Document):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    fiscal_year: int = Field(description="Named by the year it starts (FY2025: 1 Apr 2025 - 31 Mar 2026)")
    from_: date = Field(alias="from")
    to: date
    plans: int = Field(description="Plans whose certification was revoked in the fiscal year")
    implementing_organizations: int = Field(description="Implementing organizations with at least one")


class Revocations(Document):
    fiscal_years: list[FiscalYearRevocations]


# Filings received from employers and supervising organizations (issue 20 item 4)

ReceiptNumber = Annotated[str, Field(pattern=r"^S-\d{4}-\d{6}$", examples=["S-2027-000123"])]


class FileStartNotice(Body):
    """Art. 17: the implementing organization started implementing training (its first plan started)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "training_plan_id": "0b6f7c1e-3a2d-4e5f-8a9b-1c2d3e4f5a6b",
                    "started_on": "2027-05-01",
                    "filed_on": "2027-05-20",
                }
            ]
        },
    )

    training_plan_id: UUID = Field(description="The employer's first certified plan to start")
    started_on: date = Field(description="The day training started: a day of that plan")
    filed_on: date


class FileDifficultyNotice(Body):
    """Art. 19: continuing a plan's training became difficult; the plan stays as it is."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "training_plan_id": "0b6f7c1e-3a2d-4e5f-8a9b-1c2d3e4f5a6b",
                    "occurred_on": "2027-09-10",
                    "filed_on": "2027-09-15",
                    "cause": "bankruptcy",
                    "measures": "transfer to another employer in the same operation arranged with the supervising"
                    " organization",
                    "receipt_number": "S-2027-000123",
                }
            ]
        },
    )

    training_plan_id: UUID
    occurred_on: date = Field(description="The day continuing became difficult")
    filed_on: date
    cause: DifficultyCause
    measures: str = Field(min_length=1, max_length=4000, description="The measures to continue the training")
    receipt_number: ReceiptNumber = Field(description="The receipt number of the employer's start notice")


class FileAnnualReport(Body):
    """Art. 21: the report on a fiscal year of implementation (April-March), after it ends."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"fiscal_year": 2026, "filed_on": "2027-05-20", "receipt_number": "S-2026-000123", "trainees": 4}
            ]
        },
    )

    fiscal_year: int = Field(ge=2000, le=2100, description="The year it starts in: 2026 = Apr 2026 - Mar 2027")
    filed_on: date
    receipt_number: ReceiptNumber = Field(description="The receipt number of the employer's start notice")
    trainees: int = Field(ge=0, le=100_000, description="Trainees in training during the year")


class FileVisitRecord(Body):
    """The supervising organization's monthly visit to an employer with a stage-i plan under it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"month": "2027-05-01", "visited_on": "2027-05-14", "filed_on": "2027-05-31"}]},
    )

    month: date = Field(description="The first day of the month visited")
    visited_on: date = Field(description="A day in that month")
    filed_on: date
    supervising_organization_id: UUID | None = Field(
        default=None,
        description="Officers: the organization that visited (default: the one the employer's stage-i plans were"
        " under in the month); a supervising organization files its own",
    )

    @field_validator("month")
    @classmethod
    def _first_of_month(cls, month: date) -> date:
        if month.day != 1:
            raise ValueError("the first day of the month, e.g. 2027-05-01")
        return month


class StartNoticeAccepted(BaseModel):
    """The start notice's id and version, and the receipt number the employer's later filings quote."""

    id: UUID
    version: int
    receipt_number: str


FilingKind = Literal["start_notice", "difficulty_notice", "annual_report", "visit_record"]


class Filing(Document):
    """A filing as received: when it was due and filed, and how late (days after due_on; 0 on time)."""

    id: UUID
    kind: FilingKind
    implementing_organization_id: UUID
    supervising_organization_id: UUID | None = Field(
        default=None, description="Visit records; difficulty notices of type (b), filed through it"
    )
    training_plan_id: UUID | None = Field(default=None, description="Start and difficulty notices")
    started_on: date | None = Field(default=None, description="Start notices")
    occurred_on: date | None = Field(default=None, description="Difficulty notices")
    cause: DifficultyCause | None = Field(default=None, description="Difficulty notices")
    measures: str | None = Field(default=None, description="Difficulty notices: the measures to continue")
    fiscal_year: int | None = Field(default=None, description="Annual reports")
    trainees: int | None = Field(default=None, description="Annual reports")
    month: date | None = Field(default=None, description="Visit records: the month visited (its first day)")
    visited_on: date | None = Field(default=None, description="Visit records")
    filed_on: date
    due_on: date
    late_days: int = Field(description="filed_on - due_on when positive, else 0")
    receipt_number: str | None = Field(default=None, description="Issued with the start notice; quoted by the rest")
    version: int


class PlanDifficultyNotice(Document):
    """A notice of difficulty in continuing the plan's training (Art. 19): the plan stays as it is."""

    id: UUID
    implementing_organization_id: UUID
    supervising_organization_id: UUID | None
    occurred_on: date
    filed_on: date
    due_on: date
    late_days: int
    cause: DifficultyCause
    measures: str
    receipt_number: str


TrainingPlanDocument.model_rebuild()  # its difficulty notices (PlanDifficultyNotice) are defined after it


# Transfers and disappearances per month (GET /v1/statistics/transfers, /disappearances; issue 20)


class TransferCounts(Document):
    by: Literal["reason", "scheme", "stage"] | None
    where: dict[str, str] = Field(description="The filters given")
    months: list[MonthCount]


class DisappearanceCounts(Document):
    by: Literal["scheme", "stage", "nationality"] | None
    where: dict[str, str] = Field(description="The filters given")
    months: list[MonthCount]


# Pauses (issue 25 item 3)


class PausePlan(Body):
    """Pause a plan in progress without ending it (DOMAIN §10 `POST /v1/training-plans/{id}/pause`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"on": "2027-07-01", "reason": "pregnancy", "detail": "maternity leave from week 34"}]
        },
    )

    on: date = Field(description="The first day without training: a day of the plan's period")
    reason: PauseReason
    detail: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="Personal: kept sealed with the trainee's key, shown to those who may read the plan",
    )


class ResumePlan(Body):
    """Resume a paused plan with its remaining period: its end moves by the days paused."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"on": "2027-11-01"}]})

    on: date = Field(description="The first day of training again, after the pause's first day")
