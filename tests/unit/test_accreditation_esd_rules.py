"""Every rule of an ESD plan's certification (DOMAIN §9), one row each, at its boundaries: a plan that passes,
then the one change that makes it break exactly that rule (or, one day or one worker on, still pass)."""

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
    Trainee,
    TransferReason,
)
from contracts.registry import Scheme, TrainingType
from services.accreditation.app import AccreditationSettings
from services.accreditation.domain import training_plan as tp
from services.accreditation.domain.rules import (
    ESD_FIELDS,
    NATIONAL_CAPS,
    CertificationFacts,
    EsdRules,
    ExamTaken,
    ImplementingOrganization,
    OtherPlan,
    Period,
    Permit,
)
from shared.errors import DomainRuleViolation
from shared.web.problems import status_of

A, B, ESD = TrainingType.A, TrainingType.B, Scheme.ESD
EMPLOYER, FIRST_EMPLOYER, SUPPORT, TITP_SUPERVISOR, FIRST_PLAN = uuid4(), uuid4(), uuid4(), uuid4(), uuid4()
A1 = ExamPassed(grade=ExamGrade.JAPANESE_A1, passed_on=date(2027, 1, 10))
RULES = EsdRules()


def plan(**changes) -> PlanTerms:
    """A type (a) ESD plan of three years in food service, from the day ESD starts, Japanese A1 passed."""
    return PlanTerms(
        **{
            "scheme": ESD,
            "trainee_id": uuid4(),
            "stage": None,
            "field": "food_service",
            "training_type": A,
            "job_category": "restaurant service",
            "implementing_organization_id": EMPLOYER,
            "start_date": date(2027, 4, 1),
            "end_date": date(2030, 3, 31),
            "trainee": Trainee(
                name="Siti Rahmawati", date_of_birth=date(2003, 8, 17), nationality="ID", passport_number="X9876543"
            ),
            "monthly_wage": 215_000,
            "comparable_japanese_wage": 210_000,
            "exams_passed": (A1,),
            **changes,
        }
    )


ORG = ImplementingOrganization(A, None, full_time_staff=40, excellent=False, prefecture="Tokyo")


def facts(**changes) -> CertificationFacts:
    return CertificationFacts(
        **{
            "certified_on": date(2027, 2, 1),
            "implementing_organization": ORG,
            "personal_data": plan().trainee.personal_data(),
            "esd_workers": 2,
            **changes,
        }
    )


# Type (b): supported by a supervision support organization holding an active ESD permit.
SUPPORTED = ImplementingOrganization(B, TITP_SUPERVISOR, 40, False, "Tokyo", SUPPORT, date(2026, 10, 1))
ESD_PERMIT = Permit("active", None, date(2026, 6, 1), date(2029, 5, 31), scheme=ESD)


def type_b(**changes) -> PlanTerms:
    return plan(
        **{"training_type": B, "supervising_organization_id": SUPPORT, "sending_organization_id": uuid4(), **changes}
    )


def type_b_facts(**changes) -> CertificationFacts:
    return facts(
        **{
            "implementing_organization": SUPPORTED,
            "permit": ESD_PERMIT,
            "sending_organization_approved": True,
            "sending_agreement_in_force": True,
            **changes,
        }
    )


# A transfer: the worker's first plan in agriculture (a 1-year field) with another employer, in a designated area.
FIRST = OtherPlan(
    None,
    "crop farming",
    date(2027, 4, 1),
    date(2030, 3, 31),
    PlanStatus.CERTIFIED,
    scheme=ESD,
    applied_on=date(2026, 10, 1),
    id=FIRST_PLAN,
    implementing_organization_id=FIRST_EMPLOYER,
    field="agriculture",
)
RURAL = ImplementingOrganization(A, None, 10, False, "Akita")
TRANSFER_EXAMS = (A1, ExamPassed(grade=ExamGrade.BASIC, passed_on=date(2028, 2, 1)))


def transfer(**changes) -> PlanTerms:
    return plan(
        **{
            "field": "agriculture",
            "job_category": "crop farming",
            "start_date": date(2028, 4, 1),
            "end_date": date(2030, 3, 31),
            "transfer_from": FIRST_PLAN,
            "transfer_reason": TransferReason.OWN_WISH,
            "exams_passed": TRANSFER_EXAMS,
            **changes,
        }
    )


