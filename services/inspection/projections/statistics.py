"""Statistics of inspections (DOMAIN §5): done, with findings and overdue, per quarter, by target type and
scheme (titp, esd: DOMAIN §9).

Kept in the same transaction as the inspections' events (`project_inspection_statistics`) and
answered from those counters (`inspections_per_quarter`). An inspection counts in:

- `inspections_done` and, if anything was found, `inspections_with_findings`: the quarter it was
  inspected in;
- `inspections_overdue_change`: +1 on the first day it is overdue (`overdue_from`: past its due
  date, scheduled), -1 on the day it was inspected or cancelled after that (`is_overdue`). The
  inspections overdue on a day are the sum of the changes up to it: a few thousand rows at
  national scale (one per day, target type and scheme), whatever the number of inspections.

The dimensions are `DIMENSIONS`: the target type, and the scheme. Counters kept before the scheme
was counted are titp's (migrations/003_statistics_scheme.sql gave them the value, and facts
without one read as titp), so re-projecting an old inspection changes nothing.
"""

from datetime import date, timedelta
from typing import Any

import asyncpg

from contracts.inspection import TargetType
from contracts.registry import Scheme
from services.inspection.api.schemas import InspectionCounts, InspectionQuarter, InspectionStatistics
from services.inspection.domain.inspection import Inspection, overdue_from
from shared.dates import add_months, fiscal_year, quarter_start
from shared.statistics import Key, count_entity, totals

INSPECTIONS_DONE = "inspections_done"
INSPECTIONS_WITH_FINDINGS = "inspections_with_findings"
INSPECTIONS_OVERDUE_CHANGE = "inspections_overdue_change"
DIMENSIONS = ("target_type", "scheme")


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def inspection_facts(state: Inspection) -> dict[str, Any]:
    return {
        "target_type": state.target_type.value,
        "scheduled_on": _iso(state.scheduled_on),
        "due_by": _iso(state.due_by),
        "inspected_on": _iso(state.inspected_on),
        "closed_on": _iso(state.closed_on),
        "findings": bool(state.findings),
        "scheme": state.scheme.value,
    }


def inspection_keys(facts: dict[str, Any]) -> dict[Key, int]:
    dimensions = (facts["target_type"], facts.get("scheme", Scheme.TITP.value))
    keys: dict[Key, int] = {}
    if facts["inspected_on"]:
        quarter = quarter_start(date.fromisoformat(facts["inspected_on"]))
        keys[(INSPECTIONS_DONE, quarter, dimensions)] = 1
        if facts["findings"]:
            keys[(INSPECTIONS_WITH_FINDINGS, quarter, dimensions)] = 1
    # Overdue on day d (`is_overdue`): from `overdue_from` on, until the day it was closed.
    first = overdue_from(date.fromisoformat(facts["scheduled_on"]), date.fromisoformat(facts["due_by"]))
    closed_on = date.fromisoformat(facts["closed_on"]) if facts["closed_on"] else None
    if closed_on is None or closed_on > first:
        keys[(INSPECTIONS_OVERDUE_CHANGE, first, dimensions)] = 1
        if closed_on is not None:
            keys[(INSPECTIONS_OVERDUE_CHANGE, closed_on, dimensions)] = -1
    return keys


async def project_inspection_statistics(conn: asyncpg.Connection, id: str, state: Inspection) -> None:
    await count_entity(conn, id, inspection_facts(state), inspection_keys)


def _last_day(quarter: date) -> date:
    return add_months(quarter, 3) - timedelta(days=1)


async def inspections_per_quarter(
    conn: asyncpg.Connection,
    quarters: list[date],
    *,
    today: date,
    target_type: TargetType | None = None,
    scheme: Scheme | None = None,
    by: str | None = None,
) -> InspectionStatistics:
    """Per quarter (their first days, in order): inspections done in it, those with findings, and those
    overdue on its last day (on `today`, for the quarter under way); of `target_type` and `scheme` if given,
    and split by the dimension `by` (one of `DIMENSIONS`) if given."""
    where = [target_type.value if target_type else None, scheme.value if scheme else None]
    index = DIMENSIONS.index(by) if by else None
    ends = [min(_last_day(q), today) for q in quarters]
    done = await totals(conn, INSPECTIONS_DONE, quarters[0], quarters[-1], by=index, where=where)
    with_findings = await totals(conn, INSPECTIONS_WITH_FINDINGS, quarters[0], quarters[-1], by=index, where=where)
    changes = await totals(conn, INSPECTIONS_OVERDUE_CHANGE, date.min, max(ends), by=index, where=where)

    def counts(quarter: date, end: date, value: str | None) -> InspectionCounts:
        """Those of one value of `by` (None: all of them)."""
        return InspectionCounts(
            done=sum(n for period, v, n in done if period == quarter and value in (None, v)),
            with_findings=sum(n for period, v, n in with_findings if period == quarter and value in (None, v)),
            overdue=sum(n for day, v, n in changes if day <= end and value in (None, v)),
        )

    def split(quarter: date, end: date) -> dict[str, InspectionCounts]:
        found = {value: counts(quarter, end, value) for value in values}
        return {value: c for value, c in found.items() if c.done or c.with_findings or c.overdue}

    values = sorted({v for rows in (done, with_findings, changes) for _, v, _ in rows if v is not None})
    # `scheme`, `by` and `counts` only when asked for (the route leaves unset members out): answers to callers
    # that don't ask by scheme stay as they were.
    return InspectionStatistics(
        target_type=target_type,
        **({"scheme": scheme} if scheme else {}),
        **({"by": by} if by else {}),
        quarters=[
            InspectionQuarter(
                from_=quarter,
                to=_last_day(quarter),
                fiscal_year=fiscal_year(quarter),
                fiscal_quarter=(quarter.month - 4) % 12 // 3 + 1,
                **counts(quarter, end, None).model_dump(),
                overdue_on=end,
                **({"counts": split(quarter, end)} if by else {}),
            )
            for quarter, end in zip(quarters, ends, strict=True)
        ],
    )
