"""The supervision support organization's permit (ESD, DOMAIN §9) as tables, at every boundary: the standards
checked at grant (non-profit, external auditor, 2 staff, fewer than 8 employers and 40 workers per staff member,
2 member employers), validity 3 or 5 years, renewal 6 to 3 months before expiry, the quarterly audit reports (a
quarter of the workers interviewed, late after 3 months), the supervision of employers per scheme, and the
numbers as configured."""

from dataclasses import replace
from datetime import date
from fractions import Fraction
from uuid import UUID, uuid4

import pytest

from contracts.registry import (
    BusinessSuspended,
    ImplementingOrganizationRegistered,
    ImprovementOrderIssued,
    PermitExpired,
    PermitRevoked,
    QuarterlyAuditReportFiled,
    RevocationGround,
    Scheme,
    SupervisingOffice,
    SupervisionChanged,
    SupervisionSupportApplication,
    TrainingType,
)
from services.registry.app import RegistrySettings
from services.registry.domain import implementing_organization as io
from services.registry.domain import supervision_support_organization as sso
from services.registry.domain.permit import Lifecycle
from services.registry.domain.rules import SUPERVISION_SUPPORT, SupervisionSupportRules, is_quarter_end
from shared.errors import DomainRuleViolation
from tests.helpers import corporate_number

D = date.fromisoformat
RULES = SUPERVISION_SUPPORT
SUPPORT_ID = UUID("5d0b6a4e-8c1f-4b7a-9e2d-3f4a5b6c7d8e")


def application(**changes) -> SupervisionSupportApplication:
    facts = {
        "name": "Sakura Business Cooperative",
        "corporate_number": corporate_number(123456789012),  # with its check digit
        "address": "1-2-3 Chiyoda, Tokyo",
        "prefecture": "13",  # Tokyo's JIS X 0401 code
        "representative": "Yamada Taro",
        "offices": (SupervisingOffice(name="HQ", address="Tokyo", supervision_manager="Suzuki"),),
        "job_categories": ("construction",),
        "non_profit": True,
        "external_auditor": "Tanaka Law Office",
        "full_time_staff": 2,
        "member_employers": 2,
        "workers": 10,
    }
    return SupervisionSupportApplication(**{**facts, **changes})


def then(state, events):
    for event in events:
        state = sso.evolve(state, event)
    return state


def applied(**changes) -> sso.SupervisionSupportOrganization:
    new = sso.SupervisionSupportOrganization()
    return then(new, sso.apply_for_permit(new, application(**changes), D("2026-06-01")))


def granted(on: str = "2026-09-01", excellent: bool = False, rules=RULES) -> sso.SupervisionSupportOrganization:
    state = applied()
    return then(state, sso.grant_permit(state, D(on), excellent, rules))


def refused(decide) -> str:
    with pytest.raises(DomainRuleViolation) as refusal:
        decide()
    return refusal.value.rule


# The standards, checked at grant.


@pytest.mark.parametrize(
    "changes, rule",
    [
        ({}, None),
        ({"non_profit": False}, "supervision_support.non_profit"),
        ({"external_auditor": "  "}, "supervision_support.external_auditor"),
        ({"full_time_staff": 1, "member_employers": 2, "workers": 10}, "supervision_support.full_time_staff"),
        ({"full_time_staff": 0, "member_employers": 0, "workers": 0}, "supervision_support.full_time_staff"),
        # Fewer than 8 employers per full-time staff member: 2 staff support 15, not 16; 3 staff 23, not 24.
        ({"full_time_staff": 2, "member_employers": 15}, None),
        ({"full_time_staff": 2, "member_employers": 16}, "supervision_support.employers_per_staff"),
        ({"full_time_staff": 3, "member_employers": 23}, None),
        ({"full_time_staff": 3, "member_employers": 24}, "supervision_support.employers_per_staff"),
        # Fewer than 40 workers per full-time staff member: 2 staff support 79, not 80.
        ({"full_time_staff": 2, "workers": 79}, None),
        ({"full_time_staff": 2, "workers": 80}, "supervision_support.workers_per_staff"),
        ({"full_time_staff": 5, "member_employers": 39, "workers": 199}, None),
        ({"full_time_staff": 5, "member_employers": 39, "workers": 200}, "supervision_support.workers_per_staff"),
        # At least 2 member employers.
        ({"member_employers": 1}, "supervision_support.member_employers"),
        ({"member_employers": 0, "workers": 0}, "supervision_support.member_employers"),
    ],
)
def test_a_permit_is_granted_only_to_an_organization_meeting_the_standards(changes, rule):
    state = applied(**changes)
    if rule is None:
        assert sso.grant_permit(state, D("2026-09-01"), False, RULES)
    else:
        assert refused(lambda: sso.grant_permit(state, D("2026-09-01"), False, RULES)) == rule
        # Check: the standards are the grant's; the application itself is taken.
        assert state.lifecycle is Lifecycle.APPLIED


