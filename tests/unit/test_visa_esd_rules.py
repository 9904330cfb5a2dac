"""The immigration rules for Employment for Skill Development (DOMAIN §9, issue 17 item 6) as tables: the COE,
the visa and the changes of status of an ESD plan with the ESD status of residence (育成就労); the way on to
Specified Skilled Worker (i) by scheme; and the TITP path left as it was."""

from dataclasses import replace
from datetime import date
from uuid import uuid4

import pytest

from contracts.accreditation import ExamGrade, ExamPassed, ExamResult, PlanStatus, Stage
from contracts.registry import Scheme
from contracts.visa import (
    CoeApplicationCancelled,
    CoeApplied,
    CoeRevoked,
    StatusChangeKind,
    StatusOfResidence,
    StatusOfResidenceChanged,
    VisaIssued,
    visa_events,
)
from services.visa.app import VisaSettings
from services.visa.domain import certificate_of_eligibility as coe
from services.visa.domain import residence
from services.visa.domain.known import KnownPlan, PermitRestriction
from services.visa.domain.rules import ESD_PERIOD_OF_STAY_MONTHS, VisaRules
from services.visa.domain.ssw import ESD_PATH, TITP_PATH, path_of, ssw_eligibility
from shared.errors import DomainRuleViolation

RULES = VisaRules()
ESD = StatusOfResidence.EMPLOYMENT_FOR_SKILL_DEVELOPMENT
TITP = StatusOfResidence.TECHNICAL_INTERN_TRAINING
WORKER = uuid4()
FIRST = KnownPlan(
    plan_id=uuid4(),
    trainee_id=WORKER,
    stage=None,
    job_category="construction",
    supervising_organization_id=uuid4(),
    start_date=date(2027, 4, 1),
    end_date=date(2030, 3, 31),
    status=PlanStatus.CERTIFIED,
    certified_on=date(2027, 1, 20),
    scheme=Scheme.ESD,
    field="construction",
    exams_passed=(ExamPassed(grade=ExamGrade.JAPANESE_A1, passed_on=date(2026, 7, 5)),),
)
TRANSFER = replace(
    FIRST,
    plan_id=uuid4(),
    start_date=date(2029, 4, 1),
    certified_on=date(2029, 3, 10),
    transfer_from=FIRST.plan_id,
    supervising_organization_id=uuid4(),
)
EXTENSION = replace(FIRST, plan_id=uuid4(), start_date=date(2030, 4, 1), end_date=date(2031, 3, 31), extension=True)
TITP_STAGE_I = replace(
    FIRST,
    plan_id=uuid4(),
    scheme=Scheme.TITP,
    stage=Stage.I,
    field=None,
    exams_passed=(),
    start_date=date(2026, 9, 1),
    end_date=date(2027, 8, 31),
    certified_on=date(2026, 6, 1),
)
REVOKED = PermitRestriction("revoked", date(2027, 2, 1))


def then(state, events):
    for event in events:
        state = coe.evolve(state, event)
    return state


def refused(rule: str, decide) -> None:
    with pytest.raises(DomainRuleViolation) as refusal:
        decide()
    assert refusal.value.rule == rule


def applied(plan=FIRST, on=date(2027, 1, 25)) -> coe.CertificateOfEligibility:
    return then(coe.NoApplication(), coe.apply_for_coe(coe.NoApplication(), plan.plan_id, plan, [], [], on))


def issued(plan=FIRST) -> coe.CertificateOfEligibility:
    state = applied(plan)
    return then(state, coe.issue_coe(state, plan, [], date(2027, 1, 30), RULES))


# COE


@pytest.mark.parametrize(
    "plan, restrictions, rule, status",
    [
        (FIRST, [], None, ESD),  # an ESD worker's first plan: entry on a COE naming 育成就労
        (TITP_STAGE_I, [], None, TITP),  # TITP unchanged
        (replace(TITP_STAGE_I, stage=Stage.II), [], "coe.stage_ii_changes_status", None),
        (TRANSFER, [], "coe.esd_transfer_changes_status", None),  # in Japan already: a change of status
        (EXTENSION, [], "coe.esd_extension_changes_status", None),
        (replace(FIRST, status=PlanStatus.APPLIED), [], "coe.plan_not_certified", None),
        (replace(FIRST, status=PlanStatus.REVOKED), [], "coe.plan_not_certified", None),
        (replace(FIRST, transferred_on=date(2027, 1, 1), transferred_to=uuid4()), [], "coe.plan_transferred", None),
        (replace(FIRST, status=PlanStatus.TRANSFERRED), [], "coe.plan_transferred", None),
        (FIRST, [REVOKED], "coe.permit_revoked", None),  # the support organization's ESD permit, same rule
        (None, [], "coe.plan_unknown", None),
    ],
)
def test_a_coe_for_an_esd_plan_names_the_esd_status_of_residence(plan, restrictions, rule, status):
    def decide():
        return coe.apply_for_coe(coe.NoApplication(), FIRST.plan_id, plan, restrictions, [], date(2027, 2, 10))

    if rule:
        refused(rule, decide)
        return
    [event] = decide()
    assert (event.scheme, event.status_of_residence) == (plan.scheme, status)
    state = then(coe.NoApplication(), [event])
    [certificate] = coe.issue_coe(state, plan, [], date(2027, 2, 20), RULES)
    assert (certificate.scheme, certificate.status_of_residence) == (plan.scheme, status)


