"""Every certification rule of DOMAIN §3-4 and §9, one row each: a plan that passes, then the
one change that makes it break exactly that rule."""

from dataclasses import replace
from datetime import date
from uuid import uuid4

import pytest

from contracts.accreditation import (
    ExamGrade,
    ExamPassed,
    ExamResult,
    PlanStatus,
    PlanTerms,
    Stage,
    Trainee,
)
from contracts.registry import TrainingType
from services.accreditation.domain.rules import (
    CertificationFacts,
    ImplementingOrganization,
    OtherPlan,
    Period,
    Permit,
    QuotaRules,
    TitpRules,
)
from shared.errors import DomainRuleViolation
from shared.web.problems import status_of

A, B = TrainingType.A, TrainingType.B
I, II, III = Stage.I, Stage.II, Stage.III  # noqa: E741
SUPERVISING, OTHER_SUPERVISING, IMPLEMENTING = uuid4(), uuid4(), uuid4()


def plan(**changes) -> PlanTerms:
    """A type (b) stage-i plan of one year in construction, certifiable on 1 Mar 2026."""
    return PlanTerms(
        **{
            "trainee_id": uuid4(),
            "stage": I,
            "training_type": B,
            "job_category": "construction",
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


def facts(**changes) -> CertificationFacts:
    return CertificationFacts(
        **{
            "certified_on": date(2026, 3, 1),
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
) -> OtherPlan:
    ended_on = ended_on or (end if status is PlanStatus.COMPLETED else None)
    return OtherPlan(stage, job, start, end, status, ended_on, exam if status is PlanStatus.COMPLETED else None)


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


TITP = TitpRules()

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
        "stage ii after a stage i ending when it starts, basic grade declared",
        stage_ii(exams_passed=(ExamPassed(grade=ExamGrade.BASIC, passed_on=date(2026, 2, 1)),)),
        facts(trainee_plans=(earlier(I, date(2025, 4, 1), date(2026, 3, 31), PlanStatus.CERTIFIED),)),
    ),
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
        "a stage-i-only job",
        stage_ii(job_category="airport ground handling"),
        facts(trainee_plans=(earlier(I, date(2025, 4, 1), date(2026, 3, 31), job="airport ground handling"),)),
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
        "basic grade failed",
        stage_ii(),
        facts(trainee_plans=(earlier(I, date(2025, 4, 1), date(2026, 3, 31), exam=ExamResult.FAILED),)),
    ),
    (
        "previous_stage.exam_passed",
        "basic grade declared passed only after the start",
        stage_ii(exams_passed=(ExamPassed(grade=ExamGrade.BASIC, passed_on=date(2026, 4, 2)),)),
        facts(trainee_plans=(earlier(I, date(2025, 4, 1), date(2026, 3, 31), PlanStatus.CERTIFIED),)),
    ),
    (
        "previous_stage.exam_passed",
        "grade 3 not taken",
        stage_iii(),
        stage_iii_facts(
            trainee_plans=(I_2023, earlier(II, date(2024, 1, 1), date(2025, 12, 31), exam=ExamResult.NOT_TAKEN))
        ),
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
