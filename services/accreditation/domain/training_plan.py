"""The training plan aggregate: state, evolve, and one decide function per command (DOMAIN §4).

    applied -> certified | rejected
    certified -> (in progress from the start date) -> completed | discontinued
    certified -> revoked; improvement orders while certified
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from uuid import UUID

from contracts.accreditation import (
    DiscontinuationReason,
    ExamResult,
    ImprovementOrderClosed,
    ImprovementOrderIssued,
    NewSupervisingOrganizationRequired,
    PlanHeader,
    PlanStatus,
    SealedPlanTerms,
    TrainingPlanApplied,
    TrainingPlanCertified,
    TrainingPlanCompleted,
    TrainingPlanDiscontinued,
    TrainingPlanRejected,
    TrainingPlanRevoked,
)
from services.accreditation.domain.rules import CertificationFacts, RuleBook
from shared.errors import DomainRuleViolation, NotFound
from shared import improvement_orders
from shared.improvement_orders import ImprovementOrder, with_closed, with_issued

IN_PROGRESS = "in_progress"


@dataclass(frozen=True)
class TrainingPlan:
    application: TrainingPlanApplied | None = None
    status: PlanStatus | None = None
    certified_on: date | None = None
    rule_set: str | None = None
    rejection_reason: str | None = None
    ending: TrainingPlanCompleted | TrainingPlanDiscontinued | TrainingPlanRevoked | None = None
    improvement_orders: tuple[ImprovementOrder, ...] = ()
    new_supervising_organization_required: NewSupervisingOrganizationRequired | None = None

    @property
    def exists(self) -> bool:
        return self.application is not None

    def header(self) -> dict[str, Any]:
        return {name: getattr(self.application, name) for name in PlanHeader.model_fields}

    def status_on(self, day: date) -> str:
        """The status as shown: a certified plan is in progress from its start date."""
        if self.status is PlanStatus.CERTIFIED and day >= self.application.start_date:
            return IN_PROGRESS
        return self.status.value


def evolve(state: TrainingPlan, event) -> TrainingPlan:
    match event:
        case TrainingPlanApplied():
            return replace(state, application=event, status=PlanStatus.APPLIED)
        case TrainingPlanCertified():
            return replace(state, status=PlanStatus.CERTIFIED, certified_on=event.certified_on,
                           rule_set=event.rule_set)
        case TrainingPlanRejected():
            return replace(state, status=PlanStatus.REJECTED, rejection_reason=event.reason)
        case TrainingPlanCompleted():
            return replace(state, status=PlanStatus.COMPLETED, ending=event)
        case TrainingPlanDiscontinued():
            return replace(state, status=PlanStatus.DISCONTINUED, ending=event)
        case TrainingPlanRevoked():
            return replace(state, status=PlanStatus.REVOKED, ending=event)
        case ImprovementOrderIssued():
            return replace(state, improvement_orders=with_issued(state.improvement_orders, event.order_id,
                                                                 event.issued_on, event.deadline, event.reason))
        case ImprovementOrderClosed():
            return replace(state, improvement_orders=with_closed(state.improvement_orders, event.order_id,
                                                                 event.closed_on))
        case NewSupervisingOrganizationRequired():
            return replace(state, new_supervising_organization_required=event)
    return state


def apply_for_certification(state: TrainingPlan, terms: SealedPlanTerms, applied_on: date) -> list:
    if state.exists:
        raise DomainRuleViolation("plan.already_applied", "this training plan has already been applied for")
    return [TrainingPlanApplied(**terms.details(), trainee=terms.trainee, applied_on=applied_on)]


def certify(state: TrainingPlan, facts: CertificationFacts, rule_book: RuleBook) -> list:
    _require_status(state, PlanStatus.APPLIED, "plan.not_applied", "only an application can be certified")
    plan = state.application
    if facts.certified_on < plan.applied_on:
        raise DomainRuleViolation("plan.certified_before_application",
                                  f"certified_on {facts.certified_on} is before the application on {plan.applied_on}")
    if facts.personal_data is None:
        raise DomainRuleViolation("trainee.personal_data_erased",
                                  "the trainee's personal data was erased: the plan cannot be decided on it")
    terms = plan.opened(facts.personal_data)
    rules = rule_book.for_plan(terms)
    rules.check(terms, facts)
    return [TrainingPlanCertified(**state.header(), certified_on=facts.certified_on, rule_set=rules.name)]


def reject(state: TrainingPlan, reason: str) -> list:
    _require_status(state, PlanStatus.APPLIED, "plan.not_applied", "only an application can be rejected")
    return [TrainingPlanRejected(**state.header(), reason=reason)]


def complete(state: TrainingPlan, completed_on: date, exam_result: ExamResult) -> list:
    _require_in_progress(state, completed_on)
    return [TrainingPlanCompleted(**state.header(), completed_on=completed_on, exam_result=exam_result)]


def discontinue(state: TrainingPlan, on: date, reason: DiscontinuationReason, detail: str | None) -> list:
    _require_in_progress(state, on)
    return [TrainingPlanDiscontinued(**state.header(), discontinued_on=on, reason=reason, detail=detail)]


def issue_improvement_order(state: TrainingPlan, order_id: UUID, issued_on: date, deadline: date,
                            reason: str) -> list:
    _require_in_force(state, issued_on)
    improvement_orders.check_issue(issued_on, deadline)
    return [ImprovementOrderIssued(**state.header(), order_id=order_id, issued_on=issued_on, deadline=deadline,
                                   reason=reason)]


def close_improvement_order(state: TrainingPlan, order_id: UUID, closed_on: date) -> list:
    improvement_orders.check_close(state.improvement_orders, order_id, closed_on)
    return [ImprovementOrderClosed(**state.header(), order_id=order_id, closed_on=closed_on)]


def revoke(state: TrainingPlan, revoked_on: date, reason: str, referral_id: UUID | None = None) -> list:
    _require_in_force(state, revoked_on)
    return [TrainingPlanRevoked(**state.header(), revoked_on=revoked_on, reason=reason, referral_id=referral_id)]


def revoke_on_referral(state: TrainingPlan, revoked_on: date, reason: str, referral_id: UUID) -> list:
    """An inspection referral revokes the plans in force on its decision date; others are left as they are."""
    if state.status is not PlanStatus.CERTIFIED or state.certified_on > revoked_on:
        return []
    return revoke(state, revoked_on, reason, referral_id)


def require_new_supervising_organization(state: TrainingPlan, since: date, reason: str) -> list:
    """The supervising organization lost its permit: flag a plan in force, once."""
    if state.status is not PlanStatus.CERTIFIED or state.new_supervising_organization_required:
        return []
    return [NewSupervisingOrganizationRequired(**state.header(), since=since, reason=reason)]


def _require_status(state: TrainingPlan, status: PlanStatus, rule: str, detail: str) -> None:
    if state.status is not status:
        raise DomainRuleViolation(rule, f"{detail}; this plan is {state.status}")


def _require_in_force(state: TrainingPlan, day: date) -> None:
    _require_status(state, PlanStatus.CERTIFIED, "plan.in_force", "only a certified plan in force can be acted on")
    if day < state.certified_on:
        raise DomainRuleViolation("plan.in_force", f"{day} is before the certification on {state.certified_on}")


def _require_in_progress(state: TrainingPlan, day: date) -> None:
    _require_status(state, PlanStatus.CERTIFIED, "plan.in_progress", "only a plan in progress can end")
    if day < state.application.start_date:
        raise DomainRuleViolation("plan.in_progress",
                                  f"the plan is not in progress on {day}: it starts on {state.application.start_date}")
