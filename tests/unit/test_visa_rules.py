"""The immigration rules of DOMAIN §6 as tables: COE, visa, change of status, SSW (i), and their numbers."""

from dataclasses import replace
from datetime import date
from uuid import uuid4

import pytest

from contracts.accreditation import ExamResult, PlanStatus, Stage
from contracts.visa import CoeApplicationCancelled, CoeRevoked
from services.visa.app import VisaSettings
from services.visa.domain import certificate_of_eligibility as coe
from services.visa.domain import residence
from services.visa.domain.known import KnownPlan, PermitRestriction
from services.visa.domain.rules import VisaRules
from services.visa.domain.ssw import ssw_eligibility
from shared.errors import DomainRuleViolation

RULES = VisaRules()
TRAINEE = uuid4()
PLAN = KnownPlan(
    plan_id=uuid4(),
    trainee_id=TRAINEE,
    stage=Stage.I,
    job_category="construction",
    supervising_organization_id=uuid4(),
    start_date=date(2026, 9, 1),
    end_date=date(2027, 8, 31),
    status=PlanStatus.CERTIFIED,
    certified_on=date(2026, 6, 1),
)
SUSPENDED = PermitRestriction("suspended", date(2026, 7, 1), date(2026, 9, 30))
REVOKED = PermitRestriction("revoked", date(2026, 8, 1))


def then(state, events):
    for event in events:
        state = coe.evolve(state, event)
    return state


def applied(on=date(2026, 6, 10), plan=PLAN) -> coe.CertificateOfEligibility:
    return then(coe.NoApplication(), coe.apply_for_coe(coe.NoApplication(), plan.plan_id, plan, [], [], on))


def issued(on=date(2026, 6, 20)) -> coe.CertificateOfEligibility:
    state = applied()
    return then(state, coe.issue_coe(state, PLAN, [], on, RULES))


def refused(rule: str, decide) -> None:
    with pytest.raises(DomainRuleViolation) as refusal:
        decide()
    assert refusal.value.rule == rule


def test_a_coe_application_for_a_certified_stage_i_plan_is_pending():
    state = applied()
    assert (state.lifecycle, state.training_plan_id, state.trainee_id) == (coe.Lifecycle.PENDING, PLAN.plan_id, TRAINEE)


@pytest.mark.parametrize(
    "plan, restrictions, applied_on, rule",
    [
        (None, [], date(2026, 6, 10), "coe.plan_unknown"),
        (replace(PLAN, stage=Stage.II), [], date(2026, 6, 10), "coe.stage_i_only"),
        (replace(PLAN, status=PlanStatus.APPLIED), [], date(2026, 6, 10), "coe.plan_not_certified"),
        (replace(PLAN, status=PlanStatus.REVOKED), [], date(2026, 6, 10), "coe.plan_not_certified"),
        (PLAN, [SUSPENDED], date(2026, 7, 1), "coe.permit_suspended"),
        (PLAN, [SUSPENDED], date(2026, 9, 30), "coe.permit_suspended"),
        (PLAN, [SUSPENDED], date(2026, 10, 1), None),  # the suspension is over
        (PLAN, [SUSPENDED], date(2026, 6, 30), None),
        (PLAN, [REVOKED, SUSPENDED], date(2026, 8, 15), "coe.permit_revoked"),
        (PLAN, [REVOKED], date(2027, 8, 1), "coe.permit_revoked"),  # for good
    ],
)
def test_a_coe_application_needs_a_certified_stage_i_plan_and_a_permit_in_force(plan, restrictions, applied_on, rule):
    def decide():
        return coe.apply_for_coe(coe.NoApplication(), PLAN.plan_id, plan, restrictions, [], applied_on)

    if rule:
        refused(rule, decide)
    else:
        assert decide()


@pytest.mark.parametrize(
    "other, applied_on, rule",
    [
        (applied(), date(2026, 6, 11), "coe.plan_has_open_application"),
        (issued(), date(2026, 9, 19), "coe.plan_has_open_application"),  # the certificate's last valid day
        (issued(), date(2026, 9, 20), None),  # it expired unused
        (
            then(issued(), coe.use_for_visa(issued(), uuid4(), date(2026, 7, 1))),
            date(2026, 12, 1),
            "coe.plan_has_open_application",
        ),
        (then(applied(), coe.deny_coe(applied(), "documents forged")), date(2026, 6, 11), None),
    ],
)
def test_a_plan_has_one_open_application_or_certificate_at_a_time(other, applied_on, rule):
    def decide():
        return coe.apply_for_coe(coe.NoApplication(), PLAN.plan_id, PLAN, [], [other], applied_on)

    if rule:
        refused(rule, decide)
    else:
        assert decide()


