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
    Finding,
    FindingCode,
    InspectionOutcome,
    InspectionReason,
    TargetType,
)
from contracts.registry import RevocationGround, Scheme
from services.inspection.domain.filings import FilingKind
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
    """A filing an organization owes, as of `status_on`: the next quarterly audit report a supervision support
    organization owes about an employer it supports under ESD (DOMAIN §9)."""

    id: UUID = Field(description="stable per support organization and employer")
    kind: FilingKind
    scheme: Scheme
    supervision_support_organization_id: UUID = Field(description="who files")
    implementing_organization_id: UUID = Field(description="the employer the reports are about")
    supported_from: date = Field(description="the day the organization's ESD support of the employer began")
    supported_until: date | None = Field(
        description="the day it ended (another organization took over, or the permit was revoked or expired)"
    )
    last_quarter_ending: date | None = Field(description="the end of the last quarter reported by `status_on`")
    last_filed_on: date | None = Field(description="the day the last report filed by `status_on` was filed")
    reports_filed: int = Field(description="reports filed by `status_on`")
    due_on: date = Field(
        description="the next report is due by this day: 3 months (configurable) after the last reported quarter's"
        " end, or after the support began"
    )
    overdue: bool = Field(description="`due_on` is before `status_on` and the support was in force on it")
    status_on: date
