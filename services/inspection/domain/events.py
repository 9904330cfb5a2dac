"""What the inspection service records (DOMAIN §5). Its public contract on `titp.inspection.v1`."""

from datetime import date
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.events import EventPayload, EventTypes

inspection_events = EventTypes("inspection")


class TargetType(StrEnum):
    SUPERVISING_ORGANIZATION = "supervising_organization"
    IMPLEMENTING_ORGANIZATION = "implementing_organization"


class AdministrativeAction(StrEnum):
    """What a referral asks the registry or accreditation to do."""

    IMPROVEMENT_ORDER = "improvement_order"  # registry: Art. 36 order on the supervising organization's permit
    SUSPENSION = "suspension"  # registry: Art. 37(3) suspension of the permit's business
    PERMIT_REVOCATION = "permit_revocation"  # registry: Art. 37(1) revocation of the permit
    PLAN_REVOCATION = "plan_revocation"  # accreditation: Art. 16 revocation of the implementing organization's plans


@inspection_events.register
class AdministrativeActionReferred(EventPayload):
    """A referral's decision. Stream: the inspection's id. The registry (improvement order,
    suspension, permit revocation of a supervising organization) or accreditation (revocation
    of an implementing organization's plans in force) applies it, once."""

    referral_id: UUID
    inspection_id: UUID
    action: AdministrativeAction
    target_type: TargetType
    target_id: UUID
    decided_on: date
    reason: str
    # For improvement orders: the deadline; for suspensions: the period and scope.
    deadline: date | None = None
    from_date: date | None = None
    until_date: date | None = None
    scope: Literal["all", "part"] | None = None
    # For permit revocations: the Art. 37(1) ground (see registry RevocationGround).
    ground: str | None = Field(default=None, max_length=50)
