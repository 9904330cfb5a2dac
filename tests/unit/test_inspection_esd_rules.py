"""The inspection rules for ESD (DOMAIN §9, issue 17 item 5) as tables: the cadence per scheme and its defaults,
the scheme of an inspection, referrals on a supervision support organization, and when a quarterly audit report
is due and overdue, at every boundary day."""

from datetime import date, timedelta
from uuid import uuid4

import pytest

from contracts.inspection import InspectionReason, InspectionScheduled, TargetType
from contracts.registry import Scheme
from services.inspection.app import InspectionSettings
from services.inspection.domain import inspection as ins
from services.inspection.domain.filings import (
    AuditReport,
    QuarterlyAuditDuty,
    audit_report_due,
    is_audit_report_overdue,
    last_quarter_reported,
    supported_on,
)
from services.inspection.domain.rules import Cadence
from shared.errors import DomainRuleViolation

SO, IO = TargetType.SUPERVISING_ORGANIZATION, TargetType.IMPLEMENTING_ORGANIZATION
SSO = TargetType.SUPERVISION_SUPPORT_ORGANIZATION
TITP, ESD = Scheme.TITP, Scheme.ESD
D = date.fromisoformat
DAY = timedelta(days=1)


def then(state, events):
    for event in events:
        state = ins.evolve(state, event)
    return state


# The cadence per scheme.


@pytest.mark.parametrize(
    "cadence, target_type, scheme, years",
    [
        (Cadence(), SO, TITP, 1),
        (Cadence(), IO, TITP, 3),
        (Cadence(), SSO, ESD, 1),  # by default as a supervising organization
        (Cadence(), SSO, TITP, 1),  # a support organization is ESD whatever it is asked with
        (Cadence(), IO, ESD, 3),  # by default as an implementing organization
        (Cadence(supervising_organization_years=2), SSO, ESD, 2),  # unset: follows the TITP number
        (Cadence(implementing_organization_years=4), IO, ESD, 4),
        (Cadence(esd_support_organization_years=2), SSO, ESD, 2),
        (Cadence(esd_support_organization_years=2), SO, TITP, 1),  # TITP unchanged
        (Cadence(esd_implementing_organization_years=2), IO, ESD, 2),
        (Cadence(esd_implementing_organization_years=2), IO, TITP, 3),
    ],
)
def test_the_cadence_is_per_scheme_and_defaults_to_titps(cadence, target_type, scheme, years):
    assert cadence.years(target_type, scheme) == years
    assert cadence.next_due(target_type, D("2027-04-01"), scheme) == D("2027-04-01").replace(year=2027 + years)


@pytest.mark.parametrize(
    "env, cadence",
    [
        ({}, Cadence(1, 3, None, None, 3)),
        ({"TITP_INSPECTION_ESD_SUPPORT_ORGANIZATION_YEARS": "2"}, Cadence(1, 3, 2, None, 3)),
        ({"TITP_INSPECTION_ESD_IMPLEMENTING_ORGANIZATION_YEARS": "5"}, Cadence(1, 3, None, 5, 3)),
        ({"TITP_INSPECTION_QUARTERLY_AUDIT_REPORT_MONTHS": "4"}, Cadence(1, 3, None, None, 4)),
        ({"TITP_INSPECTION_ESD_SUPPORT_ORGANIZATION_YEARS": ""}, Cadence(1, 3, None, None, 3)),  # empty: unset
    ],
)
def test_the_esd_numbers_are_settings(monkeypatch, env, cadence):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert InspectionSettings().cadence() == cadence


@pytest.mark.parametrize(
    "name", ["TITP_INSPECTION_ESD_SUPPORT_ORGANIZATION_YEARS", "TITP_INSPECTION_QUARTERLY_AUDIT_REPORT_MONTHS"]
)
@pytest.mark.parametrize("value", ["0", "13", "x"])
def test_a_setting_out_of_range_is_refused(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError):
        InspectionSettings()


# The scheme of an inspection.