def test_a_grant_or_denial_needs_a_pending_application_filed_before_it():
    state = applied()
    assert refused(lambda: sso.grant_permit(state, D("2026-05-31"), False, RULES)) == (
        "permit.granted_before_application"
    )
    assert refused(lambda: sso.grant_permit(granted(), D("2026-10-01"), False, RULES)) == "permit.not_pending"
    assert refused(lambda: sso.deny_permit(granted(), "x")) == "permit.not_pending"
    denied = then(state, sso.deny_permit(state, "no external audit contract"))
    assert denied.lifecycle is Lifecycle.DENIED and denied.denial_reason == "no external audit contract"
    assert refused(lambda: sso.apply_for_permit(denied, application(), D("2026-07-01"))) == "application.already_filed"


# Validity and renewal.


@pytest.mark.parametrize(
    "granted_on, excellent, expires_on",
    [
        ("2026-09-01", False, "2029-08-31"),  # 3 years, ending the day before the anniversary
        ("2026-09-01", True, "2031-08-31"),  # 5 if excellent
        ("2027-04-01", False, "2030-03-31"),
        ("2028-02-29", True, "2033-02-28"),  # no 29 Feb in 2033: its last day (Civil Code Art. 143(2))
        ("2028-02-29", False, "2031-02-28"),
    ],
)
def test_a_permit_is_valid_for_3_years_or_5_if_excellent(granted_on, excellent, expires_on):
    state = granted(granted_on, excellent)
    assert (state.granted_on, state.expires_on, state.excellent) == (D(granted_on), D(expires_on), excellent)


@pytest.mark.parametrize(
    "applied_on, renewed_on, rule",
    [
        # The last day is 31 Aug 2029: a renewal is applied for from 28 Feb 2029 (6 months before; February has
        # no 31st) to 31 May 2029 (3 months before).
        ("2029-02-27", "2029-06-15", "renewal.applied_too_early"),
        ("2029-02-28", "2029-06-15", None),
        ("2029-05-31", "2029-06-15", None),
        ("2029-06-01", "2029-06-15", "renewal.applied_too_late"),
        ("2029-08-31", "2029-08-31", "renewal.applied_too_late"),
        ("2029-09-01", "2029-09-02", "renewal.permit_expired"),  # an expired permit: apply anew
        ("2029-05-01", "2029-09-01", "renewal.permit_expired"),  # decided after the last day
        ("2029-05-01", "2029-04-30", "renewal.decided_before_application"),
    ],
)
def test_a_renewal_is_applied_for_between_6_and_3_months_before_expiry(applied_on, renewed_on, rule):
    state = granted("2026-09-01")
    decide = lambda: sso.renew_permit(state, D(renewed_on), False, RULES, D(applied_on))  # noqa: E731
    if rule is None:
        assert decide()
    else:
        assert refused(decide) == rule


@pytest.mark.parametrize("excellent, expires_on", [(False, "2032-08-31"), (True, "2034-08-31")])
def test_a_renewal_runs_on_from_the_day_after_the_old_expiry_for_3_or_5_years(excellent, expires_on):
    state = granted("2026-09-01")
    state = then(state, sso.renew_permit(state, D("2029-06-15"), excellent, RULES, D("2029-04-01")))
    assert (state.valid_from, state.expires_on, state.renewals, state.excellent) == (
        D("2029-09-01"),
        D(expires_on),
        1,
        excellent,
    )


