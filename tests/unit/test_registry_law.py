"""The registry's rules as the law has them (DOMAIN §11), as tables at their boundaries: what identifies an
organization, officers and Art. 26, the excellence a general permit needs, Art. 32, Art. 37(2) and (3), sending
organizations without an MoC, type (a) stability, and events recorded before the corrections read as they were."""

from dataclasses import replace
from datetime import date
from uuid import uuid4

import pytest

from contracts.inspection import AdministrativeActionReferred
from contracts.registry import (
    BusinessSuspended,
    ImplementingOrganizationRegistered,
    Officer,
    PermitApplication,
    PermitApplied,
    PermitDowngraded,
    PermitGranted,
    PermitType,
    RevocationGround,
    SendingOrganizationApproved,
    SupervisingOffice,
    TrainingType,
    registry_events,
)
from services.registry.domain import implementing_organization as io
from services.registry.domain import rules
from services.registry.domain import sending_organization as sending
from services.registry.domain import supervising_organization as so
from services.registry.domain.sending_rules import MOC_COUNTRIES
from services.registry.subscriptions import referred_ground
from shared.errors import DomainRuleViolation
from tests.helpers import corporate_number

D = date.fromisoformat
OFFICER = Officer(name="Yamada Taro", address="2-1 Kanda, Chiyoda-ku, Tokyo", position="director")


def application(**overrides) -> PermitApplication:
    return PermitApplication(
        **{
            "name": "Sakura Cooperative",
            "corporate_number": "5010005000007",
            "address": "Tokyo",
            "prefecture": "13",
            "representative": "Yamada",
            "supervising_offices": (SupervisingOffice(name="HQ", address="Tokyo", supervision_manager="Suzuki"),),
            "job_categories": ("construction",),
            "requested_permit_type": PermitType.GENERAL,
            "external_auditor": "Tanaka",
            "officers": (OFFICER,),
            **overrides,
        }
    )


def then(state, events, evolve=so.evolve):
    for event in events:
        state = evolve(state, event)
    return state


def applied(**overrides) -> so.SupervisingOrganization:
    new = so.SupervisingOrganization()
    return then(new, so.apply_for_permit(new, application(**overrides), D("2026-04-01")))


def granted(permit_type=PermitType.SPECIFIED, on="2026-05-01", **overrides) -> so.SupervisingOrganization:
    state = applied(**overrides)
    return then(state, so.grant_permit(state, permit_type, D(on), permit_type is PermitType.GENERAL))


def refused(decide) -> tuple[str, str | None]:
    with pytest.raises(DomainRuleViolation) as refusal:
        decide()
    return refusal.value.rule, refusal.value.members.get("field")


# What identifies an organization: the corporate number's check digit, the prefecture's JIS code.


@pytest.mark.parametrize(
    "number, rule",
    [
        ("5010005000007", None),
        ("7000012050002", None),  # the National Tax Agency's own number
        ("0000000000000", "corporate_number.check_digit"),
        ("6010005000007", "corporate_number.check_digit"),  # one off in the check digit
        ("5010005000008", "corporate_number.check_digit"),  # one off in the last digit
    ],
)
def test_a_corporate_number_needs_its_check_digit(number, rule):
    new = so.SupervisingOrganization()
    decide = lambda: so.apply_for_permit(new, application(corporate_number=number), D("2026-04-01"))  # noqa: E731
    assert (refused(decide) if rule else (decide() and None, None)) == (rule, "corporate_number" if rule else None)


@pytest.mark.parametrize(
    "given, recorded",
    [("13", "13"), ("Tokyo", "13"), ("tokyo", "13"), ("東京都", "13"), ("01", "01"), ("Okinawa", "47")],
)
def test_a_prefecture_is_recorded_as_its_jis_code_however_it_is_named(given, recorded):
    [event] = so.apply_for_permit(so.SupervisingOrganization(), application(prefecture=given), D("2026-04-01"))
    assert event.application.prefecture == recorded
    assert event.model_dump(mode="json")["application"]["prefecture"] == recorded


