"""The scheme as a counted dimension of the inspection statistics (issue 17): migration 003 gives the counters kept
before it (target type alone) the value titp and their roll-ups, so a running system answers as before without a
rebuild, and by scheme; re-projecting the old inspections (what `titp rebuild inspection` does) changes nothing, and
leaves the same counters as projecting them from scratch."""

import shutil
from datetime import date, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from contracts.inspection import Finding, InspectionReason, TargetType
from contracts.registry import Scheme
from services.inspection.domain.inspection import Inspection, Status
from services.inspection.projections.statistics import (
    INSPECTIONS_DONE,
    INSPECTIONS_OVERDUE_CHANGE,
    INSPECTIONS_WITH_FINDINGS,
    inspection_facts,
    inspection_keys,
    inspections_per_quarter,
)
from shared.dates import add_months
from shared.db import create_pool, migrate
from shared.statistics import count_entity, fold, totals

MIGRATIONS = Path(__file__).parents[2] / "services" / "inspection" / "migrations"
QUARTERS = [date(2025, 4, 1), date(2025, 7, 1), date(2025, 10, 1), date(2026, 1, 1)]
TODAY = date(2026, 2, 15)
SO, IO, SSO = (
    TargetType.SUPERVISING_ORGANIZATION,
    TargetType.IMPLEMENTING_ORGANIZATION,
    TargetType.SUPERVISION_SUPPORT_ORGANIZATION,
)


def inspection(target_type, scheduled_on, due_by, inspected_on=None, findings=False, scheme=Scheme.TITP):
    return Inspection(
        target_type=target_type,
        target_id=uuid4(),
        reason=InspectionReason.FIRST_CERTIFIED_PLAN,
        scheduled_on=date.fromisoformat(scheduled_on),
        due_by=date.fromisoformat(due_by),
        scheme=scheme,
        status=Status.COMPLETED if inspected_on else Status.SCHEDULED,
        inspected_on=date.fromisoformat(inspected_on) if inspected_on else None,
        findings=(Finding(code="records_not_kept", legal_breach=False, description="diary"),) if findings else (),
    )


OLD = {  # counted before the scheme was: (inspection, folded before the migration?)
    "a": (inspection(SO, "2025-04-01", "2025-06-30", "2025-05-10", findings=True), True),
    "b": (inspection(SO, "2025-04-01", "2025-08-31", "2025-10-02"), True),  # late: overdue 1 Sep - 1 Oct
    "c": (inspection(IO, "2025-05-01", "2025-09-30"), True),  # never inspected: overdue from 1 Oct
    "d": (inspection(IO, "2025-05-01", "2026-03-31", "2026-01-20", findings=True), False),
    "e": (inspection(SO, "2025-06-01", "2025-07-31"), False),  # overdue from 1 Aug
}


def old_facts(state):
    """What the projection recorded before the scheme was counted."""
    return {k: v for k, v in inspection_facts(state).items() if k != "scheme"}


def old_keys(facts):
    """What it counted them under: the target type alone."""
    return {(measure, period, dimensions[:1]): n for (measure, period, dimensions), n in inspection_keys(facts).items()}


async def old_answer(conn, target_type=None):
    """The statistics as the route answered them before (done, with findings, overdue per quarter)."""
    where = [target_type.value if target_type else None]
    ends = [min(add_months(q, 3) - timedelta(days=1), TODAY) for q in QUARTERS]
    done = {p: n for p, _, n in await totals(conn, INSPECTIONS_DONE, QUARTERS[0], QUARTERS[-1], where=where)}
    found = {p: n for p, _, n in await totals(conn, INSPECTIONS_WITH_FINDINGS, QUARTERS[0], QUARTERS[-1], where=where)}
    changes = await totals(conn, INSPECTIONS_OVERDUE_CHANGE, date.min, TODAY, where=where)
    return [
        (done.get(q, 0), found.get(q, 0), sum(n for day, _, n in changes if day <= end))
        for q, end in zip(QUARTERS, ends, strict=True)
    ]


async def answer(conn, **query):
    body = await inspections_per_quarter(conn, QUARTERS, today=TODAY, **query)
    return body.model_dump(mode="json", by_alias=True, exclude_unset=True)


def numbers(body):
    return [(q["done"], q["with_findings"], q["overdue"]) for q in body["quarters"]]


async def counters(conn):
    rows = await conn.fetch(
        "SELECT measure, period, dimensions, count FROM statistics WHERE measure LIKE 'inspections_%' AND count <> 0"
    )
    return {(r["measure"], r["period"], tuple(r["dimensions"])): r["count"] for r in rows}


