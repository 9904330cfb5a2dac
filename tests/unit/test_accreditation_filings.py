"""Filings received from employers and supervising organizations (services/accreditation/domain/filings.py, issue 20
item 4): each due by its rule, late by the days after it, refused naming the rule at its boundaries. Over REST and
Kafka: tests/e2e/test_accreditation_filings.py."""

from dataclasses import replace
from datetime import date
from uuid import uuid4

import pytest

from contracts.accreditation import (
    AnnualImplementationReportFiled,
    DifficultyCause,
    DifficultyNoticeFiled,
    ImplementationStartNoticeFiled,
    PlanStatus,
    Stage,
    VisitRecordFiled,
)
from contracts.registry import Scheme, TrainingType
from services.accreditation.domain import filings as fl
from shared.errors import DomainRuleViolation, NotFound
from shared.filings import FilingDues

EMPLOYER, SUPERVISOR, OTHER = uuid4(), uuid4(), uuid4()
RULES = FilingDues()
RECEIPT = "S-2026-000001"
PLAN = fl.PlanFacts(
    id=uuid4(),
    implementing_organization_id=EMPLOYER,
    supervising_organization_id=SUPERVISOR,
    training_type=TrainingType.B,
    scheme=Scheme.TITP,
    stage=Stage.I,
    start_date=date(2026, 10, 1),
    end_date=date(2027, 9, 30),
    status=PlanStatus.CERTIFIED,
)
NEW = fl.Filing()


def refused(rule: str, decide, *args) -> DomainRuleViolation:
    with pytest.raises(DomainRuleViolation) as refusal:
        decide(*args)
    assert refusal.value.rule == rule, refusal.value.detail
    return refusal.value


# The due dates (configurable; defaults: 30 days, 14 days, 31 May, the last day of the next month)


@pytest.mark.parametrize(
    ("rules", "due"),
    [
        (RULES, {"start": date(2026, 10, 31), "difficulty": date(2026, 10, 15), "annual": date(2027, 5, 31)}),
        (
            FilingDues(
                start_notice_days=10, difficulty_notice_days=0, annual_report_due_month=6, annual_report_due_day=30
            ),
            {"start": date(2026, 10, 11), "difficulty": date(2026, 10, 1), "annual": date(2027, 6, 30)},
        ),
    ],
)
def test_due_dates_follow_the_configured_numbers(rules, due):
    assert rules.start_notice_due(date(2026, 10, 1)) == due["start"]
    assert rules.difficulty_notice_due(date(2026, 10, 1)) == due["difficulty"]
    assert rules.annual_report_due(2026) == due["annual"]


@pytest.mark.parametrize(
    ("month", "months", "due"),
    [
        (date(2027, 1, 1), 1, date(2027, 2, 28)),
        (date(2028, 1, 1), 1, date(2028, 2, 29)),
        (date(2027, 12, 1), 1, date(2028, 1, 31)),
        (date(2027, 5, 1), 0, date(2027, 5, 31)),
        (date(2027, 5, 1), 2, date(2027, 7, 31)),
    ],
)
def test_a_visit_record_is_due_on_the_last_day_of_the_next_month(month, months, due):
    assert FilingDues(visit_record_due_months=months).visit_record_due(month) == due


# The implementation-start notice (Art. 17)


def start(state=NEW, plan=PLAN, started_on=date(2026, 10, 1), filed_on=date(2026, 10, 20), first=None):
    return fl.file_start_notice(state, EMPLOYER, plan, PLAN.id, first, started_on, filed_on, RECEIPT, RULES)


@pytest.mark.parametrize(
    ("filed_on", "late_days"),
    [(date(2026, 10, 1), 0), (date(2026, 10, 31), 0), (date(2026, 11, 1), 1), (date(2027, 1, 30), 91)],
)
def test_a_start_notice_is_due_30_days_after_the_first_plan_starts_and_late_after(filed_on, late_days):
    [event] = start(filed_on=filed_on)
    assert isinstance(event, ImplementationStartNoticeFiled)
    assert (event.due_on, event.receipt_number, event.late_days) == (date(2026, 10, 31), RECEIPT, late_days)


def test_a_start_notice_is_due_after_the_employers_first_plan_even_naming_a_later_one():
    [event] = start(first=date(2026, 4, 1))
    assert event.due_on == date(2026, 5, 1)


@pytest.mark.parametrize(
    ("rule", "changes"),
    [
        ("filing.training_plan", {"plan": None}),
        ("filing.training_plan", {"plan": replace(PLAN, implementing_organization_id=OTHER)}),
        ("filing.training_plan", {"plan": replace(PLAN, status=PlanStatus.APPLIED)}),
        ("filing.training_plan", {"plan": replace(PLAN, status=PlanStatus.REJECTED)}),
        ("filing.started_on", {"started_on": date(2026, 9, 30)}),
        ("filing.started_on", {"started_on": date(2027, 10, 1)}),
        ("filing.started_on", {"plan": replace(PLAN, ended_on=date(2026, 12, 1)), "started_on": date(2026, 12, 2)}),
        ("filing.before_start", {"started_on": date(2026, 10, 21)}),
    ],
)
def test_a_start_notice_is_refused_naming_the_rule(rule, changes):
    refused(rule, lambda: start(**changes))


