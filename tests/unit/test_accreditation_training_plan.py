"""The training plan's lifecycle (DOMAIN §4): which command each status allows, and what it records."""

from datetime import date
from uuid import uuid4

import pytest

from contracts.accreditation import (
    DiscontinuationReason,
    ExamResult,
    ImprovementOrderClosed,
    ImprovementOrderIssued,
    NewSupervisingOrganizationRequired,
    PlanHeader,
    ReportedBy,
    ReportingParty,
    TrainingPlanCertified,
    TrainingPlanCompleted,
    TrainingPlanDiscontinued,
    TrainingPlanRejected,
    TrainingPlanRevoked,
)
from services.accreditation.domain import training_plan as tp
from services.accreditation.domain.rules import RuleBook
from shared.crypto import new_data_key, seal_model
from shared.errors import DomainRuleViolation, NotFound
from tests.unit.test_accreditation_rules import facts, plan

ORDER, REFERRAL = uuid4(), uuid4()


def sealed(terms):
    return terms.sealed(seal_model(new_data_key(), terms.trainee.personal_data(), f"trainee/{terms.trainee_id}"))


APPLIED_ON, CERTIFIED_ON, START = date(2025, 11, 20), date(2026, 3, 1), date(2026, 4, 1)


def history(*steps) -> tp.TrainingPlan:
    """A plan's state after `steps`, each a decide function given the state so far."""
    state = tp.TrainingPlan()
    for step in (lambda s: tp.apply_for_certification(s, sealed(plan()), APPLIED_ON), *steps):
        for event in step(state):
            state = tp.evolve(state, event)
    return state


def certified(s):
    return tp.certify(s, facts(certified_on=CERTIFIED_ON), RuleBook())


APPLIED = history()
CERTIFIED = history(certified)
ORDERED = history(certified, lambda s: tp.issue_improvement_order(s, ORDER, date(2026, 5, 1), date(2026, 6, 1), "x"))
CLOSED = history(
    certified,
    lambda s: tp.issue_improvement_order(s, ORDER, date(2026, 5, 1), date(2026, 6, 1), "x"),
    lambda s: tp.close_improvement_order(s, ORDER, date(2026, 5, 20)),
)
REJECTED = history(lambda s: tp.reject(s, "incomplete"))
COMPLETED = history(certified, lambda s: tp.complete(s, date(2027, 3, 31), ExamResult.PASSED))
DISCONTINUED = history(certified, lambda s: tp.discontinue(s, date(2026, 9, 1), DiscontinuationReason.BANKRUPTCY, None))
REVOKED = history(certified, lambda s: tp.revoke(s, date(2026, 9, 1), "false statements"))

ALLOWED = [
    ("certify an application", APPLIED, certified, TrainingPlanCertified),
    ("reject an application", APPLIED, lambda s: tp.reject(s, "incomplete"), TrainingPlanRejected),
    (
        "complete on the last day",
        CERTIFIED,
        lambda s: tp.complete(s, date(2027, 3, 31), ExamResult.PASSED),
        TrainingPlanCompleted,
    ),
    (
        "discontinue in progress",
        CERTIFIED,
        lambda s: tp.discontinue(
            s,
            START,
            DiscontinuationReason.DISAPPEARANCE,
            "left the dormitory",
            START,
            ReportedBy(party=ReportingParty.POLICE, office="Naka police station"),
        ),
        TrainingPlanDiscontinued,
    ),
    (
        "order an improvement before the start",
        CERTIFIED,
        lambda s: tp.issue_improvement_order(s, ORDER, CERTIFIED_ON, date(2026, 4, 1), "x"),
        ImprovementOrderIssued,
    ),
    (
        "close an open order",
        ORDERED,
        lambda s: tp.close_improvement_order(s, ORDER, date(2026, 5, 20)),
        ImprovementOrderClosed,
    ),
    ("revoke a certified plan", CERTIFIED, lambda s: tp.revoke(s, CERTIFIED_ON, "x"), TrainingPlanRevoked),
    ("revoke under an improvement order", ORDERED, lambda s: tp.revoke(s, date(2026, 6, 2), "x"), TrainingPlanRevoked),
    (
        "complete under an improvement order",
        ORDERED,
        lambda s: tp.complete(s, date(2027, 3, 31), ExamResult.FAILED),
        TrainingPlanCompleted,
    ),
]


@pytest.mark.parametrize(("state", "decide", "recorded"), [r[1:] for r in ALLOWED], ids=[r[0] for r in ALLOWED])
def test_each_status_allows_its_commands(state, decide, recorded):
    [event] = decide(state)
    assert isinstance(event, recorded)
    # Check: every plan event carries the plan's header for other services.
    assert {name: getattr(event, name) for name in PlanHeader.model_fields} == state.header()


