"""Trainee protection (issue 25): the accreditation events that open an extraordinary inspection of the employer.

An early return filed without the trainee's confirmed, uncontested wish (flagged); an employer whose flagged early
returns went above the configured rate; a trainee's disappearance or death. Pure: which inspection an event asks for.
"""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from contracts.accreditation import (
    DiscontinuationReason,
    EmployerEarlyReturnRateExceeded,
    TrainingPlanDiscontinued,
    TrainingPlanEarlyReturnFiled,
)
from contracts.inspection import InspectionReason
from contracts.registry import Scheme
from shared.events import EventPayload

LOSSES = {
    DiscontinuationReason.DISAPPEARANCE: InspectionReason.DISAPPEARANCE,
    DiscontinuationReason.DEATH: InspectionReason.DEATH,
}


@dataclass(frozen=True)
class ProtectionInspection:
    """An extraordinary inspection of the implementing organization, opened on `opened_on`."""

    implementing_organization_id: UUID
    reason: InspectionReason
    opened_on: date
    detail: str
    scheme: Scheme | None = None  # the plan's, when the event is about one


def inspection_asked_by(event: EventPayload, plan_id: str) -> ProtectionInspection | None:
    """The inspection the event asks for, if any (`plan_id`: the event's stream, for a plan event)."""
    match event:
        case TrainingPlanEarlyReturnFiled(flags=flags) if flags:
            return ProtectionInspection(
                event.implementing_organization_id,
                InspectionReason.EARLY_RETURN,
                event.filed_on,
                f"early return {event.early_return_id} of plan {plan_id} on {event.returned_on}"
                f" ({event.reason.value}) flagged: {', '.join(f.value for f in flags)}",
                event.scheme,
            )
        case TrainingPlanDiscontinued(reason=reason) if reason in LOSSES:
            return ProtectionInspection(
                event.implementing_organization_id,
                LOSSES[reason],
                event.reported_on or event.discontinued_on,
                f"{reason.value} of the trainee of plan {plan_id} on {event.discontinued_on}"
                + (f", reported on {event.reported_on}" if event.reported_on else "")
                + (f" by {event.reported_by.party.value} ({event.reported_by.office})" if event.reported_by else ""),
                event.scheme,
            )
        case EmployerEarlyReturnRateExceeded():
            return ProtectionInspection(
                event.implementing_organization_id,
                InspectionReason.EARLY_RETURN_RATE,
                event.on,
                f"{event.returns} flagged early returns of {event.plans} plans ended or returned from between"
                f" {event.window_from} and {event.on}: above {event.rate} (at least {event.minimum_returns})",
            )
    return None