def transfer_facts(**changes) -> CertificationFacts:
    return facts(
        **{
            "trainee_plans": (FIRST,),
            "transfer_from_employer": RURAL,
            "implementing_organization": replace(ORG, prefecture="Miyagi"),
            **changes,
        }
    )


def failed_ssw(on=date(2030, 2, 1)) -> tuple[ExamTaken, ...]:
    return (ExamTaken(ExamGrade.SSW_SKILLS, ExamResult.FAILED, on),)


COMPLETED_HERE = replace(
    FIRST, implementing_organization_id=EMPLOYER, status=PlanStatus.COMPLETED, field="food_service"
)

CERTIFIABLE = [
    ("type (a), three years", plan(), facts()),
    ("type (b) supported under an active ESD permit", type_b(), type_b_facts()),
    (
        "Japanese A1 passed on the start date",
        plan(exams_passed=(A1.model_copy(update={"passed_on": date(2027, 4, 1)}),)),
        facts(),
    ),
    (
        "Japanese A2 instead of A1",
        plan(exams_passed=(A1.model_copy(update={"grade": ExamGrade.JAPANESE_A2}),)),
        facts(),
    ),
    (
        "A1 as the exam body recorded it",
        plan(exams_passed=()),
        facts(exams=(ExamTaken(ExamGrade.JAPANESE_A1, ExamResult.PASSED, date(2027, 3, 1)),)),
    ),
    ("the quota's last place: 40 staff, basic 4", plan(), facts(plans_in_force=3)),
    (
        "an excellent employer: twice the basic table",
        plan(),
        facts(implementing_organization=replace(ORG, excellent=True), plans_in_force=7),
    ),
    ("the field's last place nationally", plan(), facts(field_workers={2027: 13_999, 2028: 13_999, 2029: 0})),
    (
        "four years with the extension after a failed SSW skills test",
        plan(extension=True, start_date=date(2030, 4, 1), end_date=date(2031, 3, 31)),
        facts(trainee_plans=(replace(COMPLETED_HERE, ended_on=date(2030, 3, 31)),), exams=failed_ssw()),
    ),
    ("a transfer at the worker's own wish after the field's year", transfer(), transfer_facts()),
    (
        "a transfer to a designated area: only the 1/3 counts",
        transfer(),
        transfer_facts(implementing_organization=replace(ORG, prefecture="Akita"), from_designated_areas=5),
    ),
    (
        "a transfer within the 1/6: 5 workers, none from designated areas",
        transfer(),
        transfer_facts(implementing_organization=ORG, esd_workers=5),
    ),
    (
        "a transfer within the 1/3: 5 workers, 1 transferred",
        transfer(),
        transfer_facts(esd_workers=5, own_wish_transfers=1),
    ),
    (
        "nursing care: Japanese A2 for a transfer",
        transfer(
            field="nursing_care",
            job_category="care work",
            start_date=date(2029, 4, 1),
            exams_passed=(*TRANSFER_EXAMS, ExamPassed(grade=ExamGrade.JAPANESE_A2, passed_on=date(2029, 1, 5))),
        ),
        transfer_facts(trainee_plans=(replace(FIRST, field="nursing_care", job_category="care work"),)),
    ),
    (
        "an unavoidable transfer: no period, no exams, no caps",
        transfer(
            start_date=date(2027, 9, 1),
            exams_passed=(A1,),
            transfer_reason=TransferReason.ABUSE,
            job_category="dairy farming",
        ),
        transfer_facts(esd_workers=0, own_wish_transfers=3),
    ),
    (
        "an unavoidable transfer after the first plan was discontinued",
        transfer(start_date=date(2027, 9, 1), transfer_reason=TransferReason.BANKRUPTCY),
        transfer_facts(
            trainee_plans=(replace(FIRST, status=PlanStatus.DISCONTINUED, ended_on=date(2027, 8, 15)),),
            esd_workers=0,
        ),
    ),
]


@pytest.mark.parametrize(("terms", "known"), [row[1:] for row in CERTIFIABLE], ids=[row[0] for row in CERTIFIABLE])
def test_an_esd_plan_that_meets_every_rule_is_certifiable(terms, known):
    RULES.check(terms, known)


