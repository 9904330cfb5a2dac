"""The immigration rules of DOMAIN §6 and §11 as tables: COE (stage i, stage iii after a departure), visa, change of
status, SSW (i), evaluation reports, and their numbers."""

from dataclasses import replace
from datetime import date
from uuid import uuid4

import pytest

from contracts.accreditation import DiscontinuationReason, ExamGrade, ExamPassed, ExamResult, PlanStatus, Stage
from contracts.registry import Scheme
from contracts.visa import (
    CoeApplicationCancelled,
    CoeApplied,
    CoeRevoked,
    EvaluationReportReceived,
    NewCoeGround,
    visa_events,
)
from services.visa.app import VisaSettings
from services.visa.domain import certificate_of_eligibility as coe
from services.visa.domain import evaluation_report, residence
from services.visa.domain.known import KnownPlan, PermitRestriction
from services.visa.domain.rules import VisaRules
from services.visa.domain.ssw import TITP_PATH, ssw_eligibility
from services.visa.projections.known import _plan
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
EXPIRED = PermitRestriction("expired", date(2026, 8, 1))  # PermitExpired.expired_on: the first day without it


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
        (replace(PLAN, stage=Stage.II), [], date(2026, 6, 10), "coe.stage_ii_changes_status"),
        (replace(PLAN, status=PlanStatus.APPLIED), [], date(2026, 6, 10), "coe.plan_not_certified"),
        (replace(PLAN, status=PlanStatus.REVOKED), [], date(2026, 6, 10), "coe.plan_not_certified"),
        (PLAN, [SUSPENDED], date(2026, 7, 1), "coe.permit_suspended"),
        (PLAN, [SUSPENDED], date(2026, 9, 30), "coe.permit_suspended"),
        (PLAN, [SUSPENDED], date(2026, 10, 1), None),  # the suspension is over
        (PLAN, [SUSPENDED], date(2026, 6, 30), None),
        (PLAN, [REVOKED, SUSPENDED], date(2026, 8, 15), "coe.permit_revoked"),
        (PLAN, [REVOKED], date(2027, 8, 1), "coe.permit_revoked"),  # for good
        (PLAN, [EXPIRED], date(2026, 7, 31), None),  # its last valid day
        (PLAN, [EXPIRED], date(2026, 8, 1), "coe.permit_expired"),
        (PLAN, [EXPIRED], date(2031, 8, 1), "coe.permit_expired"),  # for good: the organization applies anew
        (PLAN, [EXPIRED, SUSPENDED], date(2026, 8, 15), "coe.permit_expired"),
        (PLAN, [REVOKED, EXPIRED], date(2026, 8, 15), "coe.permit_revoked"),
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
        (date(2026, 11, 30), date(2027, 2, 28)),  # no 30 Feb: the month's last day (Civil Code Art. 143(2))
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
        (applied(), PLAN, [EXPIRED], date(2026, 8, 1), "coe.permit_expired"),
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


# Stage iii by a new COE (DOMAIN §11)

THIRD = replace(STAGE_III, plan_id=uuid4())


def departure(on: date, permit: bool) -> coe.Departure:
    return coe.Departure(departed_on=on, re_entry_permit_used=permit)


