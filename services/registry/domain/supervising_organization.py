"""The supervising organization and its permit: state, evolve, and one decide function per command.

applied -> active | denied
active -> active (renewed) | expired ; general -> specified (downgrade)
active -> improvement ordered -> active (order closed) ; active -> suspended (from..until) -> active
active | suspended -> revoked (final)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal
from uuid import UUID

from contracts.registry import (
    BusinessSuspended,
    ImprovementOrderClosed,
    ImprovementOrderIssued,
    PermitApplication,
    PermitApplied,
    PermitDenied,
    PermitDowngraded,
    PermitExpired,
    PermitGranted,
    PermitRenewed,
    PermitRevoked,
    PermitType,
    RevocationGround,
)
from services.registry.domain import rules
from shared import improvement_orders
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

    def covers(self, day: date) -> bool:
        return self.from_date <= day <= self.until_date


@dataclass(frozen=True)
class Revocation:
    revoked_on: date
    ground: RevocationGround
    reason: str


@dataclass(frozen=True)
class Permit:
    """The permit as granted, renewed and downgraded since: what the decisions on it read."""

    permit_type: PermitType
    granted_on: date
    expires_on: date


@dataclass(frozen=True)
class SupervisingOrganization:
    """As recorded. Before the application (`exists` false) every fact is None; the permit's facts
    are set from the grant on (`permit`). Read models keep this shape as JSON, so its fields stay."""

    application: PermitApplication | None = None
    applied_on: date | None = None
    lifecycle: Lifecycle | None = None
    permit_type: PermitType | None = None
    granted_on: date | None = None
    valid_from: date | None = None
    expires_on: date | None = None
    renewals: int = 0
    downgraded_on: date | None = None
    denial_reason: str | None = None
    improvement_orders: tuple[ImprovementOrder, ...] = ()
    suspensions: tuple[Suspension, ...] = ()
    revocation: Revocation | None = None
    expired_on: date | None = None

    @property
    def exists(self) -> bool:
        return self.lifecycle is not None

    @property
    def permit(self) -> Permit | None:
        """The permit, once granted (also after it was revoked or expired); None before."""
        if self.permit_type is None or self.granted_on is None or self.expires_on is None:
            return None
        return Permit(self.permit_type, self.granted_on, self.expires_on)

    @property
    def open_improvement_orders(self) -> tuple[ImprovementOrder, ...]:
        return tuple(o for o in self.improvement_orders if o.closed_on is None)

    def suspension_on(self, day: date) -> Suspension | None:
        return next((s for s in self.suspensions if s.covers(day)), None)


def evolve(state: SupervisingOrganization, event: EventPayload) -> SupervisingOrganization:
    match event:
        case PermitApplied():
            return replace(
                state, application=event.application, applied_on=event.applied_on, lifecycle=Lifecycle.APPLIED
            )
        case PermitGranted():
            return replace(
                state,
                lifecycle=Lifecycle.ACTIVE,
                permit_type=event.permit_type,
                granted_on=event.granted_on,
                valid_from=event.granted_on,
                expires_on=event.expires_on,
            )
        case PermitDenied():
            return replace(state, lifecycle=Lifecycle.DENIED, denial_reason=event.reason)
        case PermitRenewed():
            return replace(state, valid_from=event.valid_from, expires_on=event.expires_on, renewals=state.renewals + 1)
        case PermitDowngraded():
            return replace(state, permit_type=PermitType.SPECIFIED, downgraded_on=event.effective_on)
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
                event.suspension_id, event.from_date, event.until_date, event.scope, event.part, event.reason
            )
            return replace(state, suspensions=(*state.suspensions, suspension))
        case PermitRevoked():
            return replace(
                state, lifecycle=Lifecycle.REVOKED, revocation=Revocation(event.revoked_on, event.ground, event.reason)
            )
        case PermitExpired():
            return replace(state, lifecycle=Lifecycle.EXPIRED, expired_on=event.expired_on)
    return state


Status = Literal["applied", "denied", "active", "improvement_ordered", "suspended", "revoked", "expired"]
RECORDED_STATUS: dict[Lifecycle, Status] = {
    Lifecycle.APPLIED: "applied",
    Lifecycle.DENIED: "denied",
    Lifecycle.REVOKED: "revoked",
    Lifecycle.EXPIRED: "expired",
    Lifecycle.ACTIVE: "active",
}


def expiry_due(state: SupervisingOrganization, day: date) -> bool:
    """Recorded active, but its last day is before `day`: expired by the calendar, not yet on record.

    The one definition: `status_on` answers "expired" for it, `record_expiry` records it, and the
    sweep's SQL (projections.supervising_organizations.EXPIRY_DUE) selects exactly these rows."""
    permit = state.permit
    return state.lifecycle is Lifecycle.ACTIVE and permit is not None and permit.expires_on < day


def status_on(state: SupervisingOrganization, day: date) -> Status:
    """The permit's status on a day, from what is recorded and what the calendar says."""
    if state.lifecycle is None:
        raise ValueError("no status: this supervising organization has not applied")
    if state.lifecycle is not Lifecycle.ACTIVE:
        return RECORDED_STATUS[state.lifecycle]
    if expiry_due(state, day):
        return "expired"
    if state.suspension_on(day):
        return "suspended"
    if state.open_improvement_orders:
        return "improvement_ordered"
    return "active"


def permit_in_force(state: SupervisingOrganization, day: date) -> bool:
    """May the organization take on new business that day: granted, not expired, revoked or suspended."""
    permit = state.permit
    return (
        state.lifecycle is Lifecycle.ACTIVE
        and permit is not None
        and permit.granted_on <= day
        and status_on(state, day) in ("active", "improvement_ordered")
    )


