"""The inspection service's request and response models (DOMAIN §5, §10).

Request bodies are the service's own models: they build the domain values and contract payloads the
commands take, so HTTP validation can change without changing the events on the wire.
"""

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.inspection import (
    AdministrativeAction,
    CancellationReason,
    ConsultationChannel,
    ConsultationSubject,
    Finding,
    FindingCode,
    InspectionOutcome,
    InspectionReason,
    TargetType,
)
from contracts.registry import RevocationGround, Scheme
from services.inspection.domain.consultation import ConsultationStatus
from services.inspection.domain.filings import FilingKind, FilingStatus
from services.inspection.domain.inspection import Referral, Status
from shared.web.http import Body

# Requests


class ScheduleExtraordinaryInspection(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "target_type": "supervising_organization",
                    "target_id": "5f0c6c1e-8a4b-4e0f-9d7a-2b9e3c1d4a10",
                    "reason": "complaint",
                    "due_by": "2027-01-31",
                    "scheduled_on": "2027-01-05",
                    "detail": "a trainee called the OTIT hotline about unpaid overtime",
                }
            ]
        },
    )

    target_type: TargetType
    target_id: UUID
    reason: Literal["complaint", "tip", "follow_up"]
    due_by: date
    detail: str | None = Field(None, max_length=4000)
    scheduled_on: date | None = Field(None, description="defaults to today in Japan")


class FindingBody(Body):
    """One finding of an inspection."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "code": "passport_or_residence_card_kept",
                    "legal_breach": True,
                    "description": "the trainees' passports are kept in the office safe",
                }
            ]
        },
    )

    code: FindingCode
    legal_breach: bool
    description: str = Field(min_length=1, max_length=4000)

    def finding(self) -> Finding:
        return Finding(code=self.code, legal_breach=self.legal_breach, description=self.description)


class ReferralBody(Body):
    """What an inspection refers for administrative action, as the officer decides it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "action": "improvement_order",
                    "reason": "trainees' passports kept by the organization",
                    "decided_on": "2027-04-12",
                    "deadline": "2027-06-30",
                }
            ]
        },
    )

    action: AdministrativeAction
    reason: str = Field(min_length=1, max_length=2000)
    decided_on: date | None = Field(None, description="defaults to the inspection date")
    deadline: date | None = Field(
        None,
        description="improvement_order (Art. 36, a permit holder) and employer_improvement_order (Art. 15, an"
        " implementing organization): the deadline to improve by, after the decision",
    )
    from_date: date | None = Field(None, description="suspension: the first day")
    until_date: date | None = Field(None, description="suspension: the last day")
    scope: Literal["all", "part"] | None = Field(None, description="suspension: all or part of the business")
    ground: RevocationGround | None = Field(None, description="permit_revocation: the ground of Art. 37(1)")

    def referral(self) -> Referral:
        return Referral.model_validate(self.model_dump())


class CompleteInspection(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "inspected_on": "2027-04-10",
                    "inspector": "Kato Ken",
                    "outcome": "recommendation",
                    "findings": [
                        {
                            "code": "passport_or_residence_card_kept",
                            "legal_breach": True,
                            "description": "the trainees' passports are kept in the office safe",
                        }
                    ],
                    "improvement_report_due": "2027-06-10",
                }
            ]
        },
    )

    inspected_on: date
    inspector: str = Field(min_length=1, max_length=200)
    findings: list[FindingBody] = Field(default_factory=list, max_length=200)
    outcome: InspectionOutcome
    referral: ReferralBody | None = Field(None, description="for the outcome referral")
    improvement_report_due: date | None = Field(
        None, description="for the outcomes guidance and recommendation: the improvement report is due by this day"
    )

    def found(self) -> tuple[Finding, ...]:
        return tuple(f.finding() for f in self.findings)

    def referred(self) -> Referral | None:
        return self.referral.referral() if self.referral else None


class ReceiveImprovementReport(Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"received_on": "2027-06-01"}]})

    received_on: date


class OpenInspectionFromFiling(Body):
    """An extraordinary inspection of the organization owing an overdue filing (issue 20)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "due_by": "2027-07-31",
                    "reason": "no annual implementation report for FY2026 after a reminder",
                    "scheduled_on": "2027-06-01",
                }
            ]
        },
    )

    due_by: date
    reason: str | None = Field(None, min_length=1, max_length=2000, description="why, recorded in its detail")
    scheduled_on: date | None = Field(
        None, description="defaults to today in Japan; the filing must be overdue on this day"
    )


# Responses


class ReferredAction(BaseModel):
    """A referral's decision, recorded on the inspection (AdministrativeActionReferred)."""

    referral_id: UUID
    inspection_id: UUID
    action: AdministrativeAction
    target_type: TargetType
    target_id: UUID
    decided_on: date
    reason: str
    deadline: date | None
    from_date: date | None
    until_date: date | None
    scope: Literal["all", "part"] | None
    ground: str | None


