"""Sending organizations and agreements as tables: the recommendation every country's need, the MoC countries'
certified list, withdrawal, what a signing needs."""

from datetime import date
from uuid import uuid4

import pytest

from contracts.registry import (
    BusinessSuspended,
    PermitApplication,
    PermitApplied,
    PermitGranted,
    PermitRevoked,
    PermitType,
    RevocationGround,
    SendingAgreementSigned,
    SendingOrganizationApproved,
    SendingOrganizationWithdrawn,
    SupervisingOffice,
)
from services.registry.app import RegistrySettings
from services.registry.domain import sending_agreement as sa
from services.registry.domain import sending_organization as so
from services.registry.domain import sending_rules
from services.registry.domain import supervising_organization as sup
from shared.errors import DomainRuleViolation


def folded(evolve, initial, *events):
    state = initial
    for event in events:
        state = evolve(state, event)
    return state


def approval(
    country="VN", approved_on=date(2026, 1, 10), approval_reference="DOLAB-123", recommendation_reference="REC-456"
):
    return SendingOrganizationApproved(
        name="Hanoi Manpower JSC",
        country=country,
        approval_reference=approval_reference,
        recommendation_reference=recommendation_reference,
        approved_on=approved_on,
    )


def refusal(decision):
    with pytest.raises(DomainRuleViolation) as refused:
        decision()
    return refused.value


APPLIED = PermitApplied(
    application=PermitApplication(
        name="Sakura Cooperative",
        corporate_number="1234567890123",
        address="Tokyo",
        prefecture="Tokyo",
        representative="Yamada",
        supervising_offices=(SupervisingOffice(name="HQ", address="Tokyo", supervision_manager="Suzuki"),),
        job_categories=("construction",),
        requested_permit_type=PermitType.GENERAL,
        external_auditor="Tanaka",
    ),
    applied_on=date(2026, 1, 1),
)
GRANTED = PermitGranted(permit_type=PermitType.SPECIFIED, granted_on=date(2026, 3, 1), expires_on=date(2029, 2, 28))
SUSPENDED = BusinessSuspended(
    suspension_id=uuid4(), from_date=date(2026, 6, 1), until_date=date(2026, 8, 31), scope="all", reason="Art. 37(3)"
)
REVOKED = PermitRevoked(revoked_on=date(2027, 1, 1), ground=RevocationGround.LAW_BREACHED, reason="unpaid wages")


def supervising(*events):
    return folded(sup.evolve, sup.SupervisingOrganization(), *events)


def sending(*events):
    return folded(so.evolve, so.SendingOrganization(), *events)


@pytest.mark.parametrize("country", sorted(sending_rules.MOC_COUNTRIES))
def test_every_default_moc_country_may_send_when_recommended_and_on_its_governments_list(country):
    assert so.approve_sending_organization(
        so.SendingOrganization(), approval(country), sending_rules.MOC_COUNTRIES
    ) == [approval(country)]
    for missing in (None, "", "  "):
        unlisted = refusal(
            lambda: so.approve_sending_organization(
                so.SendingOrganization(), approval(country, approval_reference=missing), sending_rules.MOC_COUNTRIES
            )
        )
        assert (unlisted.rule, unlisted.members.get("field")) == (
            "sending_organization.approval_required",
            "approval_reference",
        )


@pytest.mark.parametrize("country", ["CN", "KR", "US", "BR"])
def test_a_country_without_an_moc_may_send_with_a_recommendation(country):
    # No MoC is no bar (the old `sending_organization.no_moc` is gone): the recommendation suffices, and a
    # government's certified list, there being none, is not asked for.
    for listed in (None, "CN-LIST-1"):
        recommended = approval(country, approval_reference=listed)
        assert so.approve_sending_organization(so.SendingOrganization(), recommended, sending_rules.MOC_COUNTRIES) == [
            recommended
        ]


@pytest.mark.parametrize("country", ["VN", "PH", "CN", "US"])
@pytest.mark.parametrize("missing", [None, "", "  "])
def test_every_country_needs_a_public_bodys_recommendation(country, missing):
    unrecommended = refusal(
        lambda: so.approve_sending_organization(
            so.SendingOrganization(), approval(country, recommendation_reference=missing), sending_rules.MOC_COUNTRIES
        )
    )
    assert (unrecommended.rule, unrecommended.members.get("field")) == (
        "sending_organization.recommendation_required",
        "recommendation_reference",
    )


