"""The ESD permit's rules that SQL answers too, against a real PostgreSQL: "expiry due" (one definition,
`domain.permit.expiry_due`) selects in the sweep's SQL exactly what the domain says, and corporate numbers are
unique within each scheme (a cooperative's TITP and ESD records share one; two ESD records, or an ESD record
and an employer, do not); an inspection's referral on a supervision support organization acts on its permit."""

from datetime import date, timedelta
from uuid import uuid4

import pytest

from contracts.inspection import AdministrativeAction, AdministrativeActionReferred, TargetType
from contracts.registry import RevocationGround, SupervisingOffice, SupervisionSupportApplication
from services.registry import commands, subscriptions
from services.registry.app import DEFINITION
from services.registry.domain import supervision_support_organization as sso
from services.registry.domain.permit import expiry_due
from services.registry.domain.rules import SUPERVISION_SUPPORT
from services.registry.projections.corporate_numbers import reserve_corporate_number
from services.registry.projections.supervision_support_organizations import (
    project_supervision_support_organization,
    support_expiry_due_ids,
)
from shared.commands import CommandRunner, UnitOfWork
from shared.db import create_pool, migrate
from shared.errors import DomainRuleViolation
from shared.events import EventContext
from shared.store import EventStore
from tests.helpers import corporate_number

D = date.fromisoformat


def application(number: str | None = None) -> SupervisionSupportApplication:
    return SupervisionSupportApplication(
        name="Sakura Business Cooperative",
        corporate_number=number or corporate_number(),
        address="Tokyo",
        prefecture="13",
        representative="Yamada",
        offices=(SupervisingOffice(name="HQ", address="Tokyo", supervision_manager="Suzuki"),),
        job_categories=("construction",),
        non_profit=True,
        external_auditor="Tanaka",
        full_time_staff=2,
        member_employers=2,
        workers=10,
    )


def then(state, events):
    for event in events:
        state = sso.evolve(state, event)
    return state


def applied(number: str | None = None) -> sso.SupervisionSupportOrganization:
    new = sso.SupervisionSupportOrganization()
    return then(new, sso.apply_for_permit(new, application(number), D("2026-06-01")))


def granted(on: str, excellent: bool = False) -> sso.SupervisionSupportOrganization:
    state = applied()
    return then(state, sso.grant_permit(state, D(on), excellent, SUPERVISION_SUPPORT))


def states() -> list[sso.SupervisionSupportOrganization]:
    renewed, revoked, expired, suspended = (
        granted("2026-09-01", True),
        granted("2026-09-01"),
        granted("2026-09-01"),
        granted("2026-09-01"),
    )
    renewed = then(renewed, sso.renew_permit(renewed, D("2031-05-01"), False, SUPERVISION_SUPPORT, D("2031-04-01")))
    revoked = then(revoked, sso.revoke_permit(revoked, D("2027-01-01"), RevocationGround.LAW_BREACHED, "x"))
    expired = then(expired, sso.record_expiry(expired, D("2029-09-01")))
    suspended = then(
        suspended,
        sso.suspend_business(
            suspended, uuid4(), D("2029-08-01"), D("2029-09-30"), "all", None, "x", RevocationGround.LAW_BREACHED
        ),
    )
    denied = applied()
    denied = then(denied, sso.deny_permit(denied, "one staff member"))
    return [granted("2026-09-01"), granted("2027-04-01", True), renewed, revoked, expired, suspended, denied, applied()]


@pytest.fixture
async def pool(fresh_database):
    pool = await create_pool(fresh_database, max_size=2)
    await migrate(pool, DEFINITION.migrations)
    yield pool
    await pool.close()


