"""Improvement orders, as the registry (Art. 36, on a permit) and accreditation (Art. 15, on a plan) keep them."""

from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID


@dataclass(frozen=True)
class ImprovementOrder:
    order_id: UUID
    issued_on: date
    deadline: date
    reason: str
    closed_on: date | None = None


def with_issued(orders: tuple[ImprovementOrder, ...], order_id: UUID, issued_on: date, deadline: date,
                reason: str) -> tuple[ImprovementOrder, ...]:
    return (*orders, ImprovementOrder(order_id, issued_on, deadline, reason))


def with_closed(orders: tuple[ImprovementOrder, ...], order_id: UUID, closed_on: date) -> tuple[ImprovementOrder, ...]:
    return tuple(replace(o, closed_on=closed_on) if o.order_id == order_id else o for o in orders)
