"""Statuses of residence granted: the visa for entry in stage i, then changes of status to stages ii and iii.

Each is one event on its own stream; the state is that event, or None before it.
"""

from datetime import date
from uuid import UUID

from contracts.accreditation import PlanStatus, Stage
from contracts.visa import StatusOfResidenceChanged, VisaIssued
from services.visa.domain.certificate_of_eligibility import CertificateOfEligibility, Coe
from services.visa.domain.known import KnownPlan
from services.visa.domain.rules import VisaRules, latest_stage, previous_stage
from shared.errors import DomainRuleViolation
from shared.events import EventPayload


def evolve_visa(state: VisaIssued | None, event: EventPayload) -> VisaIssued | None:
    return event if isinstance(event, VisaIssued) else state


def evolve_status_change(
    state: StatusOfResidenceChanged | None, event: EventPayload
) -> StatusOfResidenceChanged | None:
    return event if isinstance(event, StatusOfResidenceChanged) else state


def issue_visa(
    state: VisaIssued | None, coe_id: UUID, certificate: Coe, post: str, issued_on: date, rules: VisaRules
) -> list[EventPayload]:
    """The certificate was checked and marked used (`use_for_visa`) in the same transaction."""
    if state is not None:
        raise DomainRuleViolation("visa.already_issued", "this visa has already been issued")
    if not isinstance(certificate, CertificateOfEligibility):
        raise DomainRuleViolation("visa.coe_unknown", "no such certificate of eligibility")
    return [
        VisaIssued(
            coe_id=coe_id,
            training_plan_id=certificate.training_plan_id,
            trainee_id=certificate.trainee_id,
            post=post,
            issued_on=issued_on,
            stage=Stage.I,
            period_of_stay_months=rules.period_of_stay(Stage.I),
        )
    ]


def change_status(
    state: StatusOfResidenceChanged | None,
    plan_id: UUID,
    plan: KnownPlan | None,
    stages_held: set[Stage],
    decided_on: date,
    rules: VisaRules,
) -> list[EventPayload]:
    """`stages_held`: the stages whose status the trainee was granted here (visa: i; changes: their stage)."""
    if state is not None:
        raise DomainRuleViolation(
            "status_change.already_granted", "the change of status to this plan's stage has already been granted"
        )
    if plan is None:
        raise DomainRuleViolation(
            "status_change.plan_unknown", f"no training plan {plan_id} is known from titp.accreditation.v1 (yet)"
        )
    from_stage = previous_stage(plan.stage)
    if from_stage is None:
        raise DomainRuleViolation(
            "status_change.stage_i_enters_with_coe",
            "stage i is entered with a COE and a visa, not by a change of status",
        )
    if plan.status is not PlanStatus.CERTIFIED:
        raise DomainRuleViolation(
            "status_change.plan_not_certified", f"the stage {plan.stage} plan is {plan.status}, not certified"
        )
    held = latest_stage(stages_held)
    if held is not from_stage:
        raise DomainRuleViolation(
            "status_change.previous_stage_not_held",
            f"the trainee must hold the stage {from_stage} status; recorded here: {held or 'none'}",
        )
    return [
        StatusOfResidenceChanged(
            training_plan_id=plan_id,
            trainee_id=plan.trainee_id,
            from_stage=from_stage,
            to_stage=plan.stage,
            decided_on=decided_on,
            period_of_stay_months=rules.period_of_stay(plan.stage),
        )
    ]