@pytest.mark.parametrize(
    "plan, stage, status, months, rules",
    [
        (FIRST, None, ESD, ESD_PERIOD_OF_STAY_MONTHS, RULES),
        (FIRST, None, ESD, 6, VisaRules(esd_period_of_stay_months=6)),  # configurable
        (TITP_STAGE_I, Stage.I, TITP, 12, VisaRules(esd_period_of_stay_months=6)),  # TITP by stage, as before
    ],
)
def test_a_visa_on_an_esd_certificate_grants_the_esd_status_without_a_stage(plan, stage, status, months, rules):
    certificate = issued(plan)
    [used] = coe.use_for_visa(certificate, visa_id := uuid4(), date(2027, 3, 1))
    assert used.scheme is plan.scheme
    [visa] = residence.issue_visa(
        None, certificate.training_plan_id, certificate, "Embassy of Japan in Hanoi", date(2027, 3, 1), rules
    )
    assert (visa.stage, visa.status_of_residence, visa.scheme, visa.period_of_stay_months) == (
        stage,
        status,
        plan.scheme,
        months,
    )
    assert then(certificate, [used]).visa_id == visa_id


@pytest.mark.parametrize(
    "state, withdrawn",
    [
        (applied(), CoeApplicationCancelled),
        (issued(), CoeRevoked),
        (then(issued(), coe.deny_coe(applied(), "x")), None),
    ],
)
def test_a_revoked_esd_plan_cancels_pending_applications_and_revokes_unused_certificates(state, withdrawn):
    events = coe.withdraw_for_revoked_plan(state, date(2027, 3, 1), "Art. 16")
    assert [type(e) for e in events] == ([withdrawn] if withdrawn else [])
    assert all(e.status_of_residence is ESD for e in events)


# Changes of status


@pytest.mark.parametrize(
    "plan, stages_held, esd_held, rule, kind, from_plan",
    [
        (TRANSFER, set(), [FIRST.plan_id], None, StatusChangeKind.TRANSFER, FIRST.plan_id),
        (TRANSFER, set(), [], "status_change.esd_status_not_held", None, None),
        (TRANSFER, set(), [uuid4()], "status_change.esd_status_not_held", None, None),  # another plan's status
        (TRANSFER, {Stage.I}, [], "status_change.esd_status_not_held", None, None),  # a TITP status is not ESD
        (EXTENSION, set(), [FIRST.plan_id], None, StatusChangeKind.EXTENSION, FIRST.plan_id),
        (EXTENSION, set(), [FIRST.plan_id, TRANSFER.plan_id], None, StatusChangeKind.EXTENSION, TRANSFER.plan_id),
        (EXTENSION, set(), [], "status_change.esd_status_not_held", None, None),
        (FIRST, set(), [FIRST.plan_id], "status_change.esd_enters_with_coe", None, None),
        (
            replace(TRANSFER, status=PlanStatus.APPLIED),
            set(),
            [FIRST.plan_id],
            "status_change.plan_not_certified",
            None,
            None,
        ),
        (
            replace(TRANSFER, transferred_on=date(2030, 1, 1), transferred_to=uuid4()),
            set(),
            [FIRST.plan_id],
            "status_change.plan_transferred",
            None,
            None,
        ),
        # TITP keeps its stage path: an ESD status held does not make a stage
        (
            replace(TITP_STAGE_I, stage=Stage.II),
            set(),
            [FIRST.plan_id],
            "status_change.previous_stage_not_held",
            None,
            None,
        ),
        (replace(TITP_STAGE_I, stage=Stage.II), {Stage.I}, [], None, StatusChangeKind.NEXT_STAGE, None),
    ],
)
def test_an_esd_worker_changes_status_to_a_new_plan_after_a_transfer_or_for_the_extension_year(
    plan, stages_held, esd_held, rule, kind, from_plan
):
    def decide(state=None):
        return residence.change_status(state, plan.plan_id, plan, stages_held, date(2029, 3, 20), RULES, esd_held)

    if rule:
        refused(rule, decide)
        return
    [change] = decide()
    assert (change.kind, change.from_training_plan_id) == (kind, from_plan)
    if plan.scheme is Scheme.ESD:
        assert (change.from_stage, change.to_stage, change.status_of_residence, change.period_of_stay_months) == (
            None,
            None,
            ESD,
            ESD_PERIOD_OF_STAY_MONTHS,
        )
    else:
        assert (change.from_stage, change.to_stage, change.status_of_residence) == (Stage.I, Stage.II, TITP)
    refused("status_change.already_granted", lambda: decide(change))