async def test_the_esd_sweep_selects_what_the_domain_says_is_due(pool):
    organizations = {uuid4(): state for state in states()}
    async with pool.acquire() as conn, conn.transaction():
        for id, state in organizations.items():
            await project_supervision_support_organization(conn, str(id), state, 1)
    last_days = {D("2029-08-31"), D("2032-03-31"), D("2034-08-31")}
    days = sorted({last + timedelta(days=d) for last in last_days for d in (-1, 0, 1, 2)} | {D("2026-01-01")})
    async with pool.acquire() as conn:
        for day in days:
            due = sorted(id for id, state in organizations.items() if expiry_due(state, day))
            assert await support_expiry_due_ids(conn, day) == due, day
            for id, state in organizations.items():
                assert bool(sso.record_expiry(state, day)) == (id in due), (day, state.lifecycle)
    assert any(expiry_due(state, D("2029-09-01")) for state in organizations.values())


async def test_a_corporate_number_is_unique_within_each_scheme(pool):
    cooperative, company = (corporate_number() for _ in range(2))
    titp, esd, other_esd, employer = (str(uuid4()) for _ in range(4))

    async def reserve(number: str, organization: str, kind) -> str | None:
        try:
            async with pool.acquire() as conn, conn.transaction():
                await reserve_corporate_number(conn, number, organization, kind)
        except DomainRuleViolation as refused:
            return refused.rule
        return None

    assert await reserve(cooperative, titp, "supervising_organization") is None
    # The same cooperative under ESD: its own record, the same number.
    assert await reserve(cooperative, esd, "supervision_support_organization") is None
    assert await reserve(cooperative, esd, "supervision_support_organization") is None  # its own again
    assert await reserve(cooperative, other_esd, "supervision_support_organization") == "corporate_number.unique"
    assert await reserve(cooperative, employer, "implementing_organization") == "corporate_number.unique"
    # An employer's number is taken in both schemes.
    assert await reserve(company, employer, "implementing_organization") is None
    assert await reserve(company, other_esd, "supervision_support_organization") == "corporate_number.unique"
    assert await reserve(company, titp, "supervising_organization") == "corporate_number.unique"


async def test_an_inspections_referral_acts_on_the_esd_permit_it_names(pool):
    """The inspection's referrals on a supervision support organization go to its ESD permit, by the same law."""
    runner = CommandRunner(pool, EventStore(DEFINITION.event_types))
    context = EventContext(actor="inspection")
    id = uuid4()
    await runner.transact(
        commands.apply_for_supervision_support_permit,
        id,
        application=application(),
        applied_on=D("2026-06-01"),
        context=context,
    )
    await runner.transact(
        commands.grant_supervision_support_permit,
        id,
        granted_on=D("2026-09-01"),
        excellent=False,
        rules=SUPERVISION_SUPPORT,
        context=context,
    )

    async def refer(action: AdministrativeAction, **details) -> None:
        referral = AdministrativeActionReferred(
            referral_id=uuid4(),
            inspection_id=uuid4(),
            action=action,
            target_type=TargetType.SUPERVISION_SUPPORT_ORGANIZATION,
            target_id=id,
            decided_on=D("2027-06-01"),
            reason="passports kept",
            **details,
        )
        async with pool.acquire() as conn, conn.transaction():
            await subscriptions.apply_referral(UnitOfWork(runner, conn, context), referral)

    await refer(AdministrativeAction.IMPROVEMENT_ORDER)
    await refer(AdministrativeAction.SUSPENSION, from_date=D("2027-07-01"), until_date=D("2027-08-31"), scope="all")
    await refer(AdministrativeAction.PERMIT_REVOCATION, ground="law_breached")
    async with pool.acquire() as conn:
        state, version = await runner.load(conn, commands.SUPERVISION_SUPPORT_ORGANIZATION, str(id))
    assert version == 5 and state.lifecycle is sso.Lifecycle.REVOKED
    assert (len(state.improvement_orders), len(state.suspensions), state.revocation.ground) == (
        1,
        1,
        RevocationGround.LAW_BREACHED,
    )
    assert state.improvement_orders[0].deadline == D("2027-08-30")  # the default 90 days