REFUSED = [
    # rule, why, plan, facts
    ("implementing_organization.registered", "unknown", plan(), facts(implementing_organization=None)),
    (
        "implementing_organization.supported_by",
        "supported by another organization under ESD",
        type_b(),
        type_b_facts(implementing_organization=replace(SUPPORTED, esd_supervising_organization_id=uuid4())),
    ),
    (
        "implementing_organization.supported_by",
        "only its TITP supervisor named: no ESD support",
        type_b(supervising_organization_id=TITP_SUPERVISOR),
        type_b_facts(),
    ),
    (
        "implementing_organization.supported_by",
        "supported only from the day after the start",
        type_b(),
        type_b_facts(implementing_organization=replace(SUPPORTED, esd_supervised_from=date(2027, 4, 2))),
    ),
    (
        "esd.supervision_support_permit",
        "a TITP permit does not carry over",
        type_b(),
        type_b_facts(permit=replace(ESD_PERMIT, permit_type="general", scheme=Scheme.TITP)),
    ),
    (
        "esd.supervision_support_permit",
        "the ESD permit applied for, not granted",
        type_b(),
        type_b_facts(permit=Permit("applied", None, None, None, scheme=ESD)),
    ),
    (
        "esd.supervision_support_not_suspended",
        "business suspended",
        type_b(),
        type_b_facts(permit=replace(ESD_PERMIT, suspensions=(Period(date(2027, 1, 1), date(2027, 3, 31)),))),
    ),
    (
        "trainee.minimum_age",
        "17 on the start date",
        plan(trainee=plan().trainee.model_copy(update={"date_of_birth": date(2009, 4, 2)})),
        facts(),
    ),
    (
        "esd.one_plan_per_employer",
        "a completed plan with this employer",
        plan(start_date=date(2030, 4, 1), end_date=date(2031, 3, 31)),
        facts(trainee_plans=(replace(COMPLETED_HERE, ended_on=date(2030, 3, 31)),)),
    ),
    (
        "esd.one_plan_at_a_time",
        "a plan in force with another employer, not named as a transfer",
        plan(field="agriculture", start_date=date(2028, 4, 1)),
        facts(trainee_plans=(FIRST,)),
    ),
    (
        "esd.japanese_a1_before_start",
        "A1 passed the day after the start",
        plan(exams_passed=(A1.model_copy(update={"passed_on": date(2027, 4, 2)}),)),
        facts(),
    ),
    (
        "esd.japanese_a1_before_start",
        "A1 only failed",
        plan(exams_passed=()),
        facts(exams=(ExamTaken(ExamGrade.JAPANESE_A1, ExamResult.FAILED, date(2027, 3, 1)),)),
    ),
    (
        "esd.extension_after_failed_ssw_test",
        "no failed SSW skills test",
        plan(extension=True, start_date=date(2030, 4, 1), end_date=date(2031, 3, 31)),
        facts(trainee_plans=(replace(COMPLETED_HERE, ended_on=date(2030, 3, 31)),)),
    ),
    (
        "esd.extension_after_failed_ssw_test",
        "failed, then passed",
        plan(extension=True, start_date=date(2030, 4, 1), end_date=date(2031, 3, 31)),
        facts(
            trainee_plans=(replace(COMPLETED_HERE, ended_on=date(2030, 3, 31)),),
            exams=(*failed_ssw(), ExamTaken(ExamGrade.SSW_SKILLS, ExamResult.PASSED, date(2030, 3, 1))),
        ),
    ),
    ("esd.training_length", "three years and a day", plan(end_date=date(2030, 4, 1)), facts()),
    (
        "esd.training_length",
        "four years and a day with the extension",
        plan(extension=True, end_date=date(2031, 4, 1)),
        facts(exams=failed_ssw(date(2027, 3, 1))),
    ),
    (
        "esd.total_period",
        "three years and a day across both employers",
        transfer(end_date=date(2030, 4, 1)),
        transfer_facts(),
    ),
    (
        "esd.total_period",
        "the extension's fourth year and a day",
        plan(extension=True, start_date=date(2030, 4, 1), end_date=date(2031, 4, 1)),
        facts(trainee_plans=(replace(COMPLETED_HERE, ended_on=date(2030, 3, 31)),), exams=failed_ssw()),
    ),
    ("esd.transfer_from_plan", "not a plan of this worker", transfer(transfer_from=uuid4()), transfer_facts()),
    (
        "esd.transfer_from_plan",
        "the first plan completed: nothing to transfer from",
        transfer(),
        transfer_facts(trainee_plans=(replace(FIRST, status=PlanStatus.COMPLETED, ended_on=date(2028, 3, 1)),)),
    ),
    (
        "esd.transfer_another_employer",
        "to the same employer",
        transfer(implementing_organization_id=FIRST_EMPLOYER),
        transfer_facts(),
    ),
    (
        "esd.transfer_same_job_category",
        "another job category",
        transfer(job_category="livestock"),
        transfer_facts(),
    ),
    ("esd.transfer_same_field", "another field", transfer(field="fishery"), transfer_facts()),
    (
        "esd.transfer_too_early",
        "a 1-year field: a day short of the year",
        transfer(start_date=date(2028, 3, 31)),
        transfer_facts(),
    ),
    (
        "esd.transfer_too_early",
        "a 2-year field: a year and eleven months",
        transfer(field="construction", job_category="formwork", start_date=date(2029, 3, 1)),
        transfer_facts(trainee_plans=(replace(FIRST, field="construction", job_category="formwork"),)),
    ),
    ("esd.transfer_basic_grade", "basic grade missing", transfer(exams_passed=(A1,)), transfer_facts()),
    (
        "esd.transfer_japanese_level",
        "nursing care with A1 only",
        transfer(field="nursing_care", job_category="care work", start_date=date(2029, 4, 1)),
        transfer_facts(trainee_plans=(replace(FIRST, field="nursing_care", job_category="care work"),)),
    ),
    (
        "esd.transfer_receiving_cap",
        "an employer with 1 worker: a transfer would be half",
        transfer(),
        transfer_facts(esd_workers=1),
    ),
    (
        "esd.transfer_receiving_cap",
        "4 workers, 1 transferred: 2 of 5 is over 1/3",
        transfer(),
        transfer_facts(esd_workers=4, own_wish_transfers=1),
    ),
    (
        "esd.transfer_designated_area_cap",
        "4 workers in Tokyo: 1 of 5 from a designated area is over 1/6",
        transfer(),
        transfer_facts(implementing_organization=ORG, esd_workers=4),
    ),
    (
        "wage.at_least_japanese_equivalent",
        "equal pay holds under ESD",
        plan(monthly_wage=1, comparable_japanese_wage=2),
        facts(),
    ),
    ("sending_organization.approved", "type (b)", type_b(), type_b_facts(sending_organization_approved=False)),
    ("esd.quota", "40 staff: 4 at once", plan(), facts(plans_in_force=4)),
    (
        "esd.quota",
        "excellent: 8 at once",
        plan(),
        facts(implementing_organization=replace(ORG, excellent=True), plans_in_force=8),
    ),
    ("esd.national_cap", "food service full in FY2027", plan(), facts(field_workers={2027: 14_000})),
    ("esd.national_cap", "FY2029 carries FY2028's cap", plan(), facts(field_workers={2029: 14_000})),
    ("esd.field", "not an ESD field", plan(field="textiles"), facts()),
    ("plan.esd_has_no_stage", "a stage named", plan(stage="i"), facts()),
]