def test_an_expired_permit_cannot_be_renewed_and_expiry_is_recorded_after_the_last_day_only():
    state = granted("2026-09-01")
    assert sso.record_expiry(state, D("2029-08-31")) == []
    assert (sso.status_on(state, D("2029-08-31")), sso.status_on(state, D("2029-09-01"))) == ("active", "expired")
    [expired] = sso.record_expiry(state, D("2029-09-01"))
    assert isinstance(expired, PermitExpired) and expired.expired_on == D("2029-09-01")
    state = then(state, [expired])
    assert refused(lambda: sso.renew_permit(state, D("2029-06-01"), False, RULES, D("2029-04-01"))) == (
        "renewal.permit_expired"
    )


# Where the law is the same as for a TITP permit: the same rules and the same events.


def test_suspension_revocation_and_improvement_orders_are_the_titp_permits():
    state = granted("2026-09-01")
    order = uuid4()
    [issued] = sso.issue_improvement_order(state, order, D("2027-05-01"), D("2027-08-01"), "records")
    assert isinstance(issued, ImprovementOrderIssued)
    state = then(state, [issued])
    assert sso.status_on(state, D("2027-06-01")) == "improvement_ordered" and sso.permit_in_force(
        state, D("2027-06-01")
    )
    state = then(state, sso.close_improvement_order(state, order, D("2027-07-01")))
    # Art. 37(3), applied to ESD permits: a suspension rests on ground 1, 3, 4 or 5 of Art. 37(1)
    assert refused(
        lambda: sso.suspend_business(state, uuid4(), D("2027-09-01"), D("2027-10-31"), "all", None, "x")
    ) == ("suspension.ground_required")
    assert refused(
        lambda: sso.suspend_business(
            state, uuid4(), D("2027-09-01"), D("2027-10-31"), "all", None, "x", RevocationGround.DISQUALIFIED
        )
    ) == ("suspension.ground_not_allowed")
    [suspended] = sso.suspend_business(
        state, uuid4(), D("2027-09-01"), D("2027-10-31"), "all", None, "x", RevocationGround.STANDARDS_NOT_MET
    )
    assert isinstance(suspended, BusinessSuspended)
    state = then(state, [suspended])
    assert sso.status_on(state, D("2027-10-01")) == "suspended" and not sso.permit_in_force(state, D("2027-10-01"))
    assert refused(
        lambda: sso.suspend_business(
            state, uuid4(), D("2027-10-31"), D("2027-11-30"), "all", None, "y", RevocationGround.LAW_BREACHED
        )
    ) == ("suspension.overlaps")
    [revoked] = sso.revoke_permit(state, D("2028-01-10"), RevocationGround.LAW_BREACHED, "unpaid wages")
    assert isinstance(revoked, PermitRevoked)
    state = then(state, [revoked])
    assert sso.status_on(state, D("2028-01-11")) == "revoked"
    assert refused(lambda: sso.revoke_permit(state, D("2028-02-01"), RevocationGround.WRONGFUL_ACT, "x")) == (
        "permit.revoked"
    )
    assert refused(lambda: sso.renew_permit(state, D("2029-06-01"), False, RULES, D("2029-04-01"))) == (
        "permit.revoked"
    )


# The quarterly audit reports.


def employer(*changes: tuple[UUID, str], training_type: TrainingType = TrainingType.B) -> io.ImplementingOrganization:
    """An employer registered on 2026-05-10 (type b under a TITP supervising organization), then supported under
    ESD by each (organization, from) in turn."""
    state = io.evolve(
        io.ImplementingOrganization(),
        ImplementingOrganizationRegistered(
            name="Fuji Construction",
            corporate_number=corporate_number(876543210987),
            address="Nagoya",
            prefecture="23",  # Aichi
            industry="construction",
            training_type=training_type,
            supervising_organization_id=uuid4() if training_type is TrainingType.B else None,
            full_time_staff=35,
            staff_as_of=D("2026-04-01"),
            excellent=False,
            registered_on=D("2026-05-10"),
        ),
    )
    for organization, since in changes:
        change = SupervisionChanged(
            supervising_organization_id=organization, scheme=Scheme.ESD, effective_from=D(since)
        )
        state = io.evolve(state, change)
    return state


