"""The supervising organization aggregate: state, evolve, and one decide function per command."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from services.registry.domain import rules
from services.registry.domain.events import (
    PermitApplication,
    PermitApplied,
    PermitDenied,
    PermitGranted,
    PermitType,
)
from shared.errors import DomainRuleViolation


class PermitStatus(StrEnum):
    APPLIED = "applied"
    ACTIVE = "active"
    DENIED = "denied"


@dataclass(frozen=True)
class SupervisingOrganization:
    application: PermitApplication | None = None
    applied_on: date | None = None
    status: PermitStatus | None = None
    permit_type: PermitType | None = None
    granted_on: date | None = None
    expires_on: date | None = None
    denial_reason: str | None = None

    @property
    def exists(self) -> bool:
        return self.status is not None


def evolve(state: SupervisingOrganization, event) -> SupervisingOrganization:
    match event:
        case PermitApplied():
            return replace(state, application=event.application, applied_on=event.applied_on,
                           status=PermitStatus.APPLIED)
        case PermitGranted():
            return replace(state, status=PermitStatus.ACTIVE, permit_type=event.permit_type,
                           granted_on=event.granted_on, expires_on=event.expires_on)
        case PermitDenied():
            return replace(state, status=PermitStatus.DENIED, denial_reason=event.reason)
    return state


def apply_for_permit(state: SupervisingOrganization, application: PermitApplication,
                     applied_on: date) -> list:
    if state.exists:
        raise DomainRuleViolation("application.already_filed", "this supervising organization has already applied")
    return [PermitApplied(application=application, applied_on=applied_on)]


def _require_pending(state: SupervisingOrganization) -> None:
    if state.status is not PermitStatus.APPLIED:
        raise DomainRuleViolation(
            "permit.not_pending", f"only a pending application can be decided; this one is {state.status}")


def grant_permit(state: SupervisingOrganization, permit_type: PermitType, granted_on: date) -> list:
    _require_pending(state)
    if state.applied_on and granted_on < state.applied_on:
        raise DomainRuleViolation("permit.granted_before_application",
                                  f"granted_on {granted_on} is before the application on {state.applied_on}")
    return [PermitGranted(permit_type=permit_type, granted_on=granted_on,
                          expires_on=rules.permit_expiry(granted_on, rules.new_permit_years(permit_type)))]


def deny_permit(state: SupervisingOrganization, reason: str) -> list:
    _require_pending(state)
    return [PermitDenied(reason=reason)]
