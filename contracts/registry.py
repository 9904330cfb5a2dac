"""Everything the registry records, in the program's own words (DOMAIN §1-3).

These payloads are the registry's public contract on `titp.registry.v1`: other services
build their local read models from them. Change one only by adding a new version with an
upcaster.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events import EventPayload, EventTypes

registry_events = EventTypes("registry")

CorporateNumber = Field(pattern=r"^\d{13}$", description="13-digit corporate number (法人番号)")


class PermitType(StrEnum):
    GENERAL = "general"  # 一般監理事業: stages i-iii, excellent organizations only
    SPECIFIED = "specified"  # 特定監理事業: stages i and ii


class RevocationGround(StrEnum):
    """Art. 37(1) of the Technical Intern Training Act."""

    STANDARDS_NOT_MET = "standards_not_met"  # 1 permit standards no longer met
    DISQUALIFIED = "disqualified"  # 2 a disqualification ground applies
    CONDITION_BREACHED = "condition_breached"  # 3 breach of a permit condition
    LAW_BREACHED = "law_breached"  # 4 breach of the Act, immigration or labour law, or of an order
    WRONGFUL_ACT = "wrongful_act"  # 5 a wrongful or grossly unjust act


class TrainingType(StrEnum):
    A = "a"  # enterprise-sponsored (企業単独型)
    B = "b"  # supervised by a supervising organization (団体監理型)


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# New events carry the JIS X 0401 code ("13"); events recorded before carry the name the applicant gave ("Tokyo"): a
# reader takes it as its code with `shared.reference.prefecture(value).code` (the registry does, on read).
PREFECTURE_DESCRIPTION = (
    "JIS X 0401 prefecture code, 01-47 (events before issue 19: the name as given, e.g. Tokyo; read it as its code"
    " with shared.reference.prefecture)"
)


class Officer(Record):
    """An officer (役員) of the applicant, for the disqualification checks (Art. 26)."""

    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=500)
    position: str | None = Field(default=None, max_length=200)


class SupervisingOffice(Record):
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=500)
    supervision_manager: str = Field(min_length=1, max_length=200)


class PermitApplication(Record):
    """What an application for a supervising-organization permit records (DOMAIN §2)."""

    name: str = Field(min_length=1, max_length=200)
    corporate_number: str = CorporateNumber
    address: str = Field(min_length=1, max_length=500)
    prefecture: str = Field(min_length=1, max_length=20, description=PREFECTURE_DESCRIPTION)
    representative: str = Field(min_length=1, max_length=200)
    supervising_offices: tuple[SupervisingOffice, ...] = Field(min_length=1, max_length=100)
    job_categories: tuple[str, ...] = Field(min_length=1, max_length=200)
    requested_permit_type: PermitType
    external_auditor: str = Field(min_length=1, max_length=200)
    officers: tuple[Officer, ...] = Field(
        default=(), max_length=100, description="the officers (役員); a new application names at least one"
    )


# Supervising organizations (stream: the organization's id)


@registry_events.register
class PermitApplied(EventPayload):
    application: PermitApplication
    applied_on: date


@registry_events.register
class PermitGranted(EventPayload):
    permit_type: PermitType
    granted_on: date
    expires_on: date
    meets_excellence_standard: bool | None = Field(
        default=None,
        description="the organization meets the excellence standard (a general permit requires it);"
        " null in grants recorded before it was asked",
    )


@registry_events.register
class PermitDenied(EventPayload):
    reason: str


@registry_events.register
class PermitRenewed(EventPayload):
    applied_on: date
    renewed_on: date
    excellent_record: bool
    valid_from: date
    expires_on: date


@registry_events.register
class PermitDowngraded(EventPayload):
    """General to specified, ex officio when the excellence standard is no longer met (Art. 37(2))."""

    effective_on: date
    legal_basis: str = "Art. 37(2)"


# Art. 32: a change of the business category, specified -> general, applied for and decided like a new permit.


@registry_events.register
class PermitTypeChangeApplied(EventPayload):
    requested_permit_type: PermitType = PermitType.GENERAL
    applied_on: date
    officers: tuple[Officer, ...] = Field(
        default=(), description="the officers as of the application, when they changed since the permit application"
    )


@registry_events.register
class PermitTypeChanged(EventPayload):
    permit_type: PermitType = PermitType.GENERAL
    changed_on: date
    meets_excellence_standard: bool
    expires_on: date = Field(description="the permit's last day: the change does not renew it")
    legal_basis: str = "Art. 32"


@registry_events.register
class PermitTypeChangeDenied(EventPayload):
    denied_on: date
    reason: str


@registry_events.register
class ImprovementOrderIssued(EventPayload):
    """Art. 36: an order to improve by a deadline."""

    order_id: UUID
    issued_on: date
    deadline: date
    reason: str


@registry_events.register
class ImprovementOrderClosed(EventPayload):
    order_id: UUID
    closed_on: date


@registry_events.register
class BusinessSuspended(EventPayload):
    """Art. 37(3): all or part of the business suspended from one date to another."""

    suspension_id: UUID
    from_date: date
    until_date: date
    scope: Literal["all", "part"]
    part: str | None = None
    reason: str
    ground: RevocationGround | None = Field(
        default=None,
        description="the Art. 37(1) item it rests on (Art. 37(3) allows items 1, 3, 4 and 5); null in suspensions"
        " recorded before it was asked",
    )


@registry_events.register
class PermitRevoked(EventPayload):
    """Art. 37(1); final."""

    revoked_on: date
    ground: RevocationGround
    reason: str


@registry_events.register
class PermitExpired(EventPayload):
    """The expiry date passed without a renewal."""

    expired_on: date


# Implementing organizations (stream: the organization's id)


@registry_events.register
class ImplementingOrganizationRegistered(EventPayload):
    name: str
    corporate_number: str
    address: str
    prefecture: str = Field(description=PREFECTURE_DESCRIPTION)
    industry: str
    training_type: TrainingType
    supervising_organization_id: UUID | None
    full_time_staff: int = Field(ge=0)
    staff_as_of: date
    excellent: bool
    registered_on: date
    stability_recognised: bool = Field(
        default=False,
        description="type (a): the Ministers recognise the company as stable (its quotas may follow the §3 table)",
    )


@registry_events.register
class StabilityRecognitionRecorded(EventPayload):
    """Type (a): whether the Ministers recognise the company as stable, from `as_of` (the latest by date counts)."""

    recognised: bool
    as_of: date


@registry_events.register
class StaffCountRecorded(EventPayload):
    """Full-time staff, trainees excluded; quotas use the latest figure."""

    full_time_staff: int = Field(ge=0)
    as_of: date


@registry_events.register
class ExcellenceRated(EventPayload):
    excellent: bool
    as_of: date


# Sending organizations (stream: the organization's id) and sending agreements (stream: the agreement's id)


@registry_events.register
class SendingOrganizationApproved(EventPayload):
    name: str
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    approval_reference: str | None = Field(
        default=None, description="an MoC country's certification (its government's list); none elsewhere"
    )
    approved_on: date
    recommendation_reference: str | None = Field(
        default=None,
        description="the recommendation of a public body of the country (required since issue 19; null before)",
    )


@registry_events.register
class SendingOrganizationWithdrawn(EventPayload):
    reason: str
    withdrawn_on: date


@registry_events.register
class SendingAgreementSigned(EventPayload):
    supervising_organization_id: UUID
    sending_organization_id: UUID
    signed_on: date


SENDING_AGREEMENT_END_PERMIT_REVOKED = "permit_revoked"
SENDING_AGREEMENT_END_PERMIT_EXPIRED = "permit_expired"


@registry_events.register
class SendingAgreementEnded(EventPayload):
    ended_on: date
    reason: str = Field(
        description="permit_revoked or permit_expired when the supervising organization's permit ended it;"
        " otherwise why (e.g. the sending organization's approval was withdrawn)"
    )


# Employment for Skill Development (DOMAIN §9): supervision support organizations (監理支援機関)
# (stream: the support organization's own id — a cooperative that also holds a TITP permit has two
# streams, two histories). Suspension, revocation, improvement orders and expiry of an ESD permit are
# recorded with the same events as a TITP permit's (BusinessSuspended, PermitRevoked,
# ImprovementOrderIssued/Closed, PermitExpired) on the support organization's stream: the law is the same.


class Scheme(StrEnum):
    """Which program a permit, a supervision or a plan belongs to."""

    TITP = "titp"  # Technical Intern Training (技能実習), until its transition ends
    ESD = "esd"  # Employment for Skill Development (育成就労), from 2027-04-01


class SupervisionSupportApplication(Record):
    """What an application for a supervision support organization permit records (DOMAIN §9)."""

    name: str = Field(min_length=1, max_length=200)
    corporate_number: str = CorporateNumber
    address: str = Field(min_length=1, max_length=500)
    prefecture: str = Field(min_length=1, max_length=20, description=PREFECTURE_DESCRIPTION)
    representative: str = Field(min_length=1, max_length=200)
    offices: tuple[SupervisingOffice, ...] = Field(min_length=1, max_length=100)
    job_categories: tuple[str, ...] = Field(min_length=1, max_length=200)
    non_profit: bool = Field(description="a supervision support organization must be a non-profit body")
    external_auditor: str = Field(min_length=1, max_length=200, description="mandatory under ESD")
    full_time_staff: int = Field(ge=0, le=100_000, description="staff who support and audit the employers")
    member_employers: int = Field(ge=0, le=1_000_000, description="employers (implementing organizations) it supports")
    workers: int = Field(ge=0, le=10_000_000, description="ESD workers at those employers, planned or in employment")


@registry_events.register
class SupervisionSupportPermitApplied(EventPayload):
    application: SupervisionSupportApplication
    applied_on: date


@registry_events.register
class SupervisionSupportPermitGranted(EventPayload):
    granted_on: date
    expires_on: date = Field(description="the permit's last day")
    excellent: bool = Field(description="rated excellent: the longer validity (5 years by default, else 3)")


@registry_events.register
class SupervisionSupportPermitDenied(EventPayload):
    reason: str


@registry_events.register
class SupervisionSupportPermitRenewed(EventPayload):
    applied_on: date
    renewed_on: date
    excellent: bool
    valid_from: date
    expires_on: date


@registry_events.register
class QuarterlyAuditReportFiled(EventPayload):
    """A support organization's audit of one employer (every 3 months under ESD; at least a quarter of
    the employer's ESD workers interviewed). Stream: the support organization's id."""

    report_id: UUID
    implementing_organization_id: UUID
    quarter_ending: date = Field(description="the last day of the quarter audited")
    filed_on: date
    workers: int = Field(ge=0, description="the employer's ESD workers")
    workers_interviewed: int = Field(ge=0)


# An implementing organization's supervision (stream: the implementing organization's id)


@registry_events.register
class SupervisionChanged(EventPayload):
    """From `effective_from` the implementing organization is supervised (TITP) or supported (ESD) by this
    organization for that scheme; the other scheme's supervision, if any, is unchanged."""

    supervising_organization_id: UUID
    scheme: Scheme
    effective_from: date
    alongside: bool = Field(
        default=False,
        description="the employer joins this organization alongside the ones supervising it for the scheme (TITP"
        " allows more than one; ESD only when configured) instead of moving to it; false (a move: every other"
        " supervision of the scheme ends the day before) in changes recorded before issue 20",
    )