@pytest.fixture
async def old_pool(fresh_database, tmp_path):
    """A database migrated as before this change (the shared migrations and inspection's 001 and 002)."""
    before = tmp_path / "inspection" / "migrations"
    before.mkdir(parents=True)
    for path in sorted(MIGRATIONS.glob("*.sql"))[:2]:
        shutil.copy(path, before / path.name)
    pool = await create_pool(fresh_database)
    await migrate(pool, before)
    yield pool
    await pool.close()


async def test_the_migration_keeps_every_answer_and_answers_by_scheme_as_a_rebuild_would(old_pool, another_database):
    async with old_pool.acquire() as conn:
        for folded in (True, False):
            for id, (state, fold_it) in OLD.items():
                if fold_it is folded:
                    async with conn.transaction():
                        await count_entity(conn, id, old_facts(state), old_keys)
            if folded:
                await fold(conn)
        assert await conn.fetchval("SELECT count(*) FROM statistics_deltas") > 0  # some not folded yet
        before = {tt: await old_answer(conn, tt) for tt in (None, SO, IO)}
        assert before[None] == [(1, 1, 0), (0, 0, 2), (1, 0, 2), (1, 1, 2)]

    applied = await migrate(old_pool, MIGRATIONS)
    assert applied[0] == "inspection/003_statistics_scheme.sql"  # and those after it

    async with old_pool.acquire() as conn:
        for folded in (False, True):  # with the old deltas still to fold, and folded
            if folded:
                await fold(conn)
            # Callers not asking by scheme get the same answers; by scheme, it is all titp's.
            assert numbers(await answer(conn)) == before[None]
            for tt in (SO, IO):
                assert numbers(await answer(conn, target_type=tt)) == before[tt]
            assert numbers(await answer(conn, scheme=Scheme.TITP)) == before[None]
            assert numbers(await answer(conn, target_type=SO, scheme=Scheme.TITP)) == before[SO]
            assert numbers(await answer(conn, scheme=Scheme.ESD)) == [(0, 0, 0)] * 4
            split = await answer(conn, by="scheme")
            assert [set(q["counts"]) for q in split["quarters"]] == [{"titp"}] * 4
            assert [tuple(q["counts"]["titp"].values()) for q in split["quarters"]] == before[None]

        # Re-projecting the old inspections (a rebuild) records their scheme and changes no counter.
        migrated = await counters(conn)
        for id, (state, _) in OLD.items():
            async with conn.transaction():
                await count_entity(conn, id, inspection_facts(state), inspection_keys)
        assert await conn.fetchval("SELECT count(*) FROM statistics_deltas") == 0
        assert await counters(conn) == migrated

    # The same counters as projecting the same inspections from scratch with the scheme counted.
    fresh = await create_pool(await another_database())
    try:
        await migrate(fresh, MIGRATIONS)
        async with fresh.acquire() as conn:
            for id, (state, _) in OLD.items():
                async with conn.transaction():
                    await count_entity(conn, id, inspection_facts(state), inspection_keys)
            await fold(conn)
            assert await counters(conn) == migrated
    finally:
        await fresh.close()

    # ESD inspections counted after the migration: by scheme, and in the totals.
    async with old_pool.acquire() as conn:
        esd = inspection(SSO, "2025-10-01", "2025-12-31", "2026-01-10", findings=True, scheme=Scheme.ESD)
        employer = inspection(IO, "2025-10-01", "2025-11-30", scheme=Scheme.ESD)  # overdue from 1 Dec
        for id, state in (("f", esd), ("g", employer)):
            async with conn.transaction():
                await count_entity(conn, id, inspection_facts(state), inspection_keys)
        assert numbers(await answer(conn, scheme=Scheme.ESD)) == [(0, 0, 0), (0, 0, 0), (0, 0, 1), (1, 1, 1)]
        assert numbers(await answer(conn, scheme=Scheme.TITP)) == before[None]
        assert numbers(await answer(conn, target_type=IO, scheme=Scheme.ESD)) == [(0, 0, 0)] * 2 + [(0, 0, 1)] * 2
        assert numbers(await answer(conn)) == [(1, 1, 0), (0, 0, 2), (1, 0, 3), (2, 2, 3)]
        split = await answer(conn, by="scheme", target_type=IO)
        assert split["by"] == "scheme" and "scheme" not in split
        assert split["quarters"][3]["counts"] == {
            "esd": {"done": 0, "with_findings": 0, "overdue": 1},
            "titp": {"done": 1, "with_findings": 1, "overdue": 1},
        }
