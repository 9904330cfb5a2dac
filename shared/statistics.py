"""Statistics read models: counters kept by projections, answered as table lookups.

A projection states what one entity (a plan, an inspection) counts in now: JSON `facts` and a
pure function from facts to weighted keys `(measure, period, dimensions) -> n`. `count_entity`
records the difference from what the entity counted in before as delta rows, in the caller's
transaction. Delta rows are only ever inserted, so concurrent commands never wait for, or
deadlock on, a shared counter row; `fold` moves them into `statistics` every few seconds (a
chore), and `totals` adds those not folded yet, so every answer includes every committed event.

Folding also keeps roll-ups: for a measure with several dimensions, the total (`<measure>|*`)
and the count per value of each dimension alone (`<measure>|<i>`). At national scale a month of
plans has thousands of combinations of dimension values but only tens of roll-up rows, so the
usual questions (per month, split or filtered by one dimension) read a few rows per period.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

import asyncpg

from shared.commands import CommandRunner

log = logging.getLogger(__name__)

Key = tuple[str, date, tuple[str, ...]]  # measure, period, dimension values
KeysOf = Callable[[dict[str, Any]], Mapping[Key, int]]

FOLD_LOCK = 7_340_003  # advisory lock key (per database): one folder at a time
FOLD_INTERVAL_S = 2.0


async def count_entity(conn: asyncpg.Connection, entity: str, facts: dict[str, Any] | None, keys_of: KeysOf) -> None:
    """Count `entity` under `keys_of(facts)` from now on (nowhere, with None), in the caller's transaction.

    The entity's facts row is locked first: two transactions projecting one entity (a command, and a
    rebuild projecting it again) take turns, the second seeing what the first recorded, so nothing is
    counted twice. Projecting the same facts again changes nothing.
    """
    # Inserted if new, else locked (DO UPDATE waits for and then sees the latest committed row), in one trip.
    before = await conn.fetchval(
        "INSERT INTO statistics_facts (entity, facts) VALUES ($1, 'null')"
        " ON CONFLICT (entity) DO UPDATE SET entity = excluded.entity RETURNING facts",
        entity,
    )
    if before == facts:
        return
    change = Counter(keys_of(facts) if facts is not None else {})
    change.subtract(keys_of(before) if before is not None else {})
    deltas = [
        {"measure": measure, "period": period.isoformat(), "dimensions": list(dimensions), "change": n}
        for (measure, period, dimensions), n in sorted(change.items())
        if n
    ]
    await conn.execute(
        """
        WITH recorded AS (UPDATE statistics_facts SET facts = coalesce($2::jsonb, 'null') WHERE entity = $1)
        INSERT INTO statistics_deltas (measure, period, dimensions, change)
        SELECT measure, period, ARRAY(SELECT v FROM jsonb_array_elements_text(dimensions) WITH ORDINALITY AS t(v, i)
                                     ORDER BY i), change
          FROM jsonb_to_recordset($3::jsonb) AS d(measure text, period date, dimensions jsonb, change integer)
        """,
        entity,
        facts,
        deltas,
    )


async def fold(conn: asyncpg.Connection) -> int:
    """Move the deltas into the counters and their roll-ups; returns how many counters changed (0 if another
    folder is at work)."""
    async with conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", FOLD_LOCK):
            return 0
        return await conn.fetchval(
            """
            WITH moved AS (DELETE FROM statistics_deltas RETURNING measure, period, dimensions, change),
            expanded AS (
                SELECT measure, period, dimensions, change FROM moved
                UNION ALL
                SELECT measure || '|*', period, '{}'::text[], change FROM moved
                UNION ALL
                SELECT measure || '|' || (i - 1), period, ARRAY[dimensions[i]], change
                  FROM moved, generate_subscripts(dimensions, 1) AS i WHERE cardinality(dimensions) > 1),
            folded AS (
                INSERT INTO statistics AS s (measure, period, dimensions, count)
                SELECT measure, period, dimensions, sum(change) FROM expanded GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
                ON CONFLICT (measure, period, dimensions) DO UPDATE SET count = s.count + excluded.count
                RETURNING 1)
            SELECT count(*) FROM folded
            """
        )


async def fold_statistics(runner: CommandRunner) -> None:
    """The chore services run every FOLD_INTERVAL_S seconds."""
    async with runner.pool.acquire() as conn:
        if changed := await fold(conn):
            log.debug("folded statistics into %d counters", changed)


async def totals(
    conn: asyncpg.Connection,
    measure: str,
    first: date,
    last: date,
    *,
    by: int | None = None,
    where: Sequence[str | None],
) -> list[tuple[date, str | None, int]]:
    """(period, value, n): the sums of `measure` per period from `first` to `last`, and per value of the
    dimension at index `by` if given, over the keys whose dimensions equal `where` (one entry per dimension of
    the measure; None: any value)."""
    fixed = {i for i, value in enumerate(where) if value is not None} | ({by} if by is not None else set())
    if not fixed:
        folded, folded_by, folded_where = f"{measure}|*", None, []  # the total
    elif len(fixed) == 1 and len(where) > 1:
        (i,) = fixed
        folded, folded_by, folded_where = f"{measure}|{i}", 0 if by == i else None, [where[i]]  # one dimension
    else:
        folded, folded_by, folded_where = measure, by, list(where)  # the counters themselves
    rows = await conn.fetch(
        f"""
        SELECT period, value, sum(n)::bigint AS n FROM (
            SELECT period, {_VALUE.format(by="$4")} AS value, count AS n FROM statistics
             WHERE measure = $1 AND period BETWEEN $2 AND $3 AND {_MATCHES.format(where="$5")}
            UNION ALL
            SELECT period, {_VALUE.format(by="$7")}, change FROM statistics_deltas
             WHERE measure = $6 AND period BETWEEN $2 AND $3 AND {_MATCHES.format(where="$8")}) AS counted
         GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2
        """,
        folded,
        first,
        last,
        folded_by,
        folded_where,
        measure,
        by,
        list(where),
    )
    return [(r["period"], r["value"], r["n"]) for r in rows]


_VALUE = "CASE WHEN {by}::int IS NULL THEN NULL ELSE dimensions[{by} + 1] END"
_MATCHES = """NOT EXISTS (SELECT 1 FROM unnest({where}::text[]) WITH ORDINALITY AS wanted(value, i)
                          WHERE wanted.value IS NOT NULL AND dimensions[wanted.i] IS DISTINCT FROM wanted.value)"""
