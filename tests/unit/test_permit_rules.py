"""The permit rules of DOMAIN §2 as tables: validity, renewal timing, status on a day."""

from datetime import date
from uuid import uuid4

import pytest

from contracts.registry import Officer, PermitApplication, PermitType, RevocationGround, SupervisingOffice
from services.registry.domain import supervising_organization as so
from shared.dates import add_months
from shared.errors import DomainRuleViolation, NotFound
from tests.helpers import corporate_number

APPLICATION = PermitApplication(
    name="Sakura Cooperative",
    corporate_number=corporate_number(123456789012),  # with its check digit
    address="Tokyo",
    prefecture="13",  # Tokyo's JIS X 0401 code
    representative="Yamada",
    supervising_offices=(SupervisingOffice(name="HQ", address="Tokyo", supervision_manager="Suzuki"),),
    job_categories=("construction",),
    requested_permit_type=PermitType.GENERAL,
    external_auditor="Tanaka",
    officers=(Officer(name="Yamada Taro", address="1-1 Kanda, Chiyoda-ku, Tokyo", position="representative director"),),
)
# The ground a suspension rests on (Art. 37(3): grounds 1, 3, 4, 5 of Art. 37(1)).
GROUND = RevocationGround.LAW_BREACHED


def applied() -> so.SupervisingOrganization:
    return then(
        so.SupervisingOrganization(), so.apply_for_permit(so.SupervisingOrganization(), APPLICATION, date(2020, 1, 1))
    )


def granted(permit_type: PermitType, on: date) -> so.SupervisingOrganization:
    state = so.SupervisingOrganization()
    for decide in (
        lambda s: so.apply_for_permit(s, APPLICATION, date(2020, 1, 1)),
        # a general permit only to an organization meeting the excellence standard (Art. 25(1))
        lambda s: so.grant_permit(s, permit_type, on, meets_excellence_standard=permit_type is PermitType.GENERAL),
    ):
        for event in decide(state):
            state = so.evolve(state, event)
    return state


def then(state, events):
    for event in events:
        state = so.evolve(state, event)
    return state


@pytest.mark.parametrize(
    "permit_type, granted_on, expires_on",
    [
        (PermitType.GENERAL, date(2026, 5, 1), date(2031, 4, 30)),
        (PermitType.SPECIFIED, date(2026, 5, 1), date(2029, 4, 30)),
        # no 29 Feb in 2029: the period ends on February's last day (Civil Code Art. 143(2))
        (PermitType.GENERAL, date(2024, 2, 29), date(2029, 2, 28)),
        (PermitType.SPECIFIED, date(2026, 1, 1), date(2028, 12, 31)),
    ],
)
def test_a_new_permit_is_valid_for_5_years_general_or_3_specified(permit_type, granted_on, expires_on):
    assert granted(permit_type, granted_on).expires_on == expires_on


@pytest.mark.parametrize(
    "permit_type, excellent, years",
    [
        (PermitType.GENERAL, True, 7),
        (PermitType.GENERAL, False, 5),
        (PermitType.SPECIFIED, True, 5),
        (PermitType.SPECIFIED, False, 3),
    ],
)
def test_a_renewal_runs_on_from_the_old_expiry_for_the_years_of_the_table(permit_type, excellent, years):
    state = granted(permit_type, date(2026, 5, 1))
    [renewed] = so.renew_permit(state, date(2028, 1, 10), excellent, applied_on=date(2028, 1, 5))
    assert renewed.valid_from == date(state.expires_on.year, 5, 1)
    assert renewed.expires_on == date(state.expires_on.year + years, 4, 30)


@pytest.mark.parametrize(
    "applied_on, renewed_on, rule",
    [
        (date(2031, 1, 30), date(2031, 2, 1), None),  # exactly 3 months before the last day (30 Apr 2031)
        (date(2031, 1, 31), date(2031, 2, 1), "renewal.applied_too_late"),  # one day too late
        (date(2031, 4, 1), date(2031, 4, 2), "renewal.applied_too_late"),
        (date(2031, 5, 1), date(2031, 5, 2), "renewal.permit_expired"),  # after the last day: apply anew
        (date(2031, 1, 10), date(2031, 5, 1), "renewal.permit_expired"),  # decided after expiry
        (date(2030, 12, 1), date(2030, 11, 1), "renewal.decided_before_application"),
    ],
)
def test_renewal_must_be_applied_for_at_least_3_months_before_expiry(applied_on, renewed_on, rule):
    state = granted(PermitType.GENERAL, date(2026, 5, 1))  # last day 30 Apr 2031
    if rule is None:
        assert so.renew_permit(state, renewed_on, False, applied_on)
    else:
        with pytest.raises(DomainRuleViolation) as refused:
            so.renew_permit(state, renewed_on, False, applied_on)
        assert refused.value.rule == rule


