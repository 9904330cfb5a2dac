"""Every request body and every response body of the registry's REST API.

Request bodies are their own models: where a command needs a contract payload, the body builds it
(`ApplyForPermit.application()`), so validating HTTP input never changes what is published.
"""

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationInfo, field_validator

from contracts.registry import (
    PREFECTURE_DESCRIPTION,
    ImplementingOrganizationRegistered,
    PermitApplication,
    PermitType,
    RevocationGround,
    Scheme,
    SendingOrganizationApproved,
    SupervisionSupportApplication,
    TrainingType,
)
from services.registry.domain.identity import prefecture_code
from services.registry.domain.sending_agreement import Status as AgreementStatus
from services.registry.domain.sending_organization import Status as SendingOrganizationStatus
from services.registry.domain.supervising_organization import Lifecycle, Status
from shared.web.http import Body

CORPORATE_NUMBER = r"^\d{13}$"
CORPORATE_NUMBER_DESCRIPTION = "13-digit corporate number (法人番号), its first digit the check digit"
PREFECTURE = "the prefecture: its JIS X 0401 code (13), or its name (Tokyo, 東京都), recorded as the code"
COUNTRY = r"^[A-Z]{2}$"


def _example(**example: JsonValue) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [example]})


# Requests: supervising organizations


class SupervisingOfficeEntry(Body):
    model_config = _example(
        name="Head office", address="1-2-3 Chiyoda, Chiyoda-ku, Tokyo", supervision_manager="Suzuki Hanako"
    )

    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=500)
    supervision_manager: str = Field(min_length=1, max_length=200)


class PermitApplicant(Body):
    """Who applies for a permit, under either scheme: the organization as its register names it."""

    name: str = Field(min_length=1, max_length=200)
    corporate_number: str = Field(pattern=CORPORATE_NUMBER, description=CORPORATE_NUMBER_DESCRIPTION)
    address: str = Field(min_length=1, max_length=500)
    prefecture: str = Field(min_length=1, max_length=20, description=PREFECTURE)
    representative: str = Field(min_length=1, max_length=200)


class OfficerEntry(Body):
    model_config = _example(
        name="Yamada Taro", address="2-1 Kanda, Chiyoda-ku, Tokyo", position="representative director"
    )

    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=500)
    position: str | None = Field(None, max_length=200)


class ApplyForPermit(PermitApplicant):
    model_config = _example(
        name="Sakura Business Cooperative",
        corporate_number="5010005000007",
        address="1-2-3 Chiyoda, Tokyo",
        prefecture="13",
        representative="Yamada Taro",
        supervising_offices=[
            {"name": "Head office", "address": "1-2-3 Chiyoda, Tokyo", "supervision_manager": "Suzuki Hanako"}
        ],
        job_categories=["construction", "food manufacturing"],
        requested_permit_type="general",
        external_auditor="Tanaka Law Office",
        officers=[{"name": "Yamada Taro", "address": "2-1 Kanda, Chiyoda-ku, Tokyo", "position": "representative"}],
        applied_on="2026-04-01",
    )

    supervising_offices: list[SupervisingOfficeEntry] = Field(min_length=1, max_length=100)
    job_categories: list[str] = Field(min_length=1, max_length=200)
    requested_permit_type: PermitType
    external_auditor: str = Field(min_length=1, max_length=200)
    officers: list[OfficerEntry] = Field(
        default=[],
        max_length=100,
        description="the officers (役員) with their addresses, at least one (rule application.officers_required):"
        " the disqualification checks of Art. 26 look at them",
    )
    applied_on: date

    def application(self) -> PermitApplication:
        """What the application records (the event's payload)."""
        return PermitApplication.model_validate(self.model_dump(exclude={"applied_on"}))


class GrantPermit(Body):
    model_config = _example(permit_type="general", granted_on="2026-05-01", meets_excellence_standard=True)

    permit_type: PermitType
    granted_on: date
    meets_excellence_standard: bool | None = Field(
        None,
        description="the organization meets the excellence standard; a general permit requires it"
        " (rule permit.excellence_required)",
    )