@pytest.mark.parametrize(
    "issued_on, expires_on",
    [
        (date(2026, 6, 20), date(2026, 9, 19)),
        (date(2026, 1, 1), date(2026, 3, 31)),
        (date(2026, 11, 30), date(2027, 2, 27)),  # no 30 Feb: the 28th is the day it is 3 months old
    ],
)
def test_a_coe_is_valid_for_3_months(issued_on, expires_on):
    state = applied(on=date(2026, 1, 1))
    [certificate] = coe.issue_coe(state, PLAN, [], issued_on, RULES)
    assert certificate.expires_on == expires_on
    [longer] = coe.issue_coe(state, PLAN, [], issued_on, VisaRules(coe_validity_months=6))
    assert longer.expires_on > expires_on


@pytest.mark.parametrize(
    "state, plan, restrictions, issued_on, rule",
    [
        (issued(), PLAN, [], date(2026, 6, 21), "coe.not_pending"),
        (applied(), PLAN, [], date(2026, 6, 9), "coe.issued_before_application"),
        (applied(), replace(PLAN, status=PlanStatus.REVOKED), [], date(2026, 6, 21), "coe.plan_not_certified"),
        (applied(), PLAN, [SUSPENDED], date(2026, 7, 2), "coe.permit_suspended"),
        (applied(), PLAN, [REVOKED], date(2026, 8, 1), "coe.permit_revoked"),
    ],
)
def test_a_coe_is_issued_only_on_a_pending_application_whose_plan_and_permit_still_hold(
    state, plan, restrictions, issued_on, rule
):
    refused(rule, lambda: coe.issue_coe(state, plan, restrictions, issued_on, RULES))


def test_a_decided_application_cannot_be_denied():
    refused("coe.not_pending", lambda: coe.deny_coe(issued(), "too late"))


@pytest.mark.parametrize(
    "state, used_on, rule",
    [
        (issued(), date(2026, 9, 19), None),  # the last valid day
        (issued(), date(2026, 9, 20), "visa.coe_expired"),
        (issued(), date(2026, 6, 19), "visa.before_coe"),
        (applied(), date(2026, 6, 21), "visa.coe_not_issued"),
        (then(applied(), coe.deny_coe(applied(), "no")), date(2026, 6, 21), "visa.coe_not_issued"),
        (
            then(issued(), coe.withdraw_for_revoked_plan(issued(), date(2026, 7, 1), "Art. 16")),
            date(2026, 7, 2),
            "visa.coe_revoked",
        ),
        (then(issued(), coe.use_for_visa(issued(), uuid4(), date(2026, 7, 1))), date(2026, 7, 2), "visa.coe_used"),
        (coe.NoApplication(), date(2026, 7, 2), "visa.coe_unknown"),
    ],
)
def test_a_visa_is_issued_only_while_its_coe_is_valid_unused_and_not_revoked(state, used_on, rule):
    if rule:
        refused(rule, lambda: coe.use_for_visa(state, uuid4(), used_on))
    else:
        [used] = coe.use_for_visa(state, visa_id := uuid4(), used_on)
        assert then(state, [used]).visa_id == visa_id
        [visa] = residence.issue_visa(None, uuid4(), state, "Embassy of Japan in Hanoi", used_on, RULES)
        assert (visa.stage, visa.period_of_stay_months, visa.trainee_id) == (Stage.I, 12, TRAINEE)


@pytest.mark.parametrize(
    "state, withdrawn",
    [
        (applied(), CoeApplicationCancelled),
        (issued(), CoeRevoked),
        (then(issued(), coe.use_for_visa(issued(), uuid4(), date(2026, 7, 1))), None),
        (then(applied(), coe.deny_coe(applied(), "no")), None),
        (then(issued(), coe.withdraw_for_revoked_plan(issued(), date(2026, 7, 1), "x")), None),  # applied once
    ],
)
def test_a_revoked_plan_cancels_pending_applications_and_revokes_unused_certificates(state, withdrawn):
    events = coe.withdraw_for_revoked_plan(state, date(2026, 7, 1), "Art. 16 revocation")
    assert [type(e) for e in events] == ([withdrawn] if withdrawn else [])


