"""What the visa service records (DOMAIN §6, §9): certificates of eligibility, visas, changes of status.

These payloads are the service's public contract on `titp.visa.v1`. Every COE event names its
training plan and trainee, so a consumer can act on any one of them without the ones before.
Change one only by adding a new version with an upcaster, or by adding a field with a default that
reads every older event as it meant: events before ESD carry no `scheme` and read as TITP
(`technical_intern_training`, with its stage). Events before issue 19 carry no `stage` on a COE event (a
TITP certificate was for stage i then) and no departure (stage iii was not entered with a COE).
"""

from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from pydantic import Field

from contracts.accreditation import Stage
from contracts.registry import Scheme
from shared.events import EventPayload, EventTypes

visa_events = EventTypes("visa")


class StatusOfResidence(StrEnum):
    """The status of residence a certificate, a visa or a change of status grants (DOMAIN §6, §9)."""

    TECHNICAL_INTERN_TRAINING = "technical_intern_training"  # 技能実習 (TITP): by stage, i, ii, iii
    EMPLOYMENT_FOR_SKILL_DEVELOPMENT = "employment_for_skill_development"  # 育成就労 (ESD): no stages


class StatusChangeKind(StrEnum):
    """Why a status of residence is granted anew on another plan while the trainee stays in Japan."""

    NEXT_STAGE = "next_stage"  # TITP: stage i -> ii, ii -> iii
    TRANSFER = "transfer"  # ESD: the worker moved to another employer (転籍) on a new plan
    EXTENSION = "extension"  # ESD: the extra year after a failed SSW test, on its own plan


def _scheme() -> Any:
    return Field(default=Scheme.TITP, description="The plan's scheme: titp, or esd; events before ESD: titp")


def _status_of_residence() -> Any:
    return Field(
        default=StatusOfResidence.TECHNICAL_INTERN_TRAINING,
        description="The status of residence it names: technical_intern_training (TITP) or"
        " employment_for_skill_development (ESD, 育成就労); events before ESD: technical_intern_training",
    )


class CoeEvent(EventPayload):
    """Stream: the COE application's id, which is also the certificate's id once issued."""

    training_plan_id: UUID
    trainee_id: UUID
    scheme: Scheme = _scheme()
    status_of_residence: StatusOfResidence = _status_of_residence()
    stage: Stage | None = Field(
        default=None,
        description="TITP: the plan's stage, i (first entry) or iii (landing again after a departure); null for"
        " ESD. Events before issue 19 have none: a TITP certificate was for stage i",
    )


class NewCoeGround(StrEnum):
    """Why a stage-iii trainee lands on a new COE rather than changing status (DOMAIN §11)."""

    NO_RE_ENTRY_PERMIT = "no_re_entry_permit"  # left Japan without a re-entry permit: the status ended
    ABROAD_TOO_LONG = "abroad_too_long"  # abroad longer than the configured months (3) with one


@visa_events.register
class CoeApplied(CoeEvent):
    applied_on: date
    departed_on: date | None = Field(
        default=None, description="Stage iii: the day the trainee left Japan, ending the previous stay"
    )
    re_entry_permit_used: bool | None = Field(
        default=None, description="Stage iii: whether the trainee left with a re-entry permit (or the deemed one)"
    )
    new_coe_ground: NewCoeGround | None = Field(
        default=None, description="Stage iii: why a new COE and not a change of status"
    )


@visa_events.register
class CoeIssued(CoeEvent):
    issued_on: date
    expires_on: date = Field(description="The last day a visa may be issued on it")


@visa_events.register
class CoeDenied(CoeEvent):
    reason: str


@visa_events.register
class CoeApplicationCancelled(CoeEvent):
    """A pending application whose training plan was revoked."""

    cancelled_on: date
    reason: str


@visa_events.register
class CoeRevoked(CoeEvent):
    """An issued certificate, not yet used for a visa, whose training plan was revoked."""

    revoked_on: date
    reason: str


@visa_events.register
class CoeUsed(CoeEvent):
    """A visa was issued on the certificate; it cannot serve another."""

    visa_id: UUID
    used_on: date


@visa_events.register
class VisaIssued(EventPayload):
    """Stream: the visa's id. Entry with the status of residence of the plan's scheme: TITP in stage i,
    or ESD (no stage), with the period of stay the rules allow."""

    coe_id: UUID
    training_plan_id: UUID
    trainee_id: UUID
    post: str = Field(description="The embassy or consulate that issued it")
    issued_on: date
    stage: Stage | None = Field(description="TITP: i; null for ESD, which has no stages")
    period_of_stay_months: int
    scheme: Scheme = _scheme()
    status_of_residence: StatusOfResidence = _status_of_residence()


@visa_events.register
class StatusOfResidenceChanged(EventPayload):
    """Stream: the change of status's id. TITP: from one stage's status to the next on its certified plan.
    ESD: the status moves to the worker's new certified plan (a transfer to another employer, or the
    extension year); the stages are null."""

    training_plan_id: UUID
    trainee_id: UUID
    from_stage: Stage | None = Field(description="TITP: the stage held; null for ESD")
    to_stage: Stage | None = Field(description="TITP: the plan's stage; null for ESD")
    decided_on: date
    period_of_stay_months: int
    scheme: Scheme = _scheme()
    status_of_residence: StatusOfResidence = _status_of_residence()
    kind: StatusChangeKind = Field(default=StatusChangeKind.NEXT_STAGE, description="Events before ESD: next_stage")
    from_training_plan_id: UUID | None = Field(
        default=None, description="ESD: the plan whose status the worker held (for a transfer, `transfer_from`)"
    )


@visa_events.register
class EvaluationReportReceived(EventPayload):
    """Stream: `evaluation_report_id(training_plan_id)`, one per stage-ii plan. The implementing organization's
    evaluation report (評価調書) on a trainee's TITP stage ii, presented to immigration: for Specified Skilled
    Worker (i) it stands in for grade 3 (DOMAIN §11)."""

    training_plan_id: UUID = Field(description="The TITP stage-ii plan it evaluates")
    trainee_id: UUID
    written_on: date = Field(description="The day the implementing organization wrote it")
    received_on: date = Field(description="The day immigration received it")


EVALUATION_REPORTS = UUID("9b1f4c3e-6a2d-5e8f-a7c4-3d2e1f0b9a87")


def evaluation_report_id(training_plan_id: UUID) -> UUID:
    return uuid5(EVALUATION_REPORTS, str(training_plan_id))