@pytest.mark.parametrize(
    "plan, left, applied_on, outcome",
    [
        # left without a re-entry permit: the status ended, a new COE whenever
        (THIRD, departure(date(2029, 9, 1), False), date(2029, 9, 1), NewCoeGround.NO_RE_ENTRY_PERMIT),
        (THIRD, departure(date(2029, 9, 1), False), date(2029, 9, 20), NewCoeGround.NO_RE_ENTRY_PERMIT),
        # with one: abroad more than 3 months (counted from the next day) on the application's day
        (THIRD, departure(date(2029, 9, 1), True), date(2029, 12, 1), "coe.stage_iii_changes_status"),
        (THIRD, departure(date(2029, 9, 1), True), date(2029, 12, 2), NewCoeGround.ABROAD_TOO_LONG),
        (THIRD, departure(date(2027, 2, 28), True), date(2027, 5, 31), "coe.stage_iii_changes_status"),
        (THIRD, departure(date(2027, 2, 28), True), date(2027, 6, 1), NewCoeGround.ABROAD_TOO_LONG),
        (THIRD, departure(date(2029, 9, 1), True), date(2029, 9, 5), "coe.stage_iii_changes_status"),
        # the previous stay must have ended with a departure before the application
        (THIRD, None, date(2029, 10, 1), "coe.stage_iii_departure_not_stated"),
        (THIRD, departure(date(2029, 10, 2), False), date(2029, 10, 1), "coe.stage_iii_not_departed"),
        # a departure is for stage iii only; stage ii still changes status
        (PLAN, departure(date(2026, 5, 1), False), date(2026, 6, 10), "coe.departure_only_for_stage_iii"),
        (STAGE_II, departure(date(2027, 5, 1), False), date(2027, 6, 10), "coe.stage_ii_changes_status"),
        # the plan and permit rules hold for stage iii too
        (
            replace(THIRD, status=PlanStatus.APPLIED),
            departure(date(2029, 9, 1), False),
            date(2029, 9, 20),
            "coe.plan_not_certified",
        ),
    ],
)
def test_stage_iii_starts_on_a_new_coe_after_leaving_without_a_re_entry_permit_or_over_3_months_abroad(
    plan, left, applied_on, outcome
):
    def decide(rules=RULES):
        return coe.apply_for_coe(coe.NoApplication(), plan.plan_id, plan, [], [], applied_on, left, rules)

    if not isinstance(outcome, NewCoeGround):
        refused(outcome, decide)
        return
    [event] = decide()
    assert (event.stage, event.departed_on, event.re_entry_permit_used, event.new_coe_ground) == (
        Stage.III,
        left.departed_on,
        left.re_entry_permit_used,
        outcome,
    )
    # Check: the certificate and the visa on it are for stage iii, with stage iii's period of stay.
    state = then(coe.NoApplication(), [event])
    [certificate] = coe.issue_coe(state, plan, [], applied_on, RULES)
    assert certificate.stage is Stage.III
    state = then(state, [certificate])
    [visa] = residence.issue_visa(None, uuid4(), state, "Embassy of Japan in Hanoi", applied_on, RULES)
    assert (visa.stage, visa.period_of_stay_months) == (Stage.III, 24)
    # Check: no second status change into stage iii for a trainee who holds it by the visa.
    refused(
        "status_change.previous_stage_not_held",
        lambda: residence.change_status(None, plan.plan_id, plan, {Stage.I, Stage.II, Stage.III}, applied_on, RULES),
    )


def test_the_months_abroad_for_a_new_coe_are_configurable(monkeypatch):
    left = departure(date(2029, 9, 1), True)

    def decide(rules):
        return coe.apply_for_coe(coe.NoApplication(), THIRD.plan_id, THIRD, [], [], date(2029, 11, 2), left, rules)

    refused("coe.stage_iii_changes_status", lambda: decide(RULES))
    assert decide(VisaRules(months_abroad_for_new_coe=2))[0].new_coe_ground is NewCoeGround.ABROAD_TOO_LONG
    monkeypatch.setenv("TITP_VISA_MONTHS_ABROAD_FOR_NEW_COE", "2")
    assert VisaSettings().rules().months_abroad_for_new_coe == 2


def stage_iii_certificate(used_on: date | None = None) -> coe.CertificateOfEligibility:
    left = departure(date(2029, 9, 1), False)
    state = then(
        coe.NoApplication(),
        coe.apply_for_coe(coe.NoApplication(), THIRD.plan_id, THIRD, [], [], date(2029, 9, 20), left),
    )
    if used_on:
        state = then(state, coe.issue_coe(state, THIRD, [], date(2029, 9, 25), RULES))
        state = then(state, coe.use_for_visa(state, uuid4(), used_on))
    return state


