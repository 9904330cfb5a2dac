"""Statistics of inspections (DOMAIN §5): done, with findings and overdue, per quarter.

Kept in the same transaction as the inspections' events (`project_inspection_statistics`) and
answered from those counters. An inspection counts in:

- `inspections_done` and, if anything was found, `inspections_with_findings`: the quarter it was
  inspected in;
- `inspections_overdue_change`: +1 on the first day it is overdue (past its due date, scheduled,
  neither inspected nor cancelled), -1 on the day it was inspected or cancelled after that. The
  inspections overdue on a day are the sum of the changes up to it: a few thousand rows at
  national scale (one per day and target type), whatever the number of inspections.
"""

from datetime import date, timedelta
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Query

from contracts.inspection import TargetType
from services.inspection.domain.inspection import Inspection
from shared.web.auth import Principal, Role, require_roles
from shared.dates import add_months, fiscal_year, fiscal_year_start, quarter_start
from shared.web.http import today
from shared.web.app import PoolDep
from shared.statistics import count_entity, Key, totals
from shared.web.statistics import Month, month_of, periods

INSPECTIONS_DONE = "inspections_done"
INSPECTIONS_WITH_FINDINGS = "inspections_with_findings"
INSPECTIONS_OVERDUE_CHANGE = "inspections_overdue_change"


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def inspection_facts(state: Inspection) -> dict[str, Any]:
    return {"target_type": state.target_type.value, "scheduled_on": _iso(state.scheduled_on),
            "due_by": _iso(state.due_by), "inspected_on": _iso(state.inspected_on),
            "closed_on": _iso(state.closed_on), "findings": bool(state.findings)}


def inspection_keys(facts: dict[str, Any]) -> dict[Key, int]:
    dimensions = (facts["target_type"],)
    keys: dict[Key, int] = {}
    if facts["inspected_on"]:
        quarter = quarter_start(date.fromisoformat(facts["inspected_on"]))
        keys[(INSPECTIONS_DONE, quarter, dimensions)] = 1
        if facts["findings"]:
            keys[(INSPECTIONS_WITH_FINDINGS, quarter, dimensions)] = 1
    # Overdue on day d (Inspection.overdue_on): scheduled_on <= d, due_by < d, and not closed by d.
    overdue_from = max(date.fromisoformat(facts["due_by"]) + timedelta(days=1),
                       date.fromisoformat(facts["scheduled_on"]))
    closed_on = date.fromisoformat(facts["closed_on"]) if facts["closed_on"] else None
    if closed_on is None or closed_on > overdue_from:
        keys[(INSPECTIONS_OVERDUE_CHANGE, overdue_from, dimensions)] = 1
        if closed_on is not None:
            keys[(INSPECTIONS_OVERDUE_CHANGE, closed_on, dimensions)] = -1
    return keys


async def project_inspection_statistics(conn: asyncpg.Connection, id: str, state: Inspection) -> None:
    await count_entity(conn, id, inspection_facts(state), inspection_keys)


Reader = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.AUDITOR, Role.ADMIN))]

router = APIRouter(prefix="/v1/statistics", tags=["statistics"])


@router.get("/inspections")
async def inspections(pool: PoolDep, _: Reader, target_type: TargetType | None = None,
                      from_month: Annotated[Month | None, Query(alias="from")] = None,
                      to_month: Annotated[Month | None, Query(alias="to")] = None) -> dict:
    """Per quarter (by default those of this fiscal year so far): inspections done in it, those with findings, and
    those overdue on its last day (on today, for the quarter under way)."""
    now = today()
    first = quarter_start(month_of(from_month)) if from_month else fiscal_year_start(fiscal_year(now))
    quarters = periods(first, quarter_start(month_of(to_month) if to_month else now), 3)
    where = [target_type.value if target_type else None]
    ends = [min(add_months(q, 3) - timedelta(days=1), now) for q in quarters]
    async with pool.acquire() as conn:
        done = await totals(conn, INSPECTIONS_DONE, quarters[0], quarters[-1], where=where)
        with_findings = await totals(conn, INSPECTIONS_WITH_FINDINGS, quarters[0], quarters[-1], where=where)
        changes = await totals(conn, INSPECTIONS_OVERDUE_CHANGE, date.min, max(ends), where=where)
    done_in = {period: n for period, _, n in done}
    with_findings_in = {period: n for period, _, n in with_findings}
    return {"target_type": target_type, "quarters": [
        {"from": quarter.isoformat(), "to": (add_months(quarter, 3) - timedelta(days=1)).isoformat(),
         "fiscal_year": fiscal_year(quarter), "fiscal_quarter": (quarter.month - 4) % 12 // 3 + 1,
         "done": done_in.get(quarter, 0), "with_findings": with_findings_in.get(quarter, 0),
         "overdue": sum(n for day, _, n in changes if day <= end), "overdue_on": end.isoformat()}
        for quarter, end in zip(quarters, ends, strict=True)]}
