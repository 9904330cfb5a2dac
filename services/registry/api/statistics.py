"""Program statistics the registry answers (DOMAIN §2, §8): permits by type and status, and the
administrative actions on permits per fiscal year, revocations among them.

Both read small read models kept by events: `supervising_organizations` (one row per
organization, about 3,750 nationally) and `disclosed_actions` (tens of rows a year).
"""

from typing import Annotated

from fastapi import APIRouter, Query

from services.registry.api.auth import StatisticsReader
from services.registry.api.schemas import AdministrativeActionStatistics, FiscalYearActions, PermitStatistics
from services.registry.projections.disclosure import action_counts
from services.registry.projections.supervising_organizations import permit_counts
from shared.dates import fiscal_year_start
from shared.web.app import PoolDep
from shared.web.statistics import FiscalYear, fiscal_year_span, fiscal_years

ACTIONS = {
    "revocation": "revocations",
    "suspension": "suspensions",
    "downgrade": "downgrades",
    "improvement_order": "improvement_orders",
}

router = APIRouter(prefix="/v1/statistics", tags=["statistics"])


@router.get("/permits", response_model=PermitStatistics)
async def get_permit_statistics(
    pool: PoolDep, _: StatisticsReader, prefecture: Annotated[str | None, Query(max_length=20)] = None
) -> PermitStatistics:
    """Supervising organizations' permits by type and status as recorded (applied, active, denied, revoked,
    expired); an application not decided yet, or denied, counts under the type it asked for."""
    return PermitStatistics.model_validate(await permit_counts(pool, prefecture))


@router.get("/administrative-actions", response_model=AdministrativeActionStatistics)
async def get_administrative_action_statistics(
    pool: PoolDep,
    _: StatisticsReader,
    from_fiscal_year: FiscalYear | None = None,
    to_fiscal_year: FiscalYear | None = None,
) -> AdministrativeActionStatistics:
    """Revocations, suspensions, downgrades and improvement orders of permits per fiscal year (April-March),
    by the day each took effect; by default the last five fiscal years."""
    years = fiscal_years(from_fiscal_year, to_fiscal_year)
    found = await action_counts(pool, fiscal_year_start(years[0]), fiscal_year_start(years[-1] + 1))
    return AdministrativeActionStatistics(
        fiscal_years=[
            FiscalYearActions.model_validate(
                {**fiscal_year_span(year), **{name: found.get((year, action), 0) for action, name in ACTIONS.items()}}
            )
            for year in years
        ]
    )