class ApplyForTypeChange(Body):
    model_config = _example(applied_on="2028-04-01")

    applied_on: date
    requested_permit_type: Literal[PermitType.GENERAL] = Field(
        PermitType.GENERAL, description="Art. 32: a specified permit's business category changed to general"
    )
    officers: list[OfficerEntry] = Field(
        default=[], max_length=100, description="the officers now, if they changed since the permit application"
    )


class ChangePermitType(Body):
    model_config = _example(changed_on="2028-06-01", meets_excellence_standard=True)

    changed_on: date
    meets_excellence_standard: bool = Field(description="decided like a new general permit: required")


class DenyTypeChange(Body):
    model_config = _example(denied_on="2028-06-01", reason="the excellence standard is not met")

    denied_on: date
    reason: str = Field(min_length=1, max_length=2000)


class DenyPermit(Body):
    model_config = _example(reason="the supervising offices named have no supervision manager")

    reason: str = Field(min_length=1, max_length=2000)


class RenewPermit(Body):
    model_config = _example(renewed_on="2030-12-01", excellent_record=True, applied_on="2030-11-01")

    renewed_on: date
    excellent_record: bool
    applied_on: date | None = Field(None, description="when the renewal was applied for; defaults to renewed_on")


class DowngradePermit(Body):
    model_config = _example(effective_on="2032-01-01")

    effective_on: date


class IssueImprovementOrder(Body):
    model_config = _example(issued_on="2027-01-10", deadline="2027-03-31", reason="supervision logs missing")

    issued_on: date
    deadline: date
    reason: str = Field(min_length=1, max_length=2000)


class CloseImprovementOrder(Body):
    model_config = _example(closed_on="2027-03-01")

    closed_on: date


class SuspendBusiness(Body):
    model_config = _example(
        from_date="2027-06-01",
        until_date="2027-08-31",
        scope="part",
        part="accepting new trainees",
        reason="Art. 37(3) order",
        ground="law_breached",
    )

    from_date: date
    until_date: date
    scope: Literal["all", "part"]
    part: str | None = Field(None, max_length=500, description="which part of the business, when scope is part")
    reason: str = Field(min_length=1, max_length=2000)
    ground: RevocationGround | None = Field(
        None,
        description="the Art. 37(1) ground: standards_not_met, condition_breached, law_breached or wrongful_act"
        " (Art. 37(3); rules suspension.ground_required, suspension.ground_not_allowed)",
    )


class RevokePermit(Body):
    model_config = _example(revoked_on="2032-06-01", ground="law_breached", reason="wages unpaid for six months")

    revoked_on: date
    ground: RevocationGround
    reason: str = Field(min_length=1, max_length=2000)


class RecordExpiries(Body):
    model_config = _example(as_of="2029-05-01")

    as_of: date


# Requests: supervision support organizations (ESD, DOMAIN §9)


class ApplyForSupervisionSupportPermit(PermitApplicant):
    model_config = _example(
        name="Sakura Business Cooperative",
        corporate_number="5010005000007",
        address="1-2-3 Chiyoda, Tokyo",
        prefecture="13",
        representative="Yamada Taro",
        offices=[{"name": "Head office", "address": "1-2-3 Chiyoda, Tokyo", "supervision_manager": "Suzuki Hanako"}],
        job_categories=["construction", "food manufacturing"],
        non_profit=True,
        external_auditor="Tanaka Law Office",
        full_time_staff=3,
        member_employers=12,
        workers=90,
        applied_on="2026-06-01",
    )

    offices: list[SupervisingOfficeEntry] = Field(min_length=1, max_length=100)
    job_categories: list[str] = Field(min_length=1, max_length=200)
    non_profit: bool = Field(description="a supervision support organization must be a non-profit body")
    external_auditor: str = Field(min_length=1, max_length=200, description="mandatory under ESD")
    full_time_staff: int = Field(ge=0, le=100_000, description="staff who support and audit the employers")
    member_employers: int = Field(ge=0, le=1_000_000, description="employers (implementing organizations) it supports")
    workers: int = Field(ge=0, le=10_000_000, description="ESD workers at those employers, planned or in employment")
    applied_on: date

    def application(self) -> SupervisionSupportApplication:
        """What the application records (the event's payload)."""
        return SupervisionSupportApplication.model_validate(self.model_dump(exclude={"applied_on"}))


