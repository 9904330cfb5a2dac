"""Every certification rule of DOMAIN §3-4, §9 and the law's corrections (§11), one row each: a plan that passes,
then the one change that makes it break exactly that rule (at its boundary where it has one)."""

from dataclasses import replace
from datetime import date
from fractions import Fraction
from uuid import uuid4

import pytest

from contracts.accreditation import (
    ExamGrade,
    ExamPassed,
    ExamResult,
    PlanStatus,
    PlanTerms,
    ReturnHome,
    Stage,
    Trainee,
)
from contracts.registry import TrainingType
from services.accreditation.domain.rules import (
    TRANSITION_JOB_CATEGORIES,
    CertificationFacts,
    ExamTaken,
    ImplementingOrganization,
    OtherPlan,
    Period,
    Permit,
    QuotaRules,
    RuleBook,
    TitpRules,
)
from shared.errors import DomainRuleViolation
from shared.web.problems import status_of

A, B = TrainingType.A, TrainingType.B
I, II, III = Stage.I, Stage.II, Stage.III  # noqa: E741
SUPERVISING, OTHER_SUPERVISING, IMPLEMENTING = uuid4(), uuid4(), uuid4()


CARPENTRY = "construction.carpentry.building"


def plan(**changes) -> PlanTerms:
    """A type (b) stage-i plan of one year in construction (building carpentry), certifiable on 1 Mar 2026."""
    return PlanTerms(
        **{
            "trainee_id": uuid4(),
            "stage": I,
            "training_type": B,
            "job_category": "construction",
            "operation": CARPENTRY,
            "implementing_organization_id": IMPLEMENTING,
            "supervising_organization_id": SUPERVISING,
            "start_date": date(2026, 4, 1),
            "end_date": date(2027, 3, 31),
            "trainee": Trainee(
                name="Nguyen Van An", date_of_birth=date(2000, 5, 1), nationality="VN", passport_number="C1234567"
            ),
            "monthly_wage": 200_000,
            "comparable_japanese_wage": 195_000,
            "exams_passed": (),
            "sending_organization_id": uuid4(),
            **changes,
        }
    )


def passed(grade: ExamGrade, on: date, result=ExamResult.PASSED) -> ExamTaken:
    """An exam result as the exam body recorded it (POST /v1/exam-results)."""
    return ExamTaken(grade, result, on)


# The trainee's recorded results: the basic grade in Feb 2026 (before stage ii), grade 3 in Nov 2025 (before iii).
RECORDED = (passed(ExamGrade.BASIC, date(2026, 2, 1)), passed(ExamGrade.GRADE_3, date(2025, 11, 1)))


def facts(**changes) -> CertificationFacts:
    return CertificationFacts(
        **{
            "certified_on": date(2026, 3, 1),
            "exams": RECORDED,
            "implementing_organization": ImplementingOrganization(B, SUPERVISING, full_time_staff=40, excellent=False),
            "permit": Permit("active", "specified", date(2024, 3, 1), date(2029, 2, 28)),
            "sending_organization_approved": True,
            "sending_agreement_in_force": True,
            "personal_data": plan().trainee.personal_data(),
            **changes,
        }
    )


def earlier(
    stage: Stage,
    start: date,
    end: date,
    status=PlanStatus.COMPLETED,
    exam=ExamResult.PASSED,
    job="construction",
    ended_on=None,
    operation=None,
) -> OtherPlan:
    ended_on = ended_on or (end if status is PlanStatus.COMPLETED else None)
    return OtherPlan(
        stage, job, start, end, status, ended_on, exam if status is PlanStatus.COMPLETED else None, operation=operation
    )


STAGE_I_DONE = earlier(I, date(2025, 4, 1), date(2026, 3, 31))


def stage_ii(**changes):
    return plan(**{"stage": II, "start_date": date(2026, 4, 1), "end_date": date(2028, 3, 31), **changes})


# Stage iii: i in 2023, ii in 2024-25, a return home in January 2026, iii from February 2026.
I_2023 = earlier(I, date(2023, 1, 1), date(2023, 12, 31))
II_2024 = earlier(II, date(2024, 1, 1), date(2025, 12, 31))
EXCELLENT = ImplementingOrganization(B, SUPERVISING, full_time_staff=40, excellent=True)
GENERAL = Permit("active", "general", date(2025, 1, 6), date(2030, 1, 5))