def test_one_start_notice_per_employer():
    [event] = start()
    problem = refused("filing.duplicate", lambda: start(state=fl.evolve(NEW, event)))
    assert problem.members["field"] == "body"


def test_the_receipt_number_is_numbered_within_its_year():
    assert fl.receipt_number(2027, 123) == "S-2027-000123"
    assert fl.start_notice_id(EMPLOYER) == fl.start_notice_id(EMPLOYER) != fl.start_notice_id(OTHER)


# The notice of difficulty in continuing training (Art. 19)


def difficulty(plan=PLAN, occurred_on=date(2027, 2, 1), filed_on=date(2027, 2, 10), quoted=RECEIPT, issued=RECEIPT):
    return fl.file_difficulty_notice(
        NEW,
        EMPLOYER,
        plan,
        PLAN.id,
        occurred_on,
        filed_on,
        DifficultyCause.BANKRUPTCY,
        "moving to another employer",
        quoted,
        issued,
        RULES,
    )


@pytest.mark.parametrize(
    ("filed_on", "late_days"), [(date(2027, 2, 1), 0), (date(2027, 2, 15), 0), (date(2027, 2, 16), 1)]
)
def test_a_difficulty_notice_is_due_14_days_after_the_difficulty(filed_on, late_days):
    [event] = difficulty(filed_on=filed_on)
    assert isinstance(event, DifficultyNoticeFiled)
    assert (event.due_on, event.late_days, event.supervising_organization_id) == (
        date(2027, 2, 15),
        late_days,
        SUPERVISOR,
    )


def test_a_difficulty_notice_of_a_direct_hire_names_no_supervising_organization():
    plan = replace(PLAN, training_type=TrainingType.A, supervising_organization_id=None)
    [event] = difficulty(plan=plan)
    assert event.supervising_organization_id is None


@pytest.mark.parametrize(
    ("occurred_on", "plan"),
    [
        (date(2026, 10, 1), PLAN),
        (date(2027, 9, 30), PLAN),
        (date(2026, 12, 1), replace(PLAN, status=PlanStatus.DISCONTINUED, ended_on=date(2026, 12, 1))),
    ],
)
def test_a_difficulty_notice_is_for_a_day_of_the_plans_training(occurred_on, plan):
    assert difficulty(plan=plan, occurred_on=occurred_on, filed_on=date(2027, 9, 30))


@pytest.mark.parametrize(
    ("rule", "field", "changes"),
    [
        ("filing.training_plan", "body.training_plan_id", {"plan": None}),
        ("filing.training_plan", "body.training_plan_id", {"plan": replace(PLAN, status=PlanStatus.APPLIED)}),
        ("filing.plan_not_in_force", "body.occurred_on", {"occurred_on": date(2026, 9, 30)}),
        ("filing.plan_not_in_force", "body.occurred_on", {"occurred_on": date(2027, 10, 1)}),
        (
            "filing.plan_not_in_force",
            "body.occurred_on",
            {"plan": replace(PLAN, status=PlanStatus.COMPLETED, ended_on=date(2027, 1, 31))},
        ),
        ("filing.receipt_number", "body.receipt_number", {"issued": None}),
        ("filing.receipt_number", "body.receipt_number", {"quoted": "S-2026-000002"}),
        ("filing.before_occurrence", "body.filed_on", {"filed_on": date(2027, 1, 31)}),
    ],
)
def test_a_difficulty_notice_is_refused_naming_the_rule_and_field(rule, field, changes):
    assert refused(rule, lambda: difficulty(**changes)).members["field"] == field


@pytest.mark.parametrize(
    ("plan", "filer", "rule"),
    [
        (PLAN, None, None),
        (PLAN, str(SUPERVISOR), None),
        (PLAN, str(EMPLOYER), "filing.through_supervising_organization"),
        (PLAN, str(OTHER), "filing.through_supervising_organization"),
        (replace(PLAN, training_type=TrainingType.A, supervising_organization_id=None), str(EMPLOYER), None),
        (
            replace(PLAN, training_type=TrainingType.A, supervising_organization_id=None),
            str(SUPERVISOR),
            "filing.own_organization",
        ),
    ],
)
def test_a_supervised_plans_difficulty_notice_comes_through_its_supervising_organization(plan, filer, rule):
    if rule is None:
        fl.check_difficulty_filer(filer, plan)
    else:
        refused(rule, fl.check_difficulty_filer, filer, plan)


@pytest.mark.parametrize(
    ("filer", "allowed"), [(None, True), (str(EMPLOYER), True), (str(SUPERVISOR), True), (str(OTHER), False)]
)
def test_an_employer_files_its_own_and_a_supervising_organization_for_its_members(filer, allowed):
    if allowed:
        fl.check_filer(filer, EMPLOYER, {str(SUPERVISOR)})
    else:
        with pytest.raises(NotFound) as not_found:
            fl.check_filer(filer, EMPLOYER, {str(SUPERVISOR)})
        assert set(not_found.value.members) == {"resource", "id"}  # nothing more of another's employer


