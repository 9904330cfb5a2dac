"""What a supervising organization's permit (TITP, DOMAIN §2) and a supervision support organization's permit
(ESD, DOMAIN §9) have in common, in one place: the lifecycle, the status on a day, and the decisions the law
makes the same way for both — deciding an application, renewal timing, improvement orders (Art. 36, through
`shared.improvement_orders`), suspension (Art. 37(3)), revocation (Art. 37(1)) and expiry. Both record these
with the same events, each on its own stream.

applied -> active | denied
active -> active (renewed) | expired
active -> improvement ordered -> active (order closed) ; active -> suspended (from..until) -> active
active | suspended -> revoked (final)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal, TypeVar
from uuid import UUID

from contracts.registry import (
    BusinessSuspended,
    ImprovementOrderClosed,
    ImprovementOrderIssued,
    PermitExpired,
    PermitRevoked,
    RevocationGround,
)
from services.registry.domain.identity import violation
from services.registry.domain.rules import SUSPENSION_GROUNDS
from shared import improvement_orders
from shared.dates import add_months
from shared.errors import DomainRuleViolation
from shared.events import EventPayload
from shared.improvement_orders import ImprovementOrder, with_closed, with_issued

Events = list[EventPayload]  # what a decision records


class Lifecycle(StrEnum):
    """Where the permit stands as recorded; `status_on` adds what the calendar says."""

    APPLIED = "applied"
    ACTIVE = "active"
    DENIED = "denied"
    REVOKED = "revoked"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Suspension:
    suspension_id: UUID
    from_date: date
    until_date: date
    scope: str
    part: str | None
    reason: str
    ground: RevocationGround | None = None  # the Art. 37(1) item; None in suspensions recorded before it was asked

    def covers(self, day: date) -> bool:
        return self.from_date <= day <= self.until_date


@dataclass(frozen=True)
class Revocation:
    revoked_on: date
    ground: RevocationGround
    reason: str


@dataclass(frozen=True)
class Validity:
    """A granted permit's first and last day of validity as first granted or since renewed."""

    granted_on: date
    expires_on: date


@dataclass(frozen=True)
class PermitState:
    """The facts every permit records. Before the application (`exists` false) every date is None; the
    permit's dates are set from the grant on (`validity`). Read models keep this shape as JSON."""

    applied_on: date | None = None
    lifecycle: Lifecycle | None = None
    granted_on: date | None = None
    valid_from: date | None = None
    expires_on: date | None = None
    renewals: int = 0
    denial_reason: str | None = None
    improvement_orders: tuple[ImprovementOrder, ...] = ()
    suspensions: tuple[Suspension, ...] = ()
    revocation: Revocation | None = None
    expired_on: date | None = None

    @property
    def exists(self) -> bool:
        return self.lifecycle is not None

    @property
    def validity(self) -> Validity | None:
        """Once granted (also after it was revoked or expired); None before."""
        if self.granted_on is None or self.expires_on is None:
            return None
        return Validity(self.granted_on, self.expires_on)

    @property
    def open_improvement_orders(self) -> tuple[ImprovementOrder, ...]:
        return tuple(o for o in self.improvement_orders if o.closed_on is None)

    def suspension_on(self, day: date) -> Suspension | None:
        return next((s for s in self.suspensions if s.covers(day)), None)


P = TypeVar("P", bound=PermitState)


def evolve_permit(state: P, event: EventPayload) -> P:
    """The events both permits record alike; any other event, or one before the application (a stream of the
    other kind of permit, folded as this kind), leaves the state as it is."""
    if state.lifecycle is None:
        return state
    match event:
        case ImprovementOrderIssued():
            return replace(
                state,
                improvement_orders=with_issued(
                    state.improvement_orders, event.order_id, event.issued_on, event.deadline, event.reason
                ),
            )
        case ImprovementOrderClosed():
            return replace(
                state, improvement_orders=with_closed(state.improvement_orders, event.order_id, event.closed_on)
            )
        case BusinessSuspended():
            suspension = Suspension(
                event.suspension_id,
                event.from_date,
                event.until_date,
                event.scope,
                event.part,
                event.reason,
                event.ground,
            )
            return replace(state, suspensions=(*state.suspensions, suspension))
        case PermitRevoked():
            return replace(
                state, lifecycle=Lifecycle.REVOKED, revocation=Revocation(event.revoked_on, event.ground, event.reason)
            )
        case PermitExpired():
            return replace(state, lifecycle=Lifecycle.EXPIRED, expired_on=event.expired_on)
    return state