def report(**changes) -> QuarterlyAuditReportFiled:
    facts = {
        "report_id": uuid4(),
        "implementing_organization_id": uuid4(),
        "quarter_ending": D("2027-06-30"),
        "filed_on": D("2027-07-20"),
        "workers": 12,
        "workers_interviewed": 3,
    }
    return QuarterlyAuditReportFiled(**{**facts, **changes})


SUPPORTED = employer((SUPPORT_ID, "2027-04-01"))


@pytest.mark.parametrize(
    "workers, interviewed, rule",
    [
        (12, 3, None),  # a quarter
        (12, 2, "audit_report.too_few_interviews"),
        (13, 4, None),  # a quarter of 13 is 3.25: 4
        (13, 3, "audit_report.too_few_interviews"),
        (4, 1, None),
        (1, 1, None),
        (1, 0, "audit_report.too_few_interviews"),
        (0, 0, None),  # no ESD workers yet
        (12, 13, "audit_report.interviews_exceed_workers"),
    ],
)
def test_an_audit_interviews_at_least_a_quarter_of_the_workers(workers, interviewed, rule):
    state = granted("2026-09-01")
    filed = report(workers=workers, workers_interviewed=interviewed)
    decide = lambda: sso.file_audit_report(state, filed, SUPPORT_ID, SUPPORTED, RULES)  # noqa: E731
    if rule is None:
        assert decide() == [filed]
    else:
        assert refused(decide) == rule


@pytest.mark.parametrize(
    "quarter_ending, filed_on, due_by, late",
    [
        ("2027-06-30", "2027-07-01", "2027-09-30", False),
        ("2027-06-30", "2027-09-30", "2027-09-30", False),  # 3 months after the quarter's end: still on time
        ("2027-06-30", "2027-10-01", "2027-09-30", True),
        ("2027-09-30", "2027-12-31", "2027-12-31", False),  # counted from 1 Oct: to 31 Dec, not 30 Dec
        ("2027-09-30", "2028-01-01", "2027-12-31", True),
        ("2027-12-31", "2028-03-31", "2028-03-31", False),
        ("2027-12-31", "2028-04-01", "2028-03-31", True),
        ("2028-03-31", "2028-06-30", "2028-06-30", False),
        ("2028-03-31", "2028-07-01", "2028-06-30", True),
    ],
)
def test_a_report_is_late_when_filed_more_than_3_months_after_the_quarters_end(quarter_ending, filed_on, due_by, late):
    assert RULES.audit_report_due_by(D(quarter_ending)) == D(due_by)
    assert RULES.audit_report_late(D(quarter_ending), D(filed_on)) is late
    # Check: a late report is still recorded (late is what it shows, not a refusal).
    state = granted("2026-09-01")
    filed = report(quarter_ending=D(quarter_ending), filed_on=D(filed_on))
    assert sso.file_audit_report(state, filed, SUPPORT_ID, SUPPORTED, RULES) == [filed]


@pytest.mark.parametrize(
    "changes, supported_by, rule",
    [
        ({"quarter_ending": D("2027-06-29")}, SUPPORTED, "audit_report.not_a_quarter_end"),
        ({"quarter_ending": D("2027-07-31")}, SUPPORTED, "audit_report.not_a_quarter_end"),
        ({"filed_on": D("2027-03-31")}, SUPPORTED, "audit_report.filed_before_quarter"),
        ({"filed_on": D("2027-04-01")}, SUPPORTED, None),
        ({"quarter_ending": D("2026-06-30"), "filed_on": D("2026-07-10")}, SUPPORTED, "audit_report.no_permit"),
        ({}, employer(), "audit_report.employer_not_supported"),  # supported by no one under ESD
        ({}, io.ImplementingOrganization(), "audit_report.employer_not_supported"),  # not registered
        ({}, employer((uuid4(), "2027-04-01")), "audit_report.employer_not_supported"),  # by another one
        ({}, employer((SUPPORT_ID, "2027-07-01")), "audit_report.employer_not_supported"),  # only from after it
        ({}, employer((SUPPORT_ID, "2027-06-30")), None),  # from the quarter's last day
        ({}, employer((SUPPORT_ID, "2027-01-01"), (uuid4(), "2027-04-02")), None),  # its first day in the quarter
        ({}, employer((SUPPORT_ID, "2027-01-01"), (uuid4(), "2027-04-01")), "audit_report.employer_not_supported"),
    ],
)
def test_a_report_is_of_a_quarter_of_an_employer_this_organization_supports(changes, supported_by, rule):
    state = granted("2026-09-01")
    filed = report(**changes)
    decide = lambda: sso.file_audit_report(state, filed, SUPPORT_ID, supported_by, RULES)  # noqa: E731
    if rule is None:
        assert decide() == [filed]
    else:
        assert refused(decide) == rule


