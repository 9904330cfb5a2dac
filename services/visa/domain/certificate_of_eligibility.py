"""The certificate of eligibility (COE): its application, then the certificate itself (DOMAIN §6, §9).

    pending -> issued (valid 3 months) | denied | cancelled (plan revoked)
    issued -> used (a visa was issued on it) | revoked (plan revoked while unused)

A TITP certificate is for stage i (the first entry) or stage iii: a trainee whose previous stay ended with a
departure without a re-entry permit, or who stayed abroad longer than the rules allow, lands on a new COE for
stage iii; one back within a re-entry permit changes status instead (DOMAIN §11).

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
    NewCoeGround,
    StatusOfResidence,
)
from services.visa.domain.known import KnownPlan, PermitRestriction, restriction_on
from services.visa.domain.rules import STAGE_III_BY_COE, VisaRules, status_of_residence
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
class Departure:
    """How the trainee's previous stay in Japan ended, as a stage-iii application states it."""

    departed_on: date
    re_entry_permit_used: bool  # left with a re-entry permit, or the deemed one (みなし再入国許可)


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
    stage: Stage | None = None  # TITP: i or iii; None for ESD (and, in states stored before issue 19, stage i)
    departed_on: date | None = None  # stage iii: the departure that ended the previous stay
    re_entry_permit_used: bool | None = None
    new_coe_ground: NewCoeGround | None = None

    @property
    def exists(self) -> bool:
        return True

    @property
    def entry_stage(self) -> Stage | None:
        """The TITP stage the certificate is for: stage i unless recorded otherwise; None for ESD."""
        if self.scheme is not Scheme.TITP:
            return None
        return self.stage or Stage.I

    def names(self) -> dict[str, Any]:
        """What every event of the stream repeats: the plan, the trainee, the scheme, the status and the stage."""
        return {
            "training_plan_id": self.training_plan_id,
            "trainee_id": self.trainee_id,
            "scheme": self.scheme,
            "status_of_residence": self.status_of_residence,
            "stage": self.entry_stage,
        }

    def status_on(self, day: date) -> CoeStatus:
        """The rule of expiry: an issued certificate not used by its last day (`expires_on`) is expired after it."""
        if self.lifecycle is Lifecycle.ISSUED and self.expires_on is not None and day > self.expires_on:
            return CoeStatus.EXPIRED
        return CoeStatus(self.lifecycle.value)

    def blocks_another_application(self, day: date, departure: Departure | None = None) -> bool:
        """Pending, used, or issued and still valid: the plan needs no second certificate — unless the trainee who
        landed on the used one has left since (stage iii: a departure after its visa)."""
        status = self.status_on(day)
        if status is CoeStatus.USED and departure and self.used_on and self.used_on < departure.departed_on:
            return False
        return status in (CoeStatus.PENDING, CoeStatus.ISSUED, CoeStatus.USED)


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
            stage=event.stage or (Stage.I if event.scheme is Scheme.TITP else None),
            departed_on=event.departed_on,
            re_entry_permit_used=event.re_entry_permit_used,
            new_coe_ground=event.new_coe_ground,
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
    """A certified plan to enter Japan on — TITP stage i (or iii after a departure), or an ESD worker's first plan
    (not a transfer under either scheme, not the extension year) — not ended by a transfer, whose supervising
    (support) organization may take on trainees that day."""
    if plan is None:
        raise DomainRuleViolation(
            "coe.plan_unknown", f"no training plan {plan_id} is known from titp.accreditation.v1 (yet)"
        )
    if plan.scheme is Scheme.TITP and plan.transfer_from is not None:
        raise DomainRuleViolation(
            "coe.transfer_status_carries_on",
            f"this TITP plan continues plan {plan.transfer_from} with another employer (a transfer): the trainee is"
            f" in Japan and the stage-{plan.stage} status of residence they hold carries on to it; no new entry",
        )
    if plan.scheme is Scheme.TITP and plan.stage not in (Stage.I, STAGE_III_BY_COE):
        raise DomainRuleViolation(
            "coe.stage_ii_changes_status",
            f"a COE is for entry in stage i, or stage iii after a departure; this plan is stage"
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
    if restriction and restriction.kind == "expired":
        raise DomainRuleViolation(
            "coe.permit_expired",
            f"the supervising organization's permit expired (not valid from {restriction.from_date});"
            " it takes on no new trainees until it holds a new permit",
        )
    if restriction:
        raise DomainRuleViolation(
            "coe.permit_suspended",
            f"the supervising organization's permit is suspended"
            f" from {restriction.from_date} until {restriction.until_date}",
        )
    return plan


def new_coe_ground(departure: Departure | None, applied_on: date, rules: VisaRules) -> NewCoeGround:
    """Stage iii by a new COE (DOMAIN §11): the previous stay ended with a departure, stated in the application,
    without a re-entry permit or longer ago than `rules.months_abroad_for_new_coe` months on the application's
    day (the landing comes later, so the trainee is abroad at least that long when landing)."""
    if departure is None:
        raise DomainRuleViolation(
            "coe.stage_iii_departure_not_stated",
            "a COE for stage iii is for a trainee whose previous stay ended with a departure: state departed_on"
            " and re_entry_permit_used",
        )
    if departure.departed_on > applied_on:
        raise DomainRuleViolation(
            "coe.stage_iii_not_departed",
            f"departed_on {departure.departed_on} is after the application on {applied_on}: the trainee is in Japan",
        )
    if not departure.re_entry_permit_used:
        return NewCoeGround.NO_RE_ENTRY_PERMIT
    if rules.abroad_longer_than_allowed(departure.departed_on, applied_on):
        return NewCoeGround.ABROAD_TOO_LONG
    raise DomainRuleViolation(
        "coe.stage_iii_changes_status",
        f"the trainee left on {departure.departed_on} with a re-entry permit and has not been abroad more than"
        f" {rules.months_abroad_for_new_coe} months: they come back on it and change status to stage iii"
        " (/v1/status-changes)",
    )


def apply_for_coe(
    state: Coe,
    plan_id: UUID,
    plan: KnownPlan | None,
    restrictions: list[PermitRestriction],
    others: list[CertificateOfEligibility],
    applied_on: date,
    departure: Departure | None = None,
    rules: VisaRules | None = None,
) -> list[EventPayload]:
    """`others`: the plan's earlier applications. The certificate will name the status of the plan's scheme and,
    for TITP, the stage: i, or iii with the `departure` that ended the previous stay."""
    if state.exists:
        raise DomainRuleViolation("coe.already_applied", "this application has already been filed")
    open_plan = _plan_open_to_entry(plan_id, plan, restrictions, applied_on)
    ground = None
    if open_plan.scheme is Scheme.TITP and open_plan.stage is STAGE_III_BY_COE:
        ground = new_coe_ground(departure, applied_on, rules or VisaRules())
    elif departure is not None:
        raise DomainRuleViolation(
            "coe.departure_only_for_stage_iii",
            "a departure is stated only for a stage-iii plan: a stage-i or ESD entry is the trainee's first",
        )
    if any(other.blocks_another_application(applied_on, departure) for other in others):
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
            stage=open_plan.stage if open_plan.scheme is Scheme.TITP else None,
            applied_on=applied_on,
            departed_on=departure.departed_on if departure else None,
            re_entry_permit_used=departure.re_entry_permit_used if departure else None,
            new_coe_ground=ground,
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