def test_the_configured_list_replaces_the_defaults(monkeypatch):
    monkeypatch.setenv("TITP_REGISTRY_MOC_COUNTRIES", " vn, KH ")
    countries = RegistrySettings().moc_countries
    assert countries == {"VN", "KH"}
    # PH, off the configured list, needs no certified list; KH, on it, does; PH does under the defaults.
    unlisted_ph = approval("PH", approval_reference=None)
    assert so.approve_sending_organization(so.SendingOrganization(), unlisted_ph, countries) == [unlisted_ph]
    for country, moc_countries in (("KH", countries), ("PH", sending_rules.MOC_COUNTRIES)):
        refused = refusal(
            lambda: so.approve_sending_organization(
                so.SendingOrganization(), approval(country, approval_reference=None), moc_countries
            )
        )
        assert refused.rule == "sending_organization.approval_required", country
    assert RegistrySettings(moc_countries=["CN"]).moc_countries == {"CN"}


@pytest.mark.parametrize("listed", ["VNM", "V1", "", " , "])
def test_a_bad_country_list_fails_at_start(listed):
    with pytest.raises(ValueError):
        RegistrySettings(moc_countries=listed)


def test_a_withdrawal_comes_once_and_not_before_the_approval():
    approved = sending(approval(approved_on=date(2026, 1, 10)))
    with pytest.raises(DomainRuleViolation) as early:
        so.withdraw_sending_organization(approved, "fraud", date(2026, 1, 9))
    assert early.value.rule == "sending_organization.withdrawn_before_approval"
    withdrawn = sending(approval(), *so.withdraw_sending_organization(approved, "fraud", date(2026, 5, 1)))
    assert withdrawn.status == "withdrawn"
    with pytest.raises(DomainRuleViolation) as again:
        so.withdraw_sending_organization(withdrawn, "again", date(2026, 6, 1))
    assert again.value.rule == "sending_organization.already_withdrawn"


def signature(signed_on):
    return SendingAgreementSigned(
        supervising_organization_id=uuid4(), sending_organization_id=uuid4(), signed_on=signed_on
    )


WITHDRAWN = SendingOrganizationWithdrawn(reason="fraud", withdrawn_on=date(2026, 9, 1))


@pytest.mark.parametrize(
    ("permit", "organization", "signed_on", "in_force", "rule"),
    [
        ((APPLIED, GRANTED), (approval(),), date(2026, 4, 1), None, None),
        ((APPLIED, GRANTED, SUSPENDED), (approval(),), date(2026, 9, 1), None, None),
        ((APPLIED,), (approval(),), date(2026, 4, 1), None, "sending_agreement.permit_not_in_force"),
        ((APPLIED, GRANTED), (approval(),), date(2026, 2, 28), None, "sending_agreement.permit_not_in_force"),
        ((APPLIED, GRANTED), (approval(),), date(2029, 3, 1), None, "sending_agreement.permit_not_in_force"),
        ((APPLIED, GRANTED, SUSPENDED), (approval(),), date(2026, 7, 1), None, "sending_agreement.permit_not_in_force"),
        ((APPLIED, GRANTED, REVOKED), (approval(),), date(2026, 4, 1), None, "sending_agreement.permit_not_in_force"),
        ((APPLIED, GRANTED), (), date(2026, 4, 1), None, "sending_agreement.sending_organization_not_approved"),
        (
            (APPLIED, GRANTED),
            (approval(approved_on=date(2026, 5, 1)),),
            date(2026, 4, 1),
            None,
            "sending_agreement.sending_organization_not_approved",
        ),
        (
            (APPLIED, GRANTED),
            (approval(), WITHDRAWN),
            date(2026, 4, 1),
            None,
            "sending_agreement.sending_organization_withdrawn",
        ),
        ((APPLIED, GRANTED), (approval(),), date(2026, 4, 1), uuid4(), "sending_agreement.already_in_force"),
    ],
)
def test_a_sending_agreement_needs_a_permit_in_force_and_an_approved_sending_organization(
    permit, organization, signed_on, in_force, rule
):
    def decide():
        return sa.sign_sending_agreement(
            sa.SendingAgreement(), signature(signed_on), supervising(*permit), sending(*organization), in_force
        )

    if rule is None:
        assert [e.signed_on for e in decide()] == [signed_on]
    else:
        with pytest.raises(DomainRuleViolation) as refused:
            decide()
        assert refused.value.rule == rule


def test_an_agreement_ends_once_and_not_before_it_was_signed():
    signed = folded(sa.evolve, sa.SendingAgreement(), signature(date(2026, 4, 1)))
    with pytest.raises(DomainRuleViolation) as early:
        sa.end_sending_agreement(signed, date(2026, 3, 31), "withdrawn")
    assert early.value.rule == "sending_agreement.ended_before_signed"
    ended = folded(sa.evolve, signed, *sa.end_sending_agreement(signed, date(2026, 4, 1), "withdrawn"))
    assert ended.status == "ended"
    with pytest.raises(DomainRuleViolation) as again:
        sa.end_sending_agreement(ended, date(2026, 5, 1), "again")
    assert again.value.rule == "sending_agreement.already_ended"