def test_an_expired_permit_cannot_be_renewed_once_its_expiry_is_recorded():
    state = granted(PermitType.SPECIFIED, date(2026, 5, 1))
    state = then(state, so.record_expiry(state, date(2029, 5, 1)))
    assert state.lifecycle is so.Lifecycle.EXPIRED and state.expired_on == date(2029, 5, 1)
    with pytest.raises(DomainRuleViolation, match="apply for a new permit"):
        so.renew_permit(state, date(2029, 1, 1), True, date(2029, 1, 1))
    assert so.record_expiry(state, date(2030, 1, 1)) == []


def test_expiry_is_recorded_only_after_the_last_day():
    state = granted(PermitType.SPECIFIED, date(2026, 5, 1))
    assert so.record_expiry(state, date(2029, 4, 30)) == []
    assert so.status_on(state, date(2029, 4, 30)) == "active"
    assert so.status_on(state, date(2029, 5, 1)) == "expired"
    assert len(so.record_expiry(state, date(2029, 5, 1))) == 1


def test_status_on_a_day_follows_suspensions_orders_and_revocation():
    state = granted(PermitType.GENERAL, date(2026, 5, 1))
    state = then(
        state, so.suspend_business(state, uuid4(), date(2027, 1, 1), date(2027, 3, 31), "all", None, "x", ground=GROUND)
    )
    assert [
        so.status_on(state, d) for d in (date(2026, 12, 31), date(2027, 1, 1), date(2027, 3, 31), date(2027, 4, 1))
    ] == ["active", "suspended", "suspended", "active"]
    assert not so.permit_in_force(state, date(2027, 2, 1)) and so.permit_in_force(state, date(2027, 4, 1))
    order = uuid4()
    state = then(state, so.issue_improvement_order(state, order, date(2027, 5, 1), date(2027, 8, 1), "records"))
    assert so.status_on(state, date(2027, 6, 1)) == "improvement_ordered"
    assert so.permit_in_force(state, date(2027, 6, 1))
    state = then(state, so.close_improvement_order(state, order, date(2027, 7, 1)))
    assert so.status_on(state, date(2027, 7, 2)) == "active"
    state = then(state, so.revoke_permit(state, date(2027, 9, 1), RevocationGround.LAW_BREACHED, "wages unpaid"))
    assert so.status_on(state, date(2027, 9, 2)) == "revoked"
    assert not so.permit_in_force(state, date(2027, 9, 2))


@pytest.mark.parametrize(
    "command, rule",
    [
        (lambda s: so.revoke_permit(s, date(2027, 10, 1), RevocationGround.WRONGFUL_ACT, "again"), "permit.revoked"),
        (lambda s: so.renew_permit(s, date(2027, 10, 1), True), "permit.revoked"),
        (lambda s: so.downgrade_permit(s, date(2027, 10, 1)), "permit.revoked"),
        (
            lambda s: so.suspend_business(
                s, uuid4(), date(2027, 10, 1), date(2027, 11, 1), "all", None, "x", ground=GROUND
            ),
            "permit.revoked",
        ),
        (lambda s: so.grant_permit(s, PermitType.GENERAL, date(2027, 10, 1), True), "permit.not_pending"),
    ],
)
def test_a_revoked_permit_is_final(command, rule):
    state = granted(PermitType.GENERAL, date(2026, 5, 1))
    state = then(state, so.revoke_permit(state, date(2027, 9, 1), RevocationGround.DISQUALIFIED, "x"))
    with pytest.raises(DomainRuleViolation) as refused:
        command(state)
    assert refused.value.rule == rule