class InspectionDocument(BaseModel):
    """One inspection; `overdue` and `report_overdue` are as of `status_on`."""

    id: UUID
    target_type: TargetType
    target_id: UUID
    reason: InspectionReason
    scheduled_on: date
    due_by: date
    detail: str | None
    follows: UUID | None = Field(description="the inspection whose completion scheduled this one")
    scheme: Scheme = Field(
        description="titp, or esd: a supervision support organization's, and an employer's once it has an ESD plan"
    )
    status: Status
    inspected_on: date | None
    inspector: str | None
    findings: list[Finding]
    outcome: InspectionOutcome | None
    referral: ReferredAction | None
    improvement_report_due: date | None
    improvement_report_received_on: date | None
    cancelled_on: date | None
    cancellation_reason: CancellationReason | None
    report_wait_closed_on: date | None = Field(
        None, description="the day the improvement report stopped being awaited: the organization's permit ended"
    )
    report_wait_closed_reason: CancellationReason | None = None
    kind: Literal["regular", "extraordinary"]
    awaiting_report: bool = Field(
        description="guidance's or a recommendation's improvement report not yet received, and its wait not closed"
    )
    overdue: bool = Field(description="past due on `status_on` and not inspected or cancelled by then")
    report_overdue: bool = Field(
        description="the improvement report due before `status_on`, not received and its wait not closed by then"
    )
    status_on: date
    version: int


StatisticsDimension = Literal["target_type", "scheme"]


class InspectionCounts(BaseModel):
    done: int = Field(description="inspections done in the quarter")
    with_findings: int = Field(description="inspections done in the quarter with findings")
    overdue: int = Field(description="inspections overdue on `overdue_on`")


class InspectionQuarter(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    fiscal_year: int
    fiscal_quarter: int
    done: int = Field(description="inspections done in the quarter")
    with_findings: int = Field(description="inspections done in the quarter with findings")
    overdue: int = Field(description="inspections overdue on `overdue_on`")
    overdue_on: date = Field(description="the quarter's last day, or today for the quarter under way")
    counts: dict[str, InspectionCounts] = Field(
        default={}, description="Per value of the `by` dimension (those with any count); only when split"
    )


class InspectionStatistics(BaseModel):
    target_type: TargetType | None
    scheme: Scheme | None = Field(None, description="The scheme filter; only when given")
    by: StatisticsDimension | None = Field(None, description="The dimension the counts are split by; only when split")
    quarters: list[InspectionQuarter]


class FilingDocument(BaseModel):
    """A filing an organization owes, as of `status_on` (DOMAIN §9, §11): the next quarterly audit report a
    supervision support organization owes about an employer it supports under ESD; an implementing organization's
    implementation-start notice (Art. 17) and annual implementation report per fiscal year (Art. 21); a supervising
    organization's business report per fiscal year (Art. 43) and its stage-i visit record per employer and month.
    Fields that do not apply to the kind are null."""

    id: UUID = Field(description="stable: per kind, organizations and period (uuid5)")
    kind: FilingKind
    scheme: Scheme | None = Field(
        None, description="esd (audit reports), titp (business reports, visit records); null: an employer's, any"
    )
    supervision_support_organization_id: UUID | None = Field(None, description="quarterly_audit_report: who files")
    implementing_organization_id: UUID | None = Field(
        None, description="the employer who files (start_notice, annual_report) or whom it is about"
    )
    supervising_organization_id: UUID | None = Field(
        None, description="business_report, visit_record: the supervising organization who files"
    )
    fiscal_year: int | None = Field(
        None, description="annual_report, business_report (and a visit record's month's): April of it to March"
    )
    month: date | None = Field(None, description="visit_record: the first day of the month visited")
    supported_from: date | None = Field(
        None, description="quarterly_audit_report: the day the organization's ESD support of the employer began"
    )
    supported_until: date | None = Field(
        None,
        description="quarterly_audit_report: the day it ended (another organization took over, the support ended, or"
        " the permit was revoked or expired)",
    )
    last_quarter_ending: date | None = Field(
        None, description="quarterly_audit_report: the end of the last quarter reported by `status_on`"
    )
    last_filed_on: date | None = Field(
        None, description="quarterly_audit_report: the day the last report filed by `status_on` was filed"
    )
    reports_filed: int = Field(0, description="quarterly_audit_report: reports filed by `status_on`")
    owed_from: date | None = Field(None, description="the day the duty began (the worklist shows it from then)")
    ended_on: date | None = Field(
        None, description="the day the organization stopped owing it unfiled (its permit or support ended)"
    )
    due_on: date = Field(
        description="the last day on time: start_notice 30 days after the first plan's start; annual_report and"
        " business_report 31 May after the year; visit_record the last day of the next month; quarterly_audit_report"
        " 3 months after the last reported quarter's end, or after the support began (all configurable)"
    )
    filed_on: date | None = Field(None, description="the day it was filed, if by `status_on`")
    receipt_number: str | None = Field(None, description="the receipt number the filing quoted")
    late_days: int = Field(
        0, description="days after `due_on` it was filed; not filed by `status_on`: the days it is overdue"
    )
    status: FilingStatus = Field(FilingStatus.DUE, description="on `status_on`: due, overdue or filed")
    overdue: bool = Field(description="not filed by `status_on`, due before it, and still owed")
    inspection_id: UUID | None = Field(None, description="the extraordinary inspection opened from it, if any")
    status_on: date


# Trainee consultations (DOMAIN §7, issue 20): requests and responses.


class RecordConsultation(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "received_on": "2027-05-12",
                    "language": "vi",
                    "channel": "phone",
                    "subject": "abuse_or_harassment",
                    "summary": "Tổ trưởng thường xuyên quát mắng và đánh thực tập sinh.",
                    "trainee_id": "0b6f7c52-3c1e-4d8a-9f10-6a2d1e4b7c31",
                    "implementing_organization_id": "5f0c6c1e-8a4b-4e0f-9d7a-2b9e3c1d4a10",
                }
            ]
        },
    )

    received_on: date
    language: str = Field(pattern=r"^[a-z]{2}$", description="ISO 639-1 code of the language it was held in")
    channel: ConsultationChannel
    subject: ConsultationSubject
    summary: str = Field(min_length=1, max_length=4000, description="In the trainee's language; no names")
    trainee_id: UUID | None = None
    training_plan_id: UUID | None = None
    implementing_organization_id: UUID | None = None
    supervising_organization_id: UUID | None = None