class GrantSupervisionSupportPermit(Body):
    model_config = _example(granted_on="2026-09-01", excellent=False)

    granted_on: date
    excellent: bool = Field(description="rated excellent: valid 5 years instead of 3 (configurable)")


class RenewSupervisionSupportPermit(Body):
    model_config = _example(renewed_on="2029-05-15", excellent=True, applied_on="2029-04-01")

    renewed_on: date
    excellent: bool = Field(description="rated excellent: renewed for 5 years instead of 3 (configurable)")
    applied_on: date | None = Field(
        None, description="when the renewal was applied for (6 to 3 months before expiry); defaults to renewed_on"
    )


class FileAuditReport(Body):
    model_config = _example(
        implementing_organization_id="0b7c6f1e-3f7a-4c55-9d1e-2a6b8c9d0e1f",
        quarter_ending="2027-06-30",
        filed_on="2027-07-20",
        workers=12,
        workers_interviewed=3,
    )

    implementing_organization_id: UUID = Field(description="the employer audited, supported by this organization")
    quarter_ending: date = Field(description="the last day of the quarter audited (31 Mar, 30 Jun, 30 Sep, 31 Dec)")
    filed_on: date
    workers: int = Field(ge=0, le=1_000_000, description="the employer's ESD workers")
    workers_interviewed: int = Field(ge=0, le=1_000_000, description="at least a quarter of them (configurable)")


# Requests: implementing organizations


class RegisterImplementingOrganization(Body):
    model_config = _example(
        name="Kobe Precision Ltd",
        corporate_number="8140001000003",
        address="1-1 Minatojima, Kobe",
        prefecture="28",
        industry="machinery",
        training_type="b",
        supervising_organization_id="0b7c6f1e-3f7a-4c55-9d1e-2a6b8c9d0e1f",
        full_time_staff=40,
        staff_as_of="2026-04-01",
        excellent=False,
        registered_on="2026-04-10",
    )

    name: str = Field(min_length=1, max_length=200)
    corporate_number: str = Field(pattern=CORPORATE_NUMBER, description=CORPORATE_NUMBER_DESCRIPTION)
    address: str = Field(min_length=1, max_length=500)
    prefecture: str = Field(min_length=1, max_length=20, description=PREFECTURE)
    industry: str = Field(min_length=1, max_length=200)
    training_type: TrainingType
    supervising_organization_id: UUID | None = Field(
        None, validate_default=True, description="the supervising organization (type b only)"
    )
    full_time_staff: int = Field(ge=0, le=10_000_000, description="full-time staff, trainees excluded")
    staff_as_of: date
    excellent: bool
    registered_on: date
    stability_recognised: bool = Field(
        False, description="type (a) only: the Ministers recognise the company as stable (rule stability.type_a_only)"
    )

    # Kept as input validation (422), not a domain rule: tests/e2e/test_registry_implementing.py asserts the 422.
    @field_validator("supervising_organization_id")
    @classmethod
    def _for_type_b_only(cls, value: UUID | None, info: ValidationInfo) -> UUID | None:
        training_type = info.data.get("training_type")
        if training_type is TrainingType.B and value is None:
            raise ValueError("a type b (supervised) implementing organization needs its supervising organization")
        if training_type is TrainingType.A and value is not None:
            raise ValueError(
                "a type a (enterprise-sponsored) implementing organization has no supervising organization"
            )
        return value

    def registration(self) -> ImplementingOrganizationRegistered:
        return ImplementingOrganizationRegistered(**self.model_dump())


class RecordStaffCount(Body):
    model_config = _example(full_time_staff=45, as_of="2026-10-01")

    full_time_staff: int = Field(ge=0, le=10_000_000, description="full-time staff, trainees excluded")
    as_of: date


class ChangeSupervision(Body):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "supervising_organization_id": "5d0b6a4e-8c1f-4b7a-9e2d-3f4a5b6c7d8e",
                    "scheme": "esd",
                    "from": "2027-04-01",
                }
            ]
        },
    )

    supervising_organization_id: UUID = Field(
        description="a supervising organization (scheme titp) or a supervision support organization (scheme esd)"
    )
    scheme: Scheme
    from_: date = Field(alias="from", description="the first day of the supervision")
    alongside: bool = Field(
        False,
        description="join this organization besides the ones the employer has for the scheme (TITP; ESD only when"
        " configured) instead of moving to it (false: every other supervision of the scheme ends the day before)",
    )


