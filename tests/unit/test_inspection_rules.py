"""The inspection rules of DOMAIN §5 and §7 as tables: the cadence, outcomes and findings, overdue by the date."""

from datetime import date
from uuid import uuid4

import pytest

from contracts.inspection import (
    AdministrativeActionReferred,
    Finding,
    InspectionCompleted,
    InspectionReason,
    TargetType,
)
from services.inspection.domain import inspection as ins
from services.inspection.domain.rules import Cadence
from shared.errors import DomainRuleViolation

SO, IO = TargetType.SUPERVISING_ORGANIZATION, TargetType.IMPLEMENTING_ORGANIZATION
D = date.fromisoformat
BREACH = Finding(code="passport_or_residence_card_kept", legal_breach=True, description="passports in the office safe")
SHORTFALL = Finding(code="records_not_kept", legal_breach=False, description="training diary incomplete")


def then(state, events):
    for event in events:
        state = ins.evolve(state, event)
    return state


def scheduled(target_type=SO, reason=InspectionReason.PERMIT_GRANTED, since=D("2026-05-01")) -> ins.Inspection:
    return then(
        ins.Inspection(),
        ins.schedule(ins.Inspection(), ins.first_inspection(target_type, uuid4(), reason, since, Cadence())),
    )


def complete(state, *, inspected_on=D("2027-04-10"), findings=(), outcome="no_finding", report_due=None, referral=None):
    return ins.complete(
        state,
        uuid4(),
        inspected_on=inspected_on,
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


@pytest.mark.parametrize(
    "target_type, reason, since, due_by",
    [
        (SO, InspectionReason.PERMIT_GRANTED, D("2026-05-01"), D("2027-05-01")),  # within 1 year of the grant
        (IO, InspectionReason.FIRST_CERTIFIED_PLAN, D("2026-07-15"), D("2029-07-15")),  # within 3 years of the plan
        (SO, InspectionReason.PERMIT_GRANTED, D("2028-02-29"), D("2029-02-28")),  # no 29 Feb in 2029
    ],
)
def test_the_first_inspection_is_due_within_the_cadence(target_type, reason, since, due_by):
    first = scheduled(target_type, reason, since)
    assert (first.scheduled_on, first.due_by, first.status, first.extraordinary) == (since, due_by, "scheduled", False)


def test_the_cadence_is_configurable():
    cadence = Cadence(supervising_organization_years=2, implementing_organization_years=5)
    assert cadence.next_due(SO, D("2026-05-01")) == D("2028-05-01")
    assert cadence.next_due(IO, D("2026-05-01")) == D("2031-05-01")


@pytest.mark.parametrize(
    "target_type, inspected_on, next_due",
    [
        (SO, D("2027-04-10"), D("2028-04-10")),
        (IO, D("2027-04-10"), D("2030-04-10")),
    ],
)
def test_a_completed_regular_inspection_schedules_the_next_after_its_date(target_type, inspected_on, next_due):
    first = scheduled(target_type, since=D("2026-05-01"))
    previous_id = uuid4()
    done = then(first, complete(first, inspected_on=inspected_on))
    following = ins.next_inspection(done, previous_id, Cadence())
    assert (following.reason, following.scheduled_on, following.due_by, following.follows) == (
        "previous_inspection",
        inspected_on,
        next_due,
        previous_id,
    )
    assert following.target_id == first.target_id


def test_an_extraordinary_inspection_schedules_nothing_after_it():
    state = then(
        ins.Inspection(),
        ins.schedule_extraordinary(
            ins.Inspection(),
            ins.InspectionScheduled(
                target_type=SO,
                target_id=uuid4(),
                reason="complaint",
                scheduled_on=D("2027-01-05"),
                due_by=D("2027-02-01"),
            ),
            target_known=True,
        ),
    )
    assert state.extraordinary
    assert ins.next_inspection(then(state, complete(state, inspected_on=D("2027-01-20"))), uuid4(), Cadence()) is None


@pytest.mark.parametrize(
    "reason, known, rule",
    [
        ("complaint", False, "inspection.target_unknown"),
        ("permit_granted", True, "inspection.not_extraordinary"),
    ],
)
def test_extraordinary_inspections_are_only_of_known_organizations(reason, known, rule):
    command = ins.InspectionScheduled(
        target_type=SO, target_id=uuid4(), reason=reason, scheduled_on=D("2027-01-05"), due_by=D("2027-02-01")
    )
    assert refused(lambda: ins.schedule_extraordinary(ins.Inspection(), command, target_known=known)) == rule


REVOCATION = ins.Referral(action="permit_revocation", reason="passports kept", ground="law_breached")


@pytest.mark.parametrize(
    "findings, outcome, report_due, referral, rule",
    [
        ((), "no_finding", None, None, None),
        ((SHORTFALL,), "guidance", D("2027-06-10"), None, None),
        ((BREACH,), "recommendation", D("2027-06-10"), None, None),
        ((BREACH, SHORTFALL), "referral", None, REVOCATION, None),
        ((SHORTFALL,), "no_finding", None, None, "outcome.no_finding_with_findings"),
        ((), "guidance", None, None, "outcome.guidance_without_breach"),
        ((BREACH,), "guidance", None, None, "outcome.guidance_without_breach"),
        ((SHORTFALL,), "recommendation", D("2027-06-10"), None, "outcome.needs_legal_breach"),
        ((SHORTFALL,), "referral", None, REVOCATION, "outcome.needs_legal_breach"),
        ((BREACH,), "recommendation", None, None, "improvement_report.due_for_guidance_or_recommendation"),
        ((SHORTFALL,), "guidance", None, None, "improvement_report.due_for_guidance_or_recommendation"),
        ((), "no_finding", D("2027-06-10"), None, "improvement_report.due_for_guidance_or_recommendation"),
        ((SHORTFALL,), "guidance", D("2027-04-10"), None, "improvement_report.due_after_inspection"),
        ((BREACH,), "recommendation", D("2027-04-10"), None, "improvement_report.due_after_inspection"),
        ((BREACH,), "referral", None, None, "referral.for_referral_outcome"),
        ((BREACH,), "recommendation", D("2027-06-10"), REVOCATION, "referral.for_referral_outcome"),
        (
            (Finding(code="forced_savings", legal_breach=False, description="x"),),
            "guidance",
            None,
            None,
            "finding.trainee_protection_is_a_breach",
        ),
    ],
)
def test_the_outcome_must_fit_the_findings(findings, outcome, report_due, referral, rule):
    def decide():
        return complete(
            scheduled(),
            findings=findings,
            outcome=outcome,
            report_due=report_due,
            referral=referral,
        )

    if rule is None:
        assert isinstance(decide()[0], InspectionCompleted)
    else:
        assert refused(decide) == rule


@pytest.mark.parametrize(
    "target_type, referral, rule",
    [
        (SO, ins.Referral(action="improvement_order", reason="r", deadline=D("2027-07-01")), None),
        (SO, ins.Referral(action="improvement_order", reason="r"), "referral.deadline"),
        (
            SO,
            ins.Referral(
                action="suspension", reason="r", from_date=D("2027-05-01"), until_date=D("2027-07-31"), scope="all"
            ),
            None,
        ),
        (
            SO,
            ins.Referral(action="suspension", reason="r", from_date=D("2027-05-01"), scope="all"),
            "referral.suspension_period",
        ),
        (
            SO,
            ins.Referral(
                action="suspension", reason="r", from_date=D("2027-08-01"), until_date=D("2027-07-31"), scope="all"
            ),
            "referral.suspension_period",
        ),
        (SO, ins.Referral(action="permit_revocation", reason="r"), "referral.ground"),
        (SO, ins.Referral(action="plan_revocation", reason="r"), "referral.action_for_target"),
        (IO, ins.Referral(action="plan_revocation", reason="r"), None),
        (IO, ins.Referral(action="permit_revocation", reason="r", ground="law_breached"), "referral.action_for_target"),
        (
            IO,
            ins.Referral(action="plan_revocation", reason="r", decided_on=D("2027-04-01")),
            "referral.decided_before_inspection",
        ),
    ],
)
def test_a_referral_names_what_its_action_needs_and_goes_to_the_service_that_acts(target_type, referral, rule):
    state = scheduled(target_type, since=D("2026-05-01"))
    decide = lambda: complete(state, findings=(BREACH,), outcome="referral", referral=referral)  # noqa: E731
    if rule is not None:
        assert refused(decide) == rule
        return
    completed, referred = decide()
    assert isinstance(referred, AdministrativeActionReferred)
    assert (referred.action, referred.target_type, referred.target_id, referred.decided_on) == (
        referral.action,
        target_type,
        state.target_id,
        D("2027-04-10"),
    )


def test_an_inspection_is_completed_once_and_a_cancelled_one_not_at_all():
    state = scheduled()
    done = then(state, complete(state))
    assert refused(lambda: complete(done)) == "inspection.not_open"
    cancelled = then(state, ins.cancel(state, D("2026-09-01"), "permit_revoked"))
    assert (cancelled.status, cancelled.cancelled_on) == ("cancelled", D("2026-09-01"))
    assert refused(lambda: complete(cancelled)) == "inspection.not_open"
    # Check: cancelling what is no longer open records nothing.
    assert (
        ins.cancel(done, D("2026-09-01"), "permit_revoked")
        == ins.cancel(cancelled, D("2026-10-01"), "permit_expired")
        == []
    )
    assert refused(lambda: complete(state, inspected_on=D("2026-04-30"))) == "inspection.inspected_before_scheduled"


def test_an_improvement_report_closes_the_wait_once():
    state = scheduled()
    recommended = then(state, complete(state, findings=(BREACH,), outcome="recommendation", report_due=D("2027-06-10")))
    assert recommended.awaiting_report
    assert (
        refused(lambda: ins.receive_improvement_report(recommended, D("2027-04-01")))
        == "improvement_report.received_before_inspection"
    )
    received = then(recommended, ins.receive_improvement_report(recommended, D("2027-06-01")))
    assert not received.awaiting_report
    assert (
        refused(lambda: ins.receive_improvement_report(received, D("2027-06-02"))) == "improvement_report.not_awaited"
    )
    assert (
        refused(lambda: ins.receive_improvement_report(then(state, complete(state)), D("2027-06-02")))
        == "improvement_report.not_awaited"
    )


@pytest.mark.parametrize(
    "day, overdue",
    [
        (D("2026-04-30"), False),  # not yet scheduled
        (D("2027-05-01"), False),  # the due day itself
        (D("2027-05-02"), True),
        (D("2027-06-14"), True),  # the day before it was inspected
        (D("2027-06-15"), False),  # inspected that day
        (D("2030-01-01"), False),
    ],
)
def test_overdue_is_what_the_dates_say_on_a_day(day, overdue):
    state = scheduled(since=D("2026-05-01"))  # due by 2027-05-01
    late = then(state, complete(state, inspected_on=D("2027-06-15")))
    assert late.overdue_on(day) is overdue
    assert state.overdue_on(day) is (day > D("2027-05-01"))


@pytest.mark.parametrize(
    "day, received_on, report_overdue",
    [
        (D("2027-06-10"), None, False),  # the due day itself
        (D("2027-06-11"), None, True),
        (D("2027-06-11"), D("2027-06-20"), True),  # received late: overdue until then
        (D("2027-06-21"), D("2027-06-20"), False),
        (D("2027-06-11"), D("2027-06-05"), False),
    ],
)
def test_an_improvement_report_is_overdue_after_its_due_day_until_received(day, received_on, report_overdue):
    state = scheduled()
    state = then(state, complete(state, findings=(BREACH,), outcome="recommendation", report_due=D("2027-06-10")))
    if received_on:
        state = then(state, ins.receive_improvement_report(state, received_on))
    assert state.report_overdue_on(day) is report_overdue


def test_the_cadence_is_read_from_the_environment(monkeypatch):
    from services.inspection.app import InspectionSettings

    assert InspectionSettings().cadence() == Cadence(1, 3)
    monkeypatch.setenv("TITP_INSPECTION_SUPERVISING_ORGANIZATION_YEARS", "2")
    assert InspectionSettings().cadence() == Cadence(
        supervising_organization_years=2, implementing_organization_years=3
    )