def test_one_report_per_employer_and_quarter():
    state = granted("2026-09-01")
    employer_id = uuid4()
    state = then(
        state,
        sso.file_audit_report(state, report(implementing_organization_id=employer_id), SUPPORT_ID, SUPPORTED, RULES),
    )
    again = report(implementing_organization_id=employer_id, filed_on=D("2027-08-01"))
    assert refused(lambda: sso.file_audit_report(state, again, SUPPORT_ID, SUPPORTED, RULES)) == (
        "audit_report.already_filed"
    )
    next_quarter = report(implementing_organization_id=employer_id, quarter_ending=D("2027-09-30"))
    assert sso.file_audit_report(state, next_quarter, SUPPORT_ID, SUPPORTED, RULES)
    assert len(state.audit_reports) == 1


@pytest.mark.parametrize(
    "day, end",
    [
        ("2027-03-31", True),
        ("2027-06-30", True),
        ("2027-09-30", True),
        ("2027-12-31", True),
        ("2027-06-29", False),
        ("2027-04-30", False),
        ("2028-02-29", False),
    ],
)
def test_quarter_ends(day, end):
    assert is_quarter_end(D(day)) is end


# The supervision of an employer, per scheme.


def support_permit(granted_on: str | None = "2026-09-01") -> sso.SupervisionSupportOrganization:
    return applied() if granted_on is None else granted(granted_on)


@pytest.mark.parametrize(
    "scheme, training_type, supervisor, since, rule",
    [
        (Scheme.ESD, TrainingType.B, lambda: support_permit(), "2027-04-01", None),
        (Scheme.ESD, TrainingType.A, lambda: support_permit(), "2027-04-01", None),  # an ESD employer of any type
        (Scheme.ESD, TrainingType.B, lambda: support_permit(), "2026-05-09", "supervision.before_registration"),
        (
            Scheme.ESD,
            TrainingType.B,
            lambda: sso.SupervisionSupportOrganization(),
            "2027-04-01",
            "supervision.organization_unknown",
        ),
        (Scheme.ESD, TrainingType.B, lambda: support_permit(None), "2027-04-01", "supervision.permit_not_in_force"),
        (
            Scheme.ESD,
            TrainingType.B,
            lambda: support_permit("2027-05-01"),
            "2027-04-30",
            "supervision.permit_not_in_force",
        ),  # before the grant
        (Scheme.ESD, TrainingType.B, lambda: support_permit("2027-05-01"), "2027-05-01", None),
        (Scheme.ESD, TrainingType.B, lambda: support_permit("2026-09-01"), "2029-08-31", None),  # its last day
        (
            Scheme.ESD,
            TrainingType.B,
            lambda: support_permit("2026-09-01"),
            "2029-09-01",
            "supervision.permit_not_in_force",
        ),  # expired
        (Scheme.TITP, TrainingType.A, lambda: support_permit(), "2027-04-01", "supervision.enterprise_sponsored"),
    ],
)
def test_an_employer_is_supported_under_esd_by_an_organization_holding_a_permit_in_force(
    scheme, training_type, supervisor, since, rule
):
    state = employer(training_type=training_type)
    change = SupervisionChanged(supervising_organization_id=SUPPORT_ID, scheme=scheme, effective_from=D(since))
    decide = lambda: io.change_supervision(state, change, supervisor())  # noqa: E731
    if rule is None:
        assert decide() == [change]
    else:
        assert refused(decide) == rule


