"""The inspection rules corrected by DOMAIN §11 as tables: an Art. 15 improvement order on the implementing
organization can be referred; improvement guidance asks for an improvement report like a recommendation; a
revoked or expired organization's inspections are closed, awaiting a report or not; an employer with no plan
in force leaves the schedule, and an inspection cancelled too early goes back on it with its dates."""

from datetime import date
from uuid import uuid4

import pytest

from contracts.inspection import (
    AdministrativeActionReferred,
    Finding,
    ImprovementReportWaitClosed,
    InspectionCancelled,
    InspectionCompleted,
    InspectionReason,
    InspectionScheduled,
    TargetType,
    inspection_events,
)
from services.inspection.domain import inspection as ins
from services.inspection.domain.rules import Cadence
from shared.errors import DomainRuleViolation

SO, IO = TargetType.SUPERVISING_ORGANIZATION, TargetType.IMPLEMENTING_ORGANIZATION
SSO = TargetType.SUPERVISION_SUPPORT_ORGANIZATION
D = date.fromisoformat
BREACH = Finding(code="wages_below_plan", legal_breach=True, description="overtime unpaid")
SHORTFALL = Finding(code="records_not_kept", legal_breach=False, description="training diary incomplete")
INSPECTED_ON = D("2027-04-10")
REPORT_DUE = D("2027-06-10")


def then(state, events):
    for event in events:
        state = ins.evolve(state, event)
    return state


def scheduled(target_type=SO, *, extraordinary=False) -> ins.Inspection:
    reason = InspectionReason.COMPLAINT if extraordinary else InspectionReason.PERMIT_GRANTED
    event = InspectionScheduled(
        target_type=target_type,
        target_id=uuid4(),
        reason=reason,
        scheduled_on=D("2026-05-01"),
        due_by=D("2027-05-01"),
    )
    return then(ins.Inspection(), ins.schedule(ins.Inspection(), event))


def completed(state, outcome="no_finding", findings=(), report_due=None, referral=None):
    return ins.complete(
        state,
        uuid4(),
        inspected_on=INSPECTED_ON,
        inspector="inspector-kato",
        findings=findings,
        outcome=outcome,
        improvement_report_due=report_due,
        referral=referral,
        referral_id=uuid4(),
    )


def refused(decide) -> str:
    with pytest.raises(DomainRuleViolation) as refusal:
        decide()
    return refusal.value.rule


# Art. 15: an improvement order addressed to the implementing organization (DOMAIN §11, §4).


@pytest.mark.parametrize(
    "target_type, action, deadline, decided_on, rule",
    [
        (IO, "employer_improvement_order", D("2027-07-01"), None, None),
        (IO, "employer_improvement_order", D("2027-04-11"), None, None),  # the day after the decision
        (IO, "employer_improvement_order", D("2027-04-10"), None, "referral.deadline"),  # on the decision's day
        (IO, "employer_improvement_order", None, None, "referral.deadline"),
        (IO, "employer_improvement_order", D("2027-05-01"), D("2027-05-01"), "referral.deadline"),
        (IO, "employer_improvement_order", D("2027-07-01"), D("2027-04-09"), "referral.decided_before_inspection"),
        (SO, "employer_improvement_order", D("2027-07-01"), None, "referral.employer_improvement_order_target"),
        (SSO, "employer_improvement_order", D("2027-07-01"), None, "referral.employer_improvement_order_target"),
        (IO, "improvement_order", D("2027-07-01"), None, "referral.action_for_target"),  # Art. 36 is a permit's
        (SO, "improvement_order", D("2027-07-01"), None, None),
        (IO, "plan_revocation", None, None, None),
    ],
)
def test_a_referral_can_ask_for_an_art_15_order_on_the_implementing_organization(
    target_type, action, deadline, decided_on, rule
):
    state = scheduled(target_type)
    referral = ins.Referral(action=action, reason="overtime unpaid", deadline=deadline, decided_on=decided_on)
    decide = lambda: completed(state, "referral", (BREACH,), referral=referral)  # noqa: E731
    if rule is not None:
        assert refused(decide) == rule
        return
    _, referred = decide()
    assert isinstance(referred, AdministrativeActionReferred)
    assert (referred.action, referred.target_type, referred.target_id, referred.deadline) == (
        action,
        target_type,
        state.target_id,
        deadline,
    )