@pytest.mark.parametrize(
    ("rule", "terms", "known"), [(r[0], *r[2:]) for r in REFUSED], ids=[f"{r[0]}: {r[1]}" for r in REFUSED]
)
def test_each_esd_rule_refuses_with_its_name(rule, terms, known):
    with pytest.raises(DomainRuleViolation) as refused:
        RULES.check(terms, known)
    assert refused.value.rule == rule
    assert status_of(refused.value) == 409


def test_every_esd_rule_has_a_row():
    assert {r[0] for r in REFUSED} >= {
        "esd.supervision_support_permit",
        "esd.supervision_support_not_suspended",
        "implementing_organization.supported_by",
        "esd.one_plan_per_employer",
        "esd.one_plan_at_a_time",
        "esd.japanese_a1_before_start",
        "esd.extension_after_failed_ssw_test",
        "esd.training_length",
        "esd.total_period",
        "esd.transfer_from_plan",
        "esd.transfer_another_employer",
        "esd.transfer_same_job_category",
        "esd.transfer_same_field",
        "esd.transfer_too_early",
        "esd.transfer_basic_grade",
        "esd.transfer_japanese_level",
        "esd.transfer_receiving_cap",
        "esd.transfer_designated_area_cap",
        "esd.quota",
        "esd.national_cap",
        "esd.field",
    }