def stage_iii(**changes):
    return plan(**{"stage": III, "start_date": date(2026, 2, 1), "end_date": date(2028, 1, 31), **changes})


def stage_iii_facts(**changes):
    return facts(
        **{
            "implementing_organization": EXCELLENT,
            "permit": GENERAL,
            "trainee_plans": (I_2023, II_2024),
            "certified_on": date(2026, 1, 10),
            **changes,
        }
    )


# The table's rules: the defaults, but printing configured out of the transition job categories.
TITP = TitpRules(transition_job_categories=TRANSITION_JOB_CATEGORIES - {"printing"})

TYPE_A = {"training_type": A, "supervising_organization_id": None, "sending_organization_id": None}


def type_a_facts(staff=40, excellent=False, stable=False, **changes) -> CertificationFacts:
    org = ImplementingOrganization(A, None, staff, excellent, stability_recognised=stable)
    return facts(
        implementing_organization=org,
        permit=None,
        sending_organization_approved=False,
        sending_agreement_in_force=False,
        **changes,
    )


NURSING = {"job_category": "nursing care", "operation": "other.nursing_care.nursing_care"}
# Stage iii straight after stage ii (no gap), the return home stated within its first year.
III_AT_ONCE = {"start_date": date(2026, 1, 1), "end_date": date(2027, 12, 31)}
# Stage ii ended on 29 Jan 2026: at home from 30 Jan, a month runs to 28 Feb (Civil Code Art. 143(2)).
II_TO_29_JAN = earlier(II, date(2024, 1, 30), date(2026, 1, 29))

CERTIFIABLE = [
    ("stage i, type (b)", plan(), facts()),
    (
        "stage i, type (a)",
        plan(training_type=A, supervising_organization_id=None, sending_organization_id=None),
        facts(
            implementing_organization=ImplementingOrganization(A, None, 40, False),
            permit=None,
            sending_organization_approved=False,
            sending_agreement_in_force=False,
        ),
    ),
    (
        "turning 18 on the start date",
        plan(trainee=plan().trainee.model_copy(update={"date_of_birth": date(2008, 4, 1)})),
        facts(),
    ),
    ("stage ii after a completed stage i", stage_ii(), facts(trainee_plans=(STAGE_I_DONE,))),
    (
        "stage ii after a stage i ending when it starts, basic grade recorded",
        stage_ii(),
        facts(trainee_plans=(earlier(I, date(2025, 4, 1), date(2026, 3, 31), PlanStatus.CERTIFIED),)),
    ),
    (
        "stage ii after a stage i recorded completed after its last day",
        stage_ii(),
        facts(trainee_plans=(earlier(I, date(2025, 4, 1), date(2026, 3, 31), ended_on=date(2026, 4, 15)),)),
    ),
    (
        "stage ii exactly a year after stage i ended",
        stage_ii(start_date=date(2026, 3, 1), end_date=date(2028, 2, 29)),
        facts(trainee_plans=(earlier(I, date(2024, 3, 1), date(2025, 2, 28)),), exams=RECORDED),
    ),
    (
        "stage ii of an operation going to stage ii only",
        stage_ii(job_category="food manufacturing", operation="food.pickles.pickles"),
        facts(trainee_plans=(earlier(I, date(2025, 4, 1), date(2026, 3, 31), job="food manufacturing"),)),
    ),
    (
        "stage ii continuing the stage-i operation",
        stage_ii(),
        facts(trainee_plans=(earlier(I, date(2025, 4, 1), date(2026, 3, 31), operation=CARPENTRY),)),
    ),
    ("stage i without an operation (plans before issue 19)", plan(operation=None), facts()),
    (
        "stage ii beside a discontinued stage i of another employer",
        stage_ii(),
        facts(
            trainee_plans=(
                STAGE_I_DONE,
                earlier(I, date(2024, 4, 1), date(2024, 6, 30), PlanStatus.DISCONTINUED, ended_on=date(2024, 6, 30)),
            )
        ),
    ),
    ("stage iii", stage_iii(), stage_iii_facts()),
    (
        "stage iii after just under a year at home",
        stage_iii(start_date=date(2026, 12, 31), end_date=date(2027, 12, 30)),
        stage_iii_facts(),
    ),
    (
        "stage iii after a month at home ending at a month end (30 Jan to 28 Feb)",
        stage_iii(start_date=date(2026, 3, 1), end_date=date(2028, 1, 31)),
        stage_iii_facts(trainee_plans=(I_2023, II_TO_29_JAN)),
    ),
    (
        "stage iii with a month's return home in its first year",
        stage_iii(**III_AT_ONCE, return_home=ReturnHome(from_date=date(2026, 6, 1), until_date=date(2026, 6, 30))),
        stage_iii_facts(),
    ),
    (
        "stage iii with a return home ending on the last day of its first year",
        stage_iii(**III_AT_ONCE, return_home=ReturnHome(from_date=date(2026, 11, 1), until_date=date(2026, 12, 31))),
        stage_iii_facts(),
    ),
    ("the quota's last place", plan(), facts(plans_in_force=3)),
    (
        "excellent with a general permit: twice the quota",
        plan(),
        facts(implementing_organization=EXCELLENT, permit=GENERAL, plans_in_force=7),
    ),
    (
        "a suspension that ended before",
        plan(),
        facts(permit=replace(facts().permit, suspensions=(Period(date(2025, 1, 1), date(2026, 2, 28)),))),
    ),
    ("type (a), 40 staff: 1/20 is 2 in stage i", plan(**TYPE_A), type_a_facts(plans_in_force=1)),
    (
        "type (a), excellent, 40 staff: 1/10 is 4 in stage i",
        plan(**TYPE_A),
        type_a_facts(excellent=True, plans_in_force=3),
    ),
    ("type (a) recognised as stable: the table, 4", plan(**TYPE_A), type_a_facts(stable=True, plans_in_force=3)),
    (
        "type (a), excellent: 3/10 of 40 is 12 in stage iii",
        stage_iii(**TYPE_A),
        type_a_facts(
            excellent=True, trainee_plans=(I_2023, II_2024), certified_on=date(2026, 1, 10), plans_in_force=11
        ),
    ),
    ("construction: the staff's last place", plan(), facts(field_trainees=39)),
    ("nursing care: the staff's last place", plan(**NURSING), facts(field_trainees=39)),
    (
        "5 years after a revocation, counted from the next day (revoked 28 Feb 2021, certified 1 Mar 2026)",
        plan(),
        facts(certification_revoked_on=date(2021, 2, 28)),
    ),
]


