"""The filings of the life of a plan on the inspection worklist (issue 20; services/inspection/domain/filings.py):
when each is due, when it is overdue, what an employer's plans and a supervising organization's permit make it
owe, and when an overdue one can lead to an inspection — at the boundaries."""

from datetime import date
from uuid import uuid4

import pytest

from contracts.inspection import InspectionReason, TargetType
from contracts.registry import Scheme
from services.inspection.domain.filings import (
    FilingKind,
    FilingStatus,
    OwedFiling,
    PlanInForce,
    annual_report_duty_id,
    business_report_duties,
    employer_duties,
    filing_due_on,
    filing_status,
    inspection_for_overdue_filing,
    late_days,
    start_notice_duty_id,
)
from shared import dates
from shared.errors import DomainRuleViolation
from shared.filings import FilingDues

D = date.fromisoformat
K = FilingKind


@pytest.mark.parametrize(
    ("kind", "basis", "dues", "due_on"),
    [
        (K.START_NOTICE, "2026-10-01", FilingDues(), "2026-10-31"),
        (K.START_NOTICE, "2027-02-01", FilingDues(), "2027-03-03"),
        (K.START_NOTICE, "2026-10-01", FilingDues(start_notice_days=14), "2026-10-15"),
        (K.ANNUAL_REPORT, "2026-04-01", FilingDues(), "2027-05-31"),
        (K.ANNUAL_REPORT, "2026-04-01", FilingDues(annual_report_due_month=6, annual_report_due_day=30), "2027-06-30"),
        (K.BUSINESS_REPORT, "2027-04-01", FilingDues(), "2028-05-31"),
        (K.BUSINESS_REPORT, "2027-04-01", FilingDues(business_report_due_day=15), "2028-05-15"),
        (K.VISIT_RECORD, "2027-01-01", FilingDues(), "2027-02-28"),
        (K.VISIT_RECORD, "2027-12-01", FilingDues(), "2028-01-31"),
        (K.VISIT_RECORD, "2028-01-01", FilingDues(), "2028-02-29"),
        (K.VISIT_RECORD, "2027-05-01", FilingDues(visit_record_due_months=0), "2027-05-31"),
    ],
)
def test_each_filing_is_due_by_its_rule(kind, basis, dues, due_on):
    assert filing_due_on(kind, D(basis), dues) == D(due_on)


def test_the_audit_reports_are_due_by_their_own_rule():
    with pytest.raises(ValueError):
        filing_due_on(K.QUARTERLY_AUDIT_REPORT, D("2027-04-01"))


@pytest.mark.parametrize(
    ("day", "fiscal_year"), [("2027-03-31", 2026), ("2027-04-01", 2027), ("2027-12-31", 2027), ("2028-01-01", 2027)]
)
def test_a_fiscal_year_runs_from_april_to_march(day, fiscal_year):
    assert dates.fiscal_year(D(day)) == fiscal_year


DUE = D("2027-05-31")


@pytest.mark.parametrize(
    ("day", "filed_on", "ended_on", "status", "late"),
    [
        ("2027-05-30", None, None, FilingStatus.DUE, 0),
        ("2027-05-31", None, None, FilingStatus.DUE, 0),  # the due day itself: not overdue yet
        ("2027-06-01", None, None, FilingStatus.OVERDUE, 1),
        ("2027-06-10", None, None, FilingStatus.OVERDUE, 10),
        ("2027-05-31", "2027-05-31", None, FilingStatus.FILED, 0),  # filed on its due day: on time
        ("2027-06-09", "2027-06-10", None, FilingStatus.OVERDUE, 9),  # a late filing counts from its day
        ("2027-06-10", "2027-06-10", None, FilingStatus.FILED, 10),
        ("2027-09-01", "2027-06-10", None, FilingStatus.FILED, 10),
        ("2027-06-30", None, "2027-07-01", FilingStatus.OVERDUE, 30),
        ("2027-07-01", None, "2027-07-01", None, 31),  # the permit ended: owed no more
        ("2027-07-01", "2027-06-10", "2027-07-01", FilingStatus.FILED, 10),
    ],
)
def test_a_filing_is_overdue_after_its_due_day_until_filed_or_no_longer_owed(day, filed_on, ended_on, status, late):
    filed = D(filed_on) if filed_on else None
    ended = D(ended_on) if ended_on else None
    assert filing_status(D(day), due_on=DUE, filed_on=filed, ended_on=ended) is status
    assert late_days(D(day), due_on=DUE, filed_on=filed) == late


EMPLOYER, SUPERVISOR = uuid4(), uuid4()