def test_supervision_is_kept_per_scheme_the_latest_by_date_current():
    state = employer()
    titp = state.supervision(Scheme.TITP)
    assert titp is not None and titp.effective_from == D("2026-05-10") and state.supervision(Scheme.ESD) is None
    later, earlier = uuid4(), uuid4()
    for organization, since in ((later, "2028-04-01"), (earlier, "2027-04-01")):  # a late report of an older date
        state = io.evolve(
            state,
            SupervisionChanged(supervising_organization_id=organization, scheme=Scheme.ESD, effective_from=D(since)),
        )
    esd = state.supervision(Scheme.ESD)
    assert esd is not None and esd.supervising_organization_id == later
    assert state.supervision(Scheme.TITP) == titp  # the other scheme's is unchanged
    assert state.supervised_during(Scheme.ESD, earlier, D("2028-01-01"), D("2028-03-31"))
    assert not state.supervised_during(Scheme.ESD, earlier, D("2028-04-01"), D("2028-06-30"))


# The numbers as configured.


def test_every_number_is_configurable_through_the_settings(monkeypatch):
    for name, value in {
        "MIN_FULL_TIME_STAFF": "3",
        "EMPLOYERS_PER_STAFF_BELOW": "6",
        "WORKERS_PER_STAFF_BELOW": "30",
        "MIN_MEMBER_EMPLOYERS": "3",
        "VALIDITY_YEARS": "4",
        "EXCELLENT_VALIDITY_YEARS": "6",
        "RENEWAL_EARLIEST_MONTHS": "5",
        "RENEWAL_LATEST_MONTHS": "2",
        "INTERVIEW_SHARE": "1/3",
        "AUDIT_REPORT_DUE_MONTHS": "2",
    }.items():
        monkeypatch.setenv(f"TITP_REGISTRY_ESD_{name}", value)
    book = RegistrySettings().supervision_support_rules()
    assert book == SupervisionSupportRules(3, 6, 30, 3, 4, 6, 5, 2, Fraction(1, 3), 2)
    # Check: the rules answer by them.
    assert refused(lambda: sso.grant_permit(applied(full_time_staff=2), D("2026-09-01"), False, book)) == (
        "supervision_support.full_time_staff"
    )
    assert (
        refused(lambda: sso.grant_permit(applied(full_time_staff=3, member_employers=18), D("2026-09-01"), False, book))
        == "supervision_support.employers_per_staff"
    )
    assert granted("2026-09-01", False, replace(book, min_full_time_staff=2, min_member_employers=2)).expires_on == (
        D("2030-08-31")
    )
    assert book.min_interviews(12) == 4 and book.audit_report_due_by(D("2027-06-30")) == D("2027-08-31")
    # Check: the defaults are DOMAIN §9's.
    assert SUPERVISION_SUPPORT == SupervisionSupportRules(2, 8, 40, 2, 3, 5, 6, 3, Fraction(1, 4), 3)


def test_a_renewal_window_that_closes_before_it_opens_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("TITP_REGISTRY_ESD_RENEWAL_EARLIEST_MONTHS", "2")
    with pytest.raises(ValueError, match="renewal window"):
        RegistrySettings()


@pytest.mark.parametrize(
    ("organization", "signed_on", "rule"),
    [
        (lambda: granted("2026-09-01"), date(2026, 9, 1), None),
        (lambda: granted("2026-09-01"), date(2026, 8, 31), "sending_agreement.permit_not_in_force"),
        (applied, date(2026, 9, 1), "sending_agreement.permit_not_in_force"),
    ],
)
def test_a_support_organization_signs_sending_agreements_under_its_esd_permit(organization, signed_on, rule):
    from contracts.registry import SendingAgreementSigned, SendingOrganizationApproved
    from services.registry.domain import sending_agreement as sa
    from services.registry.domain import sending_organization as sending

    approved = sending.evolve(
        sending.SendingOrganization(),
        SendingOrganizationApproved(
            name="Hanoi Manpower", country="VN", approval_reference="VN-1", approved_on=date(2026, 1, 10)
        ),
    )
    signature = SendingAgreementSigned(
        supervising_organization_id=uuid4(), sending_organization_id=uuid4(), signed_on=signed_on
    )

    def decide():
        return sa.sign_sending_agreement(sa.SendingAgreement(), signature, organization(), approved, None)

    if rule is None:
        assert decide() == [signature]
    else:
        assert refused(decide) == rule