def granted(state: P, granted_on: date, expires_on: date) -> P:
    return replace(
        state, lifecycle=Lifecycle.ACTIVE, granted_on=granted_on, valid_from=granted_on, expires_on=expires_on
    )


def renewed(state: P, valid_from: date, expires_on: date) -> P:
    return replace(state, valid_from=valid_from, expires_on=expires_on, renewals=state.renewals + 1)


# The status on a day.

Status = Literal["applied", "denied", "active", "improvement_ordered", "suspended", "revoked", "expired"]
RECORDED_STATUS: dict[Lifecycle, Status] = {
    Lifecycle.APPLIED: "applied",
    Lifecycle.DENIED: "denied",
    Lifecycle.REVOKED: "revoked",
    Lifecycle.EXPIRED: "expired",
    Lifecycle.ACTIVE: "active",
}


def expiry_due(state: PermitState, day: date) -> bool:
    """Recorded active, but its last day is before `day`: expired by the calendar, not yet on record.

    The one definition: `status_on` answers "expired" for it, `record_expiry` records it, and the
    sweeps' SQL (projections: `EXPIRY_DUE`) selects exactly these rows."""
    validity = state.validity
    return state.lifecycle is Lifecycle.ACTIVE and validity is not None and validity.expires_on < day


def status_on(state: PermitState, day: date) -> Status:
    """The permit's status on a day, from what is recorded and what the calendar says."""
    if state.lifecycle is None:
        raise ValueError("no status: this organization has not applied")
    if state.lifecycle is not Lifecycle.ACTIVE:
        return RECORDED_STATUS[state.lifecycle]
    if expiry_due(state, day):
        return "expired"
    if state.suspension_on(day):
        return "suspended"
    if state.open_improvement_orders:
        return "improvement_ordered"
    return "active"


def permit_in_force(state: PermitState, day: date) -> bool:
    """May the organization take on new business that day: granted, not expired, revoked or suspended."""
    validity = state.validity
    return (
        state.lifecycle is Lifecycle.ACTIVE
        and validity is not None
        and validity.granted_on <= day
        and status_on(state, day) in ("active", "improvement_ordered")
    )


# Decisions. Each returns the events to record or raises DomainRuleViolation naming the rule.


def require_pending(state: PermitState) -> date:
    """The application must be pending; answers the day it was filed."""
    if state.lifecycle is not Lifecycle.APPLIED or state.applied_on is None:
        raise DomainRuleViolation(
            "permit.not_pending", f"only a pending application can be decided; this one is {state.lifecycle}"
        )
    return state.applied_on


def require_grant_after_application(state: PermitState, granted_on: date) -> None:
    applied_on = require_pending(state)
    if granted_on < applied_on:
        raise DomainRuleViolation(
            "permit.granted_before_application", f"granted_on {granted_on} is before the application on {applied_on}"
        )


def require_permit(state: PermitState, day: date, doing: str) -> Validity:
    """The permit must be granted and neither revoked nor expired on `day`; answers its validity."""
    if state.lifecycle is Lifecycle.REVOKED:
        raise DomainRuleViolation("permit.revoked", f"the permit was revoked; a revoked permit is final ({doing})")
    validity = state.validity
    if state.lifecycle is not Lifecycle.ACTIVE or validity is None:
        raise DomainRuleViolation("permit.not_active", f"there is no active permit to {doing} ({state.lifecycle})")
    if day < validity.granted_on:
        raise DomainRuleViolation("permit.not_yet_granted", f"{day} is before the grant on {validity.granted_on}")
    if day > validity.expires_on:
        raise DomainRuleViolation("permit.expired", f"the permit expired after {validity.expires_on}")
    return validity