# Improvement guidance (改善指導) asks for a report by a date, like a recommendation (DOMAIN §11, §5).


@pytest.mark.parametrize(
    "outcome, findings, report_due, rule",
    [
        ("guidance", (SHORTFALL,), REPORT_DUE, None),
        ("guidance", (SHORTFALL,), D("2027-04-11"), None),  # the day after the inspection
        ("guidance", (SHORTFALL,), INSPECTED_ON, "improvement_report.due_after_inspection"),
        ("guidance", (SHORTFALL,), None, "improvement_report.due_for_guidance_or_recommendation"),
        ("recommendation", (BREACH,), None, "improvement_report.due_for_guidance_or_recommendation"),
        ("recommendation", (BREACH,), REPORT_DUE, None),
        ("no_finding", (), REPORT_DUE, "improvement_report.due_for_guidance_or_recommendation"),
    ],
)
def test_guidance_asks_for_an_improvement_report_by_a_date(outcome, findings, report_due, rule):
    state = scheduled()
    decide = lambda: completed(state, outcome, findings, report_due)  # noqa: E731
    if rule is not None:
        assert refused(decide) == rule
        return
    done = then(state, decide())
    assert (done.awaiting_report, done.improvement_report_due) == (True, report_due)


@pytest.mark.parametrize(
    "outcome, findings",
    [("guidance", (SHORTFALL,)), ("recommendation", (BREACH,))],
)
@pytest.mark.parametrize(
    "day, received_on, report_overdue",
    [
        (D("2027-06-10"), None, False),  # the due day itself
        (D("2027-06-11"), None, True),
        (D("2027-06-11"), D("2027-06-20"), True),  # received late: overdue until then
        (D("2027-06-20"), D("2027-06-20"), False),
        (D("2027-06-11"), D("2027-06-05"), False),
    ],
)
def test_guidance_s_report_goes_overdue_exactly_like_a_recommendation_s(
    outcome, findings, day, received_on, report_overdue
):
    state = scheduled()
    state = then(state, completed(state, outcome, findings, REPORT_DUE))
    if received_on:
        state = then(state, ins.receive_improvement_report(state, received_on))
    assert state.report_overdue_on(day) is report_overdue
    assert state.awaiting_report is (received_on is None)


def test_guidance_recorded_before_the_correction_asks_for_no_report():
    state = scheduled()
    old = InspectionCompleted(
        target_type=state.target_type,
        target_id=state.target_id,
        inspected_on=INSPECTED_ON,
        inspector="inspector-kato",
        findings=(SHORTFALL,),
        outcome="guidance",
    )
    # Check: the old event is read as it was recorded: no report due, none awaited or overdue.
    parsed = inspection_events.parse(inspection_events.type_name(old), old.model_dump(mode="json"))
    done = then(state, [parsed])
    assert (done.asks_for_report, done.awaiting_report, done.report_overdue_on(D("2030-01-01"))) == (False,) * 3
    assert refused(lambda: ins.receive_improvement_report(done, D("2027-05-01"))) == "improvement_report.not_awaited"


# Closing (DOMAIN §11, §5): a revoked or expired organization's inspections leave the worklists, awaiting a report
# or not; an employer with no plan in force has its scheduled regular inspection cancelled.