@pytest.mark.parametrize(("terms", "known"), [row[1:] for row in CERTIFIABLE], ids=[row[0] for row in CERTIFIABLE])
def test_a_plan_that_meets_every_rule_is_certifiable(terms, known):
    TITP.check(terms, known)


REFUSED = [
    # rule, why, plan, facts
    (
        "implementing_organization.registered",
        "unknown to the registry's topic",
        plan(),
        facts(implementing_organization=None),
    ),
    (
        "implementing_organization.training_type",
        "registered for type (a)",
        plan(),
        facts(implementing_organization=ImplementingOrganization(A, None, 40, False)),
    ),
    (
        "implementing_organization.supervised_by",
        "belongs to another supervising organization",
        plan(),
        facts(implementing_organization=ImplementingOrganization(B, OTHER_SUPERVISING, 40, False)),
    ),
    ("supervising_organization.permit_active", "no permit known", plan(), facts(permit=None)),
    (
        "supervising_organization.permit_active",
        "permit revoked",
        plan(),
        facts(permit=Permit("revoked", "specified", date(2024, 3, 1), date(2029, 2, 28))),
    ),
    (
        "supervising_organization.permit_active",
        "permit applied for, not granted",
        plan(),
        facts(permit=Permit("applied", None, None, None)),
    ),
    (
        "supervising_organization.permit_active",
        "permit past its expiry",
        plan(),
        facts(permit=Permit("active", "specified", date(2023, 3, 1), date(2026, 2, 28))),
    ),
    (
        "supervising_organization.permit_active",
        "permit granted after the certification date",
        plan(),
        facts(permit=Permit("active", "specified", date(2026, 3, 2), date(2029, 3, 1))),
    ),
    (
        "supervising_organization.permit_not_suspended",
        "business suspended",
        plan(),
        facts(permit=replace(facts().permit, suspensions=(Period(date(2026, 2, 1), date(2026, 4, 30)),))),
    ),
    (
        "supervising_organization.permit_covers_stage",
        "stage iii under a specified permit",
        stage_iii(),
        stage_iii_facts(permit=Permit("active", "specified", date(2025, 1, 6), date(2028, 1, 5))),
    ),
    (
        "trainee.minimum_age",
        "17 on the start date",
        plan(trainee=plan().trainee.model_copy(update={"date_of_birth": date(2008, 4, 2)})),
        facts(),
    ),
    (
        "trainee.one_plan_per_stage",
        "a stage-i plan already in force",
        plan(),
        facts(trainee_plans=(earlier(I, date(2026, 1, 1), date(2026, 12, 31), PlanStatus.CERTIFIED),)),
    ),
    (
        "trainee.one_plan_per_stage",
        "stage iii done before",
        stage_iii(),
        stage_iii_facts(trainee_plans=(I_2023, II_2024, earlier(III, date(2021, 1, 1), date(2022, 12, 31)))),
    ),
    ("plan.stage_length", "stage i one day over a year", plan(end_date=date(2027, 4, 1)), facts()),
    (
        "plan.stage_length",
        "stage ii over two years",
        stage_ii(end_date=date(2028, 4, 1)),
        facts(trainee_plans=(STAGE_I_DONE,)),
    ),
    (
        "trainee.total_period",
        "an earlier discontinued plan takes the total over 5 years",
        stage_iii(),
        stage_iii_facts(
            trainee_plans=(
                earlier(I, date(2022, 6, 1), date(2023, 5, 31), PlanStatus.DISCONTINUED, ended_on=date(2022, 8, 31)),
                I_2023,
                II_2024,
            )
        ),
    ),
    (
        "job_category.transition_eligible",
        "a job category configured out of the list",
        stage_ii(job_category="printing", operation="other.printing.offset"),
        facts(trainee_plans=(earlier(I, date(2025, 4, 1), date(2026, 3, 31), job="printing"),)),
    ),
    (
        "operation.transition_eligible",
        "stage iii of an operation going to stage ii only",
        stage_iii(job_category="food manufacturing", operation="food.pickles.pickles"),
        stage_iii_facts(
            trainee_plans=(
                earlier(I, date(2023, 1, 1), date(2023, 12, 31), job="food manufacturing"),
                earlier(II, date(2024, 1, 1), date(2025, 12, 31), job="food manufacturing"),
            )
        ),
    ),
    (
        "plan.operation_required",
        "stage ii without an operation",
        stage_ii(operation=None),
        facts(trainee_plans=(STAGE_I_DONE,)),
    ),
    ("plan.operation_required", "stage iii without an operation", stage_iii(operation=None), stage_iii_facts()),
    ("plan.operation_known", "an operation not in the reference data", plan(operation="construction.nothing"), facts()),
    (
        "plan.operation_job_category",
        "the operation of another job category",
        plan(operation="other.nursing_care.nursing_care"),
        facts(),
    ),
    (
        "previous_stage.completed_in_full",
        "stage i recorded completed a day before its last day",
        stage_ii(),
        facts(trainee_plans=(earlier(I, date(2025, 4, 1), date(2026, 3, 31), ended_on=date(2026, 3, 30)),)),
    ),
    (
        "previous_stage.gap",
        "stage ii a year and a day after stage i ended",
        stage_ii(start_date=date(2026, 3, 2), end_date=date(2028, 3, 1)),
        facts(trainee_plans=(earlier(I, date(2024, 3, 1), date(2025, 2, 28)),)),
    ),
    (
        "previous_stage.same_operation",
        "stage i in another operation of the job category",
        stage_ii(),
        facts(
            trainee_plans=(earlier(I, date(2025, 4, 1), date(2026, 3, 31), operation="construction.formwork.formwork"),)
        ),
    ),
    ("previous_stage.plan", "no stage-i plan", stage_ii(), facts()),
    (
        "previous_stage.plan",
        "stage i discontinued",
        stage_ii(),
        facts(
            trainee_plans=(
                earlier(I, date(2025, 4, 1), date(2026, 3, 31), PlanStatus.DISCONTINUED, ended_on=date(2025, 9, 30)),
            )
        ),
    ),
    (
        "previous_stage.plan",
        "stage i still running when ii starts",
        stage_ii(),
        facts(trainee_plans=(earlier(I, date(2025, 5, 1), date(2026, 4, 30), PlanStatus.CERTIFIED),)),
    ),
    ("previous_stage.plan", "stage iii without a stage-ii plan", stage_iii(), stage_iii_facts(trainee_plans=(I_2023,))),
    (
        "previous_stage.same_job_category",
        "stage i in another job",
        stage_ii(),
        facts(trainee_plans=(earlier(I, date(2025, 4, 1), date(2026, 3, 31), job="food manufacturing"),)),
    ),
    (
        "previous_stage.exam_passed",
        "basic grade failed, as the exam body recorded it",
        stage_ii(),
        facts(trainee_plans=(STAGE_I_DONE,), exams=(passed(ExamGrade.BASIC, date(2026, 2, 1), ExamResult.FAILED),)),
    ),
    (
        "previous_stage.exam_passed",
        "basic grade recorded passed the day after the start",
        stage_ii(),
        facts(trainee_plans=(STAGE_I_DONE,), exams=(passed(ExamGrade.BASIC, date(2026, 4, 2)),)),
    ),
    (
        "previous_stage.exam_passed",
        "basic grade only declared by the filer (and the completion), none recorded",
        stage_ii(exams_passed=(ExamPassed(grade=ExamGrade.BASIC, passed_on=date(2026, 2, 1)),)),
        facts(trainee_plans=(STAGE_I_DONE,), exams=()),
    ),
    (
        "previous_stage.exam_passed",
        "grade 3 not recorded",
        stage_iii(),
        stage_iii_facts(exams=(passed(ExamGrade.BASIC, date(2023, 11, 1)),)),
    ),
    (
        "stage_iii.return_home",
        "less than a month at home",
        stage_iii(start_date=date(2026, 1, 31), end_date=date(2028, 1, 30)),
        stage_iii_facts(),
    ),
    (
        "stage_iii.return_home",
        "a year at home",
        stage_iii(start_date=date(2027, 1, 1), end_date=date(2027, 12, 31)),
        stage_iii_facts(),
    ),
    (
        "stage_iii.return_home",
        "29 days at home at a month end (30 Jan to 27 Feb)",
        stage_iii(start_date=date(2026, 2, 28), end_date=date(2028, 1, 31)),
        stage_iii_facts(trainee_plans=(I_2023, II_TO_29_JAN)),
    ),
    (
        "stage_iii.return_home",
        "no gap and no return home stated",
        stage_iii(**III_AT_ONCE),
        stage_iii_facts(),
    ),
    (
        "stage_iii.return_home",
        "a return home in the first year a day short of a month",
        stage_iii(**III_AT_ONCE, return_home=ReturnHome(from_date=date(2026, 6, 1), until_date=date(2026, 6, 29))),
        stage_iii_facts(),
    ),
    (
        "stage_iii.return_home_in_first_year",
        "a return home ending the day after the first year",
        stage_iii(**III_AT_ONCE, return_home=ReturnHome(from_date=date(2026, 12, 1), until_date=date(2027, 1, 1))),
        stage_iii_facts(),
    ),
    (
        "stage_iii.return_home_in_first_year",
        "a return home before stage iii started, stated as in it",
        stage_iii(**III_AT_ONCE, return_home=ReturnHome(from_date=date(2025, 12, 1), until_date=date(2026, 1, 31))),
        stage_iii_facts(),
    ),
    (
        "stage_iii.excellent_implementing_organization",
        "not rated excellent",
        stage_iii(),
        stage_iii_facts(implementing_organization=replace(EXCELLENT, excellent=False)),
    ),
    (
        "wage.at_least_japanese_equivalent",
        "paid less than a Japanese worker",
        plan(monthly_wage=180_000, comparable_japanese_wage=195_000),
        facts(),
    ),
    (
        "sending_organization.approved",
        "not approved (or withdrawn)",
        plan(),
        facts(sending_organization_approved=False),
    ),
    (
        "sending_organization.agreement",
        "no agreement with the supervising organization",
        plan(),
        facts(sending_agreement_in_force=False),
    ),
    ("quota.stage_limit", "40 staff: 4 at once in stage i", plan(), facts(plans_in_force=4)),
    (
        "quota.stage_limit",
        "40 staff: 8 at once in stage ii",
        stage_ii(),
        facts(trainee_plans=(STAGE_I_DONE,), plans_in_force=8),
    ),
    (
        "quota.stage_limit",
        "excellent but a specified permit: no doubling",
        plan(),
        facts(implementing_organization=EXCELLENT, plans_in_force=4),
    ),
    (
        "quota.hard_cap",
        "2 staff: never more trainees than staff in stage i",
        plan(),
        facts(implementing_organization=ImplementingOrganization(B, SUPERVISING, 2, False), plans_in_force=2),
    ),
    (
        "quota.type_a_staff_share",
        "type (a), 40 staff: a third in stage i",
        plan(**TYPE_A),
        type_a_facts(plans_in_force=2),
    ),
    (
        "quota.type_a_staff_share",
        "type (a), excellent, 40 staff: a fifth in stage i",
        plan(**TYPE_A),
        type_a_facts(excellent=True, plans_in_force=4),
    ),
    (
        "quota.type_a_staff_share",
        "type (a), 19 staff: none (1/20 rounds down to 0)",
        plan(**TYPE_A),
        type_a_facts(staff=19),
    ),
    (
        "quota.type_a_staff_share",
        "type (a), 40 staff: 1/10 is 4 in stage ii",
        stage_ii(**TYPE_A),
        type_a_facts(trainee_plans=(STAGE_I_DONE,), plans_in_force=4),
    ),
    (
        "quota.stage_limit",
        "type (a) recognised as stable: the table, 4 in stage i",
        plan(**TYPE_A),
        type_a_facts(stable=True, plans_in_force=4),
    ),
    ("quota.construction_staff", "construction: as many trainees as staff", plan(), facts(field_trainees=40)),
    ("quota.nursing_care_staff", "nursing care: as many trainees as staff", plan(**NURSING), facts(field_trainees=40)),
    (
        "implementing_organization.certification_revoked",
        "the 5 years' last day, counted from the day after the revocation (revoked 1 Mar 2021)",
        plan(),
        facts(certification_revoked_on=date(2021, 3, 1)),
    ),
    (
        "implementing_organization.certification_revoked",
        "revoked the day of the certification",
        plan(),
        facts(certification_revoked_on=date(2026, 3, 1)),
    ),
]