def check_renewal(
    state: PermitState,
    applied_on: date,
    renewed_on: date,
    *,
    latest_months: int,
    earliest_months: int | None = None,
) -> Validity:
    """A renewal of an unexpired permit, applied for at least `latest_months` (and, if given, at most
    `earliest_months`) months before its last day, and decided after it was applied for."""
    if state.lifecycle is Lifecycle.EXPIRED or (state.expires_on and max(applied_on, renewed_on) > state.expires_on):
        raise DomainRuleViolation(
            "renewal.permit_expired", "an expired permit cannot be renewed; apply for a new permit"
        )
    validity = require_permit(state, renewed_on, "renew")
    if applied_on > renewed_on:
        raise DomainRuleViolation(
            "renewal.decided_before_application",
            f"renewed_on {renewed_on} is before the renewal application on {applied_on}",
        )
    latest = add_months(validity.expires_on, -latest_months)
    if applied_on > latest:
        raise DomainRuleViolation(
            "renewal.applied_too_late",
            f"a renewal must be applied for at least {latest_months} months before expiry"
            f" ({validity.expires_on}): by {latest}, not {applied_on}",
        )
    if earliest_months is not None and applied_on < (earliest := add_months(validity.expires_on, -earliest_months)):
        raise DomainRuleViolation(
            "renewal.applied_too_early",
            f"a renewal may be applied for at most {earliest_months} months before expiry"
            f" ({validity.expires_on}): from {earliest}, not {applied_on}",
        )
    return validity


def issue_improvement_order(state: PermitState, order_id: UUID, issued_on: date, deadline: date, reason: str) -> Events:
    require_permit(state, issued_on, "order an improvement")
    improvement_orders.check_issue(issued_on, deadline)
    return [ImprovementOrderIssued(order_id=order_id, issued_on=issued_on, deadline=deadline, reason=reason)]


def close_improvement_order(state: PermitState, order_id: UUID, closed_on: date) -> Events:
    improvement_orders.check_close(state.improvement_orders, order_id, closed_on)
    return [ImprovementOrderClosed(order_id=order_id, closed_on=closed_on)]


def suspend_business(
    state: PermitState,
    suspension_id: UUID,
    from_date: date,
    until_date: date,
    scope: Literal["all", "part"],
    part: str | None,
    reason: str,
    ground: RevocationGround | None = None,
) -> Events:
    """Art. 37(3): on one of the grounds 1, 3, 4 or 5 of Art. 37(1) (`rules.SUSPENSION_GROUNDS`)."""
    require_permit(state, from_date, "suspend")
    if ground is None:
        raise violation(
            "suspension.ground_required",
            "a suspension rests on a ground of Art. 37(1): standards_not_met, condition_breached, law_breached"
            " or wrongful_act",
            "ground",
        )
    if ground not in SUSPENSION_GROUNDS:
        raise violation(
            "suspension.ground_not_allowed",
            f"Art. 37(3) allows a suspension on grounds 1, 3, 4 and 5 of Art. 37(1), not {ground.value}"
            " (a disqualification ground leads to revocation)",
            "ground",
        )
    if until_date < from_date:
        raise DomainRuleViolation("suspension.ends_before_start", f"until_date {until_date} is before {from_date}")
    if scope == "part" and not part:
        raise DomainRuleViolation("suspension.part_unnamed", "a partial suspension must name the part suspended")
    if any(s.from_date <= until_date and from_date <= s.until_date for s in state.suspensions):
        raise DomainRuleViolation("suspension.overlaps", "the permit is already suspended for part of that period")
    return [
        BusinessSuspended(
            suspension_id=suspension_id,
            from_date=from_date,
            until_date=until_date,
            scope=scope,
            part=part if scope == "part" else None,
            reason=reason,
            ground=ground,
        )
    ]


def revoke_permit(state: PermitState, revoked_on: date, ground: RevocationGround, reason: str) -> Events:
    require_permit(state, revoked_on, "revoke")
    return [PermitRevoked(revoked_on=revoked_on, ground=ground, reason=reason)]


def record_expiry(state: PermitState, as_of: date) -> Events:
    """Nothing, unless the permit is active and its last day is before `as_of` (`expiry_due`)."""
    validity = state.validity
    if validity is not None and expiry_due(state, as_of):
        return [PermitExpired(expired_on=validity.expires_on + timedelta(days=1))]
    return []