@pytest.mark.parametrize(
    "target_type, reason, scheme, since, shown, due_by",
    [
        (SSO, InspectionReason.PERMIT_GRANTED, ESD, D("2026-06-01"), ESD, D("2027-06-01")),
        (SSO, InspectionReason.PERMIT_GRANTED, TITP, D("2026-06-01"), ESD, D("2027-06-01")),
        (IO, InspectionReason.FIRST_CERTIFIED_PLAN, ESD, D("2027-04-01"), ESD, D("2030-04-01")),
        (IO, InspectionReason.FIRST_CERTIFIED_PLAN, TITP, D("2026-07-15"), TITP, D("2029-07-15")),
        (SO, InspectionReason.PERMIT_GRANTED, ESD, D("2026-05-01"), TITP, D("2027-05-01")),  # a TITP permit
    ],
)
def test_the_first_inspection_shows_its_scheme(target_type, reason, scheme, since, shown, due_by):
    first = ins.first_inspection(target_type, uuid4(), reason, since, Cadence(), scheme)
    state = then(ins.Inspection(), ins.schedule(ins.Inspection(), first))
    assert (state.scheme, state.due_by, state.target_type) == (shown, due_by, target_type)


def test_an_inspection_recorded_before_esd_reads_as_titp():
    old = InspectionScheduled.model_validate(
        {
            "target_type": "implementing_organization",
            "target_id": str(uuid4()),
            "reason": "first_certified_plan",
            "scheduled_on": "2025-05-01",
            "due_by": "2028-05-01",
        }
    )
    assert old.scheme is TITP and ins.evolve(ins.Inspection(), old).scheme is TITP


def _completed(target_type, scheme, inspected_on=D("2028-04-10")) -> ins.Inspection:
    first = ins.first_inspection(
        target_type, uuid4(), InspectionReason.FIRST_CERTIFIED_PLAN, D("2027-04-01"), Cadence(), scheme
    )
    state = then(ins.Inspection(), ins.schedule(ins.Inspection(), first))
    return then(
        state,
        ins.complete(
            state,
            uuid4(),
            inspected_on=inspected_on,
            inspector="Kato",
            findings=(),
            outcome="no_finding",
            improvement_report_due=None,
            referral=None,
            referral_id=uuid4(),
        ),
    )


@pytest.mark.parametrize(
    "target_type, previous, now, cadence, scheme, due_by",
    [
        (IO, TITP, None, Cadence(), TITP, D("2031-04-10")),  # as before
        (IO, ESD, None, Cadence(esd_implementing_organization_years=2), ESD, D("2030-04-10")),  # carried on
        # an employer whose schedule began with a TITP plan turns ESD with its first ESD plan: one schedule
        (IO, TITP, ESD, Cadence(esd_implementing_organization_years=2), ESD, D("2030-04-10")),
        (SSO, ESD, TITP, Cadence(esd_support_organization_years=2), ESD, D("2030-04-10")),
    ],
)
def test_the_next_inspection_follows_the_organizations_scheme(target_type, previous, now, cadence, scheme, due_by):
    following = ins.next_inspection(_completed(target_type, previous), uuid4(), cadence, now)
    assert following is not None and (following.scheme, following.due_by) == (scheme, due_by)


@pytest.mark.parametrize(
    "action, refused",
    [
        ("improvement_order", None),
        ("suspension", None),
        ("permit_revocation", None),
        ("plan_revocation", "referral.action_for_target"),  # a support organization has no plans
    ],
)
def test_a_supervision_support_organization_is_referred_like_a_supervising_organization(action, refused):
    first = ins.first_inspection(SSO, uuid4(), InspectionReason.PERMIT_GRANTED, D("2026-06-01"), Cadence(), ESD)
    state = then(ins.Inspection(), ins.schedule(ins.Inspection(), first))
    breach = ins.Finding(code="supervision_not_performed", legal_breach=True, description="no audits for a year")
    referral = ins.Referral(
        action=action,
        reason="audits not performed",
        deadline=D("2027-08-31"),
        from_date=D("2027-06-01"),
        until_date=D("2027-08-31"),
        scope="all",
        ground="law_breached",
    )

    def decide():
        return ins.complete(
            state,
            uuid4(),
            inspected_on=D("2027-05-10"),
            inspector="Kato",
            findings=(breach,),
            outcome="referral",
            improvement_report_due=None,
            referral=referral,
            referral_id=uuid4(),
        )

    if refused is None:
        referred = decide()[-1]
        assert (referred.target_type, referred.action) == (SSO, action)
    else:
        with pytest.raises(DomainRuleViolation) as refusal:
            decide()
        assert refusal.value.rule == refused


# Quarterly audit reports: due and overdue.