@pytest.mark.parametrize(
    ("rule", "terms", "known"), [(r[0], *r[2:]) for r in REFUSED], ids=[f"{r[0]}: {r[1]}" for r in REFUSED]
)
def test_each_rule_refuses_with_its_name(rule, terms, known):
    with pytest.raises(DomainRuleViolation) as refused:
        TITP.check(terms, known)
    assert refused.value.rule == rule
    assert status_of(refused.value) == 409  # what the edge answers it with


def test_every_titp_rule_has_a_row():
    assert {r[0] for r in REFUSED} == {
        "implementing_organization.registered",
        "implementing_organization.training_type",
        "implementing_organization.supervised_by",
        "supervising_organization.permit_active",
        "supervising_organization.permit_not_suspended",
        "supervising_organization.permit_covers_stage",
        "trainee.minimum_age",
        "trainee.one_plan_per_stage",
        "plan.stage_length",
        "trainee.total_period",
        "job_category.transition_eligible",
        "previous_stage.plan",
        "previous_stage.same_job_category",
        "previous_stage.exam_passed",
        "stage_iii.return_home",
        "stage_iii.excellent_implementing_organization",
        "wage.at_least_japanese_equivalent",
        "sending_organization.approved",
        "sending_organization.agreement",
        "quota.stage_limit",
        "quota.hard_cap",
        # the law's corrections (DOMAIN §11)
        "operation.transition_eligible",
        "plan.operation_required",
        "plan.operation_known",
        "plan.operation_job_category",
        "previous_stage.completed_in_full",
        "previous_stage.gap",
        "previous_stage.same_operation",
        "stage_iii.return_home_in_first_year",
        "quota.type_a_staff_share",
        "quota.construction_staff",
        "quota.nursing_care_staff",
        "implementing_organization.certification_revoked",
    }


