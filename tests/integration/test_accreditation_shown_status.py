""" "In progress" and "paused" each have one definition (services/accreditation/domain/training_plan.py and
pauses.py `shown_status`): the read model's SQL (`shown_status_sql`), which the plans' GET and list routes filter and
show by (`status=in_progress`, `status=paused`), answers as the domain does, against a real PostgreSQL, on the days
around a plan's start, a pause and its resumption, and for every recorded status."""

from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from contracts.accreditation import DiscontinuationReason, accreditation_events
from services.accreditation.app import DEFINITION
from services.accreditation.domain import pauses
from services.accreditation.domain import training_plan as tp
from services.accreditation.projections.training_plans import project_training_plan, training_plan, training_plans
from shared.db import create_pool, migrate
from shared.store import EventStore
from tests.unit.test_accreditation_pauses import PAUSED, RESUMED, certified, history, paused_on
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

PAUSE, RESUMPTION = date(2026, 7, 1), date(2026, 11, 1)
ENDED_WHILE_PAUSED = history(
    certified, paused_on(PAUSE), lambda s: tp.discontinue(s, date(2026, 9, 1), DiscontinuationReason.OTHER, None)
)
PAUSE_CASES = {
    "never paused": CERTIFIED,
    "paused": PAUSED,
    "resumed": RESUMED,
    "ended while paused": ENDED_WHILE_PAUSED,
}
PAUSE_DAYS = [
    PAUSE - timedelta(days=1),
    PAUSE,
    RESUMPTION - timedelta(days=1),
    RESUMPTION,
    date(2027, 7, 31),
    date(2027, 8, 1),
]


@pytest.fixture
async def pool(fresh_database):
    pool = await create_pool(fresh_database, max_size=2)
    await migrate(pool, DEFINITION.migrations)
    yield pool
    await pool.close()


async def agree_with_the_domain(pool, cases: dict, days: list[date], shown_on, status: str) -> None:
    """Each case projected: on each day, the list, the list filtered by `status` and each plan's GET show what
    `shown_on(state, day)` does."""
    names = {}
    async with pool.acquire() as conn, conn.transaction():
        for name, state in cases.items():
            id = str(uuid4())
            names[id] = name
            await project_training_plan(conn, id, state, 1)
    store = EventStore(accreditation_events)

    for day in days:
        shown = {name: shown_on(state, day) for name, state in cases.items()}
        listed = await training_plans(pool, today=day, limit=100)
        assert {names[d["id"]]: d["status"] for d in listed} == shown, day
        filtered = await training_plans(pool, today=day, status=status, limit=100)
        assert {names[d["id"]] for d in filtered} == {name for name, shown_as in shown.items() if shown_as == status}, (
            day
        )
        for id, name in names.items():
            assert (await training_plan(pool, store, UUID(id), today=day))["status"] == shown[name], (day, name)


async def test_the_read_model_shows_and_filters_the_status_the_domain_shows(pool):
    await agree_with_the_domain(pool, CASES, DAYS, tp.AppliedPlan.status_on, tp.IN_PROGRESS)

    # Check: the boundaries themselves, so that agreeing cannot mean agreeing on nothing.
    assert CERTIFIED.status_on(START - timedelta(days=1)) == "certified"
    assert CERTIFIED.status_on(START) == ORDERED.status_on(START) == tp.IN_PROGRESS
    assert COMPLETED.status_on(START) == "completed" and APPLIED.status_on(START) == "applied"


async def test_the_read_model_shows_and_filters_paused_as_the_domain_does(pool):
    await agree_with_the_domain(pool, PAUSE_CASES, PAUSE_DAYS, pauses.shown_status, pauses.PAUSED)

    # Check: the boundaries themselves, so that agreeing cannot mean agreeing on nothing.
    assert pauses.shown_status(PAUSED, PAUSE - timedelta(days=1)) == tp.IN_PROGRESS
    assert (
        pauses.shown_status(PAUSED, PAUSE) == pauses.shown_status(RESUMED, RESUMPTION - timedelta(days=1)) == "paused"
    )
    assert pauses.shown_status(RESUMED, RESUMPTION) == tp.IN_PROGRESS
    assert pauses.shown_status(ENDED_WHILE_PAUSED, PAUSE) == "discontinued"


async def test_the_counts_read_the_moved_end_and_the_days_paused(pool):
    async with pool.acquire() as conn, conn.transaction():
        id = str(uuid4())
        await project_training_plan(conn, id, RESUMED, 3)
        row = await conn.fetchrow(
            "SELECT end_date, (document->>'paused_days')::int AS paused FROM training_plans WHERE id = $1", UUID(id)
        )
    assert (row["end_date"], row["paused"]) == (date(2027, 8, 1), 123)