# Specified Skilled Worker (i)


def passed(grade: ExamGrade, on=date(2029, 12, 1)) -> ExamPassed:
    return ExamPassed(grade=grade, passed_on=on)


A2, GRADE_3, SSW_SKILLS, BASIC = (
    passed(ExamGrade.JAPANESE_A2),
    passed(ExamGrade.GRADE_3),
    passed(ExamGrade.SSW_SKILLS),
    passed(ExamGrade.BASIC),
)
DAY = date(2030, 1, 10)
TITP_STAGE_II = replace(
    TITP_STAGE_I,
    plan_id=uuid4(),
    stage=Stage.II,
    start_date=date(2027, 9, 1),
    end_date=date(2029, 8, 31),
    status=PlanStatus.COMPLETED,
    ended_on=date(2029, 8, 31),
    exam_result=ExamResult.PASSED,
)


@pytest.mark.parametrize(
    "plans, results, field, day, unmet",
    [
        # ESD: a skills test (grade 3 or the SSW skills test) AND Japanese A2
        ([FIRST], [GRADE_3, A2], "construction", DAY, ()),
        ([FIRST], [SSW_SKILLS, A2], "construction", DAY, ()),
        ([FIRST], [GRADE_3], "construction", DAY, ("ssw.japanese_a2_not_passed",)),
        ([FIRST], [SSW_SKILLS], "construction", DAY, ("ssw.japanese_a2_not_passed",)),
        ([FIRST], [A2], "construction", DAY, ("ssw.skills_test_not_passed",)),
        ([FIRST], [BASIC, A2], "construction", DAY, ("ssw.skills_test_not_passed",)),  # the basic grade is not enough
        ([FIRST], [], "construction", DAY, ("ssw.skills_test_not_passed", "ssw.japanese_a2_not_passed")),
        # A1 alone (stated in the application) is not A2
        ([FIRST], [GRADE_3, passed(ExamGrade.JAPANESE_A1)], "construction", DAY, ("ssw.japanese_a2_not_passed",)),
        # the exams count from the day they were passed
        (
            [FIRST],
            [GRADE_3, passed(ExamGrade.JAPANESE_A2, date(2030, 1, 11))],
            "construction",
            DAY,
            ("ssw.japanese_a2_not_passed",),
        ),
        ([FIRST], [GRADE_3, passed(ExamGrade.JAPANESE_A2, DAY)], "construction", DAY, ()),
        # stated in a later plan's application rather than reported as a result
        ([FIRST, replace(EXTENSION, exams_passed=(GRADE_3, A2))], [], "construction", DAY, ()),
        ([FIRST], [GRADE_3, A2], "food service", DAY, ("ssw.field_differs",)),
        # the field matches the plan's ESD field or its job category
        ([replace(FIRST, job_category="formwork")], [GRADE_3, A2], "formwork", DAY, ()),
        (
            [replace(FIRST, certified_on=None, status=PlanStatus.APPLIED)],
            [GRADE_3, A2],
            "construction",
            DAY,
            ("ssw.field_differs",),
        ),
        # the TITP exemption does not apply to an ESD worker, whatever TITP they did before
        (
            [TITP_STAGE_II, replace(FIRST, start_date=date(2029, 10, 1))],
            [],
            "construction",
            DAY,
            ("ssw.skills_test_not_passed", "ssw.japanese_a2_not_passed"),
        ),
    ],
)
def test_an_esd_worker_moves_to_ssw_i_with_grade_3_or_the_skills_test_and_japanese_a2(
    plans, results, field, day, unmet
):
    answer = ssw_eligibility(plans, field, day, results)
    assert (answer.scheme, answer.rule, answer.exempt_from) == (Scheme.ESD, ESD_PATH, ())
    assert (answer.eligible, answer.unmet) == (not unmet, unmet)
    assert (answer.qualifying_plan_id is not None) == (not unmet)