def plan(start: str, end: str, *, ended_on: str | None = None, stage="i", scheme=Scheme.TITP, supervisor=SUPERVISOR):
    return PlanInForce(
        uuid4(), EMPLOYER, supervisor, scheme, stage, D(start), D(end), D(ended_on) if ended_on else None
    )


def owed(duties, kind):
    return [(d.fiscal_year, d.month, d.owed_from, d.basis) for d in duties if d.kind is kind]


@pytest.mark.parametrize(
    ("plans", "years"),
    [
        ([plan("2026-10-01", "2027-09-30")], [2026, 2027]),
        ([plan("2026-10-01", "2027-03-31")], [2026]),
        ([plan("2026-10-01", "2027-09-30", ended_on="2027-03-31")], [2026]),  # discontinued on 31 March
        ([plan("2026-10-01", "2027-09-30", ended_on="2027-04-01")], [2026, 2027]),
        ([plan("2027-03-31", "2028-03-30")], [2026, 2027]),
        ([plan("2026-10-01", "2027-09-30", ended_on="2026-09-30")], []),  # ended before it started
        ([plan("2026-10-01", "2027-03-31"), plan("2028-04-01", "2029-03-31", stage="ii")], [2026, 2028]),
        ([plan("2027-04-01", "2030-03-31", stage=None, scheme=Scheme.ESD, supervisor=None)], [2027, 2028, 2029]),
    ],
)
def test_an_employer_owes_an_annual_report_for_each_fiscal_year_with_a_plan_in_force(plans, years):
    duties = employer_duties(EMPLOYER, plans)
    assert [year for year, *_ in owed(duties, K.ANNUAL_REPORT)] == years
    assert [d.id for d in duties if d.kind is K.ANNUAL_REPORT] == [annual_report_duty_id(EMPLOYER, y) for y in years]
    notices = owed(duties, K.START_NOTICE)
    assert len(notices) == (1 if years else 0)
    if years:
        first = min(p.start_date for p in plans if p.started)
        assert notices == [(None, None, first, first)]
        assert [d.id for d in duties if d.kind is K.START_NOTICE] == [start_notice_duty_id(EMPLOYER)]


def test_an_annual_report_is_owed_from_the_first_day_in_force_in_the_year():
    duties = employer_duties(EMPLOYER, [plan("2026-10-01", "2027-09-30"), plan("2026-07-15", "2027-07-14")])
    assert owed(duties, K.ANNUAL_REPORT) == [
        (2026, None, D("2026-07-15"), D("2026-04-01")),
        (2027, None, D("2027-04-01"), D("2027-04-01")),
    ]
    assert owed(duties, K.START_NOTICE) == [(None, None, D("2026-07-15"), D("2026-07-15"))]


@pytest.mark.parametrize(
    ("plans", "months"),
    [
        ([plan("2026-10-15", "2027-01-14")], ["2026-10-01", "2026-11-01", "2026-12-01", "2027-01-01"]),
        ([plan("2026-10-15", "2027-01-14", ended_on="2026-11-30")], ["2026-10-01", "2026-11-01"]),
        ([plan("2026-10-15", "2027-01-14", stage="ii")], []),  # stage ii: no monthly visit record
        ([plan("2026-10-15", "2027-01-14", supervisor=None)], []),  # type (a): no supervising organization
        (
            [plan("2027-04-01", "2028-03-31", stage=None, scheme=Scheme.ESD)],
            [],
        ),  # ESD: the quarterly audits instead
        (
            [plan("2026-10-15", "2026-11-14"), plan("2026-11-01", "2026-12-10")],
            ["2026-10-01", "2026-11-01", "2026-12-01"],
        ),  # two plans in one month: one record
    ],
)
def test_a_supervising_organization_owes_a_visit_record_per_month_with_a_stage_i_plan_in_progress(plans, months):
    visits = [d for d in employer_duties(EMPLOYER, plans) if d.kind is K.VISIT_RECORD]
    assert [d.month for d in visits] == [D(m) for m in months]
    assert {(d.supervising_organization_id, d.implementing_organization_id) for d in visits} <= {(SUPERVISOR, EMPLOYER)}
    if visits:
        assert visits[0].owed_from == min(p.start_date for p in plans)
        assert all(d.basis == d.month for d in visits)


def test_two_supervising_organizations_each_owe_their_own_visit_records():
    other = uuid4()
    plans = [plan("2027-01-10", "2027-02-09"), plan("2027-01-20", "2027-02-19", supervisor=other)]
    visits = {(d.supervising_organization_id, d.month) for d in employer_duties(EMPLOYER, plans)}
    assert {(o, m) for o, m in visits if m} == {
        (SUPERVISOR, D("2027-01-01")),
        (SUPERVISOR, D("2027-02-01")),
        (other, D("2027-01-01")),
        (other, D("2027-02-01")),
    }