class HandleConsultation(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "handled_on": "2027-05-13",
                    "handling": "called the supervising organization; advised the trainee of the shelter",
                    "closed": False,
                }
            ]
        },
    )

    handled_on: date
    handling: str = Field(min_length=1, max_length=4000)
    closed: bool = False


class EscalateConsultation(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"due_by": "2027-06-15", "target_type": "implementing_organization", "escalated_on": "2027-05-14"}
            ]
        },
    )

    due_by: date = Field(description="the extraordinary inspection is due by this day")
    target_type: Literal["implementing_organization", "supervising_organization"] = Field(
        description="which organization named in the consultation is inspected"
    )
    escalated_on: date | None = Field(None, description="defaults to today in Japan; the inspection's scheduled_on")


class ConsultationHandlingDocument(BaseModel):
    handled_on: date
    handling: str
    closed: bool


class ConsultationEscalationDocument(BaseModel):
    escalated_on: date
    inspection_id: UUID = Field(description="the extraordinary inspection opened from it (GET /v1/inspections/{id})")
    target_type: TargetType
    target_id: UUID


class ConsultationDocument(BaseModel):
    """One consultation, for OTIT and auditors only."""

    id: UUID
    received_on: date
    language: str
    channel: ConsultationChannel
    subject: ConsultationSubject
    summary: str
    trainee_id: UUID | None
    training_plan_id: UUID | None
    implementing_organization_id: UUID | None
    supervising_organization_id: UUID | None
    status: ConsultationStatus
    handlings: list[ConsultationHandlingDocument]
    closed_on: date | None
    escalation: ConsultationEscalationDocument | None
    version: int


ConsultationDimension = Literal["subject", "language"]


class ConsultationMonth(BaseModel):
    month: str = Field(description="YYYY-MM")
    last_day: date
    total: int = Field(description="consultations received in the month")
    counts: dict[str, int] = Field(default={}, description="Per value of the `by` dimension; only when split")


class ConsultationStatistics(BaseModel):
    by: ConsultationDimension | None
    where: dict[str, str] = Field(description="The filters given")
    months: list[ConsultationMonth]
