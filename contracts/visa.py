"""What the visa service records (DOMAIN §6): certificates of eligibility, visas, changes of status.

These payloads are the service's public contract on `titp.visa.v1`. Every COE event names its
training plan and trainee, so a consumer can act on any one of them without the ones before.
Change one only by adding a new version with an upcaster.
"""

from datetime import date
from uuid import UUID

from pydantic import Field

from contracts.accreditation import Stage
from shared.events import EventPayload, EventTypes

visa_events = EventTypes("visa")


class CoeEvent(EventPayload):
    """Stream: the COE application's id, which is also the certificate's id once issued."""

    training_plan_id: UUID
    trainee_id: UUID


@visa_events.register
class CoeApplied(CoeEvent):
    applied_on: date


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
    """Stream: the visa's id. Entry in stage i with the period of stay the stage allows."""

    coe_id: UUID
    training_plan_id: UUID
    trainee_id: UUID
    post: str = Field(description="The embassy or consulate that issued it")
    issued_on: date
    stage: Stage
    period_of_stay_months: int


@visa_events.register
class StatusOfResidenceChanged(EventPayload):
    """Stream: the change of status's id. From one stage's status to the next on its certified plan."""

    training_plan_id: UUID
    trainee_id: UUID
    from_stage: Stage
    to_stage: Stage
    decided_on: date
    period_of_stay_months: int