class EndSupervision(Body):
    model_config = _example(
        supervising_organization_id="5d0b6a4e-8c1f-4b7a-9e2d-3f4a5b6c7d8e", scheme="titp", until="2027-09-30"
    )

    supervising_organization_id: UUID = Field(
        description="a supervising organization (scheme titp) or a supervision support organization (scheme esd)"
        " that supervises the employer now"
    )
    scheme: Scheme
    until: date = Field(description="the supervision's last day")


class FileBusinessReport(Body):
    model_config = _example(fiscal_year=2026, filed_on="2027-05-20")

    fiscal_year: int = Field(ge=2000, le=2100, description="the fiscal year reported on (April to March)")
    filed_on: date


class RecordStabilityRecognition(Body):
    model_config = _example(recognised=True, as_of="2027-04-01")

    recognised: bool = Field(description="type (a): the Ministers recognise the company as stable")
    as_of: date


class RateExcellence(Body):
    model_config = _example(excellent=True, as_of="2027-04-01")

    excellent: bool
    as_of: date


# Requests: sending organizations and agreements


class ApproveSendingOrganization(Body):
    model_config = _example(
        name="Hanoi Manpower JSC",
        country="VN",
        approval_reference="DOLAB-2026-0113",
        recommendation_reference="MOLISA-REC-2026-0042",
        approved_on="2026-01-13",
    )

    name: str = Field(min_length=1, max_length=200)
    country: str = Field(pattern=COUNTRY, description="ISO 3166-1 alpha-2, e.g. VN")
    approval_reference: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="an MoC country's certification of the organization, as its government numbers it: required"
        " from an MoC country (rule sending_organization.approval_required)",
    )
    recommendation_reference: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="the recommendation of a public body of its country: required"
        " (rule sending_organization.recommendation_required)",
    )
    approved_on: date

    def approval(self) -> SendingOrganizationApproved:
        return SendingOrganizationApproved(**self.model_dump())


class WithdrawSendingOrganization(Body):
    model_config = _example(reason="the origin country withdrew its approval", withdrawn_on="2026-09-30")

    reason: str = Field(min_length=1, max_length=2000)
    withdrawn_on: date


class SignSendingAgreement(Body):
    model_config = _example(sending_organization_id="5d0b6a4e-8c1f-4b7a-9e2d-3f4a5b6c7d8e", signed_on="2026-06-01")

    sending_organization_id: UUID
    signed_on: date


# Responses


class Document(BaseModel):
    """A response body: exactly these fields (a read model that sends another one fails loudly)."""

    model_config = ConfigDict(extra="forbid")


class SupervisingOfficeDocument(Document):
    name: str
    address: str
    supervision_manager: str


class ImprovementOrderDocument(Document):
    order_id: UUID
    issued_on: date
    deadline: date
    reason: str
    closed_on: date | None


class SuspensionDocument(Document):
    suspension_id: UUID
    from_date: date
    until_date: date
    scope: Literal["all", "part"]
    part: str | None
    reason: str
    ground: RevocationGround | None = Field(None, description="Art. 37(1) item; null before it was recorded")


class OfficerDocument(Document):
    name: str
    address: str
    position: str | None


class TypeChangeDocument(Document):
    """An application to change the business category (Art. 32) and its decision."""

    applied_on: date
    requested_permit_type: PermitType
    officers: list[OfficerDocument]
    outcome: Literal["pending", "changed", "denied"]
    decided_on: date | None
    denial_reason: str | None


class RevocationDocument(Document):
    revoked_on: date
    ground: RevocationGround
    reason: str


class BusinessReportDocument(Document):
    fiscal_year: int
    filed_on: date
    due_on: date
    late_days: int = Field(0, description="days filed after due_on (0: on time)")


