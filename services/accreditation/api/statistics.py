"""Program statistics of training plans (DOMAIN §8): trainees in progress and plans certified per month,
by nationality, job group, stage, type and prefecture; revocations per fiscal year.

Answered from the counters `projections/statistics.py` keeps, never from the plans themselves.
"""

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from services.accreditation.projections import statistics as plan_statistics
from services.accreditation.projections.statistics import DIMENSIONS
from shared.web.auth import Principal, Role, require_roles
from shared.dates import fiscal_year_start, last_day, month_start
from shared.web.http import today
from shared.web.app import PoolDep
from shared.statistics import totals
from shared.web.statistics import fiscal_year_span, fiscal_years, FiscalYear, Month, month_of, periods

Reader = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.AUDITOR, Role.ADMIN))]
Dimension = Literal["nationality", "job_group", "stage", "training_type", "prefecture"]


class PlanFilters:
    """Count only the plans with these values; `by` splits each count by one dimension."""

    def __init__(self,
                 by: Annotated[Dimension | None, Query(description="split the counts by this dimension")] = None,
                 nationality: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
                 job_group: Literal["construction", "food", "machinery_metal", "agriculture", "textiles",
                                    "other"] | None = None,
                 stage: Literal["i", "ii", "iii"] | None = None,
                 training_type: Literal["a", "b"] | None = None,
                 prefecture: Annotated[str | None, Query(max_length=20)] = None) -> None:
        self.by = by
        self.where = {"nationality": nationality, "job_group": job_group, "stage": stage,
                      "training_type": training_type, "prefecture": prefecture}

    def index(self) -> int | None:
        return DIMENSIONS.index(self.by) if self.by else None

    def values(self) -> list[str | None]:
        return [self.where[name] for name in DIMENSIONS]


Filters = Annotated[PlanFilters, Depends()]

router = APIRouter(prefix="/v1/statistics", tags=["statistics"])


async def _monthly(pool, measure: str, first: str | None, last: str | None, filters: PlanFilters) -> dict:
    this_month = month_start(today())
    months = periods(month_of(first) if first else this_month, month_of(last) if last else this_month, 1)
    async with pool.acquire() as conn:
        rows = await totals(conn, measure, months[0], months[-1], by=filters.index(), where=filters.values())
    found: dict[date, dict] = {month: {} for month in months}
    for month, value, n in rows:
        found[month][value] = n
    return {"by": filters.by, "where": {k: v for k, v in filters.where.items() if v is not None},
            "months": [{"month": month.strftime("%Y-%m"), "last_day": last_day(month, 1).isoformat(),
                        "total": sum(counts.values()), **({"counts": counts} if filters.by else {})}
                       for month, counts in found.items()]}


@router.get("/trainees-in-progress")
async def trainees_in_progress(pool: PoolDep, _: Reader, filters: Filters, from_month: Annotated[
        Month | None, Query(alias="from")] = None, to_month: Annotated[Month | None, Query(alias="to")] = None) -> dict:
    """Trainees whose plan is in progress on the last day of each month (by default this month's: as recorded
    now): certified, started, not past its end and not ended by then."""
    return await _monthly(pool, plan_statistics.TRAINEES_IN_PROGRESS, from_month, to_month, filters)


@router.get("/plans-certified")
async def plans_certified(pool: PoolDep, _: Reader, filters: Filters, from_month: Annotated[
        Month | None, Query(alias="from")] = None, to_month: Annotated[Month | None, Query(alias="to")] = None) -> dict:
    """Plans certified in each month (by default this month), by the month of their certification."""
    return await _monthly(pool, plan_statistics.PLANS_CERTIFIED, from_month, to_month, filters)


@router.get("/revocations")
async def revocations(pool: PoolDep, _: Reader, from_fiscal_year: FiscalYear | None = None,
                      to_fiscal_year: FiscalYear | None = None) -> dict:
    """Plans whose certification was revoked (Art. 16) per fiscal year (April-March), and the implementing
    organizations with at least one; by default the last five fiscal years."""
    years = fiscal_years(from_fiscal_year, to_fiscal_year)
    span = (fiscal_year_start(years[0]), fiscal_year_start(years[-1]))
    async with pool.acquire() as conn:
        plans = await totals(conn, plan_statistics.PLANS_REVOKED, *span, where=[None] * len(DIMENSIONS))
        organizations = await totals(conn, plan_statistics.ORGANIZATIONS_WITH_PLANS_REVOKED, *span, by=0,
                                     where=[None])
    plans_in = {period: n for period, _, n in plans}
    organizations_in: dict[date, int] = {}
    for period, _, n in organizations:
        if n > 0:
            organizations_in[period] = organizations_in.get(period, 0) + 1
    return {"fiscal_years": [
        {**fiscal_year_span(year), "plans": plans_in.get(fiscal_year_start(year), 0),
         "implementing_organizations": organizations_in.get(fiscal_year_start(year), 0)}
        for year in years]}