@pytest.mark.parametrize(
    "supported_from, last_quarter_ending, months, due",
    [
        (D("2027-04-01"), None, 3, D("2027-07-01")),  # nothing reported: 3 months after the support began
        (D("2027-04-01"), D("2027-06-30"), 3, D("2027-09-30")),  # 3 months after the last quarter's end
        (D("2027-04-01"), D("2027-03-31"), 3, D("2027-07-01")),  # a quarter before the support: the start counts
        (D("2026-01-01"), D("2026-11-30"), 3, D("2027-02-28")),  # no 30 Feb: the month's last day
        (D("2026-01-01"), D("2027-11-30"), 3, D("2028-02-29")),  # a leap year
        (D("2026-01-01"), D("2027-08-31"), 3, D("2027-11-30")),
        (D("2027-04-01"), D("2027-06-30"), 4, D("2027-10-30")),  # configurable
    ],
)
def test_the_next_report_is_due_months_after_the_last_reported_quarter(
    supported_from, last_quarter_ending, months, due
):
    assert audit_report_due(supported_from, last_quarter_ending, months) == due


REPORTS = (AuditReport(D("2027-06-30"), filed_on=D("2027-07-01")), AuditReport(D("2027-09-30"), D("2027-10-15")))


@pytest.mark.parametrize(
    "day, last",
    [
        (D("2027-06-30"), None),
        (D("2027-07-01"), D("2027-06-30")),  # counts from the day it was filed
        (D("2027-10-14"), D("2027-06-30")),
        (D("2027-10-15"), D("2027-09-30")),
    ],
)
def test_a_report_counts_from_the_day_it_is_filed(day, last):
    assert last_quarter_reported(day, REPORTS) == last


@pytest.mark.parametrize(
    "day, supported",
    [(D("2027-03-31"), False), (D("2027-04-01"), True), (D("2027-12-31"), True), (D("2028-01-01"), False)],
)
def test_the_support_runs_from_its_first_day_until_the_day_it_ends(day, supported):
    assert supported_on(day, supported_from=D("2027-04-01"), supported_until=D("2028-01-01")) is supported


DUTY = QuarterlyAuditDuty(uuid4(), uuid4(), supported_from=D("2027-04-01"), reports=REPORTS)  # due 07-01, 09-30, 12-30


@pytest.mark.parametrize(
    "duty, day, due, overdue",
    [
        (DUTY, D("2027-04-01"), D("2027-07-01"), False),
        (DUTY, D("2027-07-01"), D("2027-09-30"), False),  # the first report, filed on its due day: on time
        (DUTY, D("2027-09-30"), D("2027-09-30"), False),  # the due day itself
        (DUTY, D("2027-10-01"), D("2027-09-30"), True),  # the day after
        (DUTY, D("2027-10-14"), D("2027-09-30"), True),
        (DUTY, D("2027-10-15"), D("2027-12-30"), False),  # the late report arrived
        (DUTY, D("2027-12-31"), D("2027-12-30"), True),
        (
            QuarterlyAuditDuty(uuid4(), uuid4(), D("2027-04-01"), D("2027-10-01"), REPORTS),
            D("2027-09-30"),
            D("2027-09-30"),
            False,
        ),  # due that day, support ends the next
        (
            QuarterlyAuditDuty(uuid4(), uuid4(), D("2027-04-01"), D("2027-10-01"), REPORTS),
            D("2027-10-01"),
            D("2027-09-30"),
            False,
        ),  # it ended: owed no more
        (
            QuarterlyAuditDuty(uuid4(), uuid4(), D("2027-04-01"), D("2027-10-02"), REPORTS),
            D("2027-10-01"),
            D("2027-09-30"),
            True,
        ),  # ended the day after
        (QuarterlyAuditDuty(uuid4(), uuid4(), D("2026-11-30")), D("2027-02-28"), D("2027-02-28"), False),
        (QuarterlyAuditDuty(uuid4(), uuid4(), D("2026-11-30")), D("2027-03-01"), D("2027-02-28"), True),
    ],
)
def test_a_report_is_overdue_from_the_day_after_it_is_due(duty, day, due, overdue):
    assert (duty.due_on(day), duty.overdue_on(day)) == (due, overdue)


@pytest.mark.parametrize(
    "months, day, overdue", [(3, D("2027-07-02"), True), (4, D("2027-07-02"), False), (4, D("2027-08-02"), True)]
)
def test_the_report_period_is_configurable(months, day, overdue):
    assert (
        is_audit_report_overdue(
            day, supported_from=D("2027-04-01"), supported_until=None, last_quarter_ending=None, months=months
        )
        is overdue
    )