@pytest.mark.parametrize("given", ["Atlantis", "48", "00", "Tokyo Metropolis", "tokyo to"])
def test_a_prefecture_that_names_none_is_refused(given):
    decide = lambda: so.apply_for_permit(so.SupervisingOrganization(), application(prefecture=given), D("2026-04-01"))  # noqa: E731
    assert refused(decide) == ("prefecture.unknown", "prefecture")


def test_an_application_names_at_least_one_officer():
    decide = lambda: so.apply_for_permit(so.SupervisingOrganization(), application(officers=()), D("2026-04-01"))  # noqa: E731
    assert refused(decide) == ("application.officers_required", "officers")


# A general permit only with the excellence standard met.


@pytest.mark.parametrize(
    "permit_type, meets, rule",
    [
        (PermitType.GENERAL, True, None),
        (PermitType.GENERAL, False, "permit.excellence_required"),
        (PermitType.GENERAL, None, "permit.excellence_required"),
        (PermitType.SPECIFIED, None, None),
        (PermitType.SPECIFIED, False, None),
        (PermitType.SPECIFIED, True, None),
    ],
)
def test_a_general_permit_needs_the_excellence_standard(permit_type, meets, rule):
    state = applied()
    decide = lambda: so.grant_permit(state, permit_type, D("2026-05-01"), meets)  # noqa: E731
    if rule:
        assert refused(decide) == (rule, "meets_excellence_standard")
    else:
        [event] = decide()
        assert (event.permit_type, event.meets_excellence_standard) == (permit_type, meets)


# Art. 26: 5 years (configurable) after a revocation, by corporate number and by officer.


def revoked_on(day: str, **overrides) -> so.RevokedPermit:
    return so.RevokedPermit(
        uuid4(), overrides.get("corporate_number", "5010005000007"), D(day), overrides.get("officers", (OFFICER,))
    )


@pytest.mark.parametrize(
    "revoked, applied_on, years, rule",
    [
        ("2026-06-01", "2026-06-02", 5, "permit.revoked_within_bar"),
        ("2026-06-01", "2031-06-01", 5, "permit.revoked_within_bar"),  # the last day of the 5 years
        ("2026-06-01", "2031-06-02", 5, None),  # the day after: it may apply again (not barred for ever)
        ("2024-02-28", "2029-02-28", 5, "permit.revoked_within_bar"),  # 29 Feb 2029 does not exist: the 28th ends it
        ("2024-02-28", "2029-03-01", 5, None),
        ("2026-06-01", "2029-06-01", 3, "permit.revoked_within_bar"),  # configured: 3 years
        ("2026-06-01", "2029-06-02", 3, None),
    ],
)
def test_a_revoked_corporate_number_gets_no_permit_for_5_years(revoked, applied_on, years, rule):
    earlier = revoked_on(revoked, officers=())
    new = so.SupervisingOrganization()
    decide = lambda: so.apply_for_permit(new, application(), D(applied_on), [earlier], years)  # noqa: E731
    assert (refused(decide) if rule else (decide() and None, None)) == (rule, "corporate_number" if rule else None)


@pytest.mark.parametrize(
    "officer, applied_on, rule",
    [
        (OFFICER, "2030-01-01", "permit.officer_disqualified"),
        (
            Officer(name="  yamada   TARO ", address="2-1 kanda, Chiyoda-ku, Tokyo"),
            "2030-01-01",
            "permit.officer_disqualified",
        ),
        (OFFICER, "2031-06-02", None),  # the 5 years have passed
        (Officer(name="Yamada Taro", address="9-9 Umeda, Osaka"), "2030-01-01", None),  # another person of that name
        (Officer(name="Suzuki Jiro", address=OFFICER.address), "2030-01-01", None),
    ],
)
def test_an_officer_of_an_organization_whose_permit_was_revoked_disqualifies_for_5_years(officer, applied_on, rule):
    earlier = revoked_on("2026-06-01", corporate_number="8140001000003", officers=(officer,))
    new = so.SupervisingOrganization()
    decide = lambda: so.apply_for_permit(new, application(), D(applied_on), [earlier])  # noqa: E731
    assert (refused(decide) if rule else (decide() and None, None)) == (rule, "officers" if rule else None)