@registry_events.register
class SupervisionEnded(EventPayload):
    """The employer's supervision (TITP) or support (ESD) by this organization ends: `effective_until` is its last
    day. Its other supervisions of the scheme, if any, carry on. Stream: the implementing organization's id."""

    supervising_organization_id: UUID
    scheme: Scheme
    effective_until: date = Field(description="the supervision's last day")


# A supervising organization's annual business report (Art. 43 of the Act; stream: the supervising organization's id)


@registry_events.register
class BusinessReportFiled(EventPayload):
    """The annual business report (事業報告書) of a supervising organization for a fiscal year (April-March); due by
    31 May after the year (configurable). One per organization and year."""

    supervising_organization_id: UUID
    fiscal_year: int = Field(ge=2000, le=2100, description="the fiscal year (April of this year to March of the next)")
    filed_on: date
    due_on: date = Field(description="31 May after the fiscal year (TITP_REGISTRY_BUSINESS_REPORT_DUE_MONTH_DAY)")


# How the registry's supervision events make periods (issue 20: an employer may have several under TITP)


@dataclass(frozen=True)
class Supervision:
    """One supervision (TITP) or support (ESD) of an employer by one organization, as the registry published it
    (issue 20: an employer may have several under TITP): its first day (None: since the registration) and its last
    (None: not ended)."""

    scheme: Scheme
    organization_id: UUID
    from_date: date | None = None
    until: date | None = None

    alongside: bool = field(default=False, compare=False)  # it began alongside the others (not a move)

    def covers(self, day: date) -> bool:
        return (self.from_date is None or self.from_date <= day) and (self.until is None or day <= self.until)

    def overlaps(self, first: date, last: date) -> bool:
        return (self.from_date is None or self.from_date <= last) and (self.until is None or first <= self.until)