@pytest.mark.parametrize(
    "other, left, applied_on, rule",
    [
        (
            stage_iii_certificate(),
            departure(date(2029, 9, 1), False),
            date(2029, 9, 21),
            "coe.plan_has_open_application",
        ),
        # landed on it on 1 Oct 2029; left again without a re-entry permit within stage iii's first year
        (stage_iii_certificate(date(2029, 10, 1)), departure(date(2030, 3, 1), False), date(2030, 3, 10), None),
        (
            stage_iii_certificate(date(2029, 10, 1)),
            departure(date(2029, 10, 1), False),
            date(2030, 3, 10),
            "coe.plan_has_open_application",
        ),  # not a departure after the landing
    ],
)
def test_a_stage_iii_plan_has_one_open_certificate_until_the_trainee_leaves_again(other, left, applied_on, rule):
    def decide():
        return coe.apply_for_coe(coe.NoApplication(), THIRD.plan_id, THIRD, [], [other], applied_on, left)

    if rule:
        refused(rule, decide)
    else:
        assert decide()


@pytest.mark.parametrize(
    "data, stage",
    [
        ({"training_plan_id": str(uuid4()), "trainee_id": str(TRAINEE), "applied_on": "2026-06-10"}, Stage.I),
        (
            {
                "training_plan_id": str(uuid4()),
                "trainee_id": str(TRAINEE),
                "applied_on": "2026-06-10",
                "scheme": "esd",
                "status_of_residence": "employment_for_skill_development",
            },
            None,
        ),
    ],
)
def test_an_application_recorded_before_stage_iii_by_coe_reads_as_stage_i(data, stage):
    event = visa_events.parse(visa_events.type_name(CoeApplied), data)
    assert (event.stage, event.departed_on, event.new_coe_ground) == (None, None, None)
    assert then(coe.NoApplication(), [event]).entry_stage == stage


# SSW (i) after TITP (DOMAIN §11)

STAGE_I_DONE = replace(PLAN, status=PlanStatus.COMPLETED, ended_on=date(2027, 8, 31), exam_result=ExamResult.PASSED)


def completed_stage_ii(**changes) -> KnownPlan:
    return replace(
        STAGE_II,
        **{"status": PlanStatus.COMPLETED, "ended_on": date(2029, 8, 31), "exam_result": ExamResult.PASSED, **changes},
    )


def report(plan=STAGE_II, on=date(2029, 9, 1)) -> EvaluationReportReceived:
    return EvaluationReportReceived(
        training_plan_id=plan.plan_id, trainee_id=TRAINEE, written_on=date(2029, 8, 25), received_on=on
    )


GRADE_3_RECORDED = ExamPassed(grade=ExamGrade.GRADE_3, passed_on=date(2029, 8, 1))
FAILED_GRADE_3 = completed_stage_ii(exam_result=ExamResult.FAILED)
# The first employer went bankrupt: stage i discontinued, continued with another employer for the rest
BANKRUPT = replace(
    PLAN,
    status=PlanStatus.DISCONTINUED,
    ended_on=date(2027, 1, 31),
    discontinuation_reason=DiscontinuationReason.BANKRUPTCY,
)
CONTINUED = replace(
    PLAN,
    plan_id=uuid4(),
    start_date=date(2027, 2, 1),
    status=PlanStatus.COMPLETED,
    ended_on=date(2027, 8, 31),
    exam_result=ExamResult.PASSED,
)
CARPENTRY = "construction.carpentry.building"  # shared.reference: ssw_field construction
BOTH = ("japanese_test", "skills_test")
JAPANESE = ("japanese_test",)