def test_the_disqualification_is_decided_again_at_the_grant():
    state = applied()
    earlier = revoked_on("2026-04-15", corporate_number="8140001000003")  # after the application, before the grant
    decide = lambda: so.grant_permit(state, PermitType.SPECIFIED, D("2026-05-01"), None, [earlier])  # noqa: E731
    assert refused(decide) == ("permit.officer_disqualified", "officers")


# Art. 32: specified -> general, decided like a new permit; Art. 37(2): the downgrade.


def test_a_specified_permit_changes_to_general_by_an_application_decided_like_a_new_permit():
    state = granted(PermitType.SPECIFIED)  # last day 2029-04-30
    state = then(state, so.apply_for_type_change(state, D("2027-04-01")))
    assert refused(lambda: so.apply_for_type_change(state, D("2027-04-02")))[0] == "permit_type_change.already_pending"
    assert refused(lambda: so.change_permit_type(state, D("2027-05-01"), False)) == (
        "permit.excellence_required",
        "meets_excellence_standard",
    )
    assert refused(lambda: so.change_permit_type(state, D("2027-03-31"), True))[0] == (
        "permit_type_change.decided_before_application"
    )
    other = revoked_on("2027-01-01", corporate_number="8140001000003")
    assert refused(lambda: so.change_permit_type(state, D("2027-05-01"), True, [other]))[0] == (
        "permit.officer_disqualified"
    )
    [changed] = so.change_permit_type(state, D("2027-05-01"), True)
    assert (changed.permit_type, changed.expires_on, changed.legal_basis) == (
        PermitType.GENERAL,
        D("2029-04-30"),
        "Art. 32",
    )
    state = then(state, [changed])
    assert (state.permit_type, state.meets_excellence_standard, state.type_change.outcome) == (
        PermitType.GENERAL,
        True,
        "changed",
    )
    assert refused(lambda: so.apply_for_type_change(state, D("2027-06-01")))[0] == (
        "permit_type_change.not_specified_to_general"
    )
    assert refused(lambda: so.change_permit_type(state, D("2027-06-01"), True))[0] == "permit_type_change.not_pending"


def test_a_denied_type_change_leaves_the_permit_specified_and_may_be_applied_for_again():
    state = granted(PermitType.SPECIFIED)
    state = then(state, so.apply_for_type_change(state, D("2027-04-01")))
    state = then(state, so.deny_type_change(state, D("2027-05-01"), "not excellent"))
    assert (state.permit_type, state.type_change.outcome, state.type_change.denial_reason) == (
        PermitType.SPECIFIED,
        "denied",
        "not excellent",
    )
    assert so.apply_for_type_change(state, D("2027-06-01"))


def test_the_downgrade_is_ex_officio_under_art_37_2():
    state = granted(PermitType.GENERAL)
    [downgrade] = so.downgrade_permit(state, D("2027-01-01"))
    assert downgrade.legal_basis == "Art. 37(2)"
    state = then(state, [downgrade])
    assert (state.permit_type, state.downgrade_legal_basis, state.meets_excellence_standard) == (
        PermitType.SPECIFIED,
        "Art. 37(2)",
        False,
    )


# Art. 37(3): a suspension rests on ground 1, 3, 4 or 5 of Art. 37(1).


@pytest.mark.parametrize(
    "ground, rule",
    [
        (RevocationGround.STANDARDS_NOT_MET, None),  # 1
        (RevocationGround.DISQUALIFIED, "suspension.ground_not_allowed"),  # 2
        (RevocationGround.CONDITION_BREACHED, None),  # 3
        (RevocationGround.LAW_BREACHED, None),  # 4
        (RevocationGround.WRONGFUL_ACT, None),  # 5
        (None, "suspension.ground_required"),
    ],
)
def test_a_suspension_rests_on_grounds_1_3_4_or_5(ground, rule):
    state = granted()
    decide = lambda: so.suspend_business(state, uuid4(), D("2027-01-01"), D("2027-02-01"), "all", None, "x", ground)  # noqa: E731
    if rule:
        assert refused(decide) == (rule, "ground")
    else:
        assert then(state, decide()).suspensions[0].ground is ground
    assert rules.SUSPENSION_GROUNDS == {g for g in RevocationGround if g is not RevocationGround.DISQUALIFIED}


