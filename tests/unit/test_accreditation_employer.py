"""Art. 15 improvement orders on the implementing organization (services/accreditation/domain/employer.py, DOMAIN
§11): issued with a deadline after the order, once per inspection referral, closed once; breached only when the
deadline passed without it being closed. Over REST and Kafka: tests/e2e/test_accreditation_law.py."""

from datetime import date
from uuid import uuid4

import pytest

from contracts.accreditation import EmployerImprovementOrderClosed, EmployerImprovementOrderIssued
from services.accreditation.domain import employer
from shared.errors import DomainRuleViolation, NotFound

EMPLOYER, ORDER, REFERRAL = uuid4(), uuid4(), uuid4()
ISSUED, DEADLINE = date(2026, 6, 1), date(2026, 7, 1)


def record(*steps) -> employer.EmployerRecord:
    state = employer.EmployerRecord()
    for step in steps:
        for event in step(state):
            state = employer.evolve(state, event)
    return state


def issued(state, order=ORDER, referral=None):
    return employer.issue_improvement_order(state, EMPLOYER, order, ISSUED, DEADLINE, "training log kept", referral)


ORDERED = record(issued)
CLOSED = record(issued, lambda s: employer.close_improvement_order(s, ORDER, date(2026, 6, 20)))


def test_an_order_is_issued_to_the_employer_and_closed():
    [event] = issued(employer.EmployerRecord(), referral=REFERRAL)
    assert isinstance(event, EmployerImprovementOrderIssued)
    assert (event.implementing_organization_id, event.deadline, event.referral_id) == (EMPLOYER, DEADLINE, REFERRAL)
    [closed] = employer.close_improvement_order(ORDERED, ORDER, date(2026, 6, 20))
    assert isinstance(closed, EmployerImprovementOrderClosed) and closed.implementing_organization_id == EMPLOYER


def test_a_referral_delivered_again_issues_no_second_order():
    state = record(lambda s: issued(s, referral=REFERRAL))
    assert issued(state, order=uuid4(), referral=REFERRAL) == []
    assert state.referral_of(ORDER) == REFERRAL


REFUSED = [
    # why, state, step, rule (None: not found)
    (
        "a deadline on the day of the order",
        employer.EmployerRecord(),
        lambda s: employer.issue_improvement_order(s, EMPLOYER, ORDER, ISSUED, ISSUED, "x"),
        "improvement_order.deadline_not_after_issue",
    ),
    (
        "close twice",
        CLOSED,
        lambda s: employer.close_improvement_order(s, ORDER, date(2026, 6, 21)),
        "improvement_order.already_closed",
    ),
    (
        "close before the order",
        ORDERED,
        lambda s: employer.close_improvement_order(s, ORDER, date(2026, 5, 31)),
        "improvement_order.closed_before_issue",
    ),
    ("close an unknown order", ORDERED, lambda s: employer.close_improvement_order(s, uuid4(), ISSUED), None),
    (
        "close on an employer with no order",
        employer.EmployerRecord(),
        lambda s: employer.close_improvement_order(s, ORDER, ISSUED),
        None,
    ),
    (
        "breach on the deadline",
        ORDERED,
        lambda s: employer.breached_order(s, ORDER, DEADLINE),
        "improvement_order.not_breached",
    ),
    (
        "breach of a closed order",
        CLOSED,
        lambda s: employer.breached_order(s, ORDER, date(2026, 7, 2)),
        "improvement_order.not_breached",
    ),
    ("breach of an unknown order", ORDERED, lambda s: employer.breached_order(s, uuid4(), date(2026, 7, 2)), None),
]


@pytest.mark.parametrize(("state", "step", "rule"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_each_refusal_names_its_rule(state, step, rule):
    with pytest.raises(NotFound if rule is None else DomainRuleViolation) as refused:
        step(state)
    if rule is not None:
        assert refused.value.rule == rule


def test_an_order_is_breached_the_day_after_its_deadline_when_not_closed_by_then():
    assert employer.breached_order(ORDERED, ORDER, date(2026, 7, 2)).order_id == ORDER
    closed_late = record(issued, lambda s: employer.close_improvement_order(s, ORDER, date(2026, 7, 10)))
    assert employer.breached_order(closed_late, ORDER, date(2026, 7, 5)).order_id == ORDER  # not closed by then
