"""The certificate of eligibility (COE): its application, then the certificate itself (DOMAIN §6, §9).

    pending -> issued (valid 3 months) | denied | cancelled (plan revoked)
    issued -> used (a visa was issued on it) | revoked (plan revoked while unused)

One stream per application; the certificate keeps the application's id. Before its first event the
stream is `NoApplication`; `CoeApplied` makes it a `CertificateOfEligibility`. A certificate names the
status of residence of its plan's scheme — technical intern training (TITP, for stage i) or employment
for skill development (ESD, 育成就労) — and every event of its stream repeats it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from contracts.accreditation import PlanStatus, Stage
from contracts.registry import Scheme
from contracts.visa import (
    CoeApplicationCancelled,
    CoeApplied,
    CoeDenied,
    CoeIssued,
    CoeRevoked,
    CoeUsed,
    StatusOfResidence,
)
from services.visa.domain.known import KnownPlan, PermitRestriction, restriction_on
from services.visa.domain.rules import VisaRules, status_of_residence
from shared.errors import DomainRuleViolation
from shared.events import EventPayload


class Lifecycle(StrEnum):
    """As recorded; `status_on` adds `expired` from the calendar."""

    PENDING = "pending"
    ISSUED = "issued"
    DENIED = "denied"
    CANCELLED = "cancelled"
    REVOKED = "revoked"
    USED = "used"


class CoeStatus(StrEnum):
    """The status on a day: the lifecycle as recorded, or `expired` for an issued certificate past its last day."""

    PENDING = "pending"
    ISSUED = "issued"
    EXPIRED = "expired"
    DENIED = "denied"
    CANCELLED = "cancelled"
    REVOKED = "revoked"
    USED = "used"


@dataclass(frozen=True)
class NoApplication:
    """A COE stream before its application: nothing recorded yet."""

    @property
    def exists(self) -> bool:
        return False


@dataclass(frozen=True)
class CertificateOfEligibility:
    training_plan_id: UUID
    trainee_id: UUID
    lifecycle: Lifecycle
    applied_on: date
    issued_on: date | None = None
    expires_on: date | None = None
    denial_reason: str | None = None
    cancelled_on: date | None = None
    revoked_on: date | None = None
    withdrawal_reason: str | None = None  # why it was cancelled or revoked
    visa_id: UUID | None = None
    used_on: date | None = None
    scheme: Scheme = Scheme.TITP
    status_of_residence: StatusOfResidence = StatusOfResidence.TECHNICAL_INTERN_TRAINING

    @property
    def exists(self) -> bool:
        return True

    def names(self) -> dict[str, Any]:
        """What every event of the stream repeats: the plan, the trainee, the scheme and the status."""
        return {
            "training_plan_id": self.training_plan_id,
            "trainee_id": self.trainee_id,
            "scheme": self.scheme,
            "status_of_residence": self.status_of_residence,
        }

    def status_on(self, day: date) -> CoeStatus:
        """The rule of expiry: an issued certificate not used by its last day (`expires_on`) is expired after it."""
        if self.lifecycle is Lifecycle.ISSUED and self.expires_on is not None and day > self.expires_on:
            return CoeStatus.EXPIRED
        return CoeStatus(self.lifecycle.value)

    def blocks_another_application(self, day: date) -> bool:
        """Pending, used, or issued and still valid: the plan needs no second certificate."""
        return self.status_on(day) in (CoeStatus.PENDING, CoeStatus.ISSUED, CoeStatus.USED)


Coe = NoApplication | CertificateOfEligibility


def evolve(state: Coe, event: EventPayload) -> Coe:
    if isinstance(event, CoeApplied):
        return CertificateOfEligibility(
            training_plan_id=event.training_plan_id,
            trainee_id=event.trainee_id,
            lifecycle=Lifecycle.PENDING,
            applied_on=event.applied_on,
            scheme=event.scheme,
            status_of_residence=event.status_of_residence,
        )
    if isinstance(state, NoApplication):
        return state
    match event:
        case CoeIssued():
            return replace(state, lifecycle=Lifecycle.ISSUED, issued_on=event.issued_on, expires_on=event.expires_on)
        case CoeDenied():
            return replace(state, lifecycle=Lifecycle.DENIED, denial_reason=event.reason)
        case CoeApplicationCancelled():
            return replace(
                state, lifecycle=Lifecycle.CANCELLED, cancelled_on=event.cancelled_on, withdrawal_reason=event.reason
            )
        case CoeRevoked():
            return replace(
                state, lifecycle=Lifecycle.REVOKED, revoked_on=event.revoked_on, withdrawal_reason=event.reason
            )
        case CoeUsed():
            return replace(state, lifecycle=Lifecycle.USED, visa_id=event.visa_id, used_on=event.used_on)
    return state


# Decisions. Each returns the events to record or raises DomainRuleViolation naming the rule.


def _plan_open_to_entry(
    plan_id: UUID, plan: KnownPlan | None, restrictions: list[PermitRestriction], day: date
) -> KnownPlan:
    """A certified plan to enter Japan on — TITP stage i, or an ESD worker's first plan (not a transfer, not
    the extension year) — not ended by a transfer, whose supervising (support) organization may take on
    trainees that day."""
    if plan is None:
        raise DomainRuleViolation(
            "coe.plan_unknown", f"no training plan {plan_id} is known from titp.accreditation.v1 (yet)"
        )
    if plan.scheme is Scheme.TITP and plan.stage is not Stage.I:
        raise DomainRuleViolation(
            "coe.stage_i_only",
            f"a COE is for entry in stage i; this plan is stage"
            f" {plan.stage}, whose trainee changes status instead (/v1/status-changes)",
        )
    if plan.scheme is Scheme.ESD and plan.transfer_from is not None:
        raise DomainRuleViolation(
            "coe.esd_transfer_changes_status",
            f"this ESD plan continues plan {plan.transfer_from} with another employer: the worker is in Japan"
            " and changes status to it instead (/v1/status-changes)",
        )
    if plan.scheme is Scheme.ESD and plan.extension:
        raise DomainRuleViolation(
            "coe.esd_extension_changes_status",
            "this ESD plan is the extension year after a failed SSW test: the worker is in Japan"
            " and changes status to it instead (/v1/status-changes)",
        )
    if plan.transferred:
        raise DomainRuleViolation(
            "coe.plan_transferred",
            f"the worker moved to plan {plan.transferred_to} on {plan.transferred_on}; this plan has ended",
        )
    if plan.status is not PlanStatus.CERTIFIED:
        raise DomainRuleViolation("coe.plan_not_certified", f"the training plan is {plan.status}, not certified")
    restriction = restriction_on(restrictions, day)
    if restriction and restriction.kind == "revoked":
        raise DomainRuleViolation(
            "coe.permit_revoked", f"the supervising organization's permit was revoked on {restriction.from_date}"
        )
    if restriction:
        raise DomainRuleViolation(
            "coe.permit_suspended",
            f"the supervising organization's permit is suspended"
            f" from {restriction.from_date} until {restriction.until_date}",
        )
    return plan


def apply_for_coe(
    state: Coe,
    plan_id: UUID,
    plan: KnownPlan | None,
    restrictions: list[PermitRestriction],
    others: list[CertificateOfEligibility],
    applied_on: date,
) -> list[EventPayload]:
    """`others`: the plan's earlier applications. The certificate will name the status of the plan's scheme."""
    if state.exists:
        raise DomainRuleViolation("coe.already_applied", "this application has already been filed")
    open_plan = _plan_open_to_entry(plan_id, plan, restrictions, applied_on)
    if any(other.blocks_another_application(applied_on) for other in others):
        raise DomainRuleViolation(
            "coe.plan_has_open_application",
            "the plan already has a pending application or a certificate that is valid or used",
        )
    return [
        CoeApplied(
            training_plan_id=plan_id,
            trainee_id=open_plan.trainee_id,
            scheme=open_plan.scheme,
            status_of_residence=status_of_residence(open_plan.scheme),
            applied_on=applied_on,
        )
    ]


def _pending(state: Coe) -> CertificateOfEligibility:
    if not isinstance(state, CertificateOfEligibility) or state.lifecycle is not Lifecycle.PENDING:
        lifecycle = state.lifecycle if isinstance(state, CertificateOfEligibility) else "not filed"
        raise DomainRuleViolation(
            "coe.not_pending", f"only a pending application can be decided; this one is {lifecycle}"
        )
    return state


def issue_coe(
    state: Coe, plan: KnownPlan | None, restrictions: list[PermitRestriction], issued_on: date, rules: VisaRules
) -> list[EventPayload]:
    application = _pending(state)
    if issued_on < application.applied_on:
        raise DomainRuleViolation(
            "coe.issued_before_application",
            f"issued_on {issued_on} is before the application on {application.applied_on}",
        )
    _plan_open_to_entry(application.training_plan_id, plan, restrictions, issued_on)
    return [CoeIssued(**application.names(), issued_on=issued_on, expires_on=rules.coe_expiry(issued_on))]


def deny_coe(state: Coe, reason: str) -> list[EventPayload]:
    application = _pending(state)
    return [CoeDenied(**application.names(), reason=reason)]


def use_for_visa(state: Coe, visa_id: UUID, used_on: date) -> list[EventPayload]:
    """A visa may be issued on a certificate that is issued, unused, not revoked, and valid that day."""
    if not isinstance(state, CertificateOfEligibility):
        raise DomainRuleViolation("visa.coe_unknown", "no such certificate of eligibility")
    match state.lifecycle:
        case Lifecycle.REVOKED:
            raise DomainRuleViolation("visa.coe_revoked", f"the certificate was revoked on {state.revoked_on}")
        case Lifecycle.USED:
            raise DomainRuleViolation("visa.coe_used", f"visa {state.visa_id} was issued on this certificate")
        case Lifecycle.ISSUED if state.issued_on is not None and state.expires_on is not None:
            issued_on, expires_on = state.issued_on, state.expires_on
        case _:
            raise DomainRuleViolation(
                "visa.coe_not_issued", f"the application is {state.lifecycle}; no certificate was issued"
            )
    if used_on < issued_on:
        raise DomainRuleViolation(
            "visa.before_coe", f"issued_on {used_on} is before the certificate's issue on {issued_on}"
        )
    if used_on > expires_on:
        raise DomainRuleViolation("visa.coe_expired", f"the certificate was valid until {expires_on}")
    return [CoeUsed(**state.names(), visa_id=visa_id, used_on=used_on)]


def withdraw_for_revoked_plan(state: Coe, revoked_on: date, reason: str) -> list[EventPayload]:
    """The plan (TITP or ESD) was revoked: a pending application is cancelled, an unused certificate revoked;
    else nothing."""
    if not isinstance(state, CertificateOfEligibility):
        return []
    match state.lifecycle:
        case Lifecycle.PENDING:
            return [CoeApplicationCancelled(**state.names(), cancelled_on=revoked_on, reason=reason)]
        case Lifecycle.ISSUED:
            return [CoeRevoked(**state.names(), revoked_on=revoked_on, reason=reason)]
    return []