@pytest.mark.parametrize(
    "ground, expected",
    [
        ("wrongful_act", RevocationGround.WRONGFUL_ACT),
        (None, RevocationGround.LAW_BREACHED),  # a referral naming none: ground 4, as revocations always took it
        ("not_a_ground", None),  # refused: referral.ground_unknown
    ],
)
def test_a_referral_names_its_ground_or_is_refused_by_rule(ground, expected):
    referral = AdministrativeActionReferred(
        referral_id=uuid4(),
        inspection_id=uuid4(),
        action="suspension",
        target_type="supervising_organization",
        target_id=uuid4(),
        decided_on="2027-01-01",
        reason="x",
        ground=ground,
    )
    if expected is None:
        assert refused(lambda: referred_ground(referral)) == ("referral.ground_unknown", "ground")
    else:
        assert referred_ground(referral) is expected


# Sending organizations: a public body's recommendation; an MoC country's certified list.


@pytest.mark.parametrize(
    "country, approval_reference, recommendation_reference, rule",
    [
        ("VN", "DOLAB-1", "REC-1", None),
        ("VN", None, "REC-1", "sending_organization.approval_required"),
        ("VN", "DOLAB-1", None, "sending_organization.recommendation_required"),
        ("VN", "DOLAB-1", "  ", "sending_organization.recommendation_required"),
        ("CN", None, "REC-1", None),  # no MoC: allowed with the recommendation (no longer refused)
        ("CN", None, None, "sending_organization.recommendation_required"),
        ("US", "ANY-1", "REC-1", None),
    ],
)
def test_a_sending_organization_needs_a_recommendation_and_from_an_moc_country_its_approval(
    country, approval_reference, recommendation_reference, rule
):
    approval = SendingOrganizationApproved(
        name="Agency",
        country=country,
        approval_reference=approval_reference,
        recommendation_reference=recommendation_reference,
        approved_on=D("2026-01-13"),
    )
    decide = lambda: sending.approve_sending_organization(sending.SendingOrganization(), approval, MOC_COUNTRIES)  # noqa: E731
    field = {"sending_organization.approval_required": "approval_reference"}.get(rule, "recommendation_reference")
    assert (refused(decide) if rule else (decide() and None, None)) == (rule, field if rule else None)


# Implementing organizations: the same identity checks; type (a) stability recognition.


def registration(**overrides) -> ImplementingOrganizationRegistered:
    return ImplementingOrganizationRegistered(
        **{
            "name": "Kobe Precision Ltd",
            "corporate_number": corporate_number(),
            "address": "Kobe",
            "prefecture": "Hyogo",
            "industry": "machinery",
            "training_type": TrainingType.A,
            "supervising_organization_id": None,
            "full_time_staff": 100,
            "staff_as_of": D("2026-04-01"),
            "excellent": False,
            "registered_on": D("2026-04-10"),
            **overrides,
        }
    )


@pytest.mark.parametrize(
    "overrides, rule",
    [
        ({}, None),
        ({"stability_recognised": True}, None),
        ({"corporate_number": "0000000000000"}, "corporate_number.check_digit"),
        ({"prefecture": "Atlantis"}, "prefecture.unknown"),
        (
            {"training_type": TrainingType.B, "supervising_organization_id": uuid4(), "stability_recognised": True},
            "stability.type_a_only",
        ),
    ],
)
def test_an_implementing_organization_is_registered_with_a_valid_number_a_prefecture_code_and_its_stability(
    overrides, rule
):
    supervisor = granted()

    def decide():
        return io.register_implementing_organization(
            io.ImplementingOrganization(), registration(**overrides), supervisor
        )

    if rule:
        assert refused(decide)[0] == rule
    else:
        [event] = decide()
        assert event.prefecture == "28"


