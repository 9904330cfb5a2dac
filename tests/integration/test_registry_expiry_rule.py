""" "Expiry due" has one definition (services/registry/domain/supervising_organization.py: `expiry_due`): the
expiry sweep's SQL (projections.supervising_organizations.EXPIRY_DUE), the status shown on a day and the
expiry recorded answer as it does, against a real PostgreSQL, on the days around each permit's last day."""

from datetime import date, timedelta
from uuid import uuid4

import pytest

from contracts.registry import Officer, PermitApplication, PermitType, RevocationGround, SupervisingOffice
from services.registry.app import DEFINITION
from services.registry.domain import supervising_organization as so
from services.registry.projections.supervising_organizations import expiry_due_ids, project_supervising_organization
from shared.db import create_pool, migrate
from tests.helpers import corporate_number

D = date.fromisoformat


def application() -> PermitApplication:
    return PermitApplication(
        name="Sakura Cooperative",
        corporate_number=corporate_number(),
        address="Tokyo",
        prefecture="13",
        representative="Yamada",
        supervising_offices=(SupervisingOffice(name="HQ", address="Tokyo", supervision_manager="Suzuki"),),
        job_categories=("construction",),
        requested_permit_type=PermitType.GENERAL,
        external_auditor="Tanaka",
        officers=(Officer(name="Yamada", address=f"{uuid4()} Tokyo"),),
    )


def then(state: so.SupervisingOrganization, events) -> so.SupervisingOrganization:
    for event in events:
        state = so.evolve(state, event)
    return state


def applied() -> so.SupervisingOrganization:
    new = so.SupervisingOrganization()
    return then(new, so.apply_for_permit(new, application(), D("2026-01-01")))


def granted(permit_type: PermitType, on: date) -> so.SupervisingOrganization:
    state = applied()
    return then(state, so.grant_permit(state, permit_type, on, permit_type is PermitType.GENERAL))


def states() -> list[so.SupervisingOrganization]:
    """One of each kind, each its own organization (corporate number)."""

    def specified():
        return granted(PermitType.SPECIFIED, D("2026-05-01"))  # last day 2029-04-30

    def general():
        return granted(PermitType.GENERAL, D("2026-03-01"))  # last day 2031-02-28

    renewed, revoked, expired, suspended = general(), specified(), specified(), specified()
    renewed = then(renewed, so.renew_permit(renewed, D("2030-10-01"), False, D("2030-09-01")))  # to 2036-02-29
    revoked = then(revoked, so.revoke_permit(revoked, D("2027-01-01"), RevocationGround.LAW_BREACHED, "x"))
    expired = then(expired, so.record_expiry(expired, D("2029-05-01")))
    suspended = then(
        suspended,
        so.suspend_business(
            suspended, uuid4(), D("2029-04-01"), D("2029-05-31"), "all", None, "x", RevocationGround.LAW_BREACHED
        ),
    )
    denied = applied()
    denied = then(denied, so.deny_permit(denied, "incomplete"))
    return [specified(), general(), renewed, revoked, expired, suspended, denied, applied()]


@pytest.fixture
async def pool(fresh_database):
    pool = await create_pool(fresh_database, max_size=2)
    await migrate(pool, DEFINITION.migrations)
    yield pool
    await pool.close()


async def test_the_sweep_the_status_and_the_record_say_expired_when_the_domain_does(pool):
    organizations = {uuid4(): state for state in states()}
    async with pool.acquire() as conn, conn.transaction():
        for id, state in organizations.items():
            await project_supervising_organization(conn, str(id), state, 1)
    last_days = {D("2029-04-30"), D("2031-02-28"), D("2036-02-29")}
    days = sorted({last + timedelta(days=d) for last in last_days for d in (-1, 0, 1, 2)} | {D("2026-01-01")})
    async with pool.acquire() as conn:
        for day in days:
            due = sorted(id for id, state in organizations.items() if so.expiry_due(state, day))
            # Check: the sweep's SQL selects exactly the organizations the domain says are due.
            assert await expiry_due_ids(conn, day) == due, day
            for id, state in organizations.items():
                # Check: a due expiry is shown as expired that day and recorded; nothing else is.
                assert bool(so.record_expiry(state, day)) == (id in due), (day, state.lifecycle)
                if state.lifecycle is so.Lifecycle.ACTIVE:
                    assert (so.status_on(state, day) == "expired") == (id in due), (day, state.expires_on)
    assert any(so.expiry_due(state, D("2029-05-01")) for state in organizations.values())