def _state(kind: str, target_type=SO) -> ins.Inspection:
    match kind:
        case "scheduled regular":
            return scheduled(target_type)
        case "scheduled extraordinary":
            return scheduled(target_type, extraordinary=True)
        case "no finding":
            state = scheduled(target_type)
            return then(state, completed(state))
        case "awaiting guidance report":
            state = scheduled(target_type)
            return then(state, completed(state, "guidance", (SHORTFALL,), REPORT_DUE))
        case "awaiting recommendation report":
            state = scheduled(target_type)
            return then(state, completed(state, "recommendation", (BREACH,), REPORT_DUE))
        case "report received":
            state = _state("awaiting recommendation report", target_type)
            return then(state, ins.receive_improvement_report(state, D("2027-06-01")))
        case "cancelled":
            state = scheduled(target_type)
            return then(state, ins.cancel(state, D("2026-09-01"), "permit_revoked"))
        case "wait closed":
            state = _state("awaiting recommendation report", target_type)
            return then(state, ins.close(state, D("2027-07-01"), "permit_expired"))
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind, permit_ended, no_plans_in_force",
    [
        ("scheduled regular", InspectionCancelled, InspectionCancelled),
        ("scheduled extraordinary", InspectionCancelled, None),  # a complaint is looked into all the same
        ("no finding", None, None),
        ("awaiting guidance report", ImprovementReportWaitClosed, None),
        ("awaiting recommendation report", ImprovementReportWaitClosed, None),
        ("report received", None, None),
        ("cancelled", None, None),
        ("wait closed", None, None),  # closed once
    ],
)
@pytest.mark.parametrize("permit_end", ["permit_revoked", "permit_expired"])
def test_a_closed_organization_s_inspections_leave_the_worklists(kind, permit_ended, no_plans_in_force, permit_end):
    for reason, expected, target_type in (
        (permit_end, permit_ended, SO),
        (permit_end, permit_ended, SSO),
        ("no_plans_in_force", no_plans_in_force, IO),
    ):
        state = _state(kind, target_type)
        events = ins.close(state, D("2027-07-01"), reason)
        assert [type(e) for e in events] == ([expected] if expected else []), (kind, reason)
        closed = then(state, events)
        # Check: whatever was closed is on no worklist from that day; nothing is scheduled or awaited.
        if expected:
            assert not closed.awaiting_report
            assert closed.status is not ins.Status.SCHEDULED
            assert not closed.overdue_on(D("2027-07-01")) and not closed.report_overdue_on(D("2027-07-01"))
            assert (events[0].target_id, events[0].reason) == (state.target_id, reason)
            assert ins.close(closed, D("2027-08-01"), reason) == []  # closing twice records once


@pytest.mark.parametrize(
    "day, report_overdue",
    [
        (D("2027-06-10"), False),  # the due day
        (D("2027-06-11"), True),  # overdue until the permit ended
        (D("2027-06-30"), True),  # the day before the wait was closed
        (D("2027-07-01"), False),  # the day it was closed
        (D("2028-01-01"), False),
    ],
)
def test_a_report_is_overdue_until_the_day_its_wait_is_closed(day, report_overdue):
    state = _state("awaiting guidance report")
    closed = then(state, ins.close(state, D("2027-07-01"), "permit_revoked"))
    assert closed.report_overdue_on(day) is report_overdue
    assert (closed.report_wait_closed_on, closed.report_wait_closed_reason) == (D("2027-07-01"), "permit_revoked")
    assert (
        ins.is_report_overdue(day, due=REPORT_DUE, received_on=None, wait_closed_on=D("2027-07-01")) is report_overdue
    )
    # Check: a report arriving after the wait was closed is not awaited.
    assert refused(lambda: ins.receive_improvement_report(closed, D("2027-07-02"))) == "improvement_report.not_awaited"


def test_an_inspection_cancelled_too_early_goes_back_on_the_schedule_with_its_dates():
    first = ins.first_inspection(IO, uuid4(), InspectionReason.FIRST_CERTIFIED_PLAN, D("2026-05-15"), Cadence())
    state = then(ins.Inspection(), ins.schedule(ins.Inspection(), first))
    cancelled = then(state, ins.close(state, D("2027-05-31"), "no_plans_in_force"))
    assert (cancelled.status, cancelled.cancellation_reason) == ("cancelled", "no_plans_in_force")
    again = ins.resumed_inspection(cancelled, D("2027-04-01"))
    assert (again.target_id, again.reason, again.scheduled_on, again.due_by, again.follows) == (
        state.target_id,
        "first_certified_plan",
        D("2026-05-15"),
        D("2029-05-15"),
        None,
    )
    assert "2027-04-01" in again.detail