@pytest.mark.parametrize(
    "plans, field, day, results, reports, unmet, exempt",
    [
        ([STAGE_I_DONE, completed_stage_ii()], "construction", date(2029, 9, 1), [], [], (), BOTH),
        (
            [STAGE_I_DONE, completed_stage_ii()],
            "construction",
            date(2029, 8, 30),
            [],
            [],
            ("ssw.stage_ii_not_completed", "ssw.titp_period_too_short", "ssw.grade_3_or_evaluation_report_missing"),
            (),
        ),
        # at least 2 years 10 months of TITP: from 1 Sep 2026, the last day is 30 Jun 2029
        (
            [STAGE_I_DONE, completed_stage_ii(ended_on=date(2029, 6, 30))],
            "construction",
            date(2029, 7, 1),
            [],
            [],
            (),
            BOTH,
        ),
        (
            [STAGE_I_DONE, completed_stage_ii(ended_on=date(2029, 6, 29))],
            "construction",
            date(2029, 7, 1),
            [],
            [],
            ("ssw.titp_period_too_short",),
            (),
        ),
        ([completed_stage_ii()], "construction", date(2029, 9, 1), [], [], ("ssw.titp_period_too_short",), ()),
        # grade 3 passed (at completion or reported by the exam body) OR the evaluation report (評価調書)
        (
            [STAGE_I_DONE, FAILED_GRADE_3],
            "construction",
            date(2029, 9, 1),
            [],
            [],
            ("ssw.grade_3_or_evaluation_report_missing",),
            (),
        ),
        ([STAGE_I_DONE, FAILED_GRADE_3], "construction", date(2029, 9, 1), [], [report()], (), BOTH),
        (
            [STAGE_I_DONE, FAILED_GRADE_3],
            "construction",
            date(2029, 9, 1),
            [],
            [report(on=date(2029, 9, 2))],
            ("ssw.grade_3_or_evaluation_report_missing",),
            (),
        ),
        (
            [STAGE_I_DONE, FAILED_GRADE_3],
            "construction",
            date(2029, 9, 1),
            [],
            [report(plan=PLAN)],
            ("ssw.grade_3_or_evaluation_report_missing",),
            (),
        ),  # a report on stage i does not count
        ([STAGE_I_DONE, FAILED_GRADE_3], "construction", date(2029, 9, 1), [GRADE_3_RECORDED], [], (), BOTH),
        # the Japanese test is exempt whatever the field; the skills test only in a related one
        ([STAGE_I_DONE, completed_stage_ii()], "food_manufacturing", date(2029, 9, 1), [], [], (), JAPANESE),
        ([STAGE_I_DONE, completed_stage_ii()], "Construction", date(2029, 9, 1), [], [], (), BOTH),
        # with the operation known, its SSW field decides, not the job category
        (
            [
                STAGE_I_DONE,
                completed_stage_ii(
                    job_category="other", operation=CARPENTRY, operation_known=True, ssw_field="construction"
                ),
            ],
            "construction",
            date(2029, 9, 1),
            [],
            [],
            (),
            BOTH,
        ),
        (
            [
                STAGE_I_DONE,
                completed_stage_ii(operation="other.linen_supply.finishing", operation_known=True, ssw_field=None),
            ],
            "construction",
            date(2029, 9, 1),
            [],
            [],
            (),
            JAPANESE,
        ),
        # good standing: the first employer's bankruptcy is not held against the trainee; its months count
        ([BANKRUPT, CONTINUED, completed_stage_ii()], "construction", date(2029, 9, 1), [], [], (), BOTH),
        (
            [replace(BANKRUPT, discontinuation_reason=DiscontinuationReason.TRANSFER), CONTINUED, completed_stage_ii()],
            "construction",
            date(2029, 9, 1),
            [],
            [],
            (),
            BOTH,
        ),
        (
            [
                replace(BANKRUPT, discontinuation_reason=DiscontinuationReason.DISAPPEARANCE),
                CONTINUED,
                completed_stage_ii(),
            ],
            "construction",
            date(2029, 9, 1),
            [],
            [],
            ("ssw.titp_period_too_short", "ssw.plan_discontinued"),  # its months do not count
            (),
        ),
        (
            [replace(BANKRUPT, discontinuation_reason=None), CONTINUED, completed_stage_ii()],  # reason not known
            "construction",
            date(2029, 9, 1),
            [],
            [],
            ("ssw.titp_period_too_short", "ssw.plan_discontinued"),
            (),
        ),
        (
            [
                STAGE_I_DONE,
                completed_stage_ii(),
                replace(STAGE_III, status=PlanStatus.REVOKED, ended_on=date(2030, 1, 10)),
            ],
            "construction",
            date(2030, 2, 1),
            [],
            [],
            ("ssw.plan_revoked",),
            (),
        ),
        (
            [STAGE_I_DONE, STAGE_II],
            "construction",
            date(2029, 9, 1),
            [],
            [],
            ("ssw.stage_ii_not_completed", "ssw.titp_period_too_short", "ssw.grade_3_or_evaluation_report_missing"),
            (),
        ),  # still in progress
    ],
)
def test_a_trainee_who_completed_titp_ii_in_good_standing_moves_to_ssw_i(
    plans, field, day, results, reports, unmet, exempt
):
    answer = ssw_eligibility(plans, field, day, results, reports)
    assert (answer.rule, answer.eligible, answer.unmet, answer.exempt_from) == (TITP_PATH, not unmet, unmet, exempt)
    if not unmet:
        assert answer.qualifying_plan_id == STAGE_II.plan_id
        assert answer.tests_required == (() if "skills_test" in exempt else ("skills_test",))