def test_the_seventeen_fields_their_periods_and_japanese_levels():
    one_year = {n for n, f in ESD_FIELDS.items() if f.transfer_years == 1}
    assert len(ESD_FIELDS) == 17
    assert one_year == {
        "building_cleaning",
        "linen_supply",
        "accommodation",
        "railway",
        "logistics_warehousing",
        "agriculture",
        "fishery",
        "forestry",
        "wood_industry",
    }
    assert {f.transfer_years for n, f in ESD_FIELDS.items() if n not in one_year} == {2}
    assert {n for n, f in ESD_FIELDS.items() if f.transfer_japanese is ExamGrade.JAPANESE_A2} == {"nursing_care"}
    assert set(NATIONAL_CAPS[2027]) == set(ESD_FIELDS)
    assert sum(NATIONAL_CAPS[2027].values()) == 426_200 and NATIONAL_CAPS[2028] == NATIONAL_CAPS[2027]


@pytest.mark.parametrize(("year", "cap"), [(2026, None), (2027, 14_000), (2028, 14_000), (2031, 14_000)], ids=str)
def test_a_fiscal_year_without_a_cap_of_its_own_carries_the_latest(year, cap):
    assert RULES.cap("food_service", year) == cap
    assert RULES.fiscal_years(plan()) == [2027, 2028, 2029]


def test_the_numbers_are_settings():
    settings = AccreditationSettings(
        esd_national_caps={2027: {"fishery": 2}, 2030: {"fishery": 10}},
        esd_transfer_years={"food_service": 1},
        esd_transferred_share="1/4",
        esd_metropolitan_prefectures="Tokyo,Osaka",
        titp_last_start=date(2027, 9, 30),
        esd_extension_years=2,
    )
    book = settings.rule_book()
    assert (book.esd.cap("fishery", 2027), book.esd.cap("construction", 2027)) == (2, 123_500)
    assert (book.esd.cap("fishery", 2028), book.esd.cap("fishery", 2031), book.esd.cap("railway", 2031)) == (
        4_000,
        10,
        7_000,
    )
    assert book.esd.fields["food_service"].transfer_years == 1 and book.esd.transferred_share == Fraction(1, 4)
    assert book.esd.metropolitan_prefectures == {"Tokyo", "Osaka"} and book.switch.titp_last_start == date(2027, 9, 30)
    assert book.esd.years_allowed(plan(extension=True)) == 5
    with pytest.raises(DomainRuleViolation, match="national cap"):
        book.esd.check(plan(field="fishery", job_category="set-net fishing"), facts(field_workers={2027: 2}))


# The first-year flag: certified, the first year passed, without the basic grade and A1 passed within it.

START = date(2027, 4, 1)
BASIC = (ExamGrade.BASIC, date(2028, 2, 1))
JAPANESE = (ExamGrade.JAPANESE_A1, date(2027, 1, 10))

FLAGS = [
    # why, scheme, status, passes, day, flagged
    ("the first year's last day", ESD, PlanStatus.CERTIFIED, [], date(2028, 3, 31), False),
    ("the day after the first year, nothing passed", ESD, PlanStatus.CERTIFIED, [], date(2028, 4, 1), True),
    ("both passed within the year", ESD, PlanStatus.CERTIFIED, [BASIC, JAPANESE], date(2028, 4, 1), False),
    ("only the basic grade", ESD, PlanStatus.CERTIFIED, [BASIC], date(2029, 1, 1), True),
    ("only A1", ESD, PlanStatus.CERTIFIED, [JAPANESE], date(2029, 1, 1), True),
    (
        "A2 instead of A1",
        ESD,
        PlanStatus.CERTIFIED,
        [BASIC, (ExamGrade.JAPANESE_A2, date(2027, 12, 1))],
        date(2029, 1, 1),
        False,
    ),
    (
        "the basic grade passed on the day after the first year",
        ESD,
        PlanStatus.CERTIFIED,
        [JAPANESE, (ExamGrade.BASIC, date(2028, 4, 1))],
        date(2029, 1, 1),
        True,
    ),
    ("a TITP plan never", Scheme.TITP, PlanStatus.CERTIFIED, [], date(2029, 1, 1), False),
    ("an ended plan no more", ESD, PlanStatus.TRANSFERRED, [], date(2029, 1, 1), False),
]


@pytest.mark.parametrize(
    ("scheme", "status", "passes", "day", "flagged"), [r[1:] for r in FLAGS], ids=[r[0] for r in FLAGS]
)
def test_the_first_year_exams_flag(scheme, status, passes, day, flagged):
    assert tp.first_year_exams_missing(scheme, status, START, passes, day) is flagged