@dataclass(frozen=True)
class SupervisionStep:
    """A registry event on an employer's supervision: `SupervisionChanged` (or the registration) from `day` (None:
    since the registration), a move unless `alongside`; or `SupervisionEnded` (`ended`) with `day` its last day."""

    scheme: Scheme
    organization_id: UUID
    day: date | None
    ended: bool = False
    alongside: bool = False


def supervision_periods(steps: Iterable[SupervisionStep]) -> tuple[Supervision, ...]:
    """The supervisions the registry's steps make: the one reading of `SupervisionChanged` and `SupervisionEnded`,
    for the registry and for every service that keeps a view of them. In order of the day each takes effect, an
    end (the day after its last) before a change of that day; a move ends every other supervision of the scheme the
    day before; a join alongside adds one."""

    def takes_effect(step: SupervisionStep) -> date:
        if step.day is None:
            return date.min
        return step.day + timedelta(days=1) if step.ended and step.day < date.max else step.day

    closed: list[Supervision] = []
    open_: list[Supervision] = []
    for step in sorted(steps, key=lambda s: (takes_effect(s), not s.ended)):
        day = takes_effect(step)
        same = [o for o in open_ if o.scheme is step.scheme]
        if step.ended:
            ending = [o for o in same if o.organization_id == step.organization_id]
        elif step.alongside:
            if any(o.organization_id == step.organization_id for o in same):
                continue
            ending = []
        else:
            ending = same
        for o in ending:
            open_.remove(o)
            if o.from_date is None or o.from_date < day:
                closed.append(replace(o, until=day - timedelta(days=1)))
        if not step.ended:
            open_.append(Supervision(step.scheme, step.organization_id, step.day, alongside=step.alongside))
    return tuple(closed + open_)