def test_the_numbers_are_configurable():
    # A shorter list of transition job categories, a lower minimum age, a bigger basic quota.
    rules = TitpRules(
        transition_job_categories=frozenset({"welding"}), minimum_age=16, quota=QuotaRules(basic_table=((50, 10),))
    )
    with pytest.raises(DomainRuleViolation, match="not a job category"):
        rules.check(stage_ii(), facts(trainee_plans=(STAGE_I_DONE,)))
    rules.check(
        plan(trainee=plan().trainee.model_copy(update={"date_of_birth": date(2009, 1, 1)})), facts(plans_in_force=9)
    )


# Employment for Skill Development and the switch (DOMAIN §9): tests/unit/test_accreditation_esd_rules.py and
# tests/unit/test_switch_rules.py (the rule set follows the plan's scheme, and the switch the application date and
# the trainee's status, no longer the start date; ESD is no longer refused as undecided).


def test_the_corrections_numbers_are_configurable():
    # Carpentry configured to stage ii only; a gap of 2 years; a 3-year bar; type (a) at 1/10 in stage i.
    carpentry = TitpRules().operations[CARPENTRY]
    rules = TitpRules(
        operations={CARPENTRY: replace(carpentry, last_stage="ii")},
        stage_ii_max_gap_months=24,
        revocation_bar_years=3,
        quota=QuotaRules(type_a_share={I: Fraction(1, 10), II: Fraction(1, 5), III: Fraction(0)}),
    )
    with pytest.raises(DomainRuleViolation) as refused:
        rules.check(stage_iii(), stage_iii_facts())
    assert refused.value.rule == "operation.transition_eligible"
    rules.check(
        stage_ii(start_date=date(2027, 3, 1), end_date=date(2029, 2, 28)),
        facts(trainee_plans=(earlier(I, date(2024, 3, 1), date(2025, 2, 28)),), certified_on=date(2026, 3, 1)),
    )
    rules.check(plan(), facts(certification_revoked_on=date(2023, 2, 28)))
    rules.check(plan(**TYPE_A), type_a_facts(plans_in_force=3))