REFUSED = [
    (
        "apply twice",
        APPLIED,
        lambda s: tp.apply_for_certification(s, sealed(plan()), APPLIED_ON),
        "plan.already_applied",
    ),
    ("certify twice", CERTIFIED, certified, "plan.not_applied"),
    ("certify a rejected plan", REJECTED, certified, "plan.not_applied"),
    (
        "certify before the application",
        APPLIED,
        lambda s: tp.certify(s, facts(certified_on=date(2025, 11, 19)), RuleBook()),
        "plan.certified_before_application",
    ),
    ("reject a certified plan", CERTIFIED, lambda s: tp.reject(s, "x"), "plan.not_applied"),
    ("complete an application", APPLIED, lambda s: tp.complete(s, START, ExamResult.PASSED), "plan.in_progress"),
    (
        "complete before the start",
        CERTIFIED,
        lambda s: tp.complete(s, date(2026, 3, 31), ExamResult.PASSED),
        "plan.in_progress",
    ),
    ("complete twice", COMPLETED, lambda s: tp.complete(s, date(2027, 3, 31), ExamResult.PASSED), "plan.in_progress"),
    (
        "discontinue before the start",
        CERTIFIED,
        lambda s: tp.discontinue(s, date(2026, 3, 31), DiscontinuationReason.TRANSFER, None),
        "plan.in_progress",
    ),
    (
        "discontinue a revoked plan",
        REVOKED,
        lambda s: tp.discontinue(s, date(2026, 10, 1), DiscontinuationReason.TRANSFER, None),
        "plan.in_progress",
    ),
    (
        "order an improvement of an application",
        APPLIED,
        lambda s: tp.issue_improvement_order(s, ORDER, CERTIFIED_ON, START, "x"),
        "plan.in_force",
    ),
    (
        "order an improvement of a completed plan",
        COMPLETED,
        lambda s: tp.issue_improvement_order(s, ORDER, date(2027, 4, 1), date(2027, 5, 1), "x"),
        "plan.in_force",
    ),
    (
        "close an order twice",
        CLOSED,
        lambda s: tp.close_improvement_order(s, ORDER, date(2026, 5, 21)),
        "improvement_order.already_closed",
    ),
    (
        "close an order before it was issued",
        ORDERED,
        lambda s: tp.close_improvement_order(s, ORDER, START),
        "improvement_order.closed_before_issue",
    ),
    ("revoke an application", APPLIED, lambda s: tp.revoke(s, CERTIFIED_ON, "x"), "plan.in_force"),
    ("revoke a completed plan", COMPLETED, lambda s: tp.revoke(s, date(2027, 4, 1), "x"), "plan.in_force"),
    ("revoke twice", REVOKED, lambda s: tp.revoke(s, date(2026, 10, 1), "x"), "plan.in_force"),
    ("revoke before the certification", CERTIFIED, lambda s: tp.revoke(s, date(2026, 2, 28), "x"), "plan.in_force"),
]


@pytest.mark.parametrize(("state", "decide", "rule"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_each_status_refuses_other_commands_naming_the_rule(state, decide, rule):
    with pytest.raises(DomainRuleViolation) as refused:
        decide(state)
    assert refused.value.rule == rule


def test_closing_an_unknown_order_is_not_found():
    with pytest.raises(NotFound):
        tp.close_improvement_order(CERTIFIED, uuid4(), START)


def test_a_certified_plan_is_in_progress_from_its_start_date():
    assert CERTIFIED.status_on(date(2026, 3, 31)) == "certified"
    assert CERTIFIED.status_on(START) == tp.IN_PROGRESS
    assert COMPLETED.status_on(date(2030, 1, 1)) == "completed"
    assert APPLIED.status_on(START) == "applied"


def test_a_referral_revokes_only_plans_in_force_on_its_decision_date_and_only_once():
    [revoked] = tp.revoke_on_referral(CERTIFIED, date(2026, 8, 1), "referral", REFERRAL)
    assert (revoked.revoked_on, revoked.referral_id) == (date(2026, 8, 1), REFERRAL)
    assert tp.revoke_on_referral(tp.evolve(CERTIFIED, revoked), date(2026, 8, 1), "again", REFERRAL) == []
    assert tp.revoke_on_referral(COMPLETED, date(2027, 5, 1), "too late", REFERRAL) == []
    assert tp.revoke_on_referral(CERTIFIED, date(2026, 2, 1), "decided before it was certified", REFERRAL) == []


def test_a_revoked_permit_flags_a_plan_in_force_once():
    [flag] = tp.require_new_supervising_organization(CERTIFIED, date(2026, 6, 1), "permit revoked")
    assert isinstance(flag, NewSupervisingOrganizationRequired) and flag.since == date(2026, 6, 1)
    assert tp.require_new_supervising_organization(tp.evolve(CERTIFIED, flag), date(2026, 6, 1), "again") == []
    assert tp.require_new_supervising_organization(COMPLETED, date(2027, 6, 1), "ended") == []
    assert tp.require_new_supervising_organization(APPLIED, date(2026, 6, 1), "never certified") == []