TITP_STAGE_I_DONE = replace(
    TITP_STAGE_I, status=PlanStatus.COMPLETED, ended_on=date(2027, 8, 31), exam_result=ExamResult.PASSED
)


@pytest.mark.parametrize(
    "plans, results, field, unmet, exempt",
    [
        # TITP: TITP (ii) completed in good standing; the Japanese test exempt, the skills test in a related field
        ([TITP_STAGE_I_DONE, TITP_STAGE_II], [], "construction", (), ("japanese_test", "skills_test")),
        ([TITP_STAGE_I_DONE, TITP_STAGE_II], [A2], "construction", (), ("japanese_test", "skills_test")),
        # grade 3 failed at completion but reported passed by the exam body
        (
            [TITP_STAGE_I_DONE, replace(TITP_STAGE_II, exam_result=ExamResult.FAILED)],
            [GRADE_3, A2],
            "construction",
            (),
            ("japanese_test", "skills_test"),
        ),
        (
            [TITP_STAGE_I_DONE, replace(TITP_STAGE_II, exam_result=ExamResult.FAILED)],
            [SSW_SKILLS, A2],
            "construction",
            ("ssw.grade_3_or_evaluation_report_missing",),
            (),
        ),
        # another field: still the TITP path, the Japanese test exempt, the skills test to take
        ([TITP_STAGE_I_DONE, TITP_STAGE_II], [SSW_SKILLS, A2], "food service", (), ("japanese_test",)),
    ],
)
def test_a_titp_trainee_keeps_the_titp_path(plans, results, field, unmet, exempt):
    answer = ssw_eligibility(plans, field, DAY, results)
    assert (answer.scheme, answer.rule) == (Scheme.TITP, TITP_PATH)
    assert (answer.eligible, answer.unmet) == (not unmet, unmet)
    assert answer.exempt_from == exempt


@pytest.mark.parametrize(
    "plans, scheme",
    [
        ([], Scheme.TITP),
        ([TITP_STAGE_I], Scheme.TITP),
        ([FIRST], Scheme.ESD),
        ([TITP_STAGE_I, FIRST], Scheme.ESD),  # the latest certified plan decides
        ([FIRST, replace(TITP_STAGE_II, start_date=date(2031, 1, 1))], Scheme.TITP),
        ([TITP_STAGE_I, replace(FIRST, certified_on=None, start_date=date(2031, 1, 1))], Scheme.TITP),  # not certified
        ([replace(FIRST, certified_on=None)], Scheme.ESD),  # none certified: the latest plan
    ],
)
def test_the_path_is_the_scheme_of_the_latest_certified_plan(plans, scheme):
    assert path_of(plans) is scheme


# The contract: old events still read, as TITP


@pytest.mark.parametrize(
    "event_type, data, expected",
    [
        (
            CoeApplied,
            {"training_plan_id": str(uuid4()), "trainee_id": str(WORKER), "applied_on": "2026-06-10"},
            {"scheme": Scheme.TITP, "status_of_residence": TITP},
        ),
        (
            VisaIssued,
            {
                "coe_id": str(uuid4()),
                "training_plan_id": str(uuid4()),
                "trainee_id": str(WORKER),
                "post": "Embassy of Japan in Hanoi",
                "issued_on": "2026-07-01",
                "stage": "i",
                "period_of_stay_months": 12,
            },
            {"scheme": Scheme.TITP, "status_of_residence": TITP, "stage": Stage.I},
        ),
        (
            StatusOfResidenceChanged,
            {
                "training_plan_id": str(uuid4()),
                "trainee_id": str(WORKER),
                "from_stage": "i",
                "to_stage": "ii",
                "decided_on": "2027-08-20",
                "period_of_stay_months": 24,
            },
            {"scheme": Scheme.TITP, "kind": StatusChangeKind.NEXT_STAGE, "from_training_plan_id": None},
        ),
    ],
)
def test_events_recorded_before_esd_read_as_titp(event_type, data, expected):
    event = visa_events.parse(visa_events.type_name(event_type), data)
    assert {name: getattr(event, name) for name in expected} == expected


def test_the_esd_period_of_stay_is_configurable(monkeypatch):
    assert VisaSettings().rules().esd_period_of_stay_months == 12
    monkeypatch.setenv("TITP_VISA_ESD_PERIOD_OF_STAY_MONTHS", "36")
    rules = VisaSettings().rules()
    assert (rules.period_of_stay_for(Scheme.ESD, None), rules.period_of_stay_for(Scheme.TITP, Stage.I)) == (36, 12)
    monkeypatch.setenv("TITP_VISA_ESD_PERIOD_OF_STAY_MONTHS", "0")
    with pytest.raises(ValueError):
        VisaSettings()