# Filing windows (§11): from 6 months before the start; stage i at least 4 months before, stages ii and iii 3.
FILING = [
    # why, stage, applied on (start: 1 Apr 2026), the rule refusing it or None
    ("stage i, 6 months before to the day", I, date(2025, 10, 1), None),
    ("stage i, 6 months and a day before", I, date(2025, 9, 30), "plan.filing_too_early"),
    ("stage i, 4 months before to the day", I, date(2025, 12, 1), None),
    ("stage i, a day short of 4 months before", I, date(2025, 12, 2), "plan.filing_too_late"),
    ("stage ii, 3 months before to the day", II, date(2026, 1, 1), None),
    ("stage ii, a day short of 3 months before", II, date(2026, 1, 2), "plan.filing_too_late"),
    ("stage iii, 3 months before to the day", III, date(2026, 1, 1), None),
    ("stage iii, 6 months and a day before", III, date(2025, 9, 30), "plan.filing_too_early"),
    ("stage iii, after its start", III, date(2026, 4, 2), "plan.filing_too_late"),
]


@pytest.mark.parametrize(("stage", "applied_on", "rule"), [r[1:] for r in FILING], ids=[r[0] for r in FILING])
def test_a_plan_is_filed_within_its_window(stage, applied_on, rule):
    terms = plan(stage=stage, start_date=date(2026, 4, 1), end_date=date(2027, 3, 31))
    if rule is None:
        RuleBook().check_application(terms, applied_on, ())
        return
    with pytest.raises(DomainRuleViolation) as refused:
        RuleBook().check_application(terms, applied_on, ())
    assert refused.value.rule == rule
    assert status_of(refused.value) == 409


def test_the_filing_window_is_configurable():
    rules = RuleBook(titp=TitpRules(filing_earliest_months=12, filing_latest_months={I: 1, II: 1, III: 1}))
    rules.check_application(plan(), date(2025, 4, 1), ())
    rules.check_application(plan(), date(2026, 3, 1), ())


def test_the_operation_is_checked_when_the_application_arrives():
    for terms, rule in (
        (plan(stage=II, operation=None), "plan.operation_required"),
        (plan(operation="no.such.operation"), "plan.operation_known"),
        (plan(job_category="welding"), "plan.operation_job_category"),
    ):
        with pytest.raises(DomainRuleViolation) as refused:
            RuleBook().check_application(terms, date(2025, 12, 1), ())
        assert refused.value.rule == rule