def test_the_months_of_titp_for_ssw_i_are_configurable(monkeypatch):
    plans = [STAGE_I_DONE, completed_stage_ii()]  # 1 Sep 2026 .. 31 Aug 2029: 36 months
    assert ssw_eligibility(plans, "construction", date(2029, 9, 1), rules=VisaRules(ssw_titp_months=36)).eligible
    short = ssw_eligibility(plans, "construction", date(2029, 9, 1), rules=VisaRules(ssw_titp_months=37))
    assert short.unmet == ("ssw.titp_period_too_short",)
    monkeypatch.setenv("TITP_VISA_SSW_TITP_MONTHS", "36")
    assert VisaSettings().rules().ssw_titp_months == 36


def known_row(**changes):
    row = {
        "plan_id": uuid4(),
        "trainee_id": TRAINEE,
        "stage": "ii",
        "job_category": "other",
        "supervising_organization_id": None,
        "start_date": date(2027, 9, 1),
        "end_date": date(2029, 8, 31),
        "status": "completed",
        "certified_on": None,
        "ended_on": None,
        "exam_result": None,
        "scheme": "titp",
        "field": None,
        "transfer_from": None,
        "extension": False,
        "exams_passed": [],
        "transferred_on": None,
        "transferred_to": None,
        "operation": None,
        "discontinuation_reason": None,
    }
    return {**row, **changes}


@pytest.mark.parametrize(
    "row, known, ssw_field",
    [
        (known_row(operation=CARPENTRY), True, "construction"),
        (known_row(operation="other.linen_supply.finishing"), True, None),
        (known_row(operation="no.such.operation"), False, None),  # the job category decides
        (known_row(), False, None),
    ],
)
def test_a_known_plans_operation_is_looked_up_in_the_reference_data(row, known, ssw_field):
    plan = _plan(row)
    assert (plan.operation_known, plan.ssw_field) == (known, ssw_field)


# Evaluation reports (評価調書)


@pytest.mark.parametrize(
    "state, plan, written_on, received_on, rule",
    [
        (None, STAGE_II, date(2029, 8, 25), date(2029, 8, 25), None),
        (None, STAGE_II, date(2029, 8, 26), date(2029, 8, 25), "evaluation_report.received_before_written"),
        (None, PLAN, date(2029, 8, 25), date(2029, 9, 1), "evaluation_report.stage_ii_only"),
        (
            None,
            replace(STAGE_II, scheme=Scheme.ESD, stage=None),
            date(2029, 8, 25),
            date(2029, 9, 1),
            "evaluation_report.stage_ii_only",
        ),
        (None, None, date(2029, 8, 25), date(2029, 9, 1), "evaluation_report.plan_unknown"),
        (report(), STAGE_II, date(2029, 8, 25), date(2029, 9, 1), "evaluation_report.already_received"),
    ],
)
def test_an_evaluation_report_is_on_a_titp_stage_ii_plan_once(state, plan, written_on, received_on, rule):
    def decide():
        return evaluation_report.receive_evaluation_report(state, STAGE_II.plan_id, plan, written_on, received_on)

    if rule:
        refused(rule, decide)
    else:
        [event] = decide()
        assert (event.training_plan_id, event.trainee_id, event.received_on) == (STAGE_II.plan_id, TRAINEE, received_on)


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