STAGE_II = replace(PLAN, plan_id=uuid4(), stage=Stage.II, start_date=date(2027, 9, 1), end_date=date(2029, 8, 31))
STAGE_III = replace(PLAN, plan_id=uuid4(), stage=Stage.III, start_date=date(2029, 11, 1), end_date=date(2031, 10, 31))


@pytest.mark.parametrize(
    "plan, held, rule",
    [
        (STAGE_II, {Stage.I}, None),
        (STAGE_III, {Stage.I, Stage.II}, None),
        (STAGE_II, set(), "status_change.previous_stage_not_held"),
        (STAGE_III, {Stage.I}, "status_change.previous_stage_not_held"),  # no skipping stage ii
        (STAGE_II, {Stage.I, Stage.II}, "status_change.previous_stage_not_held"),  # already there
        (PLAN, {Stage.I}, "status_change.stage_i_enters_with_coe"),
        (replace(STAGE_II, status=PlanStatus.APPLIED), {Stage.I}, "status_change.plan_not_certified"),
        (replace(STAGE_II, status=PlanStatus.REVOKED), {Stage.I}, "status_change.plan_not_certified"),
        (None, {Stage.I}, "status_change.plan_unknown"),
    ],
)
def test_a_change_of_status_needs_the_next_stages_certified_plan(plan, held, rule):
    def decide(state=None, rules=RULES):
        return residence.change_status(state, STAGE_II.plan_id, plan, held, date(2027, 8, 20), rules)

    if rule:
        refused(rule, decide)
        return
    [change] = decide()
    assert (change.from_stage, change.to_stage, change.period_of_stay_months) == (
        Stage.II if plan.stage is Stage.III else Stage.I,
        plan.stage,
        24,
    )
    refused("status_change.already_granted", lambda: decide(change))
    longer = VisaRules(period_of_stay_months={Stage.I: 12, Stage.II: 36, Stage.III: 36})
    assert decide(rules=longer)[0].period_of_stay_months == 36


def completed_stage_ii(**changes) -> KnownPlan:
    return replace(
        STAGE_II,
        **{"status": PlanStatus.COMPLETED, "ended_on": date(2029, 8, 31), "exam_result": ExamResult.PASSED, **changes},
    )


@pytest.mark.parametrize(
    "plans, field, day, unmet",
    [
        ([completed_stage_ii()], "construction", date(2029, 9, 1), ()),
        ([completed_stage_ii()], "construction", date(2029, 8, 30), ("ssw.stage_ii_not_completed",)),  # not yet
        ([completed_stage_ii()], "food manufacturing", date(2029, 9, 1), ("ssw.field_differs",)),
        (
            [completed_stage_ii(exam_result=ExamResult.FAILED)],
            "construction",
            date(2029, 9, 1),
            ("ssw.exam_not_passed",),
        ),
        ([STAGE_II], "construction", date(2029, 9, 1), ("ssw.stage_ii_not_completed",)),  # still in progress
        (
            [completed_stage_ii(), replace(STAGE_III, status=PlanStatus.REVOKED, ended_on=date(2030, 1, 10))],
            "construction",
            date(2030, 2, 1),
            ("ssw.plan_revoked",),
        ),
        (
            [replace(PLAN, status=PlanStatus.DISCONTINUED, ended_on=date(2027, 1, 10)), completed_stage_ii()],
            "construction",
            date(2029, 9, 1),
            ("ssw.plan_discontinued",),
        ),
    ],
)
def test_a_trainee_who_completed_stage_ii_in_good_standing_moves_to_ssw_i_without_tests(plans, field, day, unmet):
    answer = ssw_eligibility(plans, field, day)
    assert (answer.eligible, answer.unmet) == (not unmet, unmet)
    if not unmet:
        assert answer.qualifying_plan_id == STAGE_II.plan_id


def test_the_numbers_are_configurable(monkeypatch):
    assert (RULES.coe_validity_months, dict(RULES.period_of_stay_months)) == (
        3,
        {Stage.I: 12, Stage.II: 24, Stage.III: 24},
    )
    monkeypatch.setenv("TITP_VISA_COE_VALIDITY_MONTHS", "4")
    monkeypatch.setenv("TITP_VISA_PERIOD_OF_STAY_MONTHS", '{"ii": 36}')
    rules = VisaSettings().rules()
    assert (rules.coe_validity_months, dict(rules.period_of_stay_months)) == (
        4,
        {Stage.I: 12, Stage.II: 36, Stage.III: 24},
    )
    monkeypatch.setenv("TITP_VISA_PERIOD_OF_STAY_MONTHS", '{"ii": 0}')
    with pytest.raises(ValueError):
        VisaSettings()