# The annual implementation report (Art. 21)


def annual(state=NEW, year=2026, filed_on=date(2027, 5, 20), quoted=RECEIPT, issued=RECEIPT, had_plans=True):
    return fl.file_annual_report(state, EMPLOYER, year, filed_on, quoted, issued, 3, had_plans, RULES)


@pytest.mark.parametrize(
    ("filed_on", "late_days"),
    [(date(2027, 4, 1), 0), (date(2027, 5, 31), 0), (date(2027, 6, 1), 1), (date(2027, 7, 1), 31)],
)
def test_an_annual_report_is_due_31_may_after_its_fiscal_year(filed_on, late_days):
    [event] = annual(filed_on=filed_on)
    assert isinstance(event, AnnualImplementationReportFiled)
    assert (event.fiscal_year, event.due_on, event.late_days, event.trainees) == (2026, date(2027, 5, 31), late_days, 3)


@pytest.mark.parametrize(
    ("rule", "changes"),
    [
        ("filing.too_early", {"filed_on": date(2027, 3, 31)}),
        ("filing.too_early", {"year": 2027}),
        ("filing.no_training_in_year", {"had_plans": False}),
        ("filing.receipt_number", {"issued": None}),
        ("filing.receipt_number", {"quoted": "S-2027-000001"}),
    ],
)
def test_an_annual_report_is_refused_naming_the_rule(rule, changes):
    refused(rule, lambda: annual(**changes))


def test_one_annual_report_per_employer_and_year():
    [event] = annual()
    refused("filing.duplicate", lambda: annual(state=fl.evolve(NEW, event)))
    assert fl.annual_report_id(EMPLOYER, 2026) != fl.annual_report_id(EMPLOYER, 2027)


# The stage-i monthly visit record


def visit(state=NEW, month=date(2027, 5, 1), visited_on=date(2027, 5, 14), filed_on=date(2027, 5, 31), plans=1):
    return fl.file_visit_record(state, SUPERVISOR, EMPLOYER, month, visited_on, filed_on, plans, RULES)


@pytest.mark.parametrize(
    ("filed_on", "late_days"), [(date(2027, 5, 14), 0), (date(2027, 6, 30), 0), (date(2027, 7, 1), 1)]
)
def test_a_visit_record_is_late_after_the_end_of_the_next_month(filed_on, late_days):
    [event] = visit(filed_on=filed_on)
    assert isinstance(event, VisitRecordFiled)
    assert (event.month, event.due_on, event.late_days) == (date(2027, 5, 1), date(2027, 6, 30), late_days)


@pytest.mark.parametrize(
    ("rule", "changes"),
    [
        ("filing.month", {"month": date(2027, 5, 2)}),
        ("filing.visited_on", {"visited_on": date(2027, 4, 30)}),
        ("filing.visited_on", {"visited_on": date(2027, 6, 1)}),
        ("filing.no_stage_i_plan", {"plans": 0}),
        ("filing.before_visit", {"filed_on": date(2027, 5, 13)}),
    ],
)
def test_a_visit_record_is_refused_naming_the_rule(rule, changes):
    refused(rule, lambda: visit(**changes))


def test_one_visit_record_per_organization_employer_and_month():
    [event] = visit()
    refused("filing.duplicate", lambda: visit(state=fl.evolve(NEW, event)))


@pytest.mark.parametrize(
    ("filer", "named", "under", "expected", "rule"),
    [
        (str(SUPERVISOR), None, {}, SUPERVISOR, None),
        (str(SUPERVISOR), SUPERVISOR, {}, SUPERVISOR, None),
        (None, OTHER, {str(SUPERVISOR): 1}, OTHER, None),
        (None, None, {str(SUPERVISOR): 2}, SUPERVISOR, None),
        (None, None, {}, None, "filing.supervising_organization"),
        (None, None, {str(SUPERVISOR): 1, str(OTHER): 1}, None, "filing.supervising_organization"),
    ],
)
def test_a_visit_record_is_the_filing_organizations_or_the_one_the_officer_names(filer, named, under, expected, rule):
    if rule is None:
        assert fl.visit_supervisor(filer, named, EMPLOYER, under) == expected
    else:
        refused(rule, fl.visit_supervisor, filer, named, EMPLOYER, under)


def test_a_supervising_organization_files_only_its_own_visits():
    with pytest.raises(NotFound):
        fl.visit_supervisor(str(SUPERVISOR), OTHER, EMPLOYER, {})


@pytest.mark.parametrize(("month", "day"), [(2, 29), (2, 30), (4, 31), (13, 1), (5, 0)])
def test_an_annual_report_due_day_no_year_has_is_refused_at_start(month, day):
    with pytest.raises(ValueError):
        FilingDues(annual_report_due_month=month, annual_report_due_day=day)