# Decisions. Each returns the events to record or raises DomainRuleViolation naming the rule.


def apply_for_permit(state: SupervisingOrganization, application: PermitApplication, applied_on: date) -> Events:
    if state.exists:
        raise DomainRuleViolation("application.already_filed", "this supervising organization has already applied")
    return [PermitApplied(application=application, applied_on=applied_on)]


def _require_pending(state: SupervisingOrganization) -> date:
    """The application must be pending; answers the day it was filed."""
    if state.lifecycle is not Lifecycle.APPLIED or state.applied_on is None:
        raise DomainRuleViolation(
            "permit.not_pending", f"only a pending application can be decided; this one is {state.lifecycle}"
        )
    return state.applied_on


def _require_permit(state: SupervisingOrganization, day: date, doing: str) -> Permit:
    """The permit must be granted and neither revoked nor expired on `day`; answers it."""
    if state.lifecycle is Lifecycle.REVOKED:
        raise DomainRuleViolation("permit.revoked", f"the permit was revoked; a revoked permit is final ({doing})")
    permit = state.permit
    if state.lifecycle is not Lifecycle.ACTIVE or permit is None:
        raise DomainRuleViolation("permit.not_active", f"there is no active permit to {doing} ({state.lifecycle})")
    if day < permit.granted_on:
        raise DomainRuleViolation("permit.not_yet_granted", f"{day} is before the grant on {permit.granted_on}")
    if day > permit.expires_on:
        raise DomainRuleViolation("permit.expired", f"the permit expired after {permit.expires_on}")
    return permit


def grant_permit(state: SupervisingOrganization, permit_type: PermitType, granted_on: date) -> Events:
    applied_on = _require_pending(state)
    if granted_on < applied_on:
        raise DomainRuleViolation(
            "permit.granted_before_application", f"granted_on {granted_on} is before the application on {applied_on}"
        )
    return [
        PermitGranted(
            permit_type=permit_type,
            granted_on=granted_on,
            expires_on=rules.permit_expiry(granted_on, rules.new_permit_years(permit_type)),
        )
    ]


def deny_permit(state: SupervisingOrganization, reason: str) -> Events:
    _require_pending(state)
    return [PermitDenied(reason=reason)]


def renew_permit(
    state: SupervisingOrganization, renewed_on: date, excellent_record: bool, applied_on: date | None = None
) -> Events:
    applied_on = applied_on or renewed_on
    if state.lifecycle is Lifecycle.EXPIRED or (state.expires_on and max(applied_on, renewed_on) > state.expires_on):
        raise DomainRuleViolation(
            "renewal.permit_expired", "an expired permit cannot be renewed; apply for a new permit"
        )
    permit = _require_permit(state, renewed_on, "renew")
    if applied_on > renewed_on:
        raise DomainRuleViolation(
            "renewal.decided_before_application",
            f"renewed_on {renewed_on} is before the renewal application on {applied_on}",
        )
    latest = rules.latest_renewal_application(permit.expires_on)
    if applied_on > latest:
        raise DomainRuleViolation(
            "renewal.applied_too_late",
            f"a renewal must be applied for at least {rules.RENEWAL_LEAD_MONTHS} months before expiry"
            f" ({permit.expires_on}): by {latest}, not {applied_on}",
        )
    valid_from = rules.renewal_valid_from(permit.expires_on)
    years = rules.renewed_permit_years(permit.permit_type, excellent_record)
    return [
        PermitRenewed(
            applied_on=applied_on,
            renewed_on=renewed_on,
            excellent_record=excellent_record,
            valid_from=valid_from,
            expires_on=rules.permit_expiry(valid_from, years),
        )
    ]


def downgrade_permit(state: SupervisingOrganization, effective_on: date) -> Events:
    permit = _require_permit(state, effective_on, "downgrade")
    if permit.permit_type is not PermitType.GENERAL:
        raise DomainRuleViolation("downgrade.not_general", "only a general permit can be downgraded to specified")
    return [PermitDowngraded(effective_on=effective_on)]


def issue_improvement_order(
    state: SupervisingOrganization, order_id: UUID, issued_on: date, deadline: date, reason: str
) -> Events:
    _require_permit(state, issued_on, "order an improvement")
    improvement_orders.check_issue(issued_on, deadline)
    return [ImprovementOrderIssued(order_id=order_id, issued_on=issued_on, deadline=deadline, reason=reason)]


def close_improvement_order(state: SupervisingOrganization, order_id: UUID, closed_on: date) -> Events:
    improvement_orders.check_close(state.improvement_orders, order_id, closed_on)
    return [ImprovementOrderClosed(order_id=order_id, closed_on=closed_on)]


def suspend_business(
    state: SupervisingOrganization,
    suspension_id: UUID,
    from_date: date,
    until_date: date,
    scope: Literal["all", "part"],
    part: str | None,
    reason: str,
) -> Events:
    _require_permit(state, from_date, "suspend")
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
        )
    ]


def revoke_permit(state: SupervisingOrganization, revoked_on: date, ground: RevocationGround, reason: str) -> Events:
    _require_permit(state, revoked_on, "revoke")
    return [PermitRevoked(revoked_on=revoked_on, ground=ground, reason=reason)]


def record_expiry(state: SupervisingOrganization, as_of: date) -> Events:
    """Nothing, unless the permit is active and its last day is before `as_of` (`expiry_due`)."""
    permit = state.permit
    if permit is not None and expiry_due(state, as_of):
        return [PermitExpired(expired_on=permit.expires_on + timedelta(days=1))]
    return []
