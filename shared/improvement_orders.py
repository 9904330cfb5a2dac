"""Improvement orders, one rule book for both kinds: the registry's on a permit (Art. 36) and
accreditation's on a training plan (Art. 15). What an order is and how it is issued and
closed is the same law in both; each service records the result in its own events.

`ImprovementOrders.issue` and `.close` check the rules and answer the orders as they would
be: a refusal names its rule (409 at the edge), an unknown order is not found (404).
"""

from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from shared.errors import DomainRuleViolation, NotFound


@dataclass(frozen=True)
class ImprovementOrder:
    order_id: UUID
    issued_on: date
    deadline: date
    reason: str
    closed_on: date | None = None

    def open_on(self, day: date) -> bool:
        return self.issued_on <= day and (self.closed_on is None or self.closed_on > day)

    def overdue_on(self, day: date) -> bool:
        """Past its deadline on `day` and not closed by then."""
        return self.open_on(day) and self.deadline < day


def check_issue(issued_on: date, deadline: date) -> None:
    if deadline <= issued_on:
        raise DomainRuleViolation(
            "improvement_order.deadline_not_after_issue",
            f"the deadline {deadline} must come after the order on {issued_on}",
        )


def check_close(orders: tuple[ImprovementOrder, ...], order_id: UUID, closed_on: date) -> ImprovementOrder:
    order = next((o for o in orders if o.order_id == order_id), None)
    if order is None:
        raise NotFound("improvement order", order_id)
    if order.closed_on is not None:
        raise DomainRuleViolation("improvement_order.already_closed", f"the order was closed on {order.closed_on}")
    if closed_on < order.issued_on:
        raise DomainRuleViolation(
            "improvement_order.closed_before_issue",
            f"closed_on {closed_on} is before the order was issued on {order.issued_on}",
        )
    return order


def with_issued(
    orders: tuple[ImprovementOrder, ...], order_id: UUID, issued_on: date, deadline: date, reason: str
) -> tuple[ImprovementOrder, ...]:
    return (*orders, ImprovementOrder(order_id, issued_on, deadline, reason))


def with_closed(orders: tuple[ImprovementOrder, ...], order_id: UUID, closed_on: date) -> tuple[ImprovementOrder, ...]:
    return tuple(replace(o, closed_on=closed_on) if o.order_id == order_id else o for o in orders)