@pytest.mark.parametrize(
    ("granted_on", "until", "years", "first_owed_from"),
    [
        ("2026-05-01", "2029-05-01", [2026, 2027, 2028, 2029], "2026-05-01"),  # in force to 30 April 2029
        ("2026-05-01", "2029-04-01", [2026, 2027, 2028], "2026-05-01"),  # expired: in force to 31 March 2029
        ("2026-04-01", "2026-04-02", [2026], "2026-04-01"),
        ("2026-03-31", "2026-04-01", [2025], "2026-03-31"),
        ("2026-05-01", "2026-05-01", [], None),
    ],
)
def test_a_supervising_organization_owes_a_business_report_for_each_year_its_permit_was_in_force(
    granted_on, until, years, first_owed_from
):
    org = uuid4()
    duties = business_report_duties(org, D(granted_on), D(until))
    assert [d.fiscal_year for d in duties] == years
    assert {d.kind for d in duties} <= {K.BUSINESS_REPORT}
    if years:
        assert duties[0].owed_from == D(first_owed_from)
        assert [d.due_on() for d in duties] == [D(f"{y + 1}-05-31") for y in years]


def filing(kind=K.ANNUAL_REPORT, status=FilingStatus.OVERDUE, inspection_id=None):
    return OwedFiling(uuid4(), kind, uuid4(), D("2027-05-31"), status, inspection_id)


@pytest.mark.parametrize(
    ("kind", "target_type"),
    [
        (K.START_NOTICE, TargetType.IMPLEMENTING_ORGANIZATION),
        (K.ANNUAL_REPORT, TargetType.IMPLEMENTING_ORGANIZATION),
        (K.BUSINESS_REPORT, TargetType.SUPERVISING_ORGANIZATION),
        (K.VISIT_RECORD, TargetType.SUPERVISING_ORGANIZATION),
        (K.QUARTERLY_AUDIT_REPORT, TargetType.SUPERVISION_SUPPORT_ORGANIZATION),
    ],
)
def test_an_overdue_filing_leads_to_an_extraordinary_inspection_of_who_owes_it(kind, target_type):
    owing = filing(kind)
    scheduled = inspection_for_overdue_filing(
        owing, scheduled_on=D("2027-06-01"), due_by=D("2027-07-31"), reason="no report after a reminder"
    )
    assert (scheduled.target_type, scheduled.target_id, scheduled.filing_id) == (target_type, owing.owed_by, owing.id)
    assert scheduled.reason is InspectionReason.OVERDUE_FILING and scheduled.reason.extraordinary
    assert str(owing.id) in scheduled.detail and "no report after a reminder" in scheduled.detail


@pytest.mark.parametrize(
    ("owing", "rule", "field"),
    [
        (filing(status=FilingStatus.DUE), "filing.not_overdue", "body.scheduled_on"),
        (filing(status=FilingStatus.FILED), "filing.not_overdue", "body.scheduled_on"),
        (filing(inspection_id=uuid4()), "filing.inspection_open", "path.id"),
    ],
)
def test_an_inspection_from_a_filing_only_while_overdue_and_once(owing, rule, field):
    with pytest.raises(DomainRuleViolation) as refused:
        inspection_for_overdue_filing(owing, scheduled_on=D("2027-06-01"), due_by=D("2027-07-31"), reason=None)
    assert (refused.value.rule, refused.value.members["field"]) == (rule, field)


def test_a_reassigned_plans_visit_records_are_owed_by_the_organization_supervising_it_that_month():
    new = uuid4()
    moved = PlanInForce(
        uuid4(),
        EMPLOYER,
        new,  # the header names the organization it is under now
        Scheme.TITP,
        "i",
        D("2026-10-01"),
        D("2027-09-30"),
        supervisions=((D("2026-10-01"), SUPERVISOR), (D("2026-11-15"), new)),
    )
    visits = sorted(
        (
            (d.supervising_organization_id, d.month, d.owed_from)
            for d in employer_duties(EMPLOYER, [moved])
            if d.kind is K.VISIT_RECORD and d.month <= D("2026-12-01")
        ),
        key=lambda v: (v[1], v[2]),
    )
    assert visits == [
        (SUPERVISOR, D("2026-10-01"), D("2026-10-01")),
        (SUPERVISOR, D("2026-11-01"), D("2026-11-01")),  # both supervised it in November: each owes its visit
        (new, D("2026-11-01"), D("2026-11-15")),
        (new, D("2026-12-01"), D("2026-12-01")),
    ]