@pytest.mark.parametrize(
    "state_of, command, rule",
    [
        (
            lambda: so.SupervisingOrganization(),
            lambda s: so.grant_permit(s, PermitType.GENERAL, date(2026, 1, 1), True),
            "permit.not_pending",
        ),
        (
            lambda: granted(PermitType.SPECIFIED, date(2026, 5, 1)),
            lambda s: so.downgrade_permit(s, date(2027, 1, 1)),
            "downgrade.not_general",
        ),
        (
            lambda: granted(PermitType.GENERAL, date(2026, 5, 1)),
            lambda s: so.issue_improvement_order(s, uuid4(), date(2027, 1, 1), date(2027, 1, 1), "x"),
            "improvement_order.deadline_not_after_issue",
        ),
        (
            lambda: granted(PermitType.GENERAL, date(2026, 5, 1)),
            lambda s: so.suspend_business(
                s, uuid4(), date(2027, 2, 1), date(2027, 1, 1), "all", None, "x", ground=GROUND
            ),
            "suspension.ends_before_start",
        ),
        (
            lambda: granted(PermitType.GENERAL, date(2026, 5, 1)),
            lambda s: so.suspend_business(
                s, uuid4(), date(2027, 1, 1), date(2027, 2, 1), "part", None, "x", ground=GROUND
            ),
            "suspension.part_unnamed",
        ),
        (
            lambda: granted(PermitType.GENERAL, date(2026, 5, 1)),
            lambda s: so.revoke_permit(s, date(2026, 4, 1), RevocationGround.WRONGFUL_ACT, "x"),
            "permit.not_yet_granted",
        ),
        (
            lambda: granted(PermitType.SPECIFIED, date(2026, 5, 1)),
            lambda s: so.suspend_business(
                s, uuid4(), date(2029, 5, 1), date(2029, 6, 1), "all", None, "x", ground=GROUND
            ),
            "permit.expired",
        ),
        # DOMAIN §11 (issue 19): what an application must say, the excellence standard, a suspension's ground
        (
            lambda: so.SupervisingOrganization(),
            lambda s: so.apply_for_permit(
                s, APPLICATION.model_copy(update={"corporate_number": "1234567890123"}), date(2020, 1, 1)
            ),
            "corporate_number.check_digit",
        ),
        (
            lambda: so.SupervisingOrganization(),
            lambda s: so.apply_for_permit(
                s, APPLICATION.model_copy(update={"prefecture": "Atlantis"}), date(2020, 1, 1)
            ),
            "prefecture.unknown",
        ),
        (
            lambda: so.SupervisingOrganization(),
            lambda s: so.apply_for_permit(s, APPLICATION.model_copy(update={"officers": ()}), date(2020, 1, 1)),
            "application.officers_required",
        ),
        (applied, lambda s: so.grant_permit(s, PermitType.GENERAL, date(2026, 5, 1)), "permit.excellence_required"),
        (
            applied,
            lambda s: so.grant_permit(s, PermitType.GENERAL, date(2026, 5, 1), False),
            "permit.excellence_required",
        ),
        (
            lambda: granted(PermitType.GENERAL, date(2026, 5, 1)),
            lambda s: so.suspend_business(s, uuid4(), date(2027, 1, 1), date(2027, 2, 1), "all", None, "x"),
            "suspension.ground_required",
        ),
        (
            lambda: granted(PermitType.GENERAL, date(2026, 5, 1)),
            lambda s: so.suspend_business(
                s, uuid4(), date(2027, 1, 1), date(2027, 2, 1), "all", None, "x", ground=RevocationGround.DISQUALIFIED
            ),
            "suspension.ground_not_allowed",
        ),
    ],
)
def test_each_refusal_names_its_rule(state_of, command, rule):
    with pytest.raises(DomainRuleViolation) as refused:
        command(state_of())
    assert refused.value.rule == rule


def test_overlapping_suspensions_are_refused():
    state = granted(PermitType.GENERAL, date(2026, 5, 1))
    state = then(
        state, so.suspend_business(state, uuid4(), date(2027, 1, 1), date(2027, 3, 31), "all", None, "x", ground=GROUND)
    )
    with pytest.raises(DomainRuleViolation) as refused:
        so.suspend_business(
            state, uuid4(), date(2027, 3, 31), date(2027, 5, 1), "part", "new trainees", "y", ground=GROUND
        )
    assert refused.value.rule == "suspension.overlaps"


@pytest.mark.parametrize(
    "day, months, expected",
    [
        (date(2031, 4, 30), -3, date(2031, 1, 30)),
        (date(2031, 5, 31), -3, date(2031, 2, 28)),
        (date(2032, 5, 31), -3, date(2032, 2, 29)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 1, 15), 12 * 7, date(2033, 1, 15)),
    ],
)
def test_month_arithmetic_keeps_to_the_calendar(day, months, expected):
    assert add_months(day, months) == expected


def test_closing_an_unknown_improvement_order_is_not_found_as_in_accreditation():
    with pytest.raises(NotFound) as unknown:
        so.close_improvement_order(granted(PermitType.GENERAL, date(2026, 5, 1)), uuid4(), date(2027, 1, 1))
    assert unknown.value.members["resource"] == "improvement order"
