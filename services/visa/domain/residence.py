"""Statuses of residence granted: the visa to enter (TITP stage i or, after a departure, iii; or ESD), then
changes of status — TITP to stages ii and iii, ESD to a worker's new plan (a transfer to another employer, or the
extension year). A TITP transfer (same stage, another employer) needs neither: the status held carries on, and the
next stage's change is granted on it (the stages held are the trainee's, whichever plan they were granted on).

Each is one event on its own stream; the state is that event, or None before it.
"""

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from contracts.accreditation import PlanStatus, Stage
from contracts.registry import Scheme
from contracts.visa import StatusChangeKind, StatusOfResidenceChanged, VisaIssued
from services.visa.domain.certificate_of_eligibility import CertificateOfEligibility, Coe
from services.visa.domain.known import KnownPlan
from services.visa.domain.rules import VisaRules, latest_stage, previous_stage, status_of_residence
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
    """The certificate was checked and marked used (`use_for_visa`) in the same transaction. The visa grants
    the certificate's status of residence: TITP in its stage (i, or iii after a departure), or ESD (no stage)."""
    if state is not None:
        raise DomainRuleViolation("visa.already_issued", "this visa has already been issued")
    if not isinstance(certificate, CertificateOfEligibility):
        raise DomainRuleViolation("visa.coe_unknown", "no such certificate of eligibility")
    stage = certificate.entry_stage
    return [
        VisaIssued(
            coe_id=coe_id,
            training_plan_id=certificate.training_plan_id,
            trainee_id=certificate.trainee_id,
            post=post,
            issued_on=issued_on,
            stage=stage,
            period_of_stay_months=rules.period_of_stay_for(certificate.scheme, stage),
            scheme=certificate.scheme,
            status_of_residence=certificate.status_of_residence,
        )
    ]


def _known_plan(plan_id: UUID, plan: KnownPlan | None) -> KnownPlan:
    if plan is None:
        raise DomainRuleViolation(
            "status_change.plan_unknown", f"no training plan {plan_id} is known from titp.accreditation.v1 (yet)"
        )
    return plan


def _certified(plan: KnownPlan, what: str) -> None:
    if plan.transferred:
        raise DomainRuleViolation(
            "status_change.plan_transferred",
            f"the worker moved to plan {plan.transferred_to} on {plan.transferred_on}; this plan has ended",
        )
    if plan.status is not PlanStatus.CERTIFIED:
        raise DomainRuleViolation(
            "status_change.plan_not_certified", f"the {what} plan is {plan.status}, not certified"
        )


def change_status(
    state: StatusOfResidenceChanged | None,
    plan_id: UUID,
    plan: KnownPlan | None,
    stages_held: set[Stage],
    decided_on: date,
    rules: VisaRules,
    esd_plans_held: Sequence[UUID] = (),
) -> list[EventPayload]:
    """The status moves to `plan`. TITP: `stages_held` are the TITP stages whose status the trainee was granted
    here (visa: i; changes: their stage). ESD: `esd_plans_held` are the ESD plans whose status the worker was
    granted here (by a visa or a change), in the order granted."""
    if state is not None:
        raise DomainRuleViolation(
            "status_change.already_granted", "the change of status to this plan has already been granted"
        )
    known = _known_plan(plan_id, plan)
    if known.scheme is Scheme.ESD:
        return _change_to_esd_plan(plan_id, known, esd_plans_held, decided_on, rules)
    if known.stage is None:
        raise ValueError(f"TITP plan {plan_id} without a stage")
    if known.transfer_from is not None:
        raise DomainRuleViolation(
            "status_change.transfer_status_carries_on",
            f"this TITP plan continues plan {known.transfer_from} in the same stage with another employer: the"
            f" stage-{known.stage} status of residence the trainee holds carries on to it; the next stage's plan"
            " changes status from it",
        )
    from_stage = previous_stage(known.stage)
    if from_stage is None:
        raise DomainRuleViolation(
            "status_change.stage_i_enters_with_coe",
            "stage i is entered with a COE and a visa, not by a change of status",
        )
    _certified(known, f"stage {known.stage}")
    held = latest_stage(stages_held)
    if held is not from_stage:
        raise DomainRuleViolation(
            "status_change.previous_stage_not_held",
            f"the trainee must hold the stage {from_stage} status; recorded here: {held or 'none'}",
        )
    return [
        StatusOfResidenceChanged(
            training_plan_id=plan_id,
            trainee_id=known.trainee_id,
            from_stage=from_stage,
            to_stage=known.stage,
            decided_on=decided_on,
            period_of_stay_months=rules.period_of_stay(known.stage),
        )
    ]


def _change_to_esd_plan(
    plan_id: UUID, plan: KnownPlan, esd_plans_held: Sequence[UUID], decided_on: date, rules: VisaRules
) -> list[EventPayload]:
    """An ESD worker in Japan moves to a new plan: after a transfer (転籍), from the plan it continues
    (`transfer_from`), whatever became of that plan (an unavoidable transfer follows a revocation or a
    bankruptcy); for the extension year, from the status the worker holds now. A first plan is entered with
    a COE and a visa."""
    from_plan: UUID | None
    if plan.transfer_from is not None:
        kind, from_plan = StatusChangeKind.TRANSFER, plan.transfer_from
    elif plan.extension:
        kind = StatusChangeKind.EXTENSION
        from_plan = next((held for held in reversed(esd_plans_held) if held != plan_id), None)
    else:
        raise DomainRuleViolation(
            "status_change.esd_enters_with_coe",
            "an ESD worker's first plan is entered with a COE and a visa; a change of status is for a"
            " transfer (transfer_from) or the extension year",
        )
    _certified(plan, "ESD")
    if from_plan is None or from_plan not in esd_plans_held:
        raise DomainRuleViolation(
            "status_change.esd_status_not_held",
            f"the worker must hold the ESD status on plan {from_plan} (by a visa or a change of status recorded here)"
            if from_plan
            else "the worker holds no ESD status recorded here",
        )
    return [
        StatusOfResidenceChanged(
            training_plan_id=plan_id,
            trainee_id=plan.trainee_id,
            from_stage=None,
            to_stage=None,
            decided_on=decided_on,
            period_of_stay_months=rules.period_of_stay_for(Scheme.ESD, None),
            scheme=Scheme.ESD,
            status_of_residence=status_of_residence(Scheme.ESD),
            kind=kind,
            from_training_plan_id=from_plan,
        )
    ]
