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

    @property
    def extraordinary(self) -> bool:
        return self in EXTRAORDINARY_REASONS


EXTRAORDINARY_REASONS = frozenset({InspectionReason.COMPLAINT, InspectionReason.TIP, InspectionReason.FOLLOW_UP})


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