class SupervisingOrganizationDocument(Document):
    """A supervising organization: its application, its permit as recorded, and its status on `status_on`."""

    id: UUID
    name: str
    corporate_number: str
    address: str
    prefecture: str
    representative: str
    supervising_offices: list[SupervisingOfficeDocument]
    job_categories: list[str]
    requested_permit_type: PermitType
    external_auditor: str
    officers: list[OfficerDocument] = Field(description="as applied for; none in applications before issue 19")
    applied_on: date
    lifecycle: Lifecycle = Field(description="as recorded")
    permit_type: PermitType | None
    meets_excellence_standard: bool | None = Field(
        description="as stated at the grant or the type change (false after a downgrade); null before it was asked"
    )
    granted_on: date | None
    valid_from: date | None
    expires_on: date | None
    renewals: int
    downgraded_on: date | None
    downgrade_legal_basis: str | None = Field(description="Art. 37(2) (ex officio, excellence lost)")
    type_change: TypeChangeDocument | None = Field(description="the latest application under Art. 32")
    denial_reason: str | None
    improvement_orders: list[ImprovementOrderDocument]
    suspensions: list[SuspensionDocument]
    revocation: RevocationDocument | None
    expired_on: date | None
    status: Status = Field(description="on `status_on`, from what is recorded and what the calendar says")
    status_on: date
    business_reports: list[BusinessReportDocument] = Field(
        [], description="its annual business reports (Art. 43), by fiscal year"
    )
    version: int


class ExpiriesRecorded(Document):
    as_of: date
    expired: list[UUID] = Field(description="the organizations whose permit's expiry this recorded")


class StaffCount(Document):
    full_time_staff: int
    as_of: date


class ExcellenceRating(Document):
    excellent: bool
    as_of: date


class StabilityRecognition(Document):
    recognised: bool
    as_of: date


class Supervision(Document):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    organization_id: UUID = Field(description="the supervising (TITP) or supervision support (ESD) organization")
    from_: date = Field(alias="from")


class SupervisionPerScheme(Document):
    titp: Supervision | None = Field(description="its supervising organization under TITP (type b)")
    esd: Supervision | None = Field(description="its supervision support organization under ESD")


class SupervisionEntry(Supervision):
    scheme: Scheme


class MembershipDocument(Document):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    organization_id: UUID = Field(description="the supervising (TITP) or supervision support (ESD) organization")
    scheme: Scheme
    from_: date = Field(alias="from", description="its first day")
    until: date | None = Field(description="its last day; null: not ended")
    alongside: bool = Field(description="joined besides the others (not a move)")


class CurrentSupervisions(Document):
    titp: list[MembershipDocument] = Field(description="its supervising organizations under TITP (type b), not ended")
    esd: list[MembershipDocument] = Field(description="its supervision support organizations under ESD, not ended")


class ImplementingOrganizationDocument(Document):
    """An implementing organization: its registration, its current staff count, rating and supervision per
    scheme, and their histories."""

    id: UUID
    name: str
    corporate_number: str
    address: str
    prefecture: str = Field(description=PREFECTURE_DESCRIPTION)
    industry: str
    training_type: TrainingType
    supervising_organization_id: UUID | None
    registered_on: date
    full_time_staff: int
    staff_as_of: date
    staff_history: list[StaffCount]
    excellent: bool
    excellent_as_of: date
    rating_history: list[ExcellenceRating]
    supervision: SupervisionPerScheme = Field(description="the latest supervision by date, per scheme")
    supervision_history: list[SupervisionEntry] = Field(description="both schemes, in date order")
    # Issue 20: documents written before have none of these (read them from supervision_history).
    supervisions: CurrentSupervisions | None = Field(
        None, description="every supervision not ended, per scheme (an employer may have more than one under TITP)"
    )
    memberships: list[MembershipDocument] = Field(
        [], description="every supervision with its first and last day, both schemes, in order of the first"
    )
    # Documents written before issue 19 have none of these: not recognised.
    stability_recognised: bool = Field(False, description="type (a): recognised by the Ministers as stable")
    stability_recognised_as_of: date | None = None
    stability_history: list[StabilityRecognition] = []
    version: int

    _prefecture_code = field_validator("prefecture", mode="before")(prefecture_code)