def test_the_stability_recognition_is_the_latest_by_date_and_for_type_a_only():
    state = then(io.ImplementingOrganization(), [registration()], io.evolve)
    assert state.stability.recognised is False
    state = then(state, io.record_stability_recognition(state, True, D("2027-04-01")), io.evolve)
    state = then(state, io.record_stability_recognition(state, False, D("2026-10-01")), io.evolve)  # recorded late
    assert (state.stability.recognised, state.stability.as_of) == (True, D("2027-04-01"))
    assert refused(lambda: io.record_stability_recognition(state, True, D("2026-04-09"))) == (
        "stability.before_registration",
        "as_of",
    )
    type_b = then(
        io.ImplementingOrganization(),
        [registration(training_type=TrainingType.B, supervising_organization_id=uuid4())],
        io.evolve,
    )
    assert refused(lambda: io.record_stability_recognition(type_b, True, D("2027-04-01")))[0] == "stability.type_a_only"


# Events recorded before the corrections read as they were, with the new fields' defaults.


def test_events_recorded_before_the_corrections_stay_readable():
    old_application = application().model_dump(mode="json", exclude={"officers"}) | {"prefecture": "Tokyo"}
    applied_event = registry_events.parse(
        "titp.registry.PermitApplied.v1", {"application": old_application, "applied_on": "2020-01-01"}
    )
    assert isinstance(applied_event, PermitApplied)
    assert (applied_event.application.prefecture, applied_event.application.officers) == ("Tokyo", ())
    # The registry reads the name as its code (the upcast on read; the stored event unchanged).
    assert then(so.SupervisingOrganization(), [applied_event]).application.prefecture == "13"
    # A name no prefecture has (recorded before it was checked) is still read, as it is.
    odd = registry_events.parse(
        "titp.registry.PermitApplied.v1",
        {"application": old_application | {"prefecture": "Atlantis"}, "applied_on": "2020-01-01"},
    )
    assert then(so.SupervisingOrganization(), [odd]).application.prefecture == "Atlantis"
    grant = registry_events.parse(
        "titp.registry.PermitGranted.v1",
        {"permit_type": "general", "granted_on": "2020-02-01", "expires_on": "2025-01-31"},
    )
    assert isinstance(grant, PermitGranted) and grant.meets_excellence_standard is None
    downgrade = registry_events.parse("titp.registry.PermitDowngraded.v1", {"effective_on": "2021-01-01"})
    assert isinstance(downgrade, PermitDowngraded) and downgrade.legal_basis == "Art. 37(2)"
    suspension = registry_events.parse(
        "titp.registry.BusinessSuspended.v1",
        {
            "suspension_id": str(uuid4()),
            "from_date": "2021-01-01",
            "until_date": "2021-02-01",
            "scope": "all",
            "reason": "x",
        },
    )
    assert isinstance(suspension, BusinessSuspended) and suspension.ground is None
    approval = registry_events.parse(
        "titp.registry.SendingOrganizationApproved.v1",
        {"name": "Agency", "country": "VN", "approval_reference": "DOLAB-1", "approved_on": "2020-01-01"},
    )
    assert approval.recommendation_reference is None
    registered = registry_events.parse(
        "titp.registry.ImplementingOrganizationRegistered.v1",
        registration().model_dump(mode="json", exclude={"stability_recognised"}) | {"prefecture": "Hyogo"},
    )
    assert (registered.prefecture, registered.stability_recognised) == ("Hyogo", False)
    folded = then(io.ImplementingOrganization(), [registered], io.evolve)
    assert (folded.registration.prefecture, folded.stability.recognised) == ("28", False)
    # A state folded from them: an old general grant without the standard stated, an old suspension without ground.
    state = then(so.SupervisingOrganization(), [applied_event, grant, suspension, downgrade])
    assert (state.permit_type, state.suspensions[0].ground, state.downgrade_legal_basis) == (
        PermitType.SPECIFIED,
        None,
        "Art. 37(2)",
    )
    assert replace(state, type_change=None).officers == ()
