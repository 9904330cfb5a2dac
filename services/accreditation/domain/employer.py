"""The implementing organization (employer) as accreditation records it: its Art. 15 improvement orders (§11).

Its stream is `employer_stream_id(implementing_organization_id)`. An order is issued by an officer or on an
inspection referral asking for one (`AdministrativeAction.EMPLOYER_IMPROVEMENT_ORDER`), and closed when complied
with. Its breach (the deadline passed, not closed) is a ground to revoke the employer's plans (Art. 16(1)):
`breached_order` checks it; the plans' revocations name the order (`TrainingPlanRevoked.improvement_order_id`).
"""

from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from contracts.accreditation import EmployerImprovementOrderClosed, EmployerImprovementOrderIssued
from shared import improvement_orders
from shared.errors import DomainRuleViolation, NotFound
from shared.events import EventPayload
from shared.improvement_orders import ImprovementOrder, with_closed, with_issued


@dataclass(frozen=True)
class EmployerRecord:
    implementing_organization_id: UUID | None = None  # None while nothing is recorded
    improvement_orders: tuple[ImprovementOrder, ...] = ()
    referrals: tuple[tuple[UUID, UUID], ...] = ()  # (order id, the inspection referral it was issued on)

    def referral_of(self, order_id: UUID) -> UUID | None:
        return next((referral for order, referral in self.referrals if order == order_id), None)


def evolve(state: EmployerRecord, event: EventPayload) -> EmployerRecord:
    match event:
        case EmployerImprovementOrderIssued():
            return replace(
                state,
                implementing_organization_id=event.implementing_organization_id,
                improvement_orders=with_issued(
                    state.improvement_orders, event.order_id, event.issued_on, event.deadline, event.reason
                ),
                referrals=(*state.referrals, (event.order_id, event.referral_id))
                if event.referral_id
                else state.referrals,
            )
        case EmployerImprovementOrderClosed():
            return replace(
                state, improvement_orders=with_closed(state.improvement_orders, event.order_id, event.closed_on)
            )
    return state


def issue_improvement_order(
    state: EmployerRecord,
    implementing_organization_id: UUID,
    order_id: UUID,
    issued_on: date,
    deadline: date,
    reason: str,
    referral_id: UUID | None = None,
) -> list[EventPayload]:
    """Art. 15: an order with a deadline after it; one per referral (a referral delivered again issues none)."""
    if referral_id is not None and any(referral == referral_id for _, referral in state.referrals):
        return []
    improvement_orders.check_issue(issued_on, deadline)
    return [
        EmployerImprovementOrderIssued(
            implementing_organization_id=implementing_organization_id,
            order_id=order_id,
            issued_on=issued_on,
            deadline=deadline,
            reason=reason,
            referral_id=referral_id,
        )
    ]


def close_improvement_order(state: EmployerRecord, order_id: UUID, closed_on: date) -> list[EventPayload]:
    if state.implementing_organization_id is None:
        raise NotFound("improvement order", order_id)
    improvement_orders.check_close(state.improvement_orders, order_id, closed_on)
    return [
        EmployerImprovementOrderClosed(
            implementing_organization_id=state.implementing_organization_id, order_id=order_id, closed_on=closed_on
        )
    ]


def breached_order(state: EmployerRecord, order_id: UUID, found_on: date) -> ImprovementOrder:
    """The order, if it is breached on `found_on`: its deadline passed before that day and it was not closed by
    then. Otherwise refused (`improvement_order.not_breached`), or not found."""
    order = next((o for o in state.improvement_orders if o.order_id == order_id), None)
    if order is None:
        raise NotFound("improvement order", order_id)
    if not order.overdue_on(found_on):
        raise DomainRuleViolation(
            "improvement_order.not_breached",
            f"the order of {order.issued_on} is breached only after its deadline {order.deadline} passed without"
            + (f" it being closed (it was closed on {order.closed_on})" if order.closed_on else " it being closed"),
        )
    return order
