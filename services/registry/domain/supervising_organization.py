"""The supervising organization and its TITP permit: state, evolve, and one decide function per command.

applied -> active | denied
active -> active (renewed) | expired ; general -> specified (downgrade)
active -> improvement ordered -> active (order closed) ; active -> suspended (from..until) -> active
active | suspended -> revoked (final)

What the TITP permit shares with the ESD permit (lifecycle, status on a day, improvement orders, suspension,
revocation, expiry, renewal timing) is in `permit.py`, and named here as before.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from contracts.registry import (
    PermitApplication,
    PermitApplied,
    PermitDenied,
    PermitDowngraded,
    PermitGranted,
    PermitRenewed,
    PermitType,
)
from services.registry.domain import permit as common
from services.registry.domain import rules
from services.registry.domain.permit import (
    RECORDED_STATUS,
    Events,
    Lifecycle,
    PermitState,
    Revocation,
    Status,
    Suspension,
    close_improvement_order,
    expiry_due,
    issue_improvement_order,
    permit_in_force,
    record_expiry,
    revoke_permit,
    status_on,
    suspend_business,
)
from shared.errors import DomainRuleViolation
from shared.events import EventPayload

__all__ = [
    "RECORDED_STATUS",
    "Events",
    "Lifecycle",
    "Permit",
    "Revocation",
    "Status",
    "SupervisingOrganization",
    "Suspension",
    "apply_for_permit",
    "close_improvement_order",
    "deny_permit",
    "downgrade_permit",
    "evolve",
    "expiry_due",
    "grant_permit",
    "issue_improvement_order",
    "permit_in_force",
    "record_expiry",
    "renew_permit",
    "revoke_permit",
    "status_on",
    "suspend_business",
]


@dataclass(frozen=True)
class Permit:
    """The permit as granted, renewed and downgraded since: what the decisions on it read."""

    permit_type: PermitType
    granted_on: date
    expires_on: date


@dataclass(frozen=True)
class SupervisingOrganization(PermitState):
    """As recorded: the permit's common facts (`PermitState`), the application, and the permit type.
    Read models keep this shape as JSON, so its fields stay."""

    application: PermitApplication | None = None
    permit_type: PermitType | None = None
    downgraded_on: date | None = None

    @property
    def permit(self) -> Permit | None:
        """The permit, once granted (also after it was revoked or expired); None before."""
        if self.permit_type is None or self.granted_on is None or self.expires_on is None:
            return None
        return Permit(self.permit_type, self.granted_on, self.expires_on)


def evolve(state: SupervisingOrganization, event: EventPayload) -> SupervisingOrganization:
    match event:
        case PermitApplied():
            return replace(
                state, application=event.application, applied_on=event.applied_on, lifecycle=Lifecycle.APPLIED
            )
        case PermitGranted():
            return replace(common.granted(state, event.granted_on, event.expires_on), permit_type=event.permit_type)
        case PermitDenied():
            return replace(state, lifecycle=Lifecycle.DENIED, denial_reason=event.reason)
        case PermitRenewed():
            return common.renewed(state, event.valid_from, event.expires_on)
        case PermitDowngraded():
            return replace(state, permit_type=PermitType.SPECIFIED, downgraded_on=event.effective_on)
    return common.evolve_permit(state, event)


# Decisions. Each returns the events to record or raises DomainRuleViolation naming the rule.


def apply_for_permit(state: SupervisingOrganization, application: PermitApplication, applied_on: date) -> Events:
    if state.exists:
        raise DomainRuleViolation("application.already_filed", "this supervising organization has already applied")
    return [PermitApplied(application=application, applied_on=applied_on)]


def grant_permit(state: SupervisingOrganization, permit_type: PermitType, granted_on: date) -> Events:
    common.require_grant_after_application(state, granted_on)
    return [
        PermitGranted(
            permit_type=permit_type,
            granted_on=granted_on,
            expires_on=rules.permit_expiry(granted_on, rules.new_permit_years(permit_type)),
        )
    ]


def deny_permit(state: SupervisingOrganization, reason: str) -> Events:
    common.require_pending(state)
    return [PermitDenied(reason=reason)]


def renew_permit(
    state: SupervisingOrganization, renewed_on: date, excellent_record: bool, applied_on: date | None = None
) -> Events:
    applied_on = applied_on or renewed_on
    validity = common.check_renewal(state, applied_on, renewed_on, latest_months=rules.RENEWAL_LEAD_MONTHS)
    permit = state.permit
    assert permit is not None, "an active permit has a type"
    valid_from = rules.renewal_valid_from(validity.expires_on)
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
    common.require_permit(state, effective_on, "downgrade")
    if state.permit_type is not PermitType.GENERAL:
        raise DomainRuleViolation("downgrade.not_general", "only a general permit can be downgraded to specified")
    return [PermitDowngraded(effective_on=effective_on)]