class SupervisionSupportOrganizationDocument(Document):
    """A supervision support organization (ESD): its application, its permit as recorded, and its status on
    `status_on`."""

    id: UUID
    scheme: Literal[Scheme.ESD]
    name: str
    corporate_number: str
    address: str
    prefecture: str
    representative: str
    offices: list[SupervisingOfficeDocument]
    job_categories: list[str]
    non_profit: bool
    external_auditor: str
    full_time_staff: int
    member_employers: int
    workers: int
    applied_on: date
    lifecycle: Lifecycle = Field(description="as recorded")
    excellent: bool | None = Field(description="as rated at the grant or the last renewal")
    granted_on: date | None
    valid_from: date | None
    expires_on: date | None
    renewals: int
    denial_reason: str | None
    improvement_orders: list[ImprovementOrderDocument]
    suspensions: list[SuspensionDocument]
    revocation: RevocationDocument | None
    expired_on: date | None
    status: Status = Field(description="on `status_on`, from what is recorded and what the calendar says")
    status_on: date
    version: int


class AuditReportDocument(Document):
    """A quarterly audit report as filed, with the day it was due by and whether it was late."""

    id: UUID = Field(description="the report's id (report_id in QuarterlyAuditReportFiled)")
    supervision_support_organization_id: UUID
    implementing_organization_id: UUID
    quarter_ending: date
    filed_on: date
    workers: int
    workers_interviewed: int
    due_by: date = Field(description="3 months (configurable) after the quarter's end")
    late: bool = Field(description="filed after due_by")


class SendingOrganizationDocument(Document):
    id: UUID
    name: str
    country: str
    approval_reference: str | None
    recommendation_reference: str | None = None
    approved_on: date
    status: SendingOrganizationStatus
    withdrawn_on: date | None
    withdrawal_reason: str | None
    version: int


class SendingAgreementDocument(Document):
    id: UUID
    supervising_organization_id: UUID
    sending_organization_id: UUID
    signed_on: date
    status: AgreementStatus
    ended_on: date | None
    end_reason: str | None
    version: int


Action = Literal[
    "revocation", "suspension", "downgrade", "improvement_order", "employer_improvement_order", "plan_revocation"
]


class DisclosedAction(Document):
    """One published administrative action; nothing personal (services/registry/projections/disclosure.py)."""

    id: UUID
    supervising_organization_id: UUID | None = Field(
        description="the permit holder's id; null for an action on an implementing organization"
    )
    organization_id: UUID = Field(description="the organization the action is about")
    organization_type: Literal[
        "supervising_organization", "supervision_support_organization", "implementing_organization"
    ]
    name: str
    corporate_number: str
    prefecture: str
    action: Action
    action_date: date
    legal_basis: str | None
    ground: str
    until_date: date | None
    scope: Literal["all", "part"] | None
    deadline: date | None
    scheme: Scheme = Field(
        description="titp: a supervising organization's permit; esd: a supervision support organization's"
        " (supervising_organization_id is then its id)"
    )


class DisclosurePage(Document):
    """A page of the public list (shaped as `Page`, but no `Page`: the role checks walk every `Page` route,
    and this one is public); `next_cursor`, when not null, fetches the next page (`?cursor=`)."""

    items: list[DisclosedAction]
    next_cursor: str | None


class PermitStatistics(Document):
    prefecture: str | None
    total: int
    permits: dict[PermitType, dict[Lifecycle, int]] = Field(description="type -> status as recorded -> count")


class SupervisionSupportPermitStatistics(Document):
    prefecture: str | None
    total: int
    permits: dict[Lifecycle, int] = Field(description="ESD permits by status as recorded")
    active_excellent: int = Field(description="active permits rated excellent")


class FiscalYearActions(Document):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    fiscal_year: int = Field(description="named by the year it starts (April)")
    from_: date = Field(alias="from")
    to: date
    revocations: int
    suspensions: int
    downgrades: int
    improvement_orders: int


class AdministrativeActionStatistics(Document):
    fiscal_years: list[FiscalYearActions]


# Accreditation's flags of a sending organization for fees above its ceiling (issue 25 item 2)


class FeeFlag(Document):
    training_plan_id: UUID
    flagged_on: date = Field(description="The day of the plan's fee declaration above the ceiling")
    total_yen: int = Field(description="What the trainee declared paid before coming")
    ceiling_yen: int = Field(description="Accreditation's ceiling it was judged by")


class SendingOrganizationFeeFlags(Document):
    sending_organization_id: UUID
    flags: list[FeeFlag] = Field(description="One per plan, oldest first; empty: never flagged")
