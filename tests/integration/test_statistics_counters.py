"""The statistics counters (shared/statistics.py) against a real PostgreSQL: concurrent counting never waits on a
shared counter, and every answer includes every committed change, folded or not."""

import asyncio
from datetime import date

import pytest

from shared.statistics import count_entity, fold, totals

APRIL, MAY = date(2026, 4, 1), date(2026, 5, 1)


def by_month_and_prefecture(facts):
    """A plan counts once, in the month it was certified, under its nationality and prefecture."""
    return {("plans", date.fromisoformat(facts["month"]), (facts["nationality"], facts["prefecture"])): 1}


async def count(pool, entity, facts):
    async with pool.acquire() as conn, conn.transaction():
        await count_entity(conn, entity, facts, by_month_and_prefecture)


async def answers(pool, by=None, where=(None, None)):
    async with pool.acquire() as conn:
        return await totals(conn, "plans", APRIL, MAY, by=by, where=where)


async def test_concurrent_commands_count_under_one_key_without_waiting_for_each_other(pool):
    # Each transaction stays open until all have counted: had they queued on a counter row, the first
    # would hold it and the barrier would never be reached.
    barrier = asyncio.Barrier(10)

    async def command(n):
        async with pool.acquire() as conn, conn.transaction():
            await count_entity(
                conn,
                f"plan-{n}",
                {"month": "2026-04-01", "nationality": "VN", "prefecture": "Aichi"},
                by_month_and_prefecture,
            )
            async with asyncio.timeout(10):
                await barrier.wait()

    await asyncio.gather(*(command(n) for n in range(10)))
    assert await answers(pool) == [(APRIL, None, 10)]


async def test_changes_move_counts_and_answers_are_the_same_before_and_after_folding(pool):
    await count(pool, "plan-1", {"month": "2026-04-01", "nationality": "VN", "prefecture": "Aichi"})
    await count(pool, "plan-2", {"month": "2026-04-01", "nationality": "VN", "prefecture": "Osaka"})
    await count(pool, "plan-3", {"month": "2026-05-01", "nationality": "PH", "prefecture": "Aichi"})
    async with pool.acquire() as conn:
        # The three counters and their roll-ups: the totals of April and May, per nationality (VN in April, PH in
        # May) and per prefecture (Aichi and Osaka in April, Aichi in May).
        assert await fold(conn) == 3 + 2 + 2 + 3
    # The same facts again change nothing; new facts move the entity; None takes it out.
    await count(pool, "plan-1", {"month": "2026-04-01", "nationality": "VN", "prefecture": "Aichi"})
    await count(pool, "plan-2", {"month": "2026-05-01", "nationality": "VN", "prefecture": "Osaka"})
    await count(pool, "plan-3", None)
    await count(pool, "plan-4", {"month": "2026-05-01", "nationality": "ID", "prefecture": "Gifu"})

    expected = {
        "per month": [(APRIL, None, 1), (MAY, None, 2)],
        "by nationality": [(APRIL, "VN", 1), (MAY, "ID", 1), (MAY, "VN", 1)],
        "in Aichi": [(APRIL, None, 1)],
        "in Aichi by nationality": [(APRIL, "VN", 1)],
        "of Vietnamese trainees by prefecture": [(APRIL, "Aichi", 1), (MAY, "Osaka", 1)],
    }
    queries = {
        "per month": {},
        "by nationality": {"by": 0},
        "in Aichi": {"where": [None, "Aichi"]},
        "in Aichi by nationality": {"by": 0, "where": [None, "Aichi"]},
        "of Vietnamese trainees by prefecture": {"by": 1, "where": ["VN", None]},
    }
    for name, query in queries.items():
        assert await answers(pool, **query) == expected[name], f"{name}, not folded yet"
    async with pool.acquire() as conn:
        await fold(conn)
        assert await fold(conn) == 0
        assert await conn.fetchval("SELECT count(*) FROM statistics_deltas") == 0
    for name, query in queries.items():
        assert await answers(pool, **query) == expected[name], f"{name}, folded"


async def test_an_entity_projected_by_two_transactions_at_once_is_counted_once(pool):
    # A command and a rebuild projecting the same plan: the second waits for the first, then sees its facts.
    facts = {"month": "2026-04-01", "nationality": "VN", "prefecture": "Aichi"}
    async with pool.acquire() as first, first.transaction():
        await count_entity(first, "plan-1", facts, by_month_and_prefecture)
        second = asyncio.create_task(count(pool, "plan-1", facts))
        await asyncio.sleep(0.3)
        assert not second.done()  # waiting for the first transaction's row
    await second
    assert await answers(pool) == [(APRIL, None, 1)]


async def test_a_rolled_back_command_counts_nothing(pool):
    with pytest.raises(RuntimeError):
        async with pool.acquire() as conn, conn.transaction():
            await count_entity(
                conn,
                "plan-1",
                {"month": "2026-04-01", "nationality": "VN", "prefecture": "Aichi"},
                by_month_and_prefecture,
            )
            raise RuntimeError("the command failed after counting")
    assert await answers(pool) == []
