""" "In progress" has one definition (services/accreditation/domain/training_plan.py `shown_status`): the read
model's SQL (`shown_status_sql`), which the plans' GET and list routes filter and show by, answers as the domain
does, against a real PostgreSQL, on the days around a plan's start and for every recorded status."""

from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from contracts.accreditation import accreditation_events
from services.accreditation.app import DEFINITION
from services.accreditation.domain import training_plan as tp
from services.accreditation.projections.training_plans import project_training_plan, training_plan, training_plans
from shared.db import create_pool, migrate
from shared.store import EventStore
from tests.unit.test_accreditation_training_plan import (
    APPLIED,
    CERTIFIED,
    COMPLETED,
    DISCONTINUED,
    ORDERED,
    REJECTED,
    REVOKED,
    START,
)

CASES = {
    "applied": APPLIED,
    "certified": CERTIFIED,
    "under an improvement order": ORDERED,
    "rejected": REJECTED,
    "completed": COMPLETED,
    "discontinued": DISCONTINUED,
    "revoked": REVOKED,
}
DAYS = [START - timedelta(days=1), START, START + timedelta(days=1), date(2026, 9, 2), date(2030, 1, 1)]


@pytest.fixture
async def pool(fresh_database):
    pool = await create_pool(fresh_database, max_size=2)
    await migrate(pool, DEFINITION.migrations)
    yield pool
    await pool.close()


async def test_the_read_model_shows_and_filters_the_status_the_domain_shows(pool):
    names = {}
    async with pool.acquire() as conn, conn.transaction():
        for name, state in CASES.items():
            id = str(uuid4())
            names[id] = name
            await project_training_plan(conn, id, state, 1)
    store = EventStore(accreditation_events)

    for day in DAYS:
        shown = {name: state.status_on(day) for name, state in CASES.items()}
        listed = await training_plans(pool, today=day, limit=100)
        assert {names[d["id"]]: d["status"] for d in listed} == shown, day
        in_progress = await training_plans(pool, today=day, status=tp.IN_PROGRESS, limit=100)
        assert {names[d["id"]] for d in in_progress} == {
            name for name, status in shown.items() if status == tp.IN_PROGRESS
        }, day
        for id, name in names.items():
            assert (await training_plan(pool, store, UUID(id), today=day))["status"] == shown[name], (day, name)

    # Check: the boundaries themselves, so that agreeing cannot mean agreeing on nothing.
    assert CERTIFIED.status_on(START - timedelta(days=1)) == "certified"
    assert CERTIFIED.status_on(START) == ORDERED.status_on(START) == tp.IN_PROGRESS
    assert COMPLETED.status_on(START) == "completed" and APPLIED.status_on(START) == "applied"
