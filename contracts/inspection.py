"""What the inspection service records (DOMAIN §5, §7). Its public contract on `titp.inspection.v1`.

One stream per inspection (its id). Every inspection event names its target, so a consumer
can act on any one of them without the ones before. Change one only by adding a new version
with an upcaster.
"""

from datetime import date
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.registry import Scheme
from shared.events import EventPayload, EventTypes

inspection_events = EventTypes("inspection")


class TargetType(StrEnum):
    """What is inspected. Each is its own aggregate in the registry, so a referral names which one it acts on:
    a cooperative holding both a TITP permit and an ESD permit is two targets with two ids (DOMAIN §9)."""

    SUPERVISING_ORGANIZATION = "supervising_organization"  # TITP: a supervising organization (監理団体)
    IMPLEMENTING_ORGANIZATION = "implementing_organization"  # an implementing organization (TITP) or employer (ESD)
    SUPERVISION_SUPPORT_ORGANIZATION = "supervision_support_organization"  # ESD: 監理支援機関


class InspectionReason(StrEnum):
    """Why an inspection is on the schedule: the regular cadence, or something extraordinary."""

    PERMIT_GRANTED = "permit_granted"  # regular: a supervising (or supervision support) organization's first
    FIRST_CERTIFIED_PLAN = "first_certified_plan"  # regular: an implementing organization's first
    PREVIOUS_INSPECTION = "previous_inspection"  # regular: the next one after a regular inspection
    COMPLAINT = "complaint"  # extraordinary, e.g. a trainee's consultation with OTIT
    TIP = "tip"  # extraordinary
    FOLLOW_UP = "follow_up"  # extraordinary, e.g. after an improvement report that did not come
    OVERDUE_FILING = "overdue_filing"  # extraordinary: a filing owed and overdue (GET /v1/filings, issue 20)
    # Extraordinary, opened by accreditation's events (issue 25): an early return filed without the trainee's confirmed,
    # uncontested wish; an employer above the rate of such returns; a trainee's disappearance; a trainee's death.
    EARLY_RETURN = "early_return"
    EARLY_RETURN_RATE = "early_return_rate"
    DISAPPEARANCE = "disappearance"
    DEATH = "death"

    @property
    def extraordinary(self) -> bool:
        return self in EXTRAORDINARY_REASONS


EXTRAORDINARY_REASONS = frozenset(
    {
        InspectionReason.COMPLAINT,
        InspectionReason.TIP,
        InspectionReason.FOLLOW_UP,
        InspectionReason.OVERDUE_FILING,
        InspectionReason.EARLY_RETURN,
        InspectionReason.EARLY_RETURN_RATE,
        InspectionReason.DISAPPEARANCE,
        InspectionReason.DEATH,
    }
)


class InspectionOutcome(StrEnum):
    NO_FINDING = "no_finding"
    GUIDANCE = "guidance"  # improvement guidance: falls short of policy, no legal breach
    RECOMMENDATION = "recommendation"  # improvement recommendation: a legal breach; an improvement report is due
    REFERRAL = "referral"  # referral for administrative action (AdministrativeActionReferred)


class FindingCode(StrEnum):
    # Trainee protection (DOMAIN §7): forbidden, so always legal breaches.
    PASSPORT_OR_RESIDENCE_CARD_KEPT = "passport_or_residence_card_kept"
    PENALTY_OR_DEPOSIT_CONTRACT = "penalty_or_deposit_contract"
    FORCED_SAVINGS = "forced_savings"
    GOING_OUT_RESTRICTED = "going_out_restricted"
    # The training and its supervision.
    WAGES_BELOW_PLAN = "wages_below_plan"
    WORKING_HOURS = "working_hours"
    TRAINING_NOT_AS_PLANNED = "training_not_as_planned"
    SUPERVISION_NOT_PERFORMED = "supervision_not_performed"
    RECORDS_NOT_KEPT = "records_not_kept"
    SAFETY_AND_HEALTH = "safety_and_health"
    ACCOMMODATION = "accommodation"
    OTHER = "other"


TRAINEE_PROTECTION_CODES = frozenset(
    {
        FindingCode.PASSPORT_OR_RESIDENCE_CARD_KEPT,
        FindingCode.PENALTY_OR_DEPOSIT_CONTRACT,
        FindingCode.FORCED_SAVINGS,
        FindingCode.GOING_OUT_RESTRICTED,
    }
)


class Finding(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: FindingCode
    legal_breach: bool
    description: str = Field(min_length=1, max_length=4000)


class AdministrativeAction(StrEnum):
    """What a referral asks the registry or accreditation to do."""

    # On a supervising organization's permit, or a supervision support organization's (ESD: the same law).
    IMPROVEMENT_ORDER = "improvement_order"  # registry: Art. 36 order on the organization's permit
    SUSPENSION = "suspension"  # registry: Art. 37(3) suspension of the permit's business
    PERMIT_REVOCATION = "permit_revocation"  # registry: Art. 37(1) revocation of the permit
    PLAN_REVOCATION = "plan_revocation"  # accreditation: Art. 16 revocation of the implementing organization's plans
    # On an implementing organization (employer) itself: accreditation issues it (EmployerImprovementOrderIssued).
    EMPLOYER_IMPROVEMENT_ORDER = "employer_improvement_order"  # accreditation: Art. 15 order; `deadline` required


CancellationReason = Literal["permit_revoked", "permit_expired", "no_plans_in_force"]
"""Why an inspection left the schedule: the organization's permit was revoked or expired (Art. 37(1), Art. 31),
or an implementing organization has no plan in force any more (its schedule ends, DOMAIN §11)."""


class InspectionEvent(EventPayload):
    target_type: TargetType
    target_id: UUID


@inspection_events.register
class InspectionScheduled(InspectionEvent):
    reason: InspectionReason
    scheduled_on: date
    due_by: date
    detail: str | None = None
    follows: UUID | None = Field(default=None, description="The inspection whose completion scheduled this one")
    scheme: Scheme = Field(
        default=Scheme.TITP,
        description="The scheme the inspection is under: esd for a supervision support organization, and for an"
        " employer whose plans include an ESD plan; events before ESD: titp",
    )
    filing_id: UUID | None = Field(
        default=None,
        description="An inspection opened from an overdue filing (reason overdue_filing): the filing's id on GET"
        " /v1/filings",
    )


@inspection_events.register
class InspectionCompleted(InspectionEvent):
    inspected_on: date
    inspector: str
    findings: tuple[Finding, ...] = ()
    outcome: InspectionOutcome
    improvement_report_due: date | None = Field(
        default=None,
        description="For an improvement recommendation or improvement guidance: the date the improvement report is"
        " due by",
    )


@inspection_events.register
class ImprovementReportReceived(InspectionEvent):
    received_on: date


@inspection_events.register
class InspectionCancelled(InspectionEvent):
    """A scheduled inspection taken off the schedule: the organization's permit was revoked or expired, or (a
    regular one) the implementing organization has no plan in force any more."""

    cancelled_on: date
    reason: CancellationReason


@inspection_events.register
class ImprovementReportWaitClosed(InspectionEvent):
    """An inspection awaiting an improvement report (after guidance or a recommendation) awaits it no more: the
    organization's permit was revoked or expired (DOMAIN §11, §5). It leaves the worklists of reports awaited and
    overdue from `closed_on`; a report received before stays recorded."""

    closed_on: date
    reason: CancellationReason


@inspection_events.register
class AdministrativeActionReferred(EventPayload):
    """A referral's decision. Stream: the inspection's id. The registry (improvement order,
    suspension, permit revocation of a supervising organization) or accreditation (revocation
    of an implementing organization's plans in force; an Art. 15 improvement order on the
    implementing organization, EmployerImprovementOrderIssued) applies it, once."""

    referral_id: UUID
    inspection_id: UUID
    action: AdministrativeAction
    target_type: TargetType
    target_id: UUID
    decided_on: date
    reason: str
    # For improvement orders (Art. 36 and Art. 15): the deadline; for suspensions: the period and scope.
    deadline: date | None = None
    from_date: date | None = None
    until_date: date | None = None
    scope: Literal["all", "part"] | None = None
    # For permit revocations: the Art. 37(1) ground (see registry RevocationGround).
    ground: str | None = Field(default=None, max_length=50)


# Trainee consultations (DOMAIN §7, issue 20 item 5). One stream per consultation (its id). They stay with OTIT:
# no organization reads them, and no event names the trainee other than by id.


class ConsultationChannel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    VISIT = "visit"
    LETTER = "letter"
    OTHER = "other"


class ConsultationSubject(StrEnum):
    """What the trainee consulted OTIT about (the main subject)."""

    WAGES = "wages"
    WORKING_HOURS = "working_hours"
    ABUSE_OR_HARASSMENT = "abuse_or_harassment"
    PASSPORT_OR_DEPOSIT = "passport_or_deposit"  # passport or residence card kept, deposit or penalty contract
    EARLY_RETURN_PRESSURE = "early_return_pressure"  # pressed to go home before the plan's end
    PREGNANCY = "pregnancy"
    HEALTH = "health"
    TRANSFER_WISH = "transfer_wish"
    LIVING_CONDITIONS = "living_conditions"
    OTHER = "other"


ConsultationTargetType = Literal["implementing_organization", "supervising_organization"]
"""Whom an extraordinary inspection opened from a consultation inspects: an organization the consultation names."""


@inspection_events.register
class ConsultationRecorded(EventPayload):
    """A trainee's consultation or complaint received by OTIT, in the trainee's language."""

    consultation_id: UUID
    received_on: date
    language: str = Field(
        pattern=r"^[a-z]{2}$", description="The language it was held in: an ISO 639-1 code (vi, zh, id, tl, my, ...)"
    )
    channel: ConsultationChannel
    subject: ConsultationSubject
    summary: str = Field(
        min_length=1, max_length=4000, description="What the trainee said, in the trainee's language; no names"
    )
    trainee_id: UUID | None = None
    training_plan_id: UUID | None = None
    implementing_organization_id: UUID | None = None
    supervising_organization_id: UUID | None = None


@inspection_events.register
class ConsultationHandled(EventPayload):
    """What OTIT did about it (advice, a call to the organization, a referral); `closed`: nothing more to do."""

    handled_on: date
    handling: str = Field(min_length=1, max_length=4000)
    closed: bool = False


@inspection_events.register
class ConsultationEscalated(EventPayload):
    """An extraordinary inspection (reason: complaint) opened from the consultation, of an organization it names."""

    escalated_on: date
    inspection_id: UUID
    target_type: TargetType
    target_id: UUID
